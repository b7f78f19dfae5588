import { type Static, Type } from '@sinclair/typebox';
import { compileSchema } from './compile.js';
import { CameraIdSchema, IDENTIFIER_REGEX, isValidIsoTime, IsoTimeSchema, SiteIdSchema, UuidSchema } from './ids.js';
import { MAX_MESSAGE_BYTES } from './schemas.js';
import { DEFAULT_TOPIC_ROOT } from './topics.js';

/**
 * Video in the contract: commands the hub sends to a site's agent (live view) and the clip link an agent sends once an
 * event's clip is uploaded. The control path is MQTT; the media never is (live video travels over a WebSocket the
 * agent opens to the hub, clips over HTTP PUT, both with the site's agent token).
 */

/** Which of the camera's ONVIF profiles: `main` for the single-camera view, `sub` (low resolution) for wall tiles. */
export const VideoProfileEnum = { main: 'main', sub: 'sub' } as const;
export type VideoProfile = keyof typeof VideoProfileEnum;
export const VideoProfileSchema = Type.Union([Type.Literal('main'), Type.Literal('sub')]);

/** A live stream's id: chosen by the hub, presented by the agent when it opens the upstream. */
export const STREAM_ID_PATTERN = '^[A-Za-z0-9_-]{16,64}$';
export const StreamIdSchema = Type.String({ pattern: STREAM_ID_PATTERN, description: 'Live stream id (hub-chosen)' });

/** Every command has this envelope; `kind` says which command. Agents ignore kinds they do not know. */
export const CommandEnvelopeSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: UuidSchema,
    site: SiteIdSchema,
    kind: Type.String({ minLength: 1, maxLength: 64, description: 'Which command, e.g. live.start' }),
    at: IsoTimeSchema,
  },
  { additionalProperties: true },
);
export type CommandEnvelope = Static<typeof CommandEnvelopeSchema>;

const commandOf = <K extends string, P extends Parameters<typeof Type.Object>[0]>(kind: K, props: P, id: string) =>
  Type.Object(
    { v: Type.Literal(1), id: UuidSchema, site: SiteIdSchema, kind: Type.Literal(kind), at: IsoTimeSchema, ...props },
    { $id: id, additionalProperties: true },
  );

/**
 * Start sending a camera's live video: open `wss://hub/api/v1/video/upstream/{stream}` with the site's token and send
 * the fragmented MP4 that `ffmpeg -c copy` makes of the profile's RTSP stream. The hub repeats it while viewers remain
 * and the upstream is not there (a lost command or an agent that restarted).
 */
export const LiveStartCommandSchema = commandOf(
  'live.start',
  { camera: CameraIdSchema, profile: VideoProfileSchema, stream: StreamIdSchema },
  'LiveStartCommand',
);
export type LiveStartCommand = Static<typeof LiveStartCommandSchema>;

/** Stop the live stream `stream` (nobody watches any more); closing the upstream socket means the same. */
export const LiveStopCommandSchema = commandOf(
  'live.stop',
  { camera: CameraIdSchema, stream: StreamIdSchema },
  'LiveStopCommand',
);
export type LiveStopCommand = Static<typeof LiveStopCommandSchema>;

/** Commands this version of the contract defines, keyed by `kind`. */
export interface AgentCommands {
  'live.start': LiveStartCommand;
  'live.stop': LiveStopCommand;
}
export type AgentCommandKind = keyof AgentCommands;
export type AgentCommand = AgentCommands[AgentCommandKind];
export const AGENT_COMMAND_KINDS: readonly AgentCommandKind[] = ['live.start', 'live.stop'];

const commandValidators = {
  envelope: compileSchema(CommandEnvelopeSchema),
  'live.start': compileSchema(LiveStartCommandSchema),
  'live.stop': compileSchema(LiveStopCommandSchema),
};

/** The per-site command topic (hub → agent): `{root}/{site}/commands`. Not retained: a stale command means nothing. */
export function commandTopic(site: string, root: string = DEFAULT_TOPIC_ROOT): string {
  if (!IDENTIFIER_REGEX.test(site)) throw new Error(`site "${site}" is not a valid identifier`);
  return `${root.replace(/\/+$/, '')}/${site}/commands`;
}
export const COMMAND_QOS = { qos: 1, retain: false } as const;

export type CommandDecodeResult =
  | { ok: true; command: AgentCommand }
  /** A well-formed command of a kind this agent does not know (a newer hub): ignored, never an error. */
  | { ok: 'ignored'; kind: string }
  | { ok: false; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a command for `site`; never throws. */
export function decodeCommand(raw: Uint8Array, site: string): CommandDecodeResult {
  if (raw.byteLength > MAX_MESSAGE_BYTES) return { ok: false, detail: `${raw.byteLength} bytes is too large` };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch (e) {
    return { ok: false, detail: `not JSON: ${(e as Error).message.slice(0, 120)}` };
  }
  if (!commandValidators.envelope.Check(value)) {
    const err = commandValidators.envelope.Errors(value).First();
    return { ok: false, detail: err ? `${err.path || '/'}: ${err.message}` : 'not a command' };
  }
  if (!isValidIsoTime(value.at)) return { ok: false, detail: '/at: not a real time' };
  if (value.site !== site) return { ok: false, detail: `command for site "${value.site}", not "${site}"` };
  const kind = value.kind;
  if (!(AGENT_COMMAND_KINDS as readonly string[]).includes(kind)) return { ok: 'ignored', kind };
  const validator = commandValidators[kind as AgentCommandKind];
  if (!validator.Check(value)) {
    const err = validator.Errors(value).First();
    return { ok: false, detail: err ? `${err.path || '/'}: ${err.message}` : `invalid ${kind}` };
  }
  return { ok: true, command: value as AgentCommand };
}

/** Checks a command before it is published (the hub's side of the same schemas). */
export function commandErrors(command: AgentCommand): string | null {
  const validator = commandValidators[command.kind];
  if (validator.Check(command)) return null;
  const err = validator.Errors(command).First();
  return err ? `${err.path || '/'}: ${err.message}` : 'invalid command';
}

/** `GET /api/v1/video/live/{site}/{camera}?profile=` */
export const VideoLiveParamsSchema = Type.Object({ site: SiteIdSchema, camera: CameraIdSchema });
export const VideoLiveQuerySchema = Type.Object(
  { profile: Type.Optional(VideoProfileSchema) },
  { additionalProperties: false },
);

/** What the console needs to know to play live video (`GET /api/v1/video/settings`). */
export const VideoSettingsSchema = Type.Object({
  /** Wall tiles playing live at once; the others show snapshots. */
  wallMaxLive: Type.Integer({ minimum: 0 }),
  /** Whether this user may watch live video at all. */
  live: Type.Boolean(),
});
export type VideoSettings = Static<typeof VideoSettingsSchema>;

/**
 * Why there is no live video, as the codes of a 503 (`error.code`) and of the console's tile states. `not_playable`
 * is the console's own (the browser cannot decode the camera's codec, e.g. H.265).
 */
export const LIVE_UNAVAILABLE_CODES = [
  'agent_no_answer',
  'camera_unreachable',
  'no_stream_address',
  'upstream_ended',
  'upstream_invalid',
  'hub_closing',
] as const;
export type LiveUnavailableCode = (typeof LIVE_UNAVAILABLE_CODES)[number];
