import { InvalidSimulatorOptionsError } from './errors.js';
import { DiscoveryResponder } from './discovery.js';
import { MOTION_VARIANTS, type MotionVariant } from './event-topics.js';
import { scopes } from './onvif-responses.js';
import { RtspServerProcess, RtspUnavailableError } from './rtsp-process.js';
import { SimulatedCamera, type SimCamera } from './sim-camera.js';
import { SnapshotStore } from './snapshots.js';

export type { CameraStats, FaultMode, FaultOptions, SimCamera } from './sim-camera.js';
export { FAULT_MODES, SimulatedCamera } from './sim-camera.js';
export type { MotionVariant, PropertyOperation } from './event-topics.js';
export { SimulatorError, InvalidSimulatorOptionsError } from './errors.js';

export interface SimulatorOptions {
  cameras: number;
  /** Camera i listens on basePort + i. */
  basePort: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Default `admin`. */
  username?: string;
  /** Default `camhub-sim`. */
  password?: string;
  /** RTSP via GStreamer (default true). `{ port }` picks the port; default basePort + 1000; `{ port: 0 }` = any free. */
  rtsp?: boolean | { port: number };
  /** Answer WS-Discovery probes (default true). */
  discovery?: boolean;
  /** Camera ids are `${idPrefix}-${index}` (default `sim-cam`). */
  idPrefix?: string;
  /** Every camera's clock runs this far from the host's (default 0). */
  clockSkewMs?: number;
  /** Motion topic shape per camera, cycled by index (default: even cameras `cell-motion`, odd `motion-alarm`). */
  motionVariants?: MotionVariant[];
  /** PullPoint subscriptions a camera accepts at once before refusing more (default 16). */
  maxSubscriptions?: number;
  /** Queue `Initialized` state messages on every new subscription, as many real cameras do (default false). */
  initialStateOnSubscribe?: boolean;
  /** Diagnostics (fault transitions, auth refusals, helper problems). Default: silent. */
  log?: (message: string) => void;
}

export interface Simulator {
  cameras: SimCamera[];
  rtspAvailable: boolean;
  /** Why RTSP is off (GStreamer missing, disabled by option, helper failed), or null when it is on. */
  rtspUnavailableReason: string | null;
  /** The cameras with their simulator-only extras (motionVariant, state(), endpointReference...). */
  simulatedCameras: SimulatedCamera[];
  close(): Promise<void>;
}

const DEFAULT_MOTION_VARIANTS: MotionVariant[] = ['cell-motion', 'motion-alarm'];

function validate(opts: SimulatorOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(opts.cameras) || opts.cameras < 1 || opts.cameras > 1000) {
    problems.push(`cameras must be an integer from 1 to 1000 (got ${opts.cameras})`);
  }
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1 || opts.basePort + (opts.cameras || 1) - 1 > 65535) {
    problems.push(`basePort must leave room for every camera below 65536 (got ${opts.basePort})`);
  }
  if (
    typeof opts.rtsp === 'object' &&
    (!Number.isInteger(opts.rtsp.port) || opts.rtsp.port < 0 || opts.rtsp.port > 65535)
  ) {
    problems.push(`rtsp.port must be 0-65535 (got ${opts.rtsp.port})`);
  }
  if (opts.idPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.idPrefix)) {
    problems.push(`idPrefix must be URL-safe letters, digits, "_", "." or "-" (got ${JSON.stringify(opts.idPrefix)})`);
  }
  for (const variant of opts.motionVariants ?? []) {
    if (!MOTION_VARIANTS.includes(variant)) problems.push(`unknown motion variant ${JSON.stringify(variant)}`);
  }
  if (opts.motionVariants !== undefined && opts.motionVariants.length === 0) problems.push('motionVariants is empty');
  if (opts.maxSubscriptions !== undefined && (!Number.isInteger(opts.maxSubscriptions) || opts.maxSubscriptions < 1)) {
    problems.push(`maxSubscriptions must be a positive integer (got ${opts.maxSubscriptions})`);
  }
  if (problems.length > 0) throw new InvalidSimulatorOptionsError(`invalid simulator options: ${problems.join('; ')}`);
}

/** Starts `opts.cameras` simulated ONVIF cameras (plus one RTSP helper and one discovery responder). */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  validate(opts);
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '127.0.0.1';
  const advertisedHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const idPrefix = opts.idPrefix ?? 'sim-cam';
  const ids = Array.from({ length: opts.cameras }, (_, index) => `${idPrefix}-${index}`);

  let rtsp: RtspServerProcess | null = null;
  let rtspUnavailableReason: string | null = null;
  if (opts.rtsp === false) {
    rtspUnavailableReason = 'RTSP disabled by option';
  } else {
    const port = typeof opts.rtsp === 'object' ? opts.rtsp.port : opts.basePort + 1000;
    try {
      rtsp = await RtspServerProcess.start({ host, port, cameraIds: ids, log });
    } catch (error) {
      if (!(error instanceof RtspUnavailableError)) throw error;
      rtspUnavailableReason = error.message;
      log(`RTSP unavailable: ${error.message}`);
    }
  }

  const snapshots = new SnapshotStore(log);
  const variants = opts.motionVariants ?? DEFAULT_MOTION_VARIANTS;
  const byId = new Map<string, SimulatedCamera>();
  const cameras = ids.map(
    (id, index) =>
      new SimulatedCamera(
        {
          index,
          id,
          host,
          advertisedHost,
          port: opts.basePort + index,
          username: opts.username ?? 'admin',
          password: opts.password ?? 'camhub-sim',
          rtspUrl: rtsp ? `rtsp://${advertisedHost}:${rtsp.port}/${id}` : null,
          motionVariant: variants[index % variants.length]!,
          clockSkewMs: opts.clockSkewMs ?? 0,
          maxSubscriptions: opts.maxSubscriptions ?? 16,
          initialStateOnSubscribe: opts.initialStateOnSubscribe ?? false,
        },
        {
          snapshots,
          setStreamMode: rtsp ? (cameraId, mode) => rtsp.setMode(cameraId, mode) : null,
          findSibling: (siblingId) => byId.get(siblingId),
          log,
        },
      ),
  );
  for (const camera of cameras) byId.set(camera.id, camera);

  let discovery: DiscoveryResponder | null = null;
  const close = async (): Promise<void> => {
    await Promise.all(cameras.map((camera) => camera.close()));
    await discovery?.close();
    await rtsp?.close();
  };

  try {
    await Promise.all(cameras.map((camera) => camera.start()));
    if (opts.discovery !== false) {
      discovery = await DiscoveryResponder.start(
        cameras.map((camera) => ({
          endpointReference: camera.endpointReference,
          xaddr: camera.deviceServiceUrl,
          scopes: scopes({
            id: camera.id,
            baseUrl: '',
            motionVariant: camera.motionVariant,
            serialNumber: '',
            streaming: camera.rtspUrl !== null,
          }),
          isReachable: () => camera.isReachable(),
        })),
        log,
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  snapshots.prepare(ids);

  let closing: Promise<void> | undefined;
  return {
    cameras,
    simulatedCameras: cameras,
    rtspAvailable: rtsp !== null,
    rtspUnavailableReason,
    close: () => (closing ??= close()),
  };
}
