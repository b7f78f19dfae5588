import { formatDateTime, formatNumber, label, t } from '../i18n/index.js';

export interface Point {
  at: number;
  value: number | null;
}

/** A span when the camera was not up (offline, unknown) or had problems (degraded). */
export interface Outage {
  from: number;
  to: number;
  status: string;
}

const W = 640;
const H = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/** A small hand-made line chart (no chart library): gaps where a value is missing, 4 ticks on each axis. */
export function LineChart(props: {
  title: string;
  points: Point[];
  outages?: Outage[];
  from: number;
  to: number;
  site?: string;
}) {
  const values = props.points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(1, ...values) * 1.1;
  const x = (at: number) =>
    PAD.left + ((at - props.from) / Math.max(1, props.to - props.from)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  let d = '';
  let pen = false;
  for (const p of props.points) {
    if (p.value === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`;
    pen = true;
  }
  const yTicks = [0, 1, 2, 3].map((i) => (max / 3) * i);
  const xTicks = [0, 1, 2, 3].map((i) => props.from + ((props.to - props.from) / 3) * i);
  const last = values.at(-1);
  if (values.length === 0)
    return (
      <figure class="chart empty">
        <figcaption>{props.title}</figcaption>
        <p class="muted">{t('chart.noData')}</p>
      </figure>
    );
  return (
    <figure class="chart">
      <figcaption>
        {props.title}
        {last !== undefined && <span class="muted"> — {formatNumber(last)}</span>}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        {(props.outages ?? []).map((o) => (
          <rect
            key={`o${o.from}`}
            class={`outage status-${o.status}`}
            x={x(o.from)}
            y={PAD.top}
            width={Math.max(2, x(o.to) - x(o.from))}
            height={H - PAD.top - PAD.bottom}
          >
            <title>
              {`${label('status', o.status)}: ${formatDateTime(new Date(o.from).toISOString(), props.site)} – ${formatDateTime(new Date(o.to).toISOString(), props.site)}`}
            </title>
          </rect>
        ))}
        {yTicks.map((v) => (
          <g key={`y${v}`}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text class="tick" x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {formatNumber(v, v < 10 ? 1 : 0)}
            </text>
          </g>
        ))}
        {xTicks.map((at, i) => (
          <text
            key={`x${at}`}
            class="tick"
            x={x(at)}
            y={H - 8}
            text-anchor={i === 0 ? 'start' : i === 3 ? 'end' : 'middle'}
          >
            {formatDateTime(new Date(at).toISOString(), props.site, 'short')}
          </text>
        ))}
        <path class="line" d={d} />
      </svg>
    </figure>
  );
}
