/**
 * The arithmetic of event clips, without files or processes: which buffered segments go, which make a clip, and
 * when a clip is complete. Times are wall-clock milliseconds on the agent's clock (the clock events are dated with).
 */

/** A finished segment of the rolling buffer. */
export interface BufferedSegment {
  file: string;
  bytes: number;
  startMs: number;
  endMs: number;
}

/**
 * The segments to delete, oldest first, so that what stays fits `budgetBytes` and reaches no further back than
 * `keepMs` before `nowMs`. The newest segment always stays (it may be the pre-roll of the next event).
 */
export function segmentsToDrop(
  segments: readonly BufferedSegment[],
  budgetBytes: number,
  nowMs: number,
  keepMs: number,
): BufferedSegment[] {
  let total = segments.reduce((sum, s) => sum + s.bytes, 0);
  const drop: BufferedSegment[] = [];
  for (const s of segments.slice(0, -1)) {
    if (total <= budgetBytes && s.endMs >= nowMs - keepMs) break;
    drop.push(s);
    total -= s.bytes;
  }
  return drop;
}

/** When a clip should end: the event's end plus the post-roll, never longer than `maxSec` from the clip's start. */
export function clipEndMs(
  eventAtMs: number,
  eventEndMs: number | null,
  clip: { preSec: number; postSec: number; maxSec: number },
): number {
  const limit = eventAtMs - clip.preSec * 1000 + clip.maxSec * 1000;
  return eventEndMs === null ? limit : Math.min(limit, Math.max(eventEndMs, eventAtMs) + clip.postSec * 1000);
}

export interface ClipSelection {
  files: string[];
  startMs: number;
  durationMs: number;
}

/**
 * The segments of a clip from `fromMs` to `toMs`. A copied stream can only start at a keyframe, i.e. a segment's
 * start: the clip starts at the segment start nearest to `fromMs`, but always before `eventAtMs` (the pre-roll is
 * the point of a clip), so the pre-roll is `preSec` give or take half a GOP. Null when nothing covers the event.
 */
export function selectClip(
  segments: readonly BufferedSegment[],
  fromMs: number,
  toMs: number,
  eventAtMs: number,
): ClipSelection | null {
  const covering = segments.filter((s) => s.endMs > fromMs && s.startMs < toMs);
  if (covering.length === 0) return null;
  let first = 0;
  const head = covering[0]!;
  const next = covering[1];
  // The next keyframe is nearer to where the pre-roll should start, and still before the event: start there.
  if (head.startMs < fromMs && next && next.startMs - fromMs < fromMs - head.startMs && next.startMs < eventAtMs) {
    first = 1;
  }
  const chosen = covering.slice(first);
  const startMs = chosen[0]!.startMs;
  const lastEnd = chosen[chosen.length - 1]!.endMs;
  const durationMs = Math.min(toMs, lastEnd) - startMs;
  if (durationMs <= 0) return null;
  return { files: chosen.map((s) => s.file), startMs, durationMs };
}
