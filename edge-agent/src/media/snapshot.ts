import { CameraTransportError } from '../errors.js';
import type { Credentials } from '../onvif/soap.js';
import { httpRequest } from '../onvif/soap.js';
import { grabFrame } from './ffmpeg.js';

export type SnapshotSource = { kind: 'onvif'; uri: string; credentials: Credentials } | { kind: 'rtsp'; uri: string };

/** One JPEG from the camera within `timeoutMs`: its ONVIF snapshot URI (HTTP Digest) or one RTSP frame. */
export async function fetchSnapshot(source: SnapshotSource, timeoutMs: number): Promise<Buffer> {
  if (source.kind === 'rtsp') return grabFrame(source.uri, { timeoutMs });
  const res = await httpRequest(new URL(source.uri), {
    timeoutMs,
    credentials: source.credentials,
    maxBytes: 4 * 1024 * 1024,
    operation: 'snapshot',
  });
  if (res.status !== 200) throw new CameraTransportError('snapshot', `HTTP ${res.status}`);
  // JPEG starts with FF D8: a camera answering with an HTML error page must not become an event's picture.
  if (res.body.length < 4 || res.body[0] !== 0xff || res.body[1] !== 0xd8) {
    throw new CameraTransportError('snapshot', 'response is not a JPEG');
  }
  return res.body;
}
