import type { HealthSample } from '@camhub/shared';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { AgentConfig } from '../config.js';
import { errorMessage } from '../errors.js';
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
  private readonly abort = new AbortController();
  /** One probe loop per camera, each with its own abort: cameras come and go with the hub's configuration. */
  private readonly running = new Map<
    string,
    { probe: CameraProbe; abort: AbortController; loop: Promise<void> | null }
  >();
  private started = false;
  late = 0;
  private lastLateWarning = 0;

  constructor(private readonly options: HealthMonitorOptions) {
    this.limiter = new ConcurrencyLimiter(options.config.health.concurrency);
    for (const target of options.targets) this.running.set(target.id, this.entry(target));
  }

  get probes(): CameraProbe[] {
    return [...this.running.values()].map((r) => r.probe);
  }

  private entry(target: ProbeTarget) {
    const { config } = this.options;
    const probe = new CameraProbe(target, {
      site: config.site,
      health: config.health,
      requestTimeoutMs: config.onvif.requestTimeoutMs,
      pullTimeoutSec: config.onvif.pullTimeoutSec,
      limiter: this.limiter,
      logger: this.options.logger,
    });
    return { probe, abort: new AbortController(), loop: null as Promise<void> | null };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const intervalMs = this.options.config.health.intervalSec * 1000;
    const entries = [...this.running.values()];
    const n = entries.length;
    // (i + 1)/n rather than i/n: no probe at the very start, when cameras are still connecting and subscribing.
    entries.forEach((e, i) => (e.loop = this.loop(e.probe, Math.floor((intervalMs * (i + 1)) / n), e.abort.signal)));
  }

  /** Probes a camera added while running, first after one interval (it is still connecting before that). */
  add(target: ProbeTarget): void {
    if (this.running.has(target.id)) return;
    const e = this.entry(target);
    this.running.set(target.id, e);
    if (this.started && !this.abort.signal.aborted) {
      e.loop = this.loop(e.probe, this.options.config.health.intervalSec * 1000, e.abort.signal);
    }
  }

  /** Stops probing a camera (removed or replaced); resolves when its loop has ended. */
  async remove(id: string): Promise<void> {
    const e = this.running.get(id);
    if (!e) return;
    this.running.delete(id);
    e.abort.abort();
    await e.loop;
  }

  private async loop(probe: CameraProbe, offsetMs: number, own: AbortSignal): Promise<void> {
    const intervalMs = this.options.config.health.intervalSec * 1000;
    const signal = AbortSignal.any([this.abort.signal, own]);
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

  /**
   * Stops scheduling and waits for every loop to end; the abort kills the probes' own ffmpeg at once (and nobody
   * else's: live streams and clip buffers end in their own order of the agent's shutdown).
   */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.running.values()].map((e) => e.loop));
  }
}
