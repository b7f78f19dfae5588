import { parseArgs } from 'node:util';
import { DemoUsageError } from './errors.js';
import { CYCLE_SEC } from './scenario.js';

export interface DemoOptions {
  cameras: number;
  sites: number;
  /** The hub's HTTP port. */
  port: number;
  /** First simulated camera port; camera i is on simPort + i (the next free block is used when taken). */
  simPort: number;
  /** No welcome block, no periodic status lines: plain log lines for tests and CI. */
  headless: boolean;
  /** Stop by itself after this many seconds (null: until Ctrl-C). */
  durationSec: number | null;
  /** Aedes and PGlite even when a broker or PostgreSQL already runs here (Redis: private redis-server if possible). */
  embedded: boolean;
  scenario: boolean;
  /** Seconds into the script's cycle where the first cycle starts (0: daytime; 160: nightfall, then the intrusion). */
  startAtSec: number;
  help: boolean;
}

export const USAGE = `usage: npm run demo [-- options]
  --cameras N      simulated cameras (default 8)
  --sites S        sites, each with its own edge agent (default 3)
  --port P         hub HTTP port (default 8080)
  --sim-port P     first simulated camera port (default 18500)
  --duration SEC   stop by itself after SEC seconds
  --headless       plain log lines only (no welcome block, no periodic status)
  --embedded       use the embedded MQTT broker (Aedes) and PostgreSQL (PGlite) even if real ones run here
  --no-scenario    start everything but script nothing (cameras stay quiet)
  --start-at SEC   begin the script's first cycle SEC seconds in (160: nightfall, the school's intrusion 20 s later)
Environment: MQTT_URL, DATABASE_URL, REDIS_URL (use these services), MQTT_TOPIC_ROOT, QUEUE_PREFIX,
MQTT_CLIENT_ID (keep apart from other hubs on a shared broker or Redis), CAMHUB_DEMO_DIR (default .demo).`;

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new DemoUsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new DemoUsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Parses `npm run demo -- …`; throws DemoUsageError naming the bad option. */
export function parseDemoArgs(argv: string[]): DemoOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        cameras: { type: 'string' },
        sites: { type: 'string' },
        port: { type: 'string' },
        'sim-port': { type: 'string' },
        duration: { type: 'string' },
        headless: { type: 'boolean', default: false },
        embedded: { type: 'boolean', default: false },
        'no-scenario': { type: 'boolean', default: false },
        'start-at': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new DemoUsageError((err as Error).message);
  }
  const cameras = integer('cameras', values.cameras, 8, 1, 200);
  const sites = integer('sites', values.sites, Math.min(3, cameras), 1, 50);
  if (sites > cameras) throw new DemoUsageError(`--sites (${sites}) cannot exceed --cameras (${cameras})`);
  const simPort = integer('sim-port', values['sim-port'], 18500, 1024, 65535 - cameras);
  return {
    cameras,
    sites,
    port: integer('port', values.port, 8080, 0, 65535),
    simPort,
    durationSec: values.duration === undefined ? null : integer('duration', values.duration, 0, 1, 7 * 24 * 3600),
    headless: values.headless,
    embedded: values.embedded,
    scenario: !values['no-scenario'],
    startAtSec: integer('start-at', values['start-at'], 0, 0, CYCLE_SEC - 1),
    help: values.help,
  };
}
