import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CameraIdSchema, compileSchema, DEFAULT_TOPIC_ROOT, SiteIdSchema } from '@camhub/shared';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError, errorMessage } from './errors.js';

/** A schema option read by `formatError`: the message people see instead of TypeBox's generic one. */
const msg = <T extends TSchema>(schema: T, message: string): T => ({ ...schema, errorMessage: message });

const PortSchema = msg(Type.Integer({ minimum: 1, maximum: 65535 }), 'must be an integer 1-65535');
const NonEmpty = (what: string) => msg(Type.String({ minLength: 1, maxLength: 1024 }), `must be a non-empty ${what}`);

/** Event clips, opt-in per camera: a rolling pre-event buffer on disk and one MP4 per event start. */
export const ClipConfigSchema = Type.Object(
  {
    preSec: msg(Type.Number({ minimum: 0, maximum: 60, default: 5 }), 'must be a number of seconds 0-60'),
    postSec: msg(Type.Number({ minimum: 0, maximum: 300, default: 10 }), 'must be a number of seconds 0-300'),
    maxSec: msg(Type.Number({ minimum: 1, maximum: 600, default: 60 }), 'must be a number of seconds 1-600'),
    // Evidence wants the main stream; a slow uplink or a small SD card may prefer the low-resolution one.
    profile: msg(Type.Union([Type.Literal('main'), Type.Literal('sub')], { default: 'main' }), 'must be main or sub'),
    // The rolling buffer's bound on disk; oldest segments go first. Clips being cut are kept apart from it.
    bufferBytes: msg(
      Type.Integer({ minimum: 256 * 1024, maximum: Number.MAX_SAFE_INTEGER, default: 32 * 1024 * 1024 }),
      'must be an integer of at least 262144',
    ),
  },
  { additionalProperties: false },
);

export const CameraConfigSchema = Type.Object(
  {
    id: msg(CameraIdSchema, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, digits, - and _)'),
    name: NonEmpty('string'),
    host: NonEmpty('host name or address'),
    port: PortSchema,
    username: NonEmpty('string'),
    password: msg(Type.String({ maxLength: 1024 }), 'must be a string'),
    profile: Type.Optional(NonEmpty('ONVIF media profile token')),
    /** Low-resolution profile for live wall tiles; by default the smallest profile other than `profile`. */
    subProfile: Type.Optional(NonEmpty('ONVIF media profile token')),
    snapshot: Type.Optional(
      msg(Type.Union([Type.Literal('onvif'), Type.Literal('rtsp'), Type.Literal('off')]), 'must be onvif, rtsp or off'),
    ),
    clips: Type.Optional(ClipConfigSchema),
  },
  { additionalProperties: false },
);

export const AgentConfigSchema = Type.Object(
  {
    site: msg(SiteIdSchema, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, digits, - and _)'),
    agentId: Type.Optional(NonEmpty('string')),
    mqtt: Type.Object(
      {
        url: msg(Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://.+' }), 'must be a URL like mqtt://host:1883'),
        username: Type.Optional(NonEmpty('string')),
        password: Type.Optional(Type.String({ maxLength: 1024 })),
        topicRoot: Type.String({ default: DEFAULT_TOPIC_ROOT, minLength: 1, maxLength: 200 }),
        clientId: Type.Optional(NonEmpty('string')),
        maxInFlight: Type.Integer({ minimum: 1, maximum: 65535, default: 256 }),
        // 4 = MQTT 3.1.1, for brokers without MQTT 5 (the demo's embedded Aedes); nothing the agent sends needs 5.
        protocolVersion: msg(Type.Union([Type.Literal(4), Type.Literal(5)], { default: 5 }), 'must be 4 or 5'),
      },
      { additionalProperties: false },
    ),
    hub: Type.Optional(
      Type.Object(
        {
          url: msg(Type.String({ pattern: '^https?://.+' }), 'must be an http(s) URL'),
          token: NonEmpty('site token'),
        },
        { additionalProperties: false },
      ),
    ),
    cameras: msg(Type.Array(CameraConfigSchema, { maxItems: 1024 }), 'must be a list of cameras'),
    discovery: Type.Boolean({ default: false }),
    dataDir: NonEmpty('directory path'),
    outbox: Type.Object(
      {
        maxBytes: msg(
          Type.Integer({ minimum: 65536, maximum: Number.MAX_SAFE_INTEGER }),
          'must be an integer of at least 65536',
        ),
        // Why configurable: fsync per batch is the durable default; `none` trades power-loss safety for SD-card wear.
        fsync: Type.Union([Type.Literal('batch'), Type.Literal('none')], { default: 'batch' }),
      },
      { additionalProperties: false },
    ),
    media: Type.Object(
      {
        maxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
        // The ffmpeg every probe, snapshot and live stream runs; FFMPEG_PATH in the environment overrides it.
        ffmpegPath: msg(
          Type.String({ minLength: 1, maxLength: 1024, default: 'ffmpeg' }),
          'must be a non-empty command or path',
        ),
        snapshotTimeoutMs: msg(
          Type.Integer({ minimum: 1, maximum: 60_000, default: 1500 }),
          'must be an integer 1-60000 (milliseconds)',
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    live: Type.Object(
      {
        // Each live stream is one ffmpeg and one more connection to a camera: bound them on a small edge box.
        maxStreams: msg(Type.Integer({ minimum: 1, maximum: 256, default: 8 }), 'must be an integer 1-256'),
      },
      { additionalProperties: false, default: {} },
    ),
    motionTimeoutSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
    // Every other condition ends after this long without its `false` too: an end lost with a subscription must not
    // keep a tamper or an input open for days.
    stateTimeoutSec: Type.Integer({ minimum: 1, maximum: 7 * 86_400, default: 3600 }),
    onvif: Type.Object(
      {
        requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
        pullTimeoutSec: Type.Integer({ minimum: 1, maximum: 600, default: 60 }),
        messageLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        leaseSec: Type.Integer({ minimum: 2, maximum: 86_400, default: 600 }),
        renewSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 480 }),
        backoffMinMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1_000 }),
        backoffMaxMs: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000 }),
        clockCheckSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
        // A camera without (working) events is asked again this rarely.
        eventsProbeSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 600 }),
        // An event time farther than this from when we received it (after the clock offset) is not believed.
        eventTimeToleranceSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 120 }),
        // Base-notification fallback for firmware whose PullPoint is not implemented: cameras POST to this endpoint.
        notify: Type.Optional(
          Type.Object(
            {
              listenHost: Type.String({ minLength: 1, default: '0.0.0.0' }),
              port: PortSchema,
              url: msg(
                Type.String({ pattern: '^https?://[^/]+$' }),
                'must be the base URL cameras reach this agent at, like http://192.168.1.10:8089 (no path)',
              ),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    health: Type.Object(
      {
        intervalSec: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
        // Stream probes (ffmpeg) at once across every camera of the agent: bounds CPU, sockets and camera load.
        concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
        stream: Type.Boolean({ default: true }),
        streamProbeSec: Type.Number({ minimum: 1, maximum: 60, default: 5 }),
        streamTimeoutSec: Type.Number({ minimum: 2, maximum: 300, default: 15 }),
        // Decoding costs far more than copying packets, so freeze/black detection runs rarely while all is well.
        detectorIntervalSec: Type.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
        freezeSec: Type.Number({ minimum: 0.5, maximum: 60, default: 3 }),
        freezeNoiseDb: Type.Number({ minimum: -120, maximum: 0, default: -60 }),
        blackSec: Type.Number({ minimum: 0.5, maximum: 60, default: 3 }),
        blackPixelThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
        confirmRuns: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
        lowFpsRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
        lowFpsFloor: Type.Number({ minimum: 0, maximum: 240, default: 1 }),
        clockSkewMaxMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 5000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigSchema> & { agentId: string };
export type CameraConfig = Static<typeof CameraConfigSchema>;
export type ClipConfig = Static<typeof ClipConfigSchema>;
export type HealthConfig = AgentConfig['health'];

const compiled = compileSchema(AgentConfigSchema);

/** `/cameras/2/port` → `cameras[2].port`, the way people read their config file. */
export function fieldName(path: string): string {
  if (!path || path === '/') return '(root)';
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function formatError(e: ValueError): string {
  const custom = (e.schema as { errorMessage?: string }).errorMessage;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${fieldName(e.path)}: is required`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `${fieldName(e.path)}: is not a known field`;
    default:
      return `${fieldName(e.path)}: ${custom ?? e.message.replace(/^Expected/, 'must be')}`;
  }
}

/** Every problem in the value, one per field, in file order. */
export function configProblems(value: unknown): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const e of compiled.Errors(value)) {
    // A union or an integer bound can report several errors for one field; people need one.
    if (seen.has(e.path)) continue;
    // A missing required property also yields a type error at the same path; the "is required" one wins.
    seen.add(e.path);
    problems.push(formatError(e));
  }
  if (problems.length === 0) problems.push(...semanticProblems(value as Static<typeof AgentConfigSchema>));
  return problems;
}

function semanticProblems(config: Static<typeof AgentConfigSchema>): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  config.cameras.forEach((camera, i) => {
    const first = ids.get(camera.id);
    if (first !== undefined) problems.push(`cameras[${i}].id: "${camera.id}" is already used by cameras[${first}]`);
    else ids.set(camera.id, i);
  });
  if (config.onvif.renewSec >= config.onvif.leaseSec) {
    problems.push(`onvif.renewSec: must be less than onvif.leaseSec (${config.onvif.leaseSec})`);
  }
  if (config.health.streamTimeoutSec <= config.health.streamProbeSec) {
    problems.push(`health.streamTimeoutSec: must be more than health.streamProbeSec (${config.health.streamProbeSec})`);
  }
  for (const field of ['freezeSec', 'blackSec'] as const) {
    if (config.health[field] >= config.health.streamProbeSec) {
      problems.push(`health.${field}: must be less than health.streamProbeSec (${config.health.streamProbeSec})`);
    }
  }
  config.cameras.forEach((camera, i) => {
    const clips = camera.clips;
    if (clips && clips.preSec + clips.postSec > clips.maxSec) {
      problems.push(`cameras[${i}].clips.maxSec: must be at least preSec + postSec (${clips.preSec + clips.postSec})`);
    }
  });
  if (config.onvif.backoffMaxMs < config.onvif.backoffMinMs) {
    problems.push(`onvif.backoffMaxMs: must be at least onvif.backoffMinMs (${config.onvif.backoffMinMs})`);
  }
  return problems;
}

/** The environment variable that overrides camera `id`'s password: CAMHUB_CAMERA_CAM_03_PASSWORD. */
export function cameraEnvName(id: string, field: 'USERNAME' | 'PASSWORD'): string {
  return `CAMHUB_CAMERA_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${field}`;
}

/** Secrets may come from the environment so the file can be committed or shared without them. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const config = raw as Record<string, unknown>;
  const section = (name: string): Record<string, unknown> => {
    const existing = config[name];
    if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) {
      return existing as Record<string, unknown>;
    }
    const created: Record<string, unknown> = {};
    config[name] = created;
    return created;
  };
  if (env.CAMHUB_MQTT_URL) section('mqtt').url = env.CAMHUB_MQTT_URL;
  if (env.CAMHUB_MQTT_USERNAME) section('mqtt').username = env.CAMHUB_MQTT_USERNAME;
  if (env.CAMHUB_MQTT_PASSWORD) section('mqtt').password = env.CAMHUB_MQTT_PASSWORD;
  if (env.CAMHUB_HUB_TOKEN) section('hub').token = env.CAMHUB_HUB_TOKEN;
  if (env.FFMPEG_PATH) section('media').ffmpegPath = env.FFMPEG_PATH;
  if (Array.isArray(config.cameras)) {
    for (const camera of config.cameras as unknown[]) {
      if (typeof camera !== 'object' || camera === null) continue;
      const c = camera as Record<string, unknown>;
      if (typeof c.id !== 'string') continue;
      const user = env[cameraEnvName(c.id, 'USERNAME')];
      const pass = env[cameraEnvName(c.id, 'PASSWORD')];
      if (user) c.username = user;
      if (pass) c.password = pass;
    }
  }
  return config;
}

/** Validates an already-parsed config object: defaults applied, every problem reported at once. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config: must be an object with site, mqtt, cameras, dataDir and outbox', [
      '(root): must be an object',
    ]);
  }
  const value = applyEnvOverrides(structuredClone(raw), env);
  Value.Default(AgentConfigSchema, value);
  const problems = configProblems(value);
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, problems);
  }
  const config = value as AgentConfig;
  config.agentId ??= `${config.site}@${hostname()}`;
  return config;
}

/** Reads a YAML or JSON file (JSON is YAML) and validates it. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${errorMessage(err)}`);
  }
  return parseConfig(raw, env);
}
