import type { LiveKind } from '@camhub/shared';
import type { Redis } from 'ioredis';

export interface LiveEntry {
  /** Redis stream id: the SSE `id`, increasing, the same in every hub process. */
  id: string;
  /** `gap`: a marker, never sent as such: entries before it may not have been written (the feed was idle). */
  kind: LiveKind | 'gap';
  site: string;
  data: string;
}

export interface LiveFilter {
  kinds: Set<LiveKind>;
  /** Only these sites (undefined: every site). */
  sites?: Set<string>;
}

export interface LiveSubscriber {
  filter: LiveFilter;
  /** Writes an entry; false when the client's socket buffer is full (replay then waits for `drained`). */
  send: (entry: LiveEntry) => boolean | void;
  /** Resolves when the client's socket can take more (or has closed). */
  drained: () => Promise<void>;
  /** False once the client has gone: a replay stops reading. */
  open: () => boolean;
  /** Entries older than the Last-Event-ID asked for are gone (trimmed): the client has a gap. */
  gap: () => void;
  close: () => void;
}

/** Entries read from Redis per replay page: one page at a time in memory, whatever the client asked to resume from. */
const REPLAY_PAGE = 200;
/** Live entries held for a client still being replayed to; beyond this it is dropped and reconnects. */
const PENDING_MAX = 5_000;

/** Stream ids "ms-seq" in order. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

function toEntries(raw: [string, string[]][]): LiveEntry[] {
  return raw.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return { id, kind: f.kind as LiveKind, site: f.site ?? '', data: f.data ?? 'null' };
  });
}

/**
 * The live feed shared by every hub process: whoever learns something appends it to one capped Redis stream;
 * every hub reads the stream (one blocking reader each) and fans entries out to its own SSE clients. The stream
 * ids double as SSE ids, so a client that reconnects to any hub with Last-Event-ID gets what it missed.
 */
export function createLiveFeed(deps: {
  redis: Redis;
  /** A dedicated connection for the blocking reader. */
  reader: Redis;
  key: string;
  maxLen: number;
  /** After the last client of every hub left, entries are still written this long (a reconnect resumes cleanly). */
  idleGraceMs?: number;
  /** How often a hub with no client of its own asks whether any hub has one. */
  listenCheckMs?: number;
  onError: (err: Error) => void;
}) {
  const { redis, reader, key } = deps;
  const graceMs = deps.idleGraceMs ?? 60_000;
  const checkMs = deps.listenCheckMs ?? 1000;
  /** Exists while some hub has a client, and `graceMs` after the last one left: the feed is written only then. */
  const listenedKey = `${key}:listened`;
  /** Last answer to "does any hub have a client?" (refreshed every `checkMs`). */
  let listened = false;
  let checkTimer: NodeJS.Timeout | null = null;
  let keepTimer: NodeJS.Timeout | null = null;
  interface Client {
    sub: LiveSubscriber;
    lastId: string;
    /** Live entries that arrive while a reconnecting client is being replayed to. */
    pending: LiveEntry[] | null;
    /**
     * A new client (no Last-Event-ID) is replayed what was written while it connected; a gap marker up to here was
     * written for its own arrival and says nothing it could have missed.
     */
    gapsMeanNothingThrough: string | null;
  }
  const clients = new Set<Client>();
  let stopping = false;
  let loop: Promise<void> | null = null;

  const wants = (f: LiveFilter, e: LiveEntry & { kind: LiveKind }) =>
    f.kinds.has(e.kind) && (!f.sites || f.sites.has(e.site));

  /** False when the client's buffer is full: a replay waits for it to drain before the next entry. */
  function deliver(c: Client, e: LiveEntry): boolean {
    if (compareIds(e.id, c.lastId) <= 0) return true;
    c.lastId = e.id;
    if (e.kind === 'gap') {
      if (!c.gapsMeanNothingThrough || compareIds(e.id, c.gapsMeanNothingThrough) > 0) c.sub.gap();
      return true;
    }
    if (!wants(c.sub.filter, e as LiveEntry & { kind: LiveKind })) return true;
    return c.sub.send(e) !== false;
  }

  async function readLoop() {
    const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    let cursor = last[0]?.[0] ?? '0-0';
    while (!stopping) {
      try {
        const res = (await reader.xread('COUNT', 1000, 'BLOCK', 5000, 'STREAMS', key, cursor)) as
          [string, [string, string[]][]][] | null;
        if (!res) continue;
        const entries = toEntries(res[0]![1]);
        cursor = entries[entries.length - 1]?.id ?? cursor;
        for (const c of clients) {
          if (c.pending) {
            c.pending.push(...entries);
            // A client that cannot keep up with its own replay is not held in memory: it reconnects later.
            if (c.pending.length > PENDING_MAX) {
              clients.delete(c);
              c.sub.close();
            }
          } else for (const e of entries) deliver(c, e);
        }
      } catch (err) {
        if (stopping) return;
        deps.onError(err as Error);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Says "a client listens" for `graceMs`. When nobody listened before, entries may have gone unwritten meanwhile:
   * a `gap` marker goes into the stream, so a client resuming from before it is told (returns true then).
   */
  async function announce(): Promise<boolean> {
    const fresh = await redis.set(listenedKey, String(Date.now()), 'PX', graceMs, 'NX');
    listened = true;
    if (fresh !== 'OK') {
      await redis.pexpire(listenedKey, graceMs);
      return false;
    }
    await redis.xadd(key, 'MAXLEN', '~', deps.maxLen, '*', 'kind', 'gap', 'site', '', 'data', 'null');
    return true;
  }

  const check = () => {
    if (clients.size > 0) return;
    redis.exists(listenedKey).then(
      (n) => (listened = n === 1),
      (err: Error) => {
        // Unknown: write, as before this gate existed, rather than leave a client without entries.
        listened = true;
        deps.onError(err);
      },
    );
  };

  return {
    start() {
      loop ??= readLoop().catch((err: Error) => deps.onError(err));
      check();
      checkTimer ??= setInterval(check, checkMs).unref();
      // While this hub has clients, their key never lapses; a lapse (Redis restarted) is announced as a gap.
      keepTimer ??= setInterval(
        () => {
          if (clients.size > 0) announce().catch((err: Error) => deps.onError(err));
        },
        Math.min(5000, graceMs / 3),
      ).unref();
    },

    /**
     * Call before a client subscribes: makes every hub write the feed. If nobody listened, waits until every hub
     * has asked again (one `listenCheckMs`), so no entry published after this resolves goes unwritten.
     */
    async awaken(): Promise<void> {
      if (await announce()) {
        await new Promise((r) => setTimeout(r, checkMs + 100));
        // Said again: the client is not this hub's yet, so nothing kept the key alive during the wait (a grace shorter
        // than the wait let it lapse, and the next keep-alive then wrote a gap the new client took for a loss).
        await announce();
      }
    },

    /**
     * Appends entries (one round trip for a whole batch) — only while some hub has a client (or had one within
     * `idleGraceMs`): with nobody watching, the write, its encoding and every hub reading it back are saved.
     */
    async publish(items: { kind: LiveKind; site: string; data: unknown }[]): Promise<void> {
      if (items.length === 0 || (!listened && clients.size === 0)) return;
      const p = redis.pipeline();
      for (const i of items) {
        p.xadd(key, 'MAXLEN', '~', deps.maxLen, '*', 'kind', i.kind, 'site', i.site, 'data', JSON.stringify(i.data));
      }
      const results = await p.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
    },

    /** The newest entry's id ('0-0' for an empty feed): where a client connecting now starts (`subscribe`). */
    async tail(): Promise<string> {
      const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
      return last[0]?.[0] ?? '0-0';
    },

    /**
     * Adds a client. A new client passes `connectedAt` (`tail()` when its request arrived): what was written since,
     * while the hub woke the feed and wrote the headers, is replayed to it, so an event published while it connects
     * is not lost between the two. With `lastEventId`, first replays what it missed, in order, without duplicates: page by page,
     * each page filtered by the client's sites and kinds, and the next entry written only once the socket has
     * drained, so a thousand clients resuming from 0-0 cost a page each in memory, not the whole buffer.
     */
    async subscribe(sub: LiveSubscriber, lastEventId?: string, connectedAt?: string): Promise<() => void> {
      const tailId = await this.tail();
      const fresh = lastEventId === undefined;
      const resumeFrom = lastEventId ?? connectedAt;
      const c: Client = { sub, lastId: tailId, pending: null, gapsMeanNothingThrough: fresh ? tailId : null };
      if (resumeFrom && compareIds(resumeFrom, c.lastId) < 0) {
        c.lastId = resumeFrom;
        c.pending = [];
        clients.add(c);
        const oldest = (await redis.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][];
        // The entry the client saw last is gone: older ones it never saw may have been trimmed with it.
        if (!fresh && oldest[0] && compareIds(oldest[0][0], resumeFrom) > 0) sub.gap();
        let from = `(${resumeFrom}`;
        while (sub.open()) {
          const page = toEntries((await redis.xrange(key, from, tailId, 'COUNT', REPLAY_PAGE)) as never);
          for (const e of page) if (!deliver(c, e) && sub.open()) await sub.drained();
          if (page.length < REPLAY_PAGE) break;
          from = `(${page[page.length - 1]!.id}`;
        }
        // What arrived meanwhile, until nothing is queued; then live delivery takes over.
        while (c.pending && c.pending.length > 0 && sub.open()) {
          const queued = c.pending;
          c.pending = [];
          for (const e of queued) if (!deliver(c, e) && sub.open()) await sub.drained();
        }
        c.pending = null;
      } else clients.add(c);
      return () => clients.delete(c);
    },

    /** Whether entries are being written now (some hub has a client, or had one within the grace). */
    get wanted(): boolean {
      return listened || clients.size > 0;
    },

    get clientCount() {
      return clients.size;
    },

    async stop(): Promise<void> {
      stopping = true;
      if (checkTimer) clearInterval(checkTimer);
      if (keepTimer) clearInterval(keepTimer);
      for (const c of clients) c.sub.close();
      clients.clear();
      reader.disconnect();
      await loop;
    },
  };
}
export type LiveFeed = ReturnType<typeof createLiveFeed>;
