import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type VideoProfile } from '../api.js';
import { type MessageKey, t } from '../i18n/index.js';

/** What a live tile shows besides the picture. */
export type LiveState =
  { kind: 'connecting' } | { kind: 'live' } | { kind: 'stalled' } | { kind: 'unavailable'; reason: string };

/** No progress of the picture for this long: stalled. */
const STALL_MS = 4000;
/** Behind the live edge by more than this: jump to it (a background tab, a slow decoder). */
const MAX_LAG_SEC = 3;
/** Keep this much played video in the buffer; the rest is removed to bound memory. */
const KEEP_SEC = 10;
/** Reasons that another try would not change: no retry. */
const FINAL = new Set(['not_playable', 'forbidden', 'live_not_allowed', 'not_found', 'unauthorized', 'invalid_token']);
const RETRY_MS = 5000;

const REASONS: Record<string, MessageKey> = {
  agent_no_answer: 'live.reason.agent_no_answer',
  camera_unreachable: 'live.reason.camera_unreachable',
  no_stream_address: 'live.reason.no_stream_address',
  upstream_ended: 'live.reason.upstream_ended',
  upstream_invalid: 'live.reason.upstream_invalid',
  not_playable: 'live.reason.not_playable',
  live_not_allowed: 'live.reason.live_not_allowed',
  forbidden: 'live.reason.live_not_allowed',
  network_error: 'live.reason.network_error',
};

export function liveReasonText(reason: string): string {
  const key = REASONS[reason];
  return key ? t(key) : t('live.reason.other', { code: reason });
}

/**
 * Plays a camera's live video through Media Source Extensions: the hub's response is fragmented MP4 whose
 * Content-Type names the codec; bytes are appended as they arrive (a SourceBuffer takes partial segments), played
 * near the live edge, and the played part trimmed. H.265 (which this browser may not decode) ends as `not_playable`.
 * Reconnects after an interruption unless the reason is final.
 */
export function LivePlayer({
  site,
  camera,
  name,
  profile,
  class: cls,
  onState,
}: {
  site: string;
  camera: string;
  /** The camera's name for people (labels). */
  name: string;
  profile: VideoProfile;
  class?: string;
  onState?: (s: LiveState) => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<LiveState>({ kind: 'connecting' });
  const onStateRef = useRef(onState);
  onStateRef.current = onState;

  useEffect(() => {
    let stopped = false;
    let abort: AbortController | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let objectUrl: string | null = null;
    let lastTime = -1;
    let lastProgress = Date.now();
    let current: LiveState['kind'] = 'connecting';
    const report = (s: LiveState) => {
      if (stopped) return;
      current = s.kind;
      setState(s);
      onStateRef.current?.(s);
    };

    const monitor = setInterval(() => {
      const v = video.current;
      if (!v || current === 'unavailable') return;
      if (v.currentTime !== lastTime && v.currentTime > 0) {
        lastTime = v.currentTime;
        lastProgress = Date.now();
        if (current !== 'live') report({ kind: 'live' });
      } else if (current === 'live' && Date.now() - lastProgress > STALL_MS) report({ kind: 'stalled' });
    }, 500);

    async function run(): Promise<void> {
      const v = video.current;
      if (!v || stopped) return;
      report({ kind: 'connecting' });
      abort = new AbortController();
      let res: Response;
      try {
        res = await api.liveVideo(site, camera, profile, abort.signal);
      } catch (err) {
        if (stopped) return;
        const reason = err instanceof ApiError ? err.code : 'network_error';
        return unavailable(reason);
      }
      const type = res.headers.get('content-type') ?? '';
      if (typeof MediaSource === 'undefined' || !MediaSource.isTypeSupported(type)) {
        abort.abort();
        return unavailable('not_playable');
      }
      const source = new MediaSource();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(source);
      v.src = objectUrl;
      await new Promise<void>((resolve) => source.addEventListener('sourceopen', () => resolve(), { once: true }));
      if (stopped) return;
      const buffer = source.addSourceBuffer(type);
      const queue: Uint8Array<ArrayBuffer>[] = [];
      const pump = () => {
        if (buffer.updating || stopped || source.readyState !== 'open') return;
        const ranges = buffer.buffered;
        if (ranges.length > 0) {
          const start = ranges.start(0);
          const end = ranges.end(ranges.length - 1);
          if (end - v.currentTime > MAX_LAG_SEC) v.currentTime = end - 0.3;
          if (v.currentTime - start > KEEP_SEC * 2) return buffer.remove(start, v.currentTime - KEEP_SEC);
        }
        const next = queue.shift();
        if (next) buffer.appendBuffer(next);
      };
      buffer.addEventListener('updateend', () => {
        // The first data: start playing at the start of what arrived (the latest keyframe).
        if (v.paused && buffer.buffered.length > 0) {
          if (v.currentTime < buffer.buffered.start(0)) v.currentTime = buffer.buffered.start(0);
          // Autoplay of a muted video is allowed; a refusal shows as "stalled", which is what it is.
          void v.play().catch((err: Error) => console.warn('live video does not play', err.message));
        }
        pump();
      });
      lastProgress = Date.now();
      const reader = res.body!.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || stopped) break;
          queue.push(value as Uint8Array<ArrayBuffer>);
          pump();
        }
      } catch (err) {
        if (stopped) return;
        console.warn('live video interrupted', camera, (err as Error).message);
      }
      if (stopped) return;
      // The hub ended the stream (the agent's stream broke off): try again.
      report({ kind: 'stalled' });
      retry = setTimeout(() => void run(), 1000);
    }

    function unavailable(reason: string) {
      report({ kind: 'unavailable', reason });
      if (!FINAL.has(reason)) retry = setTimeout(() => void run(), RETRY_MS);
    }

    void run();
    return () => {
      stopped = true;
      clearInterval(monitor);
      if (retry) clearTimeout(retry);
      abort?.abort();
      const v = video.current;
      if (v) {
        v.removeAttribute('src');
        v.load();
      }
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [site, camera, profile]);

  const label =
    state.kind === 'unavailable'
      ? `${t('live.unavailable')}: ${liveReasonText(state.reason)}`
      : t(state.kind === 'live' ? 'live.live' : state.kind === 'stalled' ? 'live.stalled' : 'live.connecting');
  return (
    <div
      class={`live ${cls ?? ''}`}
      data-live-state={state.kind}
      data-live-reason={state.kind === 'unavailable' ? state.reason : undefined}
    >
      <video
        ref={video}
        muted
        autoplay
        playsInline
        class="live-video"
        hidden={state.kind === 'unavailable'}
        aria-label={t('live.videoOf', { name })}
      />
      <span class={`live-state live-${state.kind}`} role="status">
        {label}
      </span>
    </div>
  );
}
