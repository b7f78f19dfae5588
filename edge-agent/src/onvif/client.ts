import { Cam } from 'onvif';
import type { Logger } from 'pino';
import type { CameraConfig } from '../config.js';
import { CameraTimeoutError, CameraTransportError, errorMessage, SoapFaultError } from '../errors.js';
import { ClockOffset, CONSISTENT_WITHIN_MS } from './clock.js';
import { textOf } from './normalise.js';
import { assertXmlSafe, child, type Credentials, soapCall, wsSecurityHeader } from './soap.js';

export interface CameraInfo {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  profileToken?: string;
  streamUri?: string;
  /** RTSP address of the low-resolution profile (wall tiles' live view); absent when the camera has only one. */
  subStreamUri?: string;
  snapshotUri?: string;
  /** The profile's configured frame rate (RateControl FrameRateLimit), when the camera says. */
  profileFps?: number;
  /**
   * False when the device itself declares that it cannot stream over RTSP (GetCapabilities: neither RTP_RTSP_TCP nor
   * RTP_TCP): such a camera has no stream to probe, which is not the same as a stream that fails.
   */
  streaming: boolean;
  /** The events service, or null when the camera lists none (then there is nothing to subscribe to). */
  eventsUrl: string | null;
}

type Flags = Record<string, unknown>;
interface OnvifCamShape {
  capabilities?: { media?: { streamingCapabilities?: Flags } };
  services?: { namespace?: string; capabilities?: { capabilities?: { streamingCapabilities?: { $?: Flags } } } }[];
}

/**
 * What the device said about RTSP streaming: GetServices (with capabilities, what the `onvif` package asks first) or
 * GetCapabilities (older devices). The package parses the attributes into booleans.
 */
function declaresRtsp(cam: OnvifCamShape): boolean {
  const media = cam.services?.find((service) => service.namespace === 'http://www.onvif.org/ver10/media/wsdl');
  const streaming =
    media?.capabilities?.capabilities?.streamingCapabilities?.$ ?? cam.capabilities?.media?.streamingCapabilities;
  // Silence is not a "no": many cameras omit the element and stream all the same.
  if (!streaming) return true;
  return streaming.RTP_RTSP_TCP !== false || streaming.RTP_TCP !== false;
}

/** Runs one callback-style `onvif` call with our own deadline (its socket timeout does not cover every path). */
function call<T>(
  operation: string,
  timeoutMs: number,
  fn: (cb: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CameraTimeoutError(operation, timeoutMs)), timeoutMs);
    try {
      fn((err, value) => {
        clearTimeout(timer);
        if (err) reject(err instanceof Error ? err : new CameraTransportError(operation, String(err)));
        else resolve(value as T);
      });
    } catch (err) {
      clearTimeout(timer);
      reject(err);
    }
  });
}

/** GetSystemDateAndTime → the camera's UTC time in ms, or null when it does not say. */
export function parseSystemDateAndTime(body: unknown): number | null {
  const info = child(child(body, 'GetSystemDateAndTimeResponse'), 'SystemDateAndTime');
  const utc = child(info, 'UTCDateTime');
  if (!utc) return null;
  const d = child(utc, 'Date');
  const t = child(utc, 'Time');
  const n = (node: unknown, name: string) => Number(textOf(child(node, name)));
  const ms = Date.UTC(n(d, 'Year'), n(d, 'Month') - 1, n(d, 'Day'), n(t, 'Hour'), n(t, 'Minute'), n(t, 'Second'));
  return Number.isFinite(ms) ? ms : null;
}

type ProfileShape = {
  token?: string;
  $?: { token?: string };
  videoEncoderConfiguration?: { resolution?: { width?: unknown } };
};

/**
 * The token of the profile for wall tiles: the configured `subProfile`, else the profile other than `main` with the
 * smallest picture (a camera's "sub stream"), else none.
 */
export function subProfileToken(profiles: unknown[], main: string | undefined, configured?: string): string | null {
  const tokenOf = (p: ProfileShape) => p.token ?? p.$?.token;
  const list = profiles as ProfileShape[];
  if (configured) return list.some((p) => tokenOf(p) === configured) ? configured : null;
  const width = (p: ProfileShape) => Number(textOf(p.videoEncoderConfiguration?.resolution?.width)) || Infinity;
  const others = list.filter((p) => tokenOf(p) && tokenOf(p) !== main).sort((a, b) => width(a) - width(b));
  const mainProfile = list.find((p) => tokenOf(p) === main);
  const best = others[0];
  if (!best || (mainProfile && width(best) >= width(mainProfile))) return null;
  return tokenOf(best) ?? null;
}

/** A CurrentTime that disagrees with the offset triggers a GetSystemDateAndTime at most this often. */
const REMEASURE_MIN_MS = 5000;

/** The camera wants credentials for a call we tried without: a SOAP Fault, or HTTP 401 (Digest) on some firmware. */
export function needsCredentials(err: unknown): boolean {
  return err instanceof SoapFaultError || (err instanceof CameraTransportError && err.httpStatus === 401);
}

/** FrameRateLimit of the profile with `token`: what the health probe compares the measured fps with. */
function profileFrameRate(profiles: unknown[], token: string | undefined): number | undefined {
  type Shape = { token?: string; $?: { token?: string }; videoEncoderConfiguration?: { rateControl?: unknown } };
  const profile = (profiles as Shape[]).find((p) => (p.token ?? p.$?.token) === token);
  const rate = profile?.videoEncoderConfiguration?.rateControl as { frameRateLimit?: unknown } | undefined;
  const fps = Number(textOf(rate?.frameRateLimit));
  return Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

/**
 * The camera's device side: identity, media URIs and its clock. Wraps the `onvif` package for discovery of services
 * and media (it handles GetServices/GetCapabilities fallbacks and Media2), but signs its requests with OUR
 * WS-Security header: escaped username, UTF-8 password, and the clock offset we measure (its own timeShift is computed
 * once per Cam, so after a camera's clock jumps every request would fail until the Cam is rebuilt).
 */
export class OnvifClient {
  private cam: Cam | null = null;
  private readonly clock = new ClockOffset();
  private lastRemeasureAt = 0;
  private lastRemeasureConfirmed = false;
  info: CameraInfo | null = null;
  readonly credentials: Credentials;

  constructor(
    private readonly camera: CameraConfig,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.credentials = { username: camera.username, password: camera.password };
    assertXmlSafe(camera.id, this.credentials);
  }

  /** camera clock − our clock, ms; null until measured. */
  get clockOffsetMs(): number | null {
    return this.clock.offsetMs;
  }

  get deviceServiceUrl(): string {
    return `http://${this.camera.host}:${this.camera.port}/onvif/device_service`;
  }

  /**
   * Measures camera clock − our clock. ONVIF gives whole seconds, so the camera's time is taken as the middle of
   * its second (±0.5 s) and our time as the middle of the round trip.
   */
  async measureClock(): Promise<number> {
    const request = async (credentials?: Credentials) => {
      const before = Date.now();
      const { body } = await soapCall({
        url: this.deviceServiceUrl,
        action: 'http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime',
        body: '<tds:GetSystemDateAndTime/>',
        credentials,
        cameraOffsetMs: this.clockOffsetMs ?? 0,
        timeoutMs: this.timeoutMs,
      });
      const after = Date.now();
      const cameraMs = parseSystemDateAndTime(body);
      if (cameraMs === null) return 0; // Some cameras leave UTCDateTime out; assume they are right.
      return cameraMs + 500 - (before + after) / 2;
    };
    let offset: number;
    try {
      offset = await request();
    } catch (err) {
      // Some firmware wants this call authenticated too: it says so with a SOAP Fault, or with HTTP 401.
      if (!needsCredentials(err)) throw err;
      offset = await request(this.credentials);
    }
    const previous = this.clock.measured(Math.round(offset));
    const now = this.clock.offsetMs!;
    if (previous !== null && Math.abs(previous - now) > 2000) {
      this.logger.warn({ previous, now }, 'camera clock jumped: rebuilding the ONVIF client');
      this.cam = null;
    }
    return now;
  }

  /**
   * Refines the offset from a PullMessagesResponse's CurrentTime (see clock.ts). Many cameras give it with
   * milliseconds, which beats GetSystemDateAndTime's whole seconds; one farther than 1.5 s from the measured offset
   * is not believed but re-measured, before the answer's events are dated.
   */
  async observeCameraTime(currentTime: string | undefined, receivedAtMs: number): Promise<void> {
    if (!currentTime) return;
    const cameraMs = Date.parse(currentTime);
    if (Number.isNaN(cameraMs)) return;
    const precise = /T\d{2}:\d{2}:\d{2}\.\d+/.test(currentTime);
    const estimate = precise ? cameraMs - receivedAtMs : cameraMs + 500 - receivedAtMs;
    if (this.clock.observe(Math.round(estimate), precise) !== 'remeasure') return;
    // It disagrees with GetSystemDateAndTime: the camera clock may have jumped (a reboot), or this answer is wrong.
    // Only a measurement decides; at most every REMEASURE_MIN_MS, so a camera that is often wrong costs little.
    this.logger.debug({ currentTime, offsetMs: this.clockOffsetMs }, 'CurrentTime disagrees with the clock offset');
    // The limit applies only while re-measures keep confirming the offset (the answers are wrong, not the clock).
    if (this.lastRemeasureConfirmed && Date.now() - this.lastRemeasureAt < REMEASURE_MIN_MS) return;
    this.lastRemeasureAt = Date.now();
    const before = this.clockOffsetMs;
    try {
      const after = await this.measureClock();
      this.lastRemeasureConfirmed = before !== null && Math.abs(after - before) <= CONSISTENT_WITHIN_MS;
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'clock re-measure failed');
    }
  }

  private buildCam(): Cam {
    const cam = new Cam({
      hostname: this.camera.host,
      port: this.camera.port,
      username: this.camera.username,
      password: this.camera.password,
      timeout: this.timeoutMs,
      autoconnect: false,
      // Cameras behind NAT or with a stale network config advertise addresses we cannot reach.
      preserveAddress: true,
    });
    // Our header instead of the library's (see the class comment). The property is the library's own hook.
    const header = (openHeader?: boolean) =>
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">' +
      `<s:Header>${wsSecurityHeader(this.credentials, Date.now() + (this.clockOffsetMs ?? 0))}` +
      (openHeader
        ? ''
        : '</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">');
    (cam as unknown as { _envelopeHeader: typeof header })._envelopeHeader = header;
    return cam;
  }

  /** Connects (services, profiles) and reads identity and media URIs. Each step has a deadline. */
  async connect(): Promise<CameraInfo> {
    if (this.clockOffsetMs === null) await this.measureClock();
    const cam = this.buildCam();
    const t = this.timeoutMs;
    await call<void>('connect', t * 4, (cb) => cam.connect((err) => cb(err)));
    this.cam = cam;
    // No events service listed: asking the device service for CreatePullPointSubscription forever helps nobody.
    const eventsUrl = cam.uri?.events?.href ?? null;
    const info: CameraInfo = { eventsUrl, streaming: declaresRtsp(cam as unknown as OnvifCamShape) };
    try {
      const d = await call<Record<string, unknown>>('GetDeviceInformation', t, (cb) =>
        cam.getDeviceInformation((err, value) => cb(err, value as unknown as Record<string, unknown>)),
      );
      info.manufacturer = textOf(d.manufacturer) || undefined;
      info.model = textOf(d.model) || undefined;
      info.firmware = textOf(d.firmwareVersion) || undefined;
      info.serial = textOf(d.serialNumber) || undefined;
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'GetDeviceInformation failed (optional)');
    }
    const profiles = cam.profiles ?? [];
    const chosen = this.camera.profile
      ? profiles.find((p) => p.token === this.camera.profile || p.$?.token === this.camera.profile)
      : (cam.activeSource?.profileToken ?? profiles[0]?.token ?? profiles[0]?.$?.token);
    const profileToken = typeof chosen === 'string' ? chosen : (chosen?.token ?? chosen?.$?.token);
    if (this.camera.profile && !profileToken) {
      this.logger.warn({ profile: this.camera.profile }, 'configured profile not found; using the camera default');
    }
    info.profileToken = profileToken ?? cam.activeSource?.profileToken;
    info.profileFps = profileFrameRate(profiles, info.profileToken);
    const options = info.profileToken ? { profileToken: info.profileToken } : {};
    try {
      const s = await call<{ uri: string }>('GetStreamUri', t, (cb) =>
        cam.getStreamUri({ protocol: 'RTSP', ...options }, (err, value) => cb(err, value)),
      );
      info.streamUri = textOf(s.uri) || undefined;
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'GetStreamUri failed');
    }
    const sub = subProfileToken(profiles, info.profileToken, this.camera.subProfile);
    if (this.camera.subProfile && !sub) {
      this.logger.warn({ subProfile: this.camera.subProfile }, 'configured sub profile not found; tiles use the main');
    }
    if (sub) {
      try {
        const s = await call<{ uri: string }>('GetStreamUri', t, (cb) =>
          cam.getStreamUri({ protocol: 'RTSP', profileToken: sub }, (err, value) => cb(err, value)),
        );
        info.subStreamUri = textOf(s.uri) || undefined;
      } catch (err) {
        this.logger.debug({ err: errorMessage(err), profile: sub }, 'GetStreamUri of the sub profile failed');
      }
    }
    try {
      const s = await call<{ uri: string }>('GetSnapshotUri', t, (cb) =>
        cam.getSnapshotUri(options, (err, value) => cb(err, value)),
      );
      info.snapshotUri = textOf(s.uri) || undefined;
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'GetSnapshotUri failed (camera has no snapshots?)');
    }
    this.info = info;
    return info;
  }

  get connected(): boolean {
    return this.cam !== null;
  }

  /** Rewrites the host of an address the camera advertised to the host we were configured with (NAT, stale IP). */
  reachable(address: string): string {
    try {
      const url = new URL(address);
      url.hostname = this.camera.host;
      return url.toString();
    } catch {
      this.logger.warn({ address }, 'camera advertised an address that is not a URL; using it as given');
      return address;
    }
  }
}
