import { type Static, Type } from '@sinclair/typebox';
import { compileSchema } from './compile.js';
import { CameraIdSchema, IDENTIFIER_REGEX, isValidIsoTime, IsoTimeSchema, SiteIdSchema } from './ids.js';
import { DEFAULT_TOPIC_ROOT } from './topics.js';

/**
 * A site's desired camera configuration (hub → agent): what the console adopted, renamed, disabled or removed, so
 * that nobody has to edit the YAML on the edge box. Retained on `{root}/{site}/config`, so an agent that connects
 * (or reconnects after an uplink cut) reads the latest at once; versioned, so the agent can say which one it runs.
 */

/** A site config is larger than an event (up to 1024 cameras with their credentials), still bounded. */
export const MAX_SITE_CONFIG_BYTES = 512 * 1024;

export const SiteCameraConfigSchema = Type.Object(
  {
    id: CameraIdSchema,
    /** false: the agent does not run this camera, even when its own YAML names it. */
    enabled: Type.Boolean(),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** The connection: all four for a camera the hub adopted; none for an entry that only disables a YAML camera. */
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    profile: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    subProfile: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: true },
);
export type SiteCameraConfig = Static<typeof SiteCameraConfigSchema>;

export const SiteConfigSchema = Type.Object(
  {
    v: Type.Literal(1),
    site: SiteIdSchema,
    /** Grows with every change the hub makes to this site's cameras; the agent reports the one it runs. */
    version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    at: IsoTimeSchema,
    cameras: Type.Array(SiteCameraConfigSchema, { maxItems: 1024 }),
  },
  { $id: 'SiteConfig', additionalProperties: true },
);
export type SiteConfig = Static<typeof SiteConfigSchema>;

/** What the agent did with a camera of its configuration (reported in its AgentStatus `config.cameras`). */
export const CameraApplyResultEnum = {
  /** Its supervisor runs (connecting or connected: health says how it fares). */
  running: 'running',
  /** Disabled by the hub. */
  disabled: 'disabled',
  /** Its supervisor could not be started; `code` says why. */
  failed: 'failed',
} as const;
export type CameraApplyResult = keyof typeof CameraApplyResultEnum;

/** Optional (camhub addition) in AgentStatus: the hub configuration the agent runs, and what it did per camera. */
export const AgentConfigReportSchema = Type.Object(
  {
    /** The version running now; null while the agent runs its YAML only. */
    version: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    /** A version the agent refused (malformed, or for another site), with the reason code; it kept `version`. */
    refused: Type.Optional(
      Type.Object(
        {
          version: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          code: Type.String({ maxLength: 64 }),
          detail: Type.String({ maxLength: 512 }),
          at: IsoTimeSchema,
        },
        { additionalProperties: true },
      ),
    ),
    cameras: Type.Array(
      Type.Object(
        {
          id: CameraIdSchema,
          /** Where its definition comes from: the hub's configuration or the local YAML (the bootstrap). */
          source: Type.Union([Type.Literal('hub'), Type.Literal('local')]),
          result: Type.Union([Type.Literal('running'), Type.Literal('disabled'), Type.Literal('failed')]),
          code: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: true },
      ),
      { maxItems: 1024 },
    ),
  },
  { additionalProperties: true },
);
export type AgentConfigReport = Static<typeof AgentConfigReportSchema>;

/** The per-site config topic (hub → agent): `{root}/{site}/config`. Retained: the latest is what an agent should run. */
export function siteConfigTopic(site: string, root: string = DEFAULT_TOPIC_ROOT): string {
  if (!IDENTIFIER_REGEX.test(site)) throw new Error(`site "${site}" is not a valid identifier`);
  return `${root.replace(/\/+$/, '')}/${site}/config`;
}
export const SITE_CONFIG_QOS = { qos: 1, retain: true } as const;

const validator = compileSchema(SiteConfigSchema);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a site config is refused: a stable code for the hub and people's consoles, and a detail for logs. */
export type SiteConfigDecodeResult =
  | { ok: true; config: SiteConfig }
  | {
      ok: false;
      code: 'too_large' | 'not_json' | 'invalid_payload' | 'wrong_site';
      detail: string;
      version: number | null;
    };

/** The problems beyond the schema: duplicate ids, an enabled adopted camera without its whole connection. */
export function siteConfigProblems(config: SiteConfig): string | null {
  const seen = new Set<string>();
  for (const [i, c] of config.cameras.entries()) {
    if (seen.has(c.id)) return `/cameras/${i}/id: "${c.id}" appears twice`;
    seen.add(c.id);
    const connection = [c.host, c.port, c.username, c.password];
    const given = connection.filter((v) => v !== undefined).length;
    if (given !== 0 && given !== connection.length) {
      return `/cameras/${i}: host, port, username and password come together`;
    }
  }
  return null;
}

/** Decodes a site config for `site`; never throws. */
export function decodeSiteConfig(raw: Uint8Array, site: string): SiteConfigDecodeResult {
  if (raw.byteLength > MAX_SITE_CONFIG_BYTES) {
    return { ok: false, code: 'too_large', detail: `${raw.byteLength} bytes`, version: null };
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch (e) {
    return { ok: false, code: 'not_json', detail: (e as Error).message.slice(0, 120), version: null };
  }
  const version =
    typeof value === 'object' && value !== null && Number.isSafeInteger((value as { version?: unknown }).version)
      ? (value as { version: number }).version
      : null;
  if (!validator.Check(value)) {
    const err = validator.Errors(value).First();
    return { ok: false, code: 'invalid_payload', detail: err ? `${err.path || '/'}: ${err.message}` : '/', version };
  }
  if (!isValidIsoTime(value.at)) return { ok: false, code: 'invalid_payload', detail: '/at: not a real time', version };
  if (value.site !== site) {
    return { ok: false, code: 'wrong_site', detail: `config for site "${value.site}", not "${site}"`, version };
  }
  const problem = siteConfigProblems(value);
  if (problem) return { ok: false, code: 'invalid_payload', detail: problem, version };
  return { ok: true, config: value };
}
