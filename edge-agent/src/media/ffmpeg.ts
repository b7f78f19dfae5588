import ffmpeg from 'fluent-ffmpeg';
import { AgentError } from '../errors.js';

/**
 * The only module that touches fluent-ffmpeg (archived upstream): swap it here and nothing else changes.
 * The health-probe work reuses `grabFrame`.
 */
export class FfmpegError extends AgentError {
  constructor(message: string) {
    super('ffmpeg_failed', message);
  }
}

/** One JPEG frame from an RTSP URL; the ffmpeg process is killed when `timeoutMs` passes. */
export function grabFrame(url: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const command = ffmpeg(url)
      .inputOptions(['-rtsp_transport', 'tcp'])
      .outputOptions(['-frames:v', '1', '-q:v', '5'])
      .format('image2')
      .videoCodec('mjpeg')
      .on('error', (err: Error) => finish(new FfmpegError(`ffmpeg: ${err.message}`)))
      .on('end', () => finish(null));
    const timer = setTimeout(() => {
      command.kill('SIGKILL');
      finish(new FfmpegError(`ffmpeg gave no frame within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(err: Error | null) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const frame = Buffer.concat(chunks);
      if (err) reject(err);
      else if (frame.length === 0) reject(new FfmpegError('ffmpeg produced no frame'));
      else resolve(frame);
    }
    const stream = command.pipe();
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  });
}
