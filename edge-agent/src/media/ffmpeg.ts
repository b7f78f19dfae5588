import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AgentError } from '../errors.js';

/**
 * The only module that starts ffmpeg, and every child starts through `spawnFfmpeg`: in a process group of its own,
 * so a kill at a deadline, an abort or shutdown takes whatever it started with it, and registered, so
 * `killAllFfmpeg` (shutdown) leaves none behind.
 *
 * fluent-ffmpeg, named by the design card, is not used any more: its public API spawns the child itself with no way
 * to ask for a process group (reaching it meant reading the private `ffmpegProc`), and building the arguments with it
 * and spawning ourselves would need its private `_getArguments`. The agent never used ffprobe, the other thing it
 * offers. What it did here (a dozen arguments for one frame) is written out below like the other commands.
 */
export class FfmpegError extends AgentError {
  constructor(message: string) {
    super('ffmpeg_failed', message);
  }
}

/** The ffmpeg command, from the agent's configuration (media.ffmpegPath or FFMPEG_PATH): set once by the Agent. */
let FFMPEG = 'ffmpeg';
export function useFfmpeg(command: string): void {
  FFMPEG = command;
}
const live = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A spawn failure (ENOENT) emits 'error' without 'exit'.
  child.once('error', () => live.delete(child));
}

/**
 * Starts ffmpeg with `args` as the leader of a new process group (`detached`), stdin closed and stderr piped (every
 * caller keeps its tail for people). Use `killGroup` to end it.
 */
function spawnFfmpeg(args: readonly string[], stdout: 'pipe' | 'ignore'): ChildProcess {
  const child = spawn(FFMPEG, args, { detached: true, stdio: ['ignore', stdout, 'pipe'] });
  track(child);
  return child;
}

/** Kills the child's whole process group (it leads one: spawned `detached`), falling back to the child alone. */
function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: the group is already gone. Anything else (EPERM) should not happen to our own children: kill the leader.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') child.kill('SIGKILL');
  }
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
    Promise.all(children.map((c) => new Promise<void>((r) => (live.has(c) ? c.once('exit', () => r()) : r())))),
    new Promise<void>((r) => setTimeout(r, 2000).unref()),
  ]);
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
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    // Socket I/O timeout (µs): ffmpeg gives up by itself on a silent camera; our kill is only the backstop.
    '-timeout',
    String(Math.max(1, Math.round(timeoutMs * 1000 * 0.8))),
    '-i',
    url,
    '-map',
    '0:v:0',
    '-an',
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-q:v',
    '5',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(args, 'pipe');
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
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
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
  const { seconds, timeoutMs, detect } = options;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-rtsp_transport',
    'tcp',
    // Socket I/O timeout (µs): ffmpeg gives up by itself on a silent camera; our kill is only the backstop.
    '-timeout',
    String(Math.max(1, Math.round(timeoutMs * 1000 * 0.8))),
    '-t',
    String(seconds),
    '-i',
    url,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-flush_packets',
    '1',
    '-f',
    'framecrc',
    'pipe:1',
  ];
  if (detect) {
    const filters =
      `fps=5,freezedetect=n=${detect.freezeNoiseDb}dB:d=${detect.freezeSec},` +
      `blackdetect=d=${detect.blackSec}:pix_th=${detect.blackPixelThreshold}`;
    // One decoding thread: a probe must not take every core of a small edge box.
    args.push('-map', '0:v:0', '-threads', '1', '-vf', filters, '-f', 'null', '-');
  }
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(args, 'pipe');
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
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      // Keep the head (stream description) and a tail (detector lines come late); never grow without bound.
      stderr =
        stderr.length < 64 * 1024 ? stderr + chunk : stderr.slice(0, 16 * 1024) + stderr.slice(-32 * 1024) + chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new FfmpegError(`cannot start ffmpeg: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
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
          code === 0 && !timedOut
            ? null
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
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(options.ioTimeoutMs * 1000),
    '-i',
    url,
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
    'pipe:1',
  ];
  const child = spawnFfmpeg(args, 'pipe');
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = new Promise<string | null>((resolve) => {
    child.once('error', (err) => resolve(`cannot start ffmpeg: ${err.message}`));
    child.once('close', (code, signal) =>
      resolve(
        code === 0
          ? null
          : stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300) || `ffmpeg ended (${code ?? signal})`,
      ),
    );
  });
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
  readonly pid: number | undefined;
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
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(options.ioTimeoutMs * 1000),
    '-i',
    url,
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
    '-segment_list',
    'pipe:1',
    '-segment_list_type',
    'csv',
    '-segment_list_flags',
    'live',
    join(dir, 'seg-%09d.ts'),
  ];
  const child = spawnFfmpeg(args, 'pipe');
  let stderr = '';
  let rest = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const entry = parseSegmentListLine(line);
      // The list names files relative to itself (a pipe here): they are in `dir`.
      if (entry) options.onSegment({ ...entry, file: join(dir, basename(entry.file)) });
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = new Promise<string | null>((resolve) => {
    child.once('error', (err) => resolve(`cannot start ffmpeg: ${err.message}`));
    child.once('close', (code, signal) =>
      resolve(
        code === 0
          ? null
          : stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300) || `ffmpeg ended (${code ?? signal})`,
      ),
    );
  });
  return { exited, pid: child.pid, stop: () => killGroup(child) };
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
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listFile,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-t',
    options.durationSec.toFixed(3),
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    output,
  ];
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(args, 'ignore');
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
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
