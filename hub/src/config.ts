import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Static, Type } from '@sinclair/typebox';
import { compileSchema } from '@camhub/shared';
import { Value } from '@sinclair/typebox/value';
import { parseSiteTimeZones } from './alerts/time-zones.js';
import { checkHubKeyFile } from './auth/keys.js';
import { passwordProblem } from './auth/password-policy.js';
import { ConfigError } from './errors.js';
import { createAddressGuard } from './notify/address-guard.js';

const Int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });

/** Every setting of the hub, from the environment. Parsed once at start (`loadConfig`). */
export const HubConfigSchema = Type.Object({
  PORT: Int(8080, 0, 65535, 'HTTP port'),
  HOST: Type.String({ default: '0.0.0.0', description: 'HTTP bind address' }),
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/camhub', pattern: '^postgres(ql)?://' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', pattern: '^rediss?://' }),
  REDIS_CLUSTER: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description:
      'REDIS_URL names one node of a Redis Cluster (the others are discovered); needs QUEUE_PREFIX in braces, a hash tag',
  }),
  MQTT_URL: Type.String({ default: 'mqtt://127.0.0.1:1883', pattern: '^(mqtts?|wss?|tcp|ssl)://' }),
  MQTT_USERNAME: Type.Optional(Type.String()),
  MQTT_PASSWORD: Type.Optional(Type.String()),
  MQTT_CLIENT_ID: Type.String({
    default: `camhub-hub-${hostname()}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64),
    minLength: 1,
    maxLength: 64,
    description: 'Stable client id: the broker keeps this persistent session while the hub restarts',
  }),
  MQTT_TOPIC_ROOT: Type.String({ default: 'camhub/v1', minLength: 1 }),
  MQTT_SHARE_GROUP: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'MQTT 5 shared subscription group for scale-out' }),
  ),
  MQTT_SESSION_EXPIRY_SEC: Int(7 * 24 * 3600, 0, 0xffffffff, 'How long the broker keeps the hub session offline'),
  MQTT_RECEIVE_MAXIMUM: Int(2000, 1, 65535, 'Unacknowledged QoS 1 messages the broker may send (flow control)'),
  MQTT_PROTOCOL_VERSION: Int(5, 4, 5, 'MQTT 5, or 4 (3.1.1) for brokers without MQTT 5, e.g. the demo broker Aedes'),
  QUEUE_PREFIX: Type.String({
    default: 'camhub',
    pattern: '^[A-Za-z0-9_:{}-]{1,64}$',
    description:
      'Prefix of every Redis key (queues, live feed, limits); in braces, e.g. {camhub}, a Redis Cluster hash tag',
  }),
  INGEST_BATCH_MAX: Int(1000, 1, 10000, 'Messages per ingest batch'),
  INGEST_BATCH_MS: Int(50, 1, 5000, 'Longest wait before a partial batch is queued'),
  INGEST_WORKER_CONCURRENCY: Int(2, 0, 64, 'Batches written to PostgreSQL at once by this process (0: no worker)'),
  INGEST_MAX_QUEUED_BATCHES: Int(500, 1, 1_000_000, 'Backpressure: stop acknowledging MQTT beyond this queue depth'),
  INGEST_MAX_PENDING: Int(
    0,
    0,
    1_000_000,
    'Stop reading MQTT while this many messages wait for their acknowledgement (0: MQTT_RECEIVE_MAXIMUM)',
  ),
  INGEST_TOUCH_FLUSH_MS: Int(
    500,
    0,
    60_000,
    "How often cameras' last-event fields are written from events (0: inside every batch transaction)",
  ),
  INGEST_PERSIST_CONCURRENCY: Int(4, 1, 64, 'Batches being queued in Redis at once (acknowledged in order)'),
  INGEST_FUTURE_TOLERANCE_SEC: Int(
    300,
    0,
    31_536_000,
    'Messages dated further ahead of the hub clock are rejected (future_time); 0: no limit',
  ),
  REJECTION_PAYLOAD_MAX_BYTES: Int(4096, 64, 65536, 'Raw payload bytes kept with a rejection'),
  SNAPSHOT_DIR: Type.String({ default: './data/snapshots' }),
  SNAPSHOT_MAX_BYTES: Int(5 * 1024 * 1024, 1024, 100 * 1024 * 1024, 'Largest accepted snapshot upload'),
  CLIP_DIR: Type.String({ default: './data/clips', description: 'Where event clips (MP4) are stored' }),
  CLIP_MAX_BYTES: Int(64 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024, 'Largest accepted clip upload'),
  CLIP_VIEW_AUDIT_WINDOW_SEC: Int(
    600,
    0,
    86_400,
    "A session's requests for one clip within this many seconds of its first are one clip.view audit row (0: one per request)",
  ),
  CLIP_SITE_QUOTA_BYTES: Int(
    10 * 1024 * 1024 * 1024,
    1024,
    Number.MAX_SAFE_INTEGER,
    "Clip bytes one site may keep at the hub; past it the site's uploads are refused (507) until retention frees room",
  ),
  MEDIA_SNAPSHOT_SITE_MB_PER_DAY: Int(
    4096,
    1,
    10_000_000,
    'Snapshot MiB one site may upload in any 24 hours (beyond: 413 media_quota_exceeded)',
  ),
  MEDIA_SNAPSHOT_SITE_PER_MIN: Int(
    1200,
    1,
    1_000_000,
    'Snapshot uploads per minute per site (beyond: 429 media_rate_limited)',
  ),
  MEDIA_CLIP_SITE_MB_PER_DAY: Int(
    4096,
    1,
    10_000_000,
    'Clip MiB one site may upload in any 24 hours (beyond: 413 media_quota_exceeded)',
  ),
  MEDIA_CLIP_SITE_PER_MIN: Int(120, 1, 1_000_000, 'Clip uploads per minute per site (beyond: 429 media_rate_limited)'),
  MEDIA_SWEEP_AFTER_HOURS: Int(24, 1, 8760, 'Uploaded media that no event refers to after this many hours is deleted'),
  MEDIA_SWEEP_INTERVAL_SEC: Int(3600, 10, 86_400, 'How often the sweep of unreferenced uploads runs'),
  AGENT_TOKENS: Type.Optional(
    Type.String({ description: 'Per-site upload tokens: "site-a=token1,site-b=token2" (see docs/security.md)' }),
  ),
  HEALTH_STALE_SEC: Int(90, 1, 86_400, 'No health sample for this long: the camera is offline (no_heartbeat)'),
  HEALTH_SWEEP_SEC: Int(10, 1, 3600, 'How often one hub looks for silent cameras'),
  HEALTH_RETENTION_DAYS: Int(30, 1, 3650, 'Health samples older than this are deleted'),
  HEALTH_RETENTION_BATCH: Int(5000, 10, 100_000, 'Health samples deleted per statement by the hourly retention job'),
  DB_POOL_MAX: Int(10, 1, 200, 'PostgreSQL connections per hub process'),
  ALERT_TIME_ZONE: Type.String({
    default: 'Asia/Ho_Chi_Minh',
    description: 'Time zone of sites that have none in the sites registry (alert schedules, notifications)',
  }),
  SITE_TIME_ZONES: Type.Optional(
    Type.String({
      description:
        'Bootstrap of the sites registry: sites registered at start with these time zones (never overwriting a registered site): "td-01=Asia/Ho_Chi_Minh,hn-02=Asia/Bangkok"',
    }),
  ),
  ALERT_TICK_SEC: Int(15, 1, 3600, 'How often one hub escalates overdue alerts and re-judges health conditions'),
  ALERT_ESCALATION_MIN: Int(15, 1, 10_080, 'Escalate a critical alert not acknowledged this long (rule may override)'),
  WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Global webhook: every alert change' })),
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'HMAC SHA-256 key of WEBHOOK_URL' })),
  WEBHOOK_ATTEMPTS: Int(8, 1, 100, 'Delivery attempts of one notification before it is marked failed'),
  WEBHOOK_BACKOFF_MS: Int(5000, 10, 3_600_000, 'First retry delay; doubles on each further attempt'),
  WEBHOOK_TIMEOUT_MS: Int(
    10_000,
    100,
    120_000,
    'Longest wait for a webhook receiver (or Telegram, Zalo, SMTP) to answer',
  ),
  WEBHOOK_ALLOWED_ADDRESSES: Type.Optional(
    Type.String({
      description:
        'Loopback/private/link-local/metadata addresses webhooks may reach anyway: "127.0.0.1,10.1.0.0/16" (refused otherwise)',
    }),
  ),
  NOTIFY_FAILURE_LIMIT: Int(3, 1, 1000, 'Deliveries failing for good in a row before a target is marked failing'),
  CONSOLE_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'Public address of the console: notifications link to the alert',
    }),
  ),
  TELEGRAM_API_URL: Type.String({ default: 'https://api.telegram.org', pattern: '^https?://' }),
  ZALO_API_URL: Type.String({ default: 'https://openapi.zalo.me', pattern: '^https?://', description: 'Zalo OA API' }),
  ZALO_OAUTH_URL: Type.String({
    default: 'https://oauth.zaloapp.com',
    pattern: '^https?://',
    description: 'Zalo token refresh',
  }),
  ZALO_ZNS_URL: Type.String({
    default: 'https://business.openapi.zalo.me',
    pattern: '^https?://',
    description: 'Zalo ZNS',
  }),
  MQTT_OUT: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description: 'Publish camera status, motion, last event and alert changes below <MQTT_TOPIC_ROOT>/_hub/',
  }),
  HA_DISCOVERY: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description: 'Announce cameras to Home Assistant (MQTT discovery): status, motion, last event (needs MQTT_OUT)',
  }),
  HA_DISCOVERY_PREFIX: Type.String({ default: 'homeassistant', pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$' }),
  SMTP_CA_FILE: Type.Optional(
    Type.String({ description: 'PEM file of extra CAs trusted for SMTP (a private mail relay)' }),
  ),
  LIVE_BUFFER_SIZE: Int(10_000, 100, 1_000_000, 'Live feed entries kept in Redis for Last-Event-ID resume'),
  LIVE_IDLE_GRACE_SEC: Int(
    60,
    1,
    86_400,
    'Live feed entries are written only while a client listens, and this long after the last one left',
  ),
  LIVE_HEARTBEAT_SEC: Int(15, 1, 300, "Live feed keep-alive; each one re-checks the stream's session"),
  LIVE_MAX_STREAMS_PER_USER: Int(6, 1, 1000, 'Live feeds one user may hold open at once (all hubs)'),
  LIVE_MAX_STREAMS_PER_SESSION: Int(3, 1, 1000, 'Live feeds one login session may hold open at once (all hubs)'),
  LIVE_CONNECTS_PER_MIN: Int(30, 1, 100_000, 'Live feed (re)connections per user and minute'),
  VIDEO_LIVE_POLICE: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description: 'Police may watch live video too (operators and admins always may)',
  }),
  VIDEO_WALL_MAX_LIVE: Int(9, 0, 64, 'Camera-wall tiles playing live video at once; the others show snapshots'),
  VIDEO_IDLE_STOP_SEC: Int(5, 1, 10, "A camera's live upstream ends this long after its last viewer left"),
  VIDEO_START_TIMEOUT_SEC: Int(15, 2, 120, 'A live view whose agent sends no video this long is unavailable'),
  VIDEO_SESSION_CHECK_SEC: Int(5, 1, 60, "How often a live viewer's session is re-checked (logout ends the stream)"),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  CAMHUB_ADMIN_PASSWORD: Type.Optional(
    Type.String({
      minLength: 12,
      description: 'At start, creates or resets the `admin` user with this password (12+ characters, not a common one)',
    }),
  ),
  HUB_KEY_FILE: Type.String({
    default: './data/hub-ed25519.pem',
    description: "The hub's Ed25519 private key (PKCS#8 PEM): signs exports; access tokens use a key derived from it",
  }),
  AUTH_TOKEN_TTL_SEC: Int(900, 30, 86_400, 'Lifetime of an access token'),
  AUTH_REFRESH_TTL_SEC: Int(12 * 3600, 60, 30 * 86_400, 'How long a session may be refreshed without a new login'),
  AUTH_COOKIE_SECURE: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'true',
    description: 'Mark the console cookie Secure (HTTPS only); "false" only for local development',
  }),
  AUTH_USER_MAX_FAILURES: Int(5, 1, 1000, 'Failed logins for one user (window) before it is locked for new IPs'),
  AUTH_IP_MAX_FAILURES: Int(20, 1, 10_000, 'Failed logins from one IP (window) before that IP must wait'),
  AUTH_FAILURE_WINDOW_SEC: Int(900, 10, 86_400, 'Window counting failed logins; a lockout ends when it passes'),
  AUTH_KNOWN_IP_DAYS: Int(30, 0, 365, 'An IP with a successful login in this many days is exempt from user lockout'),
  AUTH_LOGIN_RATE_PER_MIN: Int(30, 1, 100_000, 'Login and refresh requests per client IP and minute (any outcome)'),
  AUTH_LOGIN_CONCURRENT_USER: Int(2, 1, 1000, 'Logins for one user being checked at once; more are refused (429)'),
  AUTH_LOGIN_CONCURRENT_IP: Int(4, 1, 1000, 'Logins from one IP being checked at once; more are refused (429)'),
  AUTH_PAIR_FREE_FAILURES: Int(3, 0, 1000, 'Failures of one IP for one user before each further try must wait'),
  AUTH_PAIR_DELAY_MAX_SEC: Int(300, 1, 86_400, 'Longest wait between tries of one IP for one user (doubles from 1 s)'),
  AUTH_AUDIT_WINDOW_SEC: Int(300, 1, 86_400, 'Refused logins of one IP: the first audited at once, the rest summed'),
  TRUST_PROXY: Type.Optional(
    Type.String({
      pattern: '^[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*$',
      description: 'Reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client',
    }),
  ),
  EVENTS_ID_MARGIN_SEC: Int(
    86_400,
    -1,
    315_360_000,
    "History reads only the id days of its time window, widened by this much (an event's id is minted at the agent within the camera-time tolerance of its time, at most 1 day); -1: every day",
  ),
  RETENTION_EVENTS_DAYS: Int(90, 1, 36_500, 'Events older than this are deleted (unless held)'),
  RETENTION_SNAPSHOTS_DAYS: Int(30, 1, 36_500, 'Snapshot files of events older than this are deleted (unless held)'),
  RETENTION_CLIPS_DAYS: Int(30, 1, 36_500, 'Clips of events older than this are deleted (unless held)'),
  RETENTION_AUDIT_DAYS: Int(3650, 1, 36_500, 'Audit entries older than this are deleted; must be the longest'),
  RETENTION_REJECTIONS_DAYS: Int(
    30,
    1,
    36_500,
    'Ingest rejections (with their raw payloads) older than this are deleted',
  ),
  RETENTION_INTERVAL_SEC: Int(3600, 10, 86_400, 'How often the retention job runs'),
  RETENTION_BATCH: Int(1000, 10, 100_000, 'Rows deleted per statement: short transactions, never a long lock'),
  EXPORT_DIR: Type.String({ default: './data/exports', description: 'Where evidence archives are written' }),
  EXPORT_MAX_EVENTS: Int(200_000, 1, 10_000_000, 'Largest export, in events'),
});
export type HubConfig = Static<typeof HubConfigSchema>;

const compiled = compileSchema(HubConfigSchema);
const INTEGER_KEYS = new Set(
  Object.entries(HubConfigSchema.properties)
    .filter(([, s]) => (s as { type?: string }).type === 'integer')
    .map(([k]) => k),
);

/** Reads the hub configuration from an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HubConfig> = {}): HubConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(HubConfigSchema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    if (INTEGER_KEYS.has(key)) {
      if (!/^-?\d+$/.test(value.trim())) {
        problems.push(`${key}: "${value}" is not an integer`);
        continue;
      }
      raw[key] = Number(value);
    } else raw[key] = value;
  }
  Object.assign(raw, overrides);
  const withDefaults = Value.Default(HubConfigSchema, raw);
  for (const err of compiled.Errors(withDefaults)) {
    const key = err.path.replace(/^\//, '') || '(root)';
    if (!problems.some((p) => p.startsWith(`${key}:`))) problems.push(`${key}: ${err.message}`);
  }
  problems.push(...crossChecks(withDefaults as HubConfig));
  if (problems.length === 0) {
    const c = withDefaults as HubConfig;
    const longest = Math.max(
      c.RETENTION_EVENTS_DAYS,
      c.RETENTION_SNAPSHOTS_DAYS,
      c.RETENTION_CLIPS_DAYS,
      c.HEALTH_RETENTION_DAYS,
    );
    // Accountability outlives the data it is about: who viewed an event must be answerable after it is gone.
    if (c.CAMHUB_ADMIN_PASSWORD && passwordProblem(c.CAMHUB_ADMIN_PASSWORD) === 'password_too_common') {
      problems.push('CAMHUB_ADMIN_PASSWORD: too common; choose a longer passphrase');
    }
    if (c.RETENTION_AUDIT_DAYS < longest) {
      problems.push(`RETENTION_AUDIT_DAYS: must be at least ${longest} (the longest other retention)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return withDefaults as HubConfig;
}

/**
 * Checks that need more than one variable, a parser of their own, or a file, run here with the rest, so that the hub
 * (server and CLI) refuses a bad configuration before anything runs (no migration, no connection) rather than while
 * its plugins register. The container (container.ts) calls the same parsers again to build what they need.
 */
function crossChecks(c: HubConfig): string[] {
  const problems: string[] = [];
  const collect = (check: () => unknown) => {
    try {
      check();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  };
  // BullMQ's scripts and the hub's own MULTI/EVAL touch several keys at once: in a cluster they must share a slot.
  if (c.REDIS_CLUSTER === 'true' && !/^\{[^{}]+\}/.test(c.QUEUE_PREFIX)) {
    problems.push('QUEUE_PREFIX: with REDIS_CLUSTER=true it must start with a hash tag in braces, e.g. {camhub}');
  }
  if (Boolean(c.WEBHOOK_URL) !== Boolean(c.WEBHOOK_SECRET)) {
    problems.push('WEBHOOK_URL and WEBHOOK_SECRET: set both or neither');
  }
  if (typeof c.ALERT_TIME_ZONE === 'string') collect(() => parseSiteTimeZones(c.ALERT_TIME_ZONE, c.SITE_TIME_ZONES));
  collect(() => createAddressGuard(c.WEBHOOK_ALLOWED_ADDRESSES));
  if (c.SMTP_CA_FILE) {
    try {
      readFileSync(c.SMTP_CA_FILE, 'utf8');
    } catch (err) {
      problems.push(`SMTP_CA_FILE: cannot read ${c.SMTP_CA_FILE} (${(err as Error).message})`);
    }
  }
  if (typeof c.HUB_KEY_FILE === 'string') {
    const keyProblem = checkHubKeyFile(c.HUB_KEY_FILE);
    if (keyProblem) problems.push(`HUB_KEY_FILE: ${keyProblem}`);
  }
  return problems;
}

/** Fastify's `trustProxy`: only the listed proxies may name the client; nobody when unset. */
export function trustProxyOption(config: Pick<HubConfig, 'TRUST_PROXY'>): string[] | false {
  const list =
    config.TRUST_PROXY?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  return list.length > 0 ? list : false;
}

/** Parses AGENT_TOKENS ("site=token,…") into a map; null when agent upload auth is not configured. */
export function parseAgentTokens(value: string | undefined): Map<string, string> | null {
  if (!value) return null;
  const map = new Map<string, string>();
  for (const pair of value.split(',')) {
    const [site, token] = pair.split('=').map((s) => s.trim());
    if (site && token) map.set(site, token);
  }
  return map;
}
