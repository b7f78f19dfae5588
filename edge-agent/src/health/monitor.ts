import type { HealthSample } from '@camhub/shared';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { AgentConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import { killAllFfmpeg } from '../media/ffmpeg.js';
import { CameraProbe, type ProbeTarget } from './camera-probe.js';
import { ConcurrencyLimiter } from './limiter.js';

export interface HealthMonitorOptions {
  config: AgentConfig;
  targets: ProbeTarget[];
  onSample: (sample: HealthSample) => void;
  logger: Logger;
}

/**
 * Probes every camera every `health.intervalSec`, staggered evenly over the interval (camera i of n starts at
 * (i+1)/n of it) so probes never bunch up, with one concurrency limit for stream probes shared by all cameras. A camera
 * whose probe overruns its interval is probed again right away (never twice at once); `late` counts that, and a
 * warning says to raise `health.concurrency` or the interval.
 */
export class HealthMonitor {
  readonly limiter: ConcurrencyLimiter;
  readonly probes: CameraProbe[];
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  late = 0;
  private lastLateWarning = 0;

  constructor(private readonly options: HealthMonitorOptions) {
    const { config } = options;
    this.limiter = new ConcurrencyLimiter(config.health.concurrency);
    this.probes = options.targets.map(
      (target) =>
        new CameraProbe(target, {
          site: config.site,
          health: config.health,
          requestTimeoutMs: config.onvif.requestTimeoutMs,
          pullTimeoutSec: config.onvif.pullTimeoutSec,
          limiter: this.limiter,
          logger: options.logger,
        }),
    );
  }

  start(): void {
    if (this.loops.length > 0) return;
    const intervalMs = this.options.config.health.intervalSec * 1000;
    const n = this.probes.length;
    // (i + 1)/n rather than i/n: no probe at the very start, when cameras are still connecting and subscribing.
    this.loops = this.probes.map((probe, i) => this.loop(probe, Math.floor((intervalMs * (i + 1)) / n)));
  }

  private async loop(probe: CameraProbe, offsetMs: number): Promise<void> {
    const intervalMs = this.options.config.health.intervalSec * 1000;
    const signal = this.abort.signal;
    let planned = Date.now() + offsetMs;
    while (!signal.aborted) {
      await sleep(Math.max(0, planned - Date.now()), signal);
      if (signal.aborted) break;
      try {
        const started = Date.now();
        const sample = await probe.run(signal);
        if (signal.aborted) break;
        this.options.logger.debug(
          { camera: sample.camera, status: sample.status, durationMs: Date.now() - started },
          'health probe',
        );
        this.options.onSample(sample);
      } catch (err) {
        if (signal.aborted) break;
        this.options.logger.error({ err: errorMessage(err) }, 'health probe failed');
      }
      planned += intervalMs;
      if (planned < Date.now()) {
        this.late += 1;
        planned = Date.now();
        if (Date.now() - this.lastLateWarning > 60_000) {
          this.lastLateWarning = Date.now();
          this.options.logger.warn(
            { concurrency: this.limiter.limit, queued: this.limiter.queued, late: this.late },
            'health probes overrun their interval: raise health.concurrency or health.intervalSec',
          );
        }
      }
    }
  }

  /** Stops scheduling, kills running ffmpeg probes, and waits for every loop to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    await killAllFfmpeg();
    await Promise.all(this.loops);
  }
}
