/** One line of the fault table. */
export interface FaultRow {
  fault: string;
  /** Events the producer was told were safe (PUBACK from the broker, or stored in the agent's outbox). */
  published: number;
  /** Of those, stored in PostgreSQL (or received, for agent-only cases). */
  stored: number;
  /** Events stored more than once (under two ids or twice for one camera seq); must be 0. */
  duplicates: number;
  /** Fault cleared → the system had caught up with everything published before that moment. */
  recoveryMs: number | null;
  /** What else was measured or checked (redeliveries absorbed, readiness, order...). */
  notes: string;
  /** Every check of the case passed. */
  ok: boolean;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The table `npm run test:faults` prints (Markdown, so it can be pasted into docs/reliability.md). */
export function formatTable(rows: FaultRow[]): string {
  const header = ['fault', 'published', 'stored', 'lost', 'dup', 'recovery', 'ok', 'notes'];
  const body = rows.map((r) => [
    r.fault,
    String(r.published),
    String(r.stored),
    String(r.published - r.stored),
    String(r.duplicates),
    formatMs(r.recoveryMs),
    r.ok ? 'yes' : 'NO',
    r.notes,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5]);
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? lpad(c, widths[i]!) : pad(c, widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
