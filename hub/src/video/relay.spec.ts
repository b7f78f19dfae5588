import type { AgentCommand } from '@camhub/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRelay, type LiveUnavailableReason, type Viewer } from './relay.js';

const box = (type: string, payload: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payload.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
};
const u32 = (...values: number[]) => Buffer.from(new Uint32Array(values.map((v) => v >>> 0)).buffer).swap32();
const INIT = Buffer.concat([box('ftyp', Buffer.from('isom')), box('moov', Buffer.alloc(0))]);
const frag = (keyframe: boolean, n: number) =>
  Buffer.concat([
    box(
      'moof',
      box('traf', Buffer.concat([box('tfhd', u32(0, 1)), box('trun', u32(5, 1, 0, keyframe ? 0 : 0x10000))])),
    ),
    box('mdat', Buffer.from([n])),
  ]);
const mdatByte = (data: Buffer) => data[data.length - 1];

class TestViewer implements Viewer {
  started = false;
  fragments: number[] = [];
  ended: LiveUnavailableReason | null = null;
  start() {
    this.started = true;
  }
  fragment(data: Buffer) {
    this.fragments.push(mdatByte(data)!);
  }
  end(reason: LiveUnavailableReason) {
    this.ended = reason;
  }
}

describe('live relay', () => {
  let sent: AgentCommand[];
  let relay: ReturnType<typeof createRelay>;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    relay = createRelay({
      send: async (c) => void sent.push(c),
      idleStopMs: 5000,
      startTimeoutMs: 15_000,
      repeatMs: 3000,
      maxGopBytes: 1 << 20,
      log: { warn: () => undefined, info: () => undefined },
    });
  });
  afterEach(() => {
    relay.close();
    vi.useRealTimers();
  });

  it('asks for one upstream for many viewers, starts late viewers at the latest keyframe, stops after the last leaves', () => {
    const a = new TestViewer();
    const leaveA = relay.watch('td-01', 'cam-1', 'sub', a);
    const leaveB = relay.watch('td-01', 'cam-1', 'sub', new TestViewer());
    expect(sent.map((c) => c.kind)).toEqual(['live.start']);
    const start = sent[0] as Extract<AgentCommand, { kind: 'live.start' }>;
    expect(start).toMatchObject({ site: 'td-01', camera: 'cam-1', profile: 'sub' });
    vi.advanceTimersByTime(3000);
    expect(sent.length).toBe(2); // repeated while the upstream is missing

    const closes: string[] = [];
    expect(relay.acceptUpstream(start.stream, 'other-site', { close: () => undefined })).toBeNull();
    const sink = relay.acceptUpstream(start.stream, 'td-01', { close: (_c, r) => closes.push(r) })!;
    expect(relay.acceptUpstream(start.stream, 'td-01', { close: () => undefined })).toBeNull(); // one upstream
    const all = Buffer.concat([INIT, frag(true, 1), frag(false, 2), frag(true, 3), frag(false, 4)]);
    sink.data(all.subarray(0, 50));
    sink.data(all.subarray(50));
    expect(a.started).toBe(true);
    expect(a.fragments).toEqual([1, 2, 3, 4]);

    const late = new TestViewer();
    const leaveLate = relay.watch('td-01', 'cam-1', 'sub', late);
    expect(late.fragments).toEqual([3, 4]);
    expect(relay.stats()).toEqual({ channels: 1, upstreams: 1, viewers: 3 });

    leaveA();
    leaveB();
    leaveLate();
    vi.advanceTimersByTime(4999);
    expect(closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(closes).toEqual(['no viewers']);
    expect(relay.stats().channels).toBe(0);
    expect(sent.length).toBe(2);
  });

  it('a viewer coming back within the idle time keeps the same upstream', () => {
    const leave = relay.watch('td-01', 'cam-1', 'main', new TestViewer());
    const stream = (sent[0] as { stream: string }).stream;
    relay.acceptUpstream(stream, 'td-01', { close: () => undefined });
    leave();
    vi.advanceTimersByTime(4000);
    relay.watch('td-01', 'cam-1', 'main', new TestViewer());
    vi.advanceTimersByTime(10_000);
    expect(relay.stats()).toMatchObject({ upstreams: 1, viewers: 1 });
  });

  it('tells viewers why there is no video', () => {
    const waiting = new TestViewer();
    relay.watch('td-01', 'cam-1', 'sub', waiting);
    vi.advanceTimersByTime(15_000);
    expect(waiting.ended).toBe('agent_no_answer');
    expect(sent.at(-1)?.kind).toBe('live.stop');

    const v = new TestViewer();
    relay.watch('td-01', 'cam-2', 'sub', v);
    const sink = relay.acceptUpstream((sent.at(-1) as { stream: string }).stream, 'td-01', { close: () => undefined })!;
    sink.closed('camera_unreachable');
    expect(v.ended).toBe('camera_unreachable');

    const g = new TestViewer();
    relay.watch('td-01', 'cam-3', 'sub', g);
    const garbage = relay.acceptUpstream((sent.at(-1) as { stream: string }).stream, 'td-01', {
      close: () => undefined,
    })!;
    garbage.data(Buffer.from([0, 0, 0, 2, 0, 0, 0, 0]));
    expect(g.ended).toBe('upstream_invalid');
  });
});
