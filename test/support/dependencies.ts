import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'vitest';

/**
 * Marks a skip as "an outside dependency is missing" so that the reporter (test/support/dependency-reporter.ts) can
 * list it loudly at the end of the run.
 */
export const MISSING_DEPENDENCY = 'missing dependency:';

/** True where the run is CI's (`CI=true`): a missing dependency is then a failure, never a skip. */
export function strictDependencies(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

export class MissingDependencyError extends Error {
  readonly code = 'missing_dependency';
  constructor(what: string, hint: string) {
    super(`${what} is missing: ${hint} (scripts/ensure-env.sh installs it; CI=true never skips a test for this)`);
    this.name = 'MissingDependencyError';
  }
}

/**
 * Gate a test on an outside dependency (ffmpeg, the GStreamer RTSP server, Chromium, systemd-analyze…). Under CI it
 * throws, so the test fails with the install hint: a green run must have exercised everything. A developer's machine
 * without the dependency skips the test, and the run ends by saying so.
 */
export function requireDependency(ctx: TestContext, present: boolean, what: string, hint: string): void {
  if (present) return;
  if (strictDependencies()) throw new MissingDependencyError(what, hint);
  ctx.skip(`${MISSING_DEPENDENCY} ${what} (${hint})`);
}

/** The GStreamer RTSP server, for tests that need the simulator's video. */
export function requireRtsp(ctx: TestContext, sim: { rtspAvailable: boolean; rtspUnavailableReason?: string | null }) {
  requireDependency(
    ctx,
    sim.rtspAvailable,
    'the GStreamer RTSP server',
    `${sim.rtspUnavailableReason ?? 'unavailable'}; apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 ` +
      'gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x',
  );
}

/** True when `command` is an executable file on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, command)));
}
