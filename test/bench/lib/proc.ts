import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';

const CLOCK_TICKS = 100; // USER_HZ on Linux (getconf CLK_TCK); /proc/<pid>/stat counts CPU time in these ticks.
const PAGE_BYTES = 4096;

/** CPU seconds (user + system) used so far by a process, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; every field we want comes after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
  const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
  return (Number(statm[1]) * PAGE_BYTES) / 2 ** 20;
}

export interface ProcUsage {
  /** Average CPU over the window, in % of one core. */
  cpuPct: number;
  rssMaxMiB: number;
  rssEndMiB: number;
  seconds: number;
  /** CPU seconds used over the window (user + system). */
  cpuSeconds: number;
}

/** Samples one process's CPU and RSS between start() and stop(); survives the process exiting mid-window. */
export class ProcSampler {
  private cpu0 = 0;
  private cpuLast = 0;
  private t0 = 0;
  private rssMax = 0;
  private rssLast = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly pid: number) {}

  start(intervalMs = 250): this {
    this.t0 = performance.now();
    this.cpu0 = this.cpuLast = cpuSeconds(this.pid);
    this.rssMax = this.rssLast = rssMiB(this.pid);
    this.timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  private sample() {
    try {
      this.cpuLast = cpuSeconds(this.pid);
      this.rssLast = rssMiB(this.pid);
      this.rssMax = Math.max(this.rssMax, this.rssLast);
    } catch (err) {
      // The process ended: keep the last figures it had rather than failing the whole benchmark.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  stop(): ProcUsage {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const seconds = (performance.now() - this.t0) / 1000;
    return {
      cpuPct: (100 * (this.cpuLast - this.cpu0)) / seconds,
      rssMaxMiB: this.rssMax,
      rssEndMiB: this.rssLast,
      seconds,
      cpuSeconds: this.cpuLast - this.cpu0,
    };
  }
}

/** The machine, as the results should describe it (service versions are added by the caller). */
export function machine() {
  const c = cpus();
  return {
    cpuModel: c[0]?.model ?? 'unknown',
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  };
}

/** /proc/loadavg's 1, 5 and 15 minute figures: how busy the machine was besides us. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [Number(a.toFixed(2)), Number(b.toFixed(2)), Number(c.toFixed(2))];
}

/** Jiffies the whole machine spent idle (idle + iowait) and in total, from /proc/stat's first line. */
export function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}
