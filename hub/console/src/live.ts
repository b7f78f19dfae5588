import { type Alert, api, ApiError, type CameraViewStatus, type EventItem, type Problem, withState } from './api.js';

export interface CameraStatusMessage {
  site: string;
  camera: string;
  to: CameraViewStatus;
  problems: Problem[];
  at: string;
}

export type LiveMessage =
  | { kind: 'event'; event: EventItem }
  | {
      kind: 'alert';
      alert: Alert;
      action: string;
      actor: string | null;
      /** Codes and parameters of the change (events: how many joined the alert). */
      data: Record<string, unknown> | null;
    }
  | { kind: 'camera'; status: CameraStatusMessage }
  /** The feed came back after an outage (or the hub lost entries): what is on screen must be reloaded. */
  | { kind: 'resync' };

/** `down`: the hub cannot be reached (or the stream broke); the feed keeps trying by itself. */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'down' | 'off';

type Raw = Record<string, unknown>;

/** Turns one SSE message of GET /api/v1/live (event name + JSON data) into what the console understands. */
export function classify(name: string, data: unknown): LiveMessage[] {
  if (!data || typeof data !== 'object') return [];
  const d = data as Raw;
  switch (name) {
    case 'event':
      return typeof d.id === 'string' && typeof d.camera === 'string'
        ? [{ kind: 'event', event: d as unknown as EventItem }]
        : [];
    case 'alert': {
      const alert = d.alert as Alert | undefined;
      if (!alert || typeof alert.id !== 'string') return [];
      return [
        {
          kind: 'alert',
          alert: withState(alert),
          action: String(d.action ?? ''),
          actor: (d.actor as string) ?? null,
          data: d.data && typeof d.data === 'object' ? (d.data as Record<string, unknown>) : null,
        },
      ];
    }
    case 'camera':
      return typeof d.site === 'string' && typeof d.camera === 'string'
        ? [
            {
              kind: 'camera',
              status: {
                site: d.site,
                camera: d.camera,
                to: d.to as CameraViewStatus,
                problems: (d.problems as Problem[]) ?? [],
                at: String(d.at ?? ''),
              },
            },
          ]
        : [];
    case 'gap':
      // Entries too old to replay are gone: reload what is shown.
      return [{ kind: 'resync' }];
    default:
      // Anything newer than this console.
      return [];
  }
}

/** Splits a text/event-stream into (event name, data) pairs, across chunk boundaries. */
export function sseParser(onMessage: (name: string, data: string, id: string | null) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      let id: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // keep-alive comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length > 0) onMessage(name, data.join('\n'), id);
    }
  };
}

const POLL_MS = 4000;
/** The hub writes a keep-alive comment every 15 s: this long without a byte means the link is dead. */
const SILENCE_MS = 35_000;
/** Reconnection delays grow to this at most: a dispatcher's screen must come back soon after the hub does. */
const MAX_RETRY_MS = 5000;

/**
 * One live feed for the whole console: the hub's SSE stream (GET /api/v1/live) when it has one, otherwise polling
 * the newest events every few seconds, so the wall and the rail stay alive either way.
 */
export class LiveFeed {
  private readonly listeners = new Set<(m: LiveMessage) => void>();
  private readonly modeListeners = new Set<(m: LiveMode) => void>();
  private abort: AbortController | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly seen = new Set<string>();
  private stopped = true;
  /** Resume point: the hub replays what was missed since this id after a reconnect. */
  private lastEventId: string | null = null;
  mode: LiveMode = 'off';
  /** When the feed went down (for "lost since HH:mm"); null while it works. */
  downSince: string | null = null;

  constructor(private readonly canReadEvents: boolean) {}

  subscribe(fn: (m: LiveMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onMode(fn: (m: LiveMode) => void): () => void {
    this.modeListeners.add(fn);
    return () => this.modeListeners.delete(fn);
  }

  start(): void {
    this.stopped = false;
    void this.connect(0);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.setMode('off');
  }

  private setMode(mode: LiveMode) {
    if (mode === 'down') this.downSince ??= new Date().toISOString();
    else if (mode === 'live' || mode === 'polling' || mode === 'off') this.downSince = null;
    if (mode === this.mode) return;
    this.mode = mode;
    for (const l of this.modeListeners) l(mode);
  }

  private emit(m: LiveMessage): void {
    if (m.kind === 'event') {
      if (this.seen.has(m.event.id)) return;
      this.seen.add(m.event.id);
      if (this.seen.size > 5000) this.seen.delete(this.seen.values().next().value as string);
    }
    for (const l of this.listeners) l(m);
  }

  private async connect(attempt: number): Promise<void> {
    if (this.stopped) return;
    // While down, stay down (red) until a connection works: "connecting" would hide the outage between retries.
    if (this.mode !== 'down') this.setMode('connecting');
    const abort = new AbortController();
    this.abort = abort;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
    };
    try {
      const stream = await api.live(abort.signal, this.lastEventId);
      const wasDown = this.mode === 'down';
      this.setMode('live');
      if (wasDown) this.emit({ kind: 'resync' });
      attempt = 0;
      feed();
      const parse = sseParser((name, data, id) => {
        if (id) this.lastEventId = id;
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch (err) {
          console.warn('live feed: not JSON', name, (err as Error).message);
          return;
        }
        for (const m of classify(name, parsed)) this.emit(m);
      });
      const reader = stream.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed();
        parse(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        clearTimeout(watchdog);
        // No SSE on this hub (or not for this user): keep the console alive by polling.
        this.startPolling();
        return;
      }
      console.warn('live feed interrupted', (err as Error).message);
    } finally {
      clearTimeout(watchdog);
    }
    if (this.stopped) return;
    // The stream ended or failed: whatever the reason, the screen is no longer live.
    this.setMode('down');
    const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** attempt);
    setTimeout(() => void this.connect(attempt + 1), delay);
  }

  private startPolling() {
    if (!this.canReadEvents) {
      this.setMode('off');
      return;
    }
    this.setMode('polling');
    let since = new Date(Date.now() - 60_000).toISOString();
    const tick = async () => {
      try {
        const page = await api.events({ from: since, limit: 100 });
        // Oldest first, so the rail gets them in order.
        for (const e of [...page.items].reverse()) this.emit({ kind: 'event', event: e });
        // Events may arrive late (agents' outboxes): look back a minute every time; `seen` drops the repeats.
        since = new Date(Date.now() - 60_000).toISOString();
        this.setMode('polling');
      } catch (err) {
        console.warn('live polling failed', (err as Error).message);
        this.setMode('down');
      }
      if (!this.stopped) this.pollTimer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
  }
}
