import type { HealthSample } from '@camhub/shared';
import type { Logger } from 'pino';
import type { HealthConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import { probeStream, type StreamProbeReport } from '../media/ffmpeg.js';
import type { OnvifClient } from '../onvif/client.js';
import type { PullPointStats } from '../onvif/events.js';
import { deriveHealth, type StreamFindings } from './derive.js';
import type { ConcurrencyLimiter } from './limiter.js';
import { probeOnvif } from './onvif-probe.js';
import { type PictureEventDraft, PictureWatch } from './picture-watch.js';

/** What a camera supervisor lends the health probe. */
export interface ProbeTarget {
  readonly id: string;
  readonly client: OnvifClient;
  readonly connectedAt: number | null;
  pullStats(): PullPointStats | null;
  /** Event times replaced by the receive time since the last call (camera time beyond the tolerance). */
  takeReplacedEventTimes?(): number;
  /** The camera answered the probe: a PullPoint loop waiting out an outage's backoff may retry now. */
  deviceAnswered?(): void;
  /** The stream could not be read: its address may have changed (re-read it). */
  streamFailed?(): void;
  /** The RTSP URL to probe (credentials included), or null while unknown. */
  streamUrl(): string | null;
  storeStreamEvent(draft: PictureEventDraft): Promise<void>;
}

export interface CameraProbeOptions {
  site: string;
  health: HealthConfig;
  requestTimeoutMs: number;
  pullTimeoutSec: number;
  limiter: ConcurrencyLimiter;
  logger: Logger;
  now?: () => number;
}

/** rtsp://user:secret@host/… → rtsp://***@host/… in anything people or logs see. */
export function redactUrl(text: string): string {
  return text.replace(/(rtsp:\/\/)[^@/\s]+@/gi, '$1***@');
}

type OnvifHealth = NonNullable<HealthSample['onvif']>;
type StreamHealth = NonNullable<HealthSample['stream']>;

const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

/**
 * One camera's health probes: ONVIF and stream side by side, the freeze/black detector when due (rarely while all is
 * well, on every probe while something is suspected, so recovery is seen at the next probe), verdict, sample.
 */
export class CameraProbe {
  private readonly watch: PictureWatch;
  private lastDetectionAt: number | null = null;
  private lastDetection: { frozen: boolean; black: boolean } | null = null;
  private eventsLostRuns = 0;
  probes = 0;

  constructor(
    private readonly target: ProbeTarget,
    private readonly options: CameraProbeOptions,
  ) {
    this.watch = new PictureWatch(options.health.confirmRuns);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private detectorDue(): boolean {
    const h = this.options.health;
    if (h.detectorIntervalSec === 0) return false;
    if (this.lastDetectionAt === null || this.watch.watching) return true;
    return this.now() - this.lastDetectionAt >= h.detectorIntervalSec * 1000;
  }

  private async probeStream(
    signal: AbortSignal,
  ): Promise<{ findings: StreamFindings; report: StreamProbeReport | null }> {
    const h = this.options.health;
    const url = this.target.streamUrl();
    const expected = this.target.client.info?.profileFps ?? null;
    if (!url) {
      const error = 'the camera gave no RTSP stream address (GetStreamUri failed)';
      return { findings: { ok: false, error, fps: null, expectedFps: expected }, report: null };
    }
    const detect = this.detectorDue();
    const queuedAt = this.now();
    let startedAt = queuedAt;
    const detection = detect
      ? {
          freezeSec: h.freezeSec,
          freezeNoiseDb: h.freezeNoiseDb,
          blackSec: h.blackSec,
          blackPixelThreshold: h.blackPixelThreshold,
        }
      : undefined;
    const report = await this.options.limiter.run(() => {
      startedAt = this.now();
      return probeStream(url, {
        seconds: h.streamProbeSec,
        timeoutMs: h.streamTimeoutSec * 1000,
        detect: detection,
        signal,
      });
    }, signal);
    this.options.logger.debug(
      {
        camera: this.target.id,
        waitedMs: startedAt - queuedAt,
        ffmpegMs: this.now() - startedAt,
        packets: report.packets,
        timedOut: report.timedOut,
        exitCode: report.exitCode,
        detect,
      },
      'stream probe',
    );
    const ok = report.packets >= 2 && report.fps !== null;
    if (!ok) this.target.streamFailed?.();
    if (ok && report.frozen !== undefined) {
      this.lastDetectionAt = this.now();
      this.lastDetection = { frozen: report.frozen, black: report.black ?? false };
      for (const draft of this.watch.observe(this.lastDetection, new Date(this.now()))) {
        await this.target
          .storeStreamEvent(draft)
          .catch((err: unknown) =>
            this.options.logger.error({ camera: this.target.id, err: errorMessage(err) }, 'stream event not stored'),
          );
      }
    }
    const findings: StreamFindings = {
      ok,
      error: ok
        ? null
        : redactUrl(report.error ?? `only ${report.packets} video packets in ${h.streamProbeSec} s`).slice(0, 1000),
      fps: report.fps,
      expectedFps: expected ?? report.declaredFps,
    };
    if (ok && this.lastDetection) Object.assign(findings, this.lastDetection);
    return { findings, report };
  }

  /** Runs one probe and returns its sample. Never throws for camera trouble; `signal` aborts a queued stream probe. */
  async run(signal: AbortSignal): Promise<HealthSample> {
    const { health, requestTimeoutMs, pullTimeoutSec } = this.options;
    const [onvif, stream] = await Promise.all([
      probeOnvif({
        client: this.target.client,
        stats: this.target.pullStats(),
        connectedAt: this.target.connectedAt,
        requestTimeoutMs,
        pullTimeoutSec,
        signal,
        now: this.options.now,
      }),
      // Before the first ONVIF connect there is no stream address to judge, and a device that declares it cannot
      // stream has none: the ONVIF side speaks for the camera.
      health.stream && this.target.client.info?.streaming ? this.probeStream(signal) : Promise.resolve(null),
    ]);
    this.probes += 1;
    if (onvif.reachable) this.target.deviceAnswered?.();
    onvif.eventTimesReplaced = this.target.takeReplacedEventTimes?.() ?? 0;
    // Pulls can be slow for one probe (a camera busy for a moment); stalled on two probes in a row is a problem.
    // A missing subscription is judged by how long it has been missing (onvif-probe.ts).
    this.eventsLostRuns = onvif.pullsStalled ? this.eventsLostRuns + 1 : 0;
    const findings = onvif.pullsStalled && this.eventsLostRuns < 2 ? { ...onvif, pullsStalled: false } : onvif;
    const stats = this.target.pullStats();
    const verdict = deriveHealth(findings, stream?.findings ?? null, health);
    const r = stream?.report;
    const sample: HealthSample = {
      v: 1,
      site: this.options.site,
      camera: this.target.id,
      at: new Date(this.now()).toISOString(),
      status: verdict.status,
      // Contract v1 allows extra fields (additionalProperties); authFailed, pullFailures, expectedFps… are ours.
      onvif: {
        reachable: onvif.reachable,
        latencyMs: onvif.latencyMs,
        eventsSubscribed: onvif.eventsSubscribed && !onvif.pullsStalled,
        lastPullAt: onvif.lastPullAt,
        clockSkewMs: onvif.clockSkewMs,
        authFailed: onvif.authFailed,
        pullFailures: onvif.pullFailures,
        renewals: stats?.renewed ?? 0,
        resubscriptions: stats?.recreated ?? 0,
        unsubscribedReason: onvif.unsubscribedReason ?? null,
        eventsNotSupported: onvif.eventsNotSupported ?? false,
        grantedLeaseMs: stats?.grantedLeaseMs ?? null,
        earlyEmptyPulls: stats?.earlyEmptyPulls ?? 0,
      } as OnvifHealth,
      stream: stream
        ? ({
            ok: stream.findings.ok,
            codec: r?.codec ?? null,
            width: r?.width ?? null,
            height: r?.height ?? null,
            fps: round1(stream.findings.ok ? stream.findings.fps : null),
            bitrateKbps: stream.findings.ok && r?.bitrateKbps != null ? Math.round(r.bitrateKbps) : null,
            frozen: stream.findings.frozen ?? false,
            black: stream.findings.black ?? false,
            expectedFps: stream.findings.expectedFps,
            packets: r?.packets ?? 0,
            detectedAt: this.lastDetectionAt === null ? null : new Date(this.lastDetectionAt).toISOString(),
          } as StreamHealth)
        : null,
      problems: verdict.problems,
    };
    return sample;
  }
}
