import { writeFileSync } from 'node:fs';

/** What the agent needs of a camera to reach it (a simulated camera has all of it). */
export interface CameraAccess {
  host: string;
  port: number;
  username: string;
  password: string;
}

/** The log level of agents run in the test process: silent unless AGENT_TEST_LOG (or TEST_AGENT_LOG, E2E_AGENT_LOG) says. */
export const AGENT_LOG_LEVEL =
  process.env.AGENT_TEST_LOG ?? process.env.TEST_AGENT_LOG ?? process.env.E2E_AGENT_LOG ?? 'silent';

/** ONVIF timings for test agents: one-second pulls and sub-second back-offs, so faults show within seconds. */
export const TEST_ONVIF = { pullTimeoutSec: 1, requestTimeoutMs: 2000, backoffMinMs: 100, backoffMaxMs: 1000 };

/** One camera entry per camera, `cam-<i>` named `Camera <i>` unless `entry` says otherwise (or adds keys). */
export function simCameras(
  cameras: readonly CameraAccess[],
  entry: (i: number) => Record<string, unknown> = () => ({}),
): Record<string, unknown>[] {
  return cameras.map((c, i) => ({
    id: `cam-${i}`,
    name: `Camera ${i}`,
    host: c.host,
    port: c.port,
    username: c.username,
    password: c.password,
    ...entry(i),
  }));
}

export interface TestAgentConfigInput {
  site: string;
  mqtt: { url: string; topicRoot: string; username?: string; password?: string };
  dataDir: string;
  cameras: readonly Record<string, unknown>[];
  /** Merged into TEST_ONVIF key by key. */
  onvif?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * An agent configuration as `agent.json` holds it (for `parseConfig` or a file an agent process reads): the test's
 * site, broker, data directory and cameras, a 4 MiB outbox and TEST_ONVIF; every other key as given.
 */
export function testAgentConfig({ onvif, ...rest }: TestAgentConfigInput): Record<string, unknown> {
  return { outbox: { maxBytes: 4 * 1024 * 1024 }, ...rest, onvif: { ...TEST_ONVIF, ...onvif } };
}

/** Writes testAgentConfig(input) to `file` (what an agent process reads with --config) and returns the path. */
export function writeAgentConfig(file: string, input: TestAgentConfigInput): string {
  writeFileSync(file, JSON.stringify(testAgentConfig(input)));
  return file;
}
