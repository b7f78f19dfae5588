import { EventEmitter } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { AgentError } from '../errors.js';
import { FFMPEG_GROUP_LEADER } from '../paths.js';

/**
 * The only module that starts ffmpeg, and every child starts through `spawnFfmpeg`: built and run with fluent-ffmpeg
 * (its public API only), in a process group of its own, so a kill at a deadline, an abort or shutdown takes whatever
 * it started with it, and registered, so `killAllFfmpeg` (shutdown) leaves none behind.
 *
 * fluent-ffmpeg spawns its child itself and offers no way to ask for a process group, so the program it starts is
 * `edge-agent/bin/ffmpeg-group-leader`: it prints the group it leads on stderr, then becomes the configured ffmpeg
 * through `setsid`. That first line is how this module learns which group to kill.
 */
export class FfmpegError extends AgentError {
  constructor(message: string) {
    super('ffmpeg_failed', message);
  }
}

/** The ffmpeg command, from the agent's configuration (media.ffmpegPath or FFMPEG_PATH): set once by the Agent. */
export function useFfmpeg(command: string): void {
  // Read by the group-leader script: fluent-ffmpeg passes no environment of its own, so the child inherits ours.
  process.env.CAMHUB_FFMPEG_BIN = command;
}
/**
 * fluent-ffmpeg reads ffmpeg's formats and encoders (two short runs of ffmpeg) before its first command, and caches
 * them for the process: done once at start, so that the first snapshot's deadline or the first clip buffer does not
 * pay for it.
 */
export function warmFfmpeg(): Promise<void> {
  const command = ffmpeg().setFfmpegPath(FFMPEG_GROUP_LEADER);
  return new Promise((resolve, reject) => {
    command.availableFormats((formatsErr) => {
      if (formatsErr) return reject(new FfmpegError(`cannot list ffmpeg's formats: ${formatsErr.message}`));
      command.availableEncoders((encodersErr) =>
        encodersErr ? reject(new FfmpegError(`cannot list ffmpeg's encoders: ${encodersErr.message}`)) : resolve(),
      );
    });
  });
}

const GROUP_LINE = /^camhub-ffmpeg-group (\d+)$/;

/** One output: its options, then its target (a path, `-`, or `stdout` for the child's piped standard output). */
export interface FfmpegOutput {
  options: readonly string[];
  target: string;
}

/**
 * A running ffmpeg as the rest of the agent sees it, whatever starts it: standard output (when an output targets
 * it) and standard error as streams, `close` with the exit code or the signal, `error` when it could not start.
 */
export class FfmpegChild extends EventEmitter<{ close: [number | null, string | null]; error: [Error] }> {
  readonly stdout: PassThrough | null;
  readonly stderr = new PassThrough({ encoding: 'utf8' });
  exitCode: number | null = null;
  signalCode: string | null = null;
  /** The process group ffmpeg leads, once its launcher has said so. */
  pgid: number | null = null;
  private resolveGroup!: (pgid: number | null) => void;
  /** Resolves with the process group once known; with null if ffmpeg ended (or never started) before saying. */
  readonly group = new Promise<number | null>((resolve) => (this.resolveGroup = resolve));
  private killWanted = false;
  private ended = false;
  private readonly command: ffmpeg.FfmpegCommand;

  constructor(input: readonly string[], outputs: readonly FfmpegOutput[]) {
    super();
    const command = ffmpeg();
    command.setFfmpegPath(FFMPEG_GROUP_LEADER);
    // `input` is ffmpeg's own argument order: options, then `-i <source>`, once per input.
    let pending: string[] = [];
    for (let i = 0; i < input.length; i++) {
      if (input[i] === '-i' && i + 1 < input.length) {
        command.input(input[++i]!).inputOptions(pending);
        pending = [];
      } else pending.push(input[i]!);
    }
    if (pending.length) throw new FfmpegError(`input options after the last input: ${pending.join(' ')}`);
    // No 'close' from our copy of stdout: fluent-ffmpeg takes one as "output stream closed", an error 20 ms later
    // that under load races the real exit status.
    this.stdout = outputs.some((o) => o.target === 'stdout') ? new PassThrough({ emitClose: false }) : null;
    for (const o of outputs) {
      command.output(o.target === 'stdout' ? this.stdout! : o.target).outputOptions([...o.options]);
    }
    command.on('stderr', (line: string) => {
      const group = this.pgid === null ? GROUP_LINE.exec(line) : null;
      if (group) {
        this.pgid = Number(group[1]);
        this.resolveGroup(this.pgid);
        // A kill asked for before the group was known reached only the launcher; what the launcher started (a
        // configured ffmpeg that is a wrapper script) may outlive it, even once its exit has been reported.
        if (this.killWanted) this.signalGroup();
        return;
      }
      this.stderr.write(`${line}\n`);
    });
    command.on('end', () => this.finish(0, null));
    command.on('error', (err: Error) => {
      const code = /exited with code (\d+)/.exec(err.message);
      const signal = /killed with signal (\w+)/.exec(err.message);
      if (code || signal) this.finish(code ? Number(code[1]) : null, signal ? signal[1]! : null);
      else {
        // Never started (no launcher, no shell): there is no exit to report.
        this.ended = true;
        this.resolveGroup(null);
        this.stderr.end();
        this.stdout?.end();
        this.emit('error', new FfmpegError(err.message));
        this.emit('close', null, null);
      }
    });
    this.command = command;
    command.run();
  }

  private finish(code: number | null, signal: string | null) {
    if (this.ended) return;
    this.ended = true;
    const close = () => {
      this.resolveGroup(null);
      this.exitCode = code;
      this.signalCode = signal;
      this.stderr.end();
      this.emit('close', code, signal);
    };
    // fluent-ffmpeg reports the exit before our copy of stdout has been read to its end: the last bytes of a frame or
    // a fragment would otherwise come after "closed".
    if (!this.stdout || this.stdout.readableEnded) close();
    else if (this.stdout.readableFlowing) this.stdout.once('end', close);
    else this.stdout.once('finish', () => setImmediate(close));
  }

  get running(): boolean {
    return !this.ended;
  }

  /** Kills ffmpeg's whole process group; before its launcher has named the group, ffmpeg itself, and the group then. */
  kill(): void {
    if (!this.running) return;
    this.killWanted = true;
    if (this.pgid === null) {
      this.command.kill('SIGKILL');
      return;
    }
    this.signalGroup();
  }

  private signalGroup(): void {
    try {
      process.kill(-this.pgid!, 'SIGKILL');
    } catch (err) {
      // ESRCH: the group is already gone. Anything else (EPERM) should not happen to our own children.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') this.command.kill('SIGKILL');
    }
  }
}

const live = new Set<FfmpegChild>();

/** Starts ffmpeg in a process group of its own (see `FfmpegChild`), registered until it has exited. */
function spawnFfmpeg(input: readonly string[], outputs: readonly FfmpegOutput[]): FfmpegChild {
  const child = new FfmpegChild(input, outputs);
  live.add(child);
  child.once('close', () => live.delete(child));
  return child;
}

function killGroup(child: FfmpegChild): void {
  child.kill();
}

/** ffmpeg processes started by this agent and not yet reaped. */
export function liveFfmpegCount(): number {
  return live.size;
}

/** Shutdown: no ffmpeg may outlive the agent. Resolves once every child has been reaped (or after 2 s). */
export async function killAllFfmpeg(): Promise<void> {
  const children = [...live];
  for (const child of children) killGroup(child);
  await Promise.race([
    Promise.all(children.map((c) => new Promise<void>((r) => (live.has(c) ? c.once('close', () => r()) : r())))),
    new Promise<void>((r) => setTimeout(r, 2000).unref()),
  ]);
}

/**
 * ffmpeg's input side for a camera's RTSP stream: quiet logs, TCP, and a socket I/O timeout (µs) so that ffmpeg gives
 * up by itself on a silent camera (our kill is only the backstop); `before` holds further input options.
 */
function rtspInput(url: string, loglevel: 'error' | 'info', ioTimeoutUs: number, before: string[] = []): string[] {
  const quiet = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', loglevel];
  return [...quiet, '-rtsp_transport', 'tcp', '-timeout', String(ioTimeoutUs), ...before, '-i', url];
}

/**
 * Resolves when a long-running ffmpeg has ended: null for a clean end, else why (the last lines of `stderrTail()`, for
 * people).
 */
function exitReason(child: FfmpegChild, stderrTail: () => string): Promise<string | null> {
  return new Promise((resolve) => {
    child.once('error', (err) => resolve(`cannot start ffmpeg: ${err.message}`));
    child.once('close', (code, signal) =>
      resolve(
        code === 0
          ? null
          : stderrTail().trim().split('\n').slice(-2).join(' | ').slice(0, 300) || `ffmpeg ended (${code ?? signal})`,
      ),
    );
  });
}

export interface GrabOptions {
  /** Hard bound on the whole grab, connect included; then its process group is killed. */
  timeoutMs: number;
  /** Aborting kills the process group at once and rejects. */
  signal?: AbortSignal;
}

/** One JPEG frame from an RTSP URL, from ffmpeg in its own process group (killed at the deadline or on abort). */
export function grabFrame(url: string, options: GrabOptions): Promise<Buffer> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(new FfmpegError('snapshot aborted before ffmpeg started'));
  const input = rtspInput(url, 'error', Math.max(1, Math.round(timeoutMs * 1000 * 0.8)));
  const frame = ['-map', '0:v:0', '-an', '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe'];
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(input, [{ options: frame, target: 'stdout' }]);
    const chunks: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const frame = Buffer.concat(chunks);
      if (err) reject(err);
      else if (frame.length === 0) reject(new FfmpegError('ffmpeg produced no frame'));
      else resolve(frame);
    };
    const onAbort = () => {
      killGroup(child);
      finish(new FfmpegError('snapshot aborted'));
    };
    const timer = setTimeout(() => {
      killGroup(child);
      finish(new FfmpegError(`ffmpeg gave no frame within ${timeoutMs} ms`));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    child.once('error', (err) => finish(new FfmpegError(`cannot start ffmpeg: ${err.message}`)));
    child.once('close', (code, sig) => {
      if (code === 0) return finish(null);
      const why = stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300);
      finish(new FfmpegError(`ffmpeg gave no frame (${code ?? sig}): ${why}`));
    });
  });
}

export interface PictureDetection {
  /** freezedetect: minimum frozen duration (s) and noise tolerance (dB). */
  freezeSec: number;
  freezeNoiseDb: number;
  /** blackdetect: minimum black duration (s) and the luma below which a pixel counts as black (0-1). */
  blackSec: number;
  blackPixelThreshold: number;
}

export interface StreamProbeOptions {
  /** Seconds of stream to read (input timestamps). */
  seconds: number;
  /** Hard bound on the whole process, connect included; then its process group is killed. */
  timeoutMs: number;
  /** Also decode the picture to look for a frozen or black picture (costs a decode; run it rarely). */
  detect?: PictureDetection;
  /** Aborting kills the process group at once; the report then says why (a camera removed, the agent stopping). */
  signal?: AbortSignal;
}

export interface StreamProbeReport {
  codec: string | null;
  width: number | null;
  height: number | null;
  /** Frame rate the stream declares (SDP/SPS), from ffmpeg's input description. */
  declaredFps: number | null;
  /** Video packets actually read, their bytes, and the time they cover (max of timestamp span and arrival span). */
  packets: number;
  bytes: number;
  spanSec: number;
  fps: number | null;
  bitrateKbps: number | null;
  /** Present only when detection ran. */
  frozen?: boolean;
  black?: boolean;
  timedOut: boolean;
  exitCode: number | null;
  /** Last stderr lines when ffmpeg failed, for people. */
  error: string | null;
}

interface Packet {
  pts: number;
  size: number;
  arrivedAt: number;
}

/**
 * Parses ffmpeg's stderr (`-loglevel info -nostats`): the input stream description and the freezedetect/blackdetect
 * lines. The format of these lines has been stable across ffmpeg releases for years.
 */
export function parseProbeLog(stderr: string, analysedSec: number, detect: PictureDetection | undefined) {
  const declared = /Stream #0:\d+[^:]*: Video: .*?(\d+(?:\.\d+)?) fps/.exec(stderr);
  const result: { declaredFps: number | null; frozen?: boolean; black?: boolean } = {
    declaredFps: declared ? Number(declared[1]) : null,
  };
  if (!detect) return result;
  // A freeze is current when its last start has no end after it (freezedetect reports an end only when it ends).
  let frozen = false;
  for (const m of stderr.matchAll(/lavfi\.freezedetect\.freeze_(start|end): /g)) frozen = m[1] === 'start';
  let blackSec = 0;
  for (const m of stderr.matchAll(/black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)/g)) {
    blackSec += Number(m[2]) - Number(m[1]);
  }
  result.frozen = frozen;
  // Black over most of the window counts; one dark second in a bright scene does not.
  result.black = blackSec >= Math.max(detect.blackSec, analysedSec / 2);
  return result;
}

/** framecrc output: header lines (`#codec_id 0: h264`, `#dimensions 0: 640x360`, `#tb 0: 1/90000`), then packets. */
export function parseFramecrcHeader(
  line: string,
  into: { codec: string | null; width: number | null; height: number | null; tb: number | null },
): void {
  const m = /^#(\w+) 0: (.*)$/.exec(line.trim());
  if (!m) return;
  const [, key, value] = m as unknown as [string, string, string];
  if (key === 'codec_id') into.codec = value.trim().slice(0, 32);
  else if (key === 'dimensions') {
    const d = /^(\d+)x(\d+)$/.exec(value.trim());
    if (d) [into.width, into.height] = [Number(d[1]), Number(d[2])];
  } else if (key === 'tb') {
    const t = /^(\d+)\/(\d+)$/.exec(value.trim());
    if (t && Number(t[2]) > 0) into.tb = Number(t[1]) / Number(t[2]);
  }
}

/**
 * Opens an RTSP stream and reads real video packets for `seconds`: codec, size, fps and kbps measured from the packets
 * actually received (a frozen or dead stream still answers DESCRIBE, so the exit code proves nothing). Packets are
 * copied, not decoded (cheap); with `detect`, a second output decodes them through freezedetect/blackdetect at 5 fps.
 * ffmpeg runs in its own process group, killed as a whole at `timeoutMs`.
 */
export function probeStream(url: string, options: StreamProbeOptions): Promise<StreamProbeReport> {
  const { seconds, timeoutMs, detect, signal } = options;
  const input = rtspInput(url, 'info', Math.max(1, Math.round(timeoutMs * 1000 * 0.8)), ['-t', String(seconds)]);
  const outputs: FfmpegOutput[] = [
    { options: ['-map', '0:v:0', '-c', 'copy', '-flush_packets', '1', '-f', 'framecrc'], target: 'stdout' },
  ];
  if (detect) {
    const filters =
      `fps=5,freezedetect=n=${detect.freezeNoiseDb}dB:d=${detect.freezeSec},` +
      `blackdetect=d=${detect.blackSec}:pix_th=${detect.blackPixelThreshold}`;
    // One decoding thread: a probe must not take every core of a small edge box.
    outputs.push({ options: ['-map', '0:v:0', '-threads', '1', '-vf', filters, '-f', 'null'], target: '-' });
  }
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(input, outputs);
    const header = {
      codec: null as string | null,
      width: null as number | null,
      height: null as number | null,
      tb: null as number | null,
    };
    const packets: Packet[] = [];
    let stdoutRest = '';
    let stderr = '';
    let timedOut = false;
    let aborted = signal?.aborted ?? false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const now = Date.now();
      const lines = (stdoutRest + chunk).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('#')) {
          parseFramecrcHeader(line, header);
          continue;
        }
        // stream, dts, pts, duration, size, crc[, flags]
        const f = line.split(',');
        if (f.length < 6 || f[0]!.trim() !== '0') continue;
        packets.push({ pts: Number(f[2]), size: Number(f[4]), arrivedAt: now });
      }
    });
    child.stderr.on('data', (chunk: string) => {
      // Keep the head (stream description) and a tail (detector lines come late); never grow without bound.
      stderr =
        stderr.length < 64 * 1024 ? stderr + chunk : stderr.slice(0, 16 * 1024) + stderr.slice(-32 * 1024) + chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup(child);
    };
    if (aborted) killGroup(child);
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new FfmpegError(`cannot start ffmpeg: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const tb = header.tb ?? 1 / 90_000;
      const timed = packets.filter((p) => Number.isFinite(p.pts));
      const ptsSpan = timed.length > 1 ? (timed[timed.length - 1]!.pts - timed[0]!.pts) * tb : 0;
      const arrivalSpan =
        packets.length > 1 ? (packets[packets.length - 1]!.arrivedAt - packets[0]!.arrivedAt) / 1000 : 0;
      // The larger span is the honest one: a camera that delivers late shows up as fewer frames per second.
      const spanSec = Math.max(ptsSpan, arrivalSpan);
      const bytes = packets.reduce((sum, p) => sum + (Number.isFinite(p.size) ? p.size : 0), 0);
      const log = parseProbeLog(stderr, Math.max(spanSec, 0), detect);
      const report: StreamProbeReport = {
        codec: header.codec,
        width: header.width,
        height: header.height,
        declaredFps: log.declaredFps,
        packets: packets.length,
        bytes,
        spanSec,
        fps: packets.length > 1 && spanSec > 0 ? (packets.length - 1) / spanSec : null,
        bitrateKbps: packets.length > 1 && spanSec > 0 ? (bytes * 8) / spanSec / 1000 : null,
        timedOut,
        exitCode: code,
        error:
          code === 0 && !timedOut && !aborted
            ? null
            : aborted
              ? 'probe aborted (ffmpeg killed)'
              : timedOut
                ? `no end of stream within ${timeoutMs} ms (ffmpeg killed)`
                : stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500) || `ffmpeg exited with ${code}`,
      };
      if (detect && packets.length > 1) {
        report.frozen = log.frozen;
        report.black = log.black;
      }
      resolve(report);
    });
  });
}

export interface FragmentedMp4Stream {
  /** The fragmented MP4 bytes: init segment (ftyp+moov), then moof+mdat fragments. */
  readonly output: NodeJS.ReadableStream;
  /** Resolves when ffmpeg has exited: null for a clean end, else why (last stderr lines, for people). */
  readonly exited: Promise<string | null>;
  /** Kills ffmpeg's process group. */
  stop(): void;
}

/**
 * Copies an RTSP stream's video into fragmented MP4 on stdout, without decoding (`-c copy`): what a browser's Media
 * Source Extensions play. Fragments start at keyframes and are cut every `fragmentMs` in between, so the relay can
 * pass video on without waiting for a whole GOP. ffmpeg runs in its own process group, killed as a whole by `stop`.
 */
export function streamFragmentedMp4(url: string, options: { fragmentMs: number; ioTimeoutMs: number }) {
  const input = rtspInput(url, 'error', options.ioTimeoutMs * 1000);
  const fragmented = [
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-an',
    '-f',
    'mp4',
    '-movflags',
    'frag_keyframe+empty_moov+default_base_moof',
    '-frag_duration',
    String(options.fragmentMs * 1000),
    '-flush_packets',
    '1',
  ];
  const child = spawnFfmpeg(input, [{ options: fragmented, target: 'stdout' }]);
  let stderr = '';
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = exitReason(child, () => stderr);
  const stream: FragmentedMp4Stream = { output: child.stdout!, exited, stop: () => killGroup(child) };
  return stream;
}

/** One finished segment of a rolling recording, as ffmpeg's segment list reports it (times in stream seconds). */
export interface SegmentEntry {
  file: string;
  startSec: number;
  endSec: number;
}

/** A line of ffmpeg's CSV segment list: `name,start,end`; a name with a comma comes quoted. */
export function parseSegmentListLine(line: string): SegmentEntry | null {
  const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),([-\d.]+),([-\d.]+)\s*$/.exec(line.trim());
  if (!m) return null;
  const file = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
  const startSec = Number(m[3]);
  const endSec = Number(m[4]);
  if (!file || !Number.isFinite(startSec) || !Number.isFinite(endSec) || endSec < startSec) return null;
  return { file, startSec, endSec };
}

export interface SegmentRecorder {
  /** Resolves when ffmpeg has exited: null for a clean end, else why (last stderr lines, for people). */
  readonly exited: Promise<string | null>;
  /** The process group ffmpeg leads, once known (null if it never started). */
  readonly pid: Promise<number | null>;
  /** Kills ffmpeg's process group. */
  stop(): void;
}

/**
 * Copies an RTSP stream's video into short MPEG-TS files in `dir` (`seg-<n>.ts`), without decoding: the rolling
 * buffer clips are cut from. Segments can only start at keyframes, so each lasts at least `segmentSec` and usually
 * one GOP. `onSegment` is called as each file is complete. MPEG-TS because a file cut short (ffmpeg killed) is still
 * readable up to its last packet and joins with others by plain concatenation of timestamps.
 */
export function recordSegments(
  url: string,
  dir: string,
  options: { segmentSec: number; ioTimeoutMs: number; onSegment: (entry: SegmentEntry) => void },
): SegmentRecorder {
  const input = rtspInput(url, 'error', options.ioTimeoutMs * 1000);
  const segments = [
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-an',
    '-f',
    'segment',
    '-segment_time',
    String(options.segmentSec),
    '-segment_format',
    'mpegts',
    '-reset_timestamps',
    '1',
    // The list on stderr, a line per finished segment among ffmpeg's own (rare, at -loglevel error) messages.
    '-segment_list',
    'pipe:2',
    '-segment_list_type',
    'csv',
    '-segment_list_flags',
    'live',
  ];
  const child = spawnFfmpeg(input, [{ options: segments, target: join(dir, 'seg-%09d.ts') }]);
  let stderr = '';
  let rest = '';
  child.stderr.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const entry = parseSegmentListLine(line);
      // The list names files relative to itself (a pipe here): they are in `dir`.
      if (entry) options.onSegment({ ...entry, file: join(dir, basename(entry.file)) });
      else stderr = `${stderr}${line}\n`.slice(-4096);
    }
  });
  const exited = exitReason(child, () => stderr);
  return { exited, pid: child.group, stop: () => killGroup(child) };
}

/**
 * Joins MPEG-TS segments into one MP4 at `output` (copy, no decoding), at most `durationSec` long, with the index
 * in front (`+faststart`) so a browser plays it before the whole file has arrived. Runs in its own process group,
 * killed at `timeoutMs`.
 */
export function joinSegments(
  files: string[],
  output: string,
  options: { durationSec: number; timeoutMs: number },
): Promise<void> {
  // The concat demuxer's list: one `file '<path>'` per line, quotes escaped the way it reads them.
  const list = files.map((f) => `file '${f.replace(/'/g, "'\\''")}'`).join('\n');
  const listFile = `${output}.list`;
  writeFileSync(listFile, `${list}\n`);
  const input = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'concat', '-safe', '0'];
  const mp4 = ['-map', '0:v:0', '-c', 'copy', '-t', options.durationSec.toFixed(3), '-movflags', '+faststart'];
  return new Promise((resolve, reject) => {
    // fluent-ffmpeg adds -y (overwrite) itself for a file output.
    const child = spawnFfmpeg([...input, '-i', listFile], [{ options: [...mp4, '-f', 'mp4'], target: output }]);
    let stderr = '';
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    const timer = setTimeout(() => killGroup(child), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new FfmpegError(`cannot start ffmpeg: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(listFile, { force: true });
      if (code === 0) resolve();
      else {
        const why = stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300);
        reject(new FfmpegError(`ffmpeg could not join the clip (${code ?? signal}): ${why}`));
      }
    });
  });
}
