import { spawn } from 'node:child_process';
import { VIDEO } from './onvif-responses.js';

/**
 * Small valid JPEGs (64x36 colour test pattern and black) for machines without ffmpeg. Made once with
 * `ffmpeg -f lavfi -i testsrc2=size=64x36 -frames:v 1 -pix_fmt yuvj420p -c:v mjpeg` (and `color=c=black`).
 */
const FALLBACK_PATTERN_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xAB8AAEBAQEBAAAAAAAAAAAAAAAEAwUGBwEBAQEAAAAAAAAAAAAAAAAABAYFEAABAwIEBQQDAQEAAAAAAAABAhIRAAMhQTFRYRQTBDIzIrGBcUJSIwURAAECBQMDBQEBAQAAAAAAAAECEQAhBDEDQTIScWFygbLB8CKSYlL/wAARCAAkAEADASIAAhEAAxEA/9oADAMBAAIRAxEAPwDy4m8u4pKMhP6gAASSScAPya0rS+8tqKQYJSFfo1sS53jHGYqtsg8yiHqV0lBEwVhBlQB3jbHattKk8t0G+/z6Mlzeo9s7ty8uFZlXVqqFfpLh5AnlxCmLzaQtYCV4ps+EFGXGpRKSS40VxVJLTDylfpGeO97yzcErgxI9tsggjUGCCK10f9Pv1mE3ZwnwtAADMkpgVj3C3lkCLaklamkz03KlLieG+O4pNoyL6TC1KKTAPm1UqgjhtjtWApOMhzjx/wAj/pn6a3jAw4UYyUpkHdgGnwBaWrytHC9G+9jcWv1S1sS50tbxmMqulV/tyQfbISf1IIOhBEgjiK7JyOV5dn+nqdBxczqvZP8ATMvLhWRcLU9sgRaWlS1NUZ6QWtyHE7DEzjuKuk19QssVKbkRuMwASF7j+SQ1iP8AUaScQxqCkqILO40JlxsJt3B7ROx3HdKX7FYgE6IgCMSSRAH5re5rv3Nfi12luG/06GxxmsztzPMoVFxalJVAPqNWSppG4xEY7CuglPL9Fvv8+lJlvUc2d25eXCgZarKFamaRcmRD8riQdrAd4DUU2OoXyy/ohEiqbsosgOkzN5E9I84v+or6+BUkZ1W/6ivr4FSRnRRsHQRpV183mffDk6inUFOop1FVeJvFt9Y46lIzotKRnVwbQrHuH3SHJ1ptCTrTaAqBVW8ePyYJf9RX18CpIzqt/wBRX18CpIzrAGwdBFPXXzeZ98OTqKdQU6inUVV4m8W31jjqUjOi0pGdXBtCse4fdIcnWm0JOtNoCoFVbx4/Jj//2Q==',
  'base64',
);
const FALLBACK_BLACK_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABLAAEBAAAAAAAAAAAAAAAAAAAACAEBAAAAAAAAAAAAAAAAAAAAABABAAAAAAAAAAAAAAAAAAAAABEBAAAAAAAAAAAAAAAAAAAAAP/AABEIACQAQAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AJ/AAAAAAAAAAAAAAAAAAAAAAAB//9k=',
  'base64',
);

/** ffmpeg runs at most this many at once: 100 cameras must not start 100 encoders on two cores. */
const FFMPEG_CONCURRENCY = 2;

function runFfmpeg(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ffmpeg',
      ['-v', 'error', ...args, '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim().slice(0, 300)}`));
    });
  });
}

/** drawtext needs ' : and \ escaped inside its option value. */
function drawtextLabel(label: string): string {
  return label.replace(/[\\':]/g, (character) => `\\${character}`);
}

/**
 * Per-camera snapshot JPEGs: a test pattern labelled with the camera id, made by ffmpeg once per camera (lazily,
 * a few at a time), or the embedded fallback when ffmpeg is missing or fails.
 */
export class SnapshotStore {
  private readonly images = new Map<string, Promise<Buffer>>();
  private blackImage: Promise<Buffer> | undefined;
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly log: (message: string) => void) {}

  /** Starts generating the pictures of these cameras in the background. */
  prepare(cameraIds: readonly string[]): void {
    for (const id of cameraIds) void this.pattern(id);
  }

  pattern(cameraId: string): Promise<Buffer> {
    let image = this.images.get(cameraId);
    if (!image) {
      const size = `${VIDEO.width}x${VIDEO.height}`;
      const filter = `drawtext=text='${drawtextLabel(cameraId)}':fontsize=48:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=(w-tw)/2:y=(h-th)/2`;
      image = this.limited(() => runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=1`, '-vf', filter])).catch(
        (error: Error) =>
          this.limited(() => runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=1`])).catch(() => {
            this.log(`snapshot for ${cameraId}: ffmpeg unavailable (${error.message}); serving the embedded JPEG`);
            return FALLBACK_PATTERN_JPEG;
          }),
      );
      this.images.set(cameraId, image);
    }
    return image;
  }

  black(): Promise<Buffer> {
    this.blackImage ??= this.limited(() =>
      runFfmpeg(['-f', 'lavfi', '-i', `color=c=black:s=${VIDEO.width}x${VIDEO.height}`]),
    ).catch((error: Error) => {
      this.log(`black snapshot: ffmpeg unavailable (${error.message}); serving the embedded JPEG`);
      return FALLBACK_BLACK_JPEG;
    });
    return this.blackImage;
  }

  private limited<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<void>((release) => {
      if (this.running < FFMPEG_CONCURRENCY) release();
      else this.queue.push(release);
    })
      .then(() => {
        this.running += 1;
        return task();
      })
      .finally(() => {
        this.running -= 1;
        this.queue.shift()?.();
      });
  }
}
