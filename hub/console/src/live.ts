import { type Alert, api, ApiError, type CameraViewStatus, type EventItem, type Problem } from './api.js';

export interface CameraStatusMessage {
  site: string;
  camera: string;
  to: CameraViewStatus;
  problems: Problem[];
  at: string;
}

export type LiveMessage =
  | { kind: 'event'; event: EventItem }
  | { kind: 'alert'; alert: Partial<Alert> & { id: string } }
  | { kind: 'camera'; status: CameraStatusMessage };

export type LiveMode = 'connecting' | 'live' | 'polling' | 'off';

type Raw = Record<string, unknown>;

/** Turns one SSE message (name + JSON data) into what the console understands; null for anything else. */
export function classify(name: string, data: unknown): LiveMessage[] {
  if (!data || typeof data !== 'object') return [];
  const d = data as Raw;
  // Either a named SSE event, or an envelope {type, data}.
  const kind = (name !== 'message' ? name : String(d.type ?? d.kind ?? '')).toLowerCase();
  const body = (name === 'message' && d.data && typeof d.data === 'object' ? d.data : d) as Raw;
  if (kind.includes('alert')) {
    const alert = (body.alert as Raw | undefined) ?? body;
    return typeof alert.id === 'string' ? [{ kind: 'alert', alert: alert as Partial<Alert> & { id: string } }] : [];
  }
  if (kind.includes('status') || kind.startsWith('camera')) {
    const s = (body.status && typeof body.status === 'object' ? body.status : body) as Raw;
    if (typeof s.site !== 'string' || typeof s.camera !== 'string') return [];
    const to = (s.to ?? s.status) as CameraViewStatus;
    return [
      {
        kind: 'camera',
        status: {
          site: s.site,
          camera: s.camera,
          to,
          problems: (s.problems as Problem[]) ?? [],
          at: String(s.at ?? s.since ?? ''),
        },
      },
    ];
  }
  if (kind.includes('event')) {
    const list = (
      Array.isArray(body.events) ? body.events : Array.isArray(body) ? body : [body.event ?? body]
    ) as Raw[];
    return list
      .filter((e) => typeof e.id === 'string' && typeof e.camera === 'string')
      .map((e) => ({ kind: 'event', event: e as unknown as EventItem }));
  }
  return [];
}

/** Splits a text/event-stream into (event name, data) pairs, across chunk boundaries. */
export function sseParser(onMessage: (name: string, data: string) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // keep-alive comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) onMessage(name, data.join('\n'));
    }
  };
}

const POLL_MS = 4000;

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
  mode: LiveMode = 'off';

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
    this.mode = mode;
    for (const l of this.modeListeners) l(mode);
  }

  private emit(m: LiveMessage) {
    if (m.kind === 'event') {
      if (this.seen.has(m.event.id)) return;
      this.seen.add(m.event.id);
      if (this.seen.size > 5000) this.seen.delete(this.seen.values().next().value as string);
    }
    for (const l of this.listeners) l(m);
  }

  private async connect(attempt: number): Promise<void> {
    if (this.stopped) return;
    this.setMode('connecting');
    this.abort = new AbortController();
    try {
      const stream = await api.live(this.abort.signal);
      this.setMode('live');
      attempt = 0;
      const parse = sseParser((name, data) => {
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
        parse(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        // No SSE on this hub (or not for this user): keep the console alive by polling.
        this.startPolling();
        return;
      }
    }
    if (this.stopped) return;
    const delay = Math.min(30_000, 1000 * 2 ** attempt);
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
      } catch (err) {
        console.warn('live polling failed', (err as Error).message);
      }
      if (!this.stopped) this.pollTimer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
  }
}
