import type { EventItem } from '@camhub/shared';

export const EVENT_CSV_COLUMNS = [
  'id',
  'site',
  'camera',
  'seq',
  'type',
  'state',
  'at',
  'receivedAt',
  'sourceKind',
  'sourceTopic',
  'snapshot',
  'data',
] as const;

/**
 * RFC 4180 quoting. A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
 * apostrophe: the CSV is for reading; events.json beside it holds the exact values.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function eventCsvRow(e: EventItem): string {
  return `${[
    e.id,
    e.site,
    e.camera,
    e.seq,
    e.type,
    e.state,
    e.at,
    e.receivedAt,
    e.source.kind,
    e.source.topic ?? null,
    e.snapshot ?? null,
    e.data === undefined ? null : JSON.stringify(e.data),
  ]
    .map(csvCell)
    .join(',')}\r\n`;
}

export const EVENT_CSV_HEADER = `${EVENT_CSV_COLUMNS.join(',')}\r\n`;
