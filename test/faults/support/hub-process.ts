import type { HubConfig } from '../../../hub/src/config.js';
import { spawnHub } from '../../support/processes.js';
import { track } from './cleanup.js';

export interface HubProcess {
  pid: number;
  url: string;
  /** From spawn to ready. */
  readyMs: number;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * The real hub (`hub/src/cli.ts serve`) as a child process: test/support/processes.ts's spawnHub (which kills a hub
 * that is not ready in time, with its process group, and reports its last output), with the config's log level, a
 * longer wait (tsx compiles the hub at start, which takes far longer on a loaded 2-core machine) and the child
 * registered with the suite's exit handler.
 */
export async function spawnHubProcess(config: HubConfig, timeoutMs = 90_000): Promise<HubProcess> {
  const hub = await spawnHub(config, { LOG_LEVEL: config.LOG_LEVEL }, undefined, { timeoutMs, onSpawn: track });
  return { pid: hub.proc.pid!, url: hub.url, readyMs: hub.readyMs, output: hub.output, stop: hub.stop };
}
