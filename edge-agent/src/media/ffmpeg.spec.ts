import { describe, expect, it } from 'vitest';
import { parseFramecrcHeader, parseProbeLog, parseSegmentListLine } from './ffmpeg.js';

const detect = { freezeSec: 2, freezeNoiseDb: -60, blackSec: 2, blackPixelThreshold: 0.1 };
const INPUT =
  "Input #0, rtsp, from 'rtsp://127.0.0.1/x':\n" +
  '  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(tv, progressive), 640x360 [SAR 1:1 DAR 16:9], 12.50 fps, 25 tbr, 90k tbn\n';

describe('ffmpeg probe output parsing', () => {
  it('reads codec, size and time base from the framecrc header', () => {
    const h = { codec: null, width: null, height: null, tb: null } as {
      codec: string | null;
      width: number | null;
      height: number | null;
      tb: number | null;
    };
    for (const line of ['#tb 0: 1/90000', '#media_type 0: video', '#codec_id 0: h264', '#dimensions 0: 1920x1080']) {
      parseFramecrcHeader(line, h);
    }
    expect(h).toEqual({ codec: 'h264', width: 1920, height: 1080, tb: 1 / 90000 });
  });

  it('reads the declared frame rate; without detection it reports nothing about the picture', () => {
    expect(parseProbeLog(INPUT, 5, undefined)).toEqual({ declaredFps: 12.5 });
  });

  it('frozen while the last freezedetect line is a start', () => {
    const start = '[freezedetect @ 0x1] lavfi.freezedetect.freeze_start: 0.4\n';
    const end =
      '[freezedetect @ 0x1] lavfi.freezedetect.freeze_duration: 2\n[freezedetect @ 0x1] lavfi.freezedetect.freeze_end: 2.4\n';
    expect(parseProbeLog(INPUT + start, 5, detect)).toMatchObject({ frozen: true, black: false });
    expect(parseProbeLog(INPUT + start + end, 5, detect)).toMatchObject({ frozen: false });
  });

  it('black when black segments cover at least half the window', () => {
    const line = (a: number, b: number) =>
      `[blackdetect @ 0x2] black_start:${a} black_end:${b} black_duration:${b - a}\n`;
    expect(parseProbeLog(INPUT + line(0, 4.8), 5, detect)).toMatchObject({ black: true });
    expect(parseProbeLog(INPUT + line(0, 2.1), 5, detect)).toMatchObject({ black: false });
  });
});

describe('segment list parsing', () => {
  it('reads name, start and end of each finished segment', () => {
    expect(parseSegmentListLine('seg-000000012.ts,24.000000,26.000000')).toEqual({
      file: 'seg-000000012.ts',
      startSec: 24,
      endSec: 26,
    });
    expect(parseSegmentListLine('"a,""b"".ts",1.5,3.5\n')).toEqual({ file: 'a,"b".ts', startSec: 1.5, endSec: 3.5 });
  });

  it('ignores what is not a segment line', () => {
    expect(parseSegmentListLine('')).toBeNull();
    expect(parseSegmentListLine('seg.ts,3,2')).toBeNull();
    expect(parseSegmentListLine('seg.ts,x,2')).toBeNull();
  });
});
