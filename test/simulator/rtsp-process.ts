import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SimulatorError } from './errors.js';
import { VIDEO } from './onvif-responses.js';

export type StreamMode = 'live' | 'frozen' | 'black';

const SCRIPT_PATH = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
/**
 * Candidates in order: the system interpreter first, because Debian's python3-gi lives there and a pyenv or venv
 * `python3` earlier on PATH usually lacks it.
 */
const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];
const GSTREAMER_CHECK =
  'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0"); ' +
  'from gi.repository import Gst, GstRtspServer; Gst.init(None); ' +
  'assert Gst.ElementFactory.find("x264enc"), "x264enc missing (gstreamer1.0-plugins-ugly)"';

export class RtspUnavailableError extends SimulatorError {
  constructor(reason: string) {
    super('SIM_RTSP_UNAVAILABLE', reason);
    this.name = 'RtspUnavailableError';
  }
}

let cachedPython: { python: string } | { reason: string } | undefined;

/** A Python interpreter that has GStreamer's RTSP server bindings and x264enc, or why there is none. */
export function findRtspPython(): { python: string } | { reason: string } {
  if (cachedPython) return cachedPython;
  const problems: string[] = [];
  for (const candidate of PYTHON_CANDIDATES) {
    const check = spawnSync(candidate, ['-c', GSTREAMER_CHECK], { encoding: 'utf8', timeout: 15_000 });
    if (check.status === 0) return (cachedPython = { python: candidate });
    const detail = check.error?.message ?? check.stderr.trim().split('\n').pop() ?? `exit ${check.status}`;
    problems.push(`${candidate}: ${detail}`);
  }
  return (cachedPython = {
    reason: `GStreamer RTSP server not usable (${problems.join('; ')}); install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,ugly}`,
  });
}

/**
 * The one `rtsp-server.py` process serving every camera of a simulator. It runs in its own process group (killed
 * as a group on close) and exits by itself when its stdin closes, so it cannot outlive the Node process.
 */
export class RtspServerProcess {
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private readonly killOnExit = () => this.killGroup('SIGKILL');

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly port: number,
    private readonly log: (message: string) => void,
  ) {
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      this.exited = true;
      process.off('exit', this.killOnExit);
      if (code !== 0 && signal === null) log(`rtsp-server.py exited with code ${code}`);
    });
    process.on('exit', this.killOnExit);
  }

  static async start(options: {
    host: string;
    port: number;
    cameraIds: readonly string[];
    log: (message: string) => void;
  }): Promise<RtspServerProcess> {
    const found = findRtspPython();
    if ('reason' in found) throw new RtspUnavailableError(found.reason);
    const child = spawn(
      found.python,
      [
        SCRIPT_PATH,
        '--host',
        options.host,
        '--port',
        String(options.port),
        '--cameras',
        options.cameraIds.join(','),
        '--width',
        String(VIDEO.width),
        '--height',
        String(VIDEO.height),
        '--fps',
        String(VIDEO.fps),
        '--bitrate',
        String(VIDEO.bitrateKbps),
      ],
      { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const stderrTail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    });
    const lines = createInterface({ input: child.stdout });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => fail(`no READY within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const fail = (reason: string) => {
        clearTimeout(timer);
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch (error) {
            options.log(`rtsp-server.py: kill after failed start: ${(error as Error).message}`);
          }
        }
        reject(new RtspUnavailableError(`rtsp-server.py failed to start: ${reason} ${stderrTail.join(' | ')}`.trim()));
      };
      child.once('error', (error) => fail(error.message));
      child.once('exit', (code) => fail(`exited with code ${code}`));
      lines.once('line', (line) => {
        const ready = /^READY (\d+)$/.exec(line);
        if (ready) {
          clearTimeout(timer);
          resolve(Number(ready[1]));
        } else fail(line);
      });
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    child.on('error', (error) => options.log(`rtsp-server.py: ${error.message}`));
    const server = new RtspServerProcess(child, port, options.log);
    lines.on('line', (line) => {
      if (line.startsWith('ERROR')) options.log(`rtsp-server.py: ${line}`);
    });
    return server;
  }

  setMode(cameraId: string, mode: StreamMode): void {
    if (this.exited) return;
    this.child.stdin.write(`mode ${cameraId} ${mode}\n`);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    // Closing stdin is the polite stop; the group kill covers a wedged GLib loop.
    this.child.stdin.end();
    const timer = setTimeout(() => this.killGroup('SIGTERM'), STOP_GRACE_MS);
    const hardTimer = setTimeout(() => this.killGroup('SIGKILL'), STOP_GRACE_MS * 2);
    await this.exitPromise;
    clearTimeout(timer);
    clearTimeout(hardTimer);
  }

  private killGroup(signal: NodeJS.Signals): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch (error) {
      // ESRCH: the group is already gone, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') this.log(`rtsp-server.py: ${(error as Error).message}`);
    }
  }
}
