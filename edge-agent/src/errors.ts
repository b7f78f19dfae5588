/** Small named errors with a stable machine `code`, so callers branch on the code, never on message text. */
export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The configuration file is missing, unreadable or invalid; `problems` lists every bad field. */
export class ConfigError extends AgentError {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super('invalid_config', message);
  }
}

/** A camera call did not answer within its bound (a hanging camera must not stall anything). */
export class CameraTimeoutError extends AgentError {
  constructor(operation: string, ms: number) {
    super('camera_timeout', `${operation} did not answer within ${ms} ms`);
  }
}

/** The camera answered with a SOAP Fault: for a subscription this means it is gone. */
export class SoapFaultError extends AgentError {
  constructor(
    readonly operation: string,
    readonly faultCode: string,
    readonly reason: string,
    readonly httpStatus: number,
  ) {
    super('soap_fault', `${operation}: SOAP Fault ${faultCode}${reason ? ` (${reason})` : ''}`);
  }

  /** WS-Security rejected our token: usually a clock jump on the camera, so re-measure the skew. */
  get isNotAuthorized(): boolean {
    return /NotAuthorized|FailedAuthentication|Sender not authorized/i.test(`${this.faultCode} ${this.reason}`);
  }
}

/** The camera advertises no events service (GetServices/GetCapabilities list none): there is nothing to subscribe. */
export class EventsNotSupportedError extends AgentError {
  constructor(camera: string) {
    super('events_not_supported', `camera ${camera} has no ONVIF events service`);
  }
}

/** The camera's HTTP/SOAP endpoint could not be reached or answered something that is not SOAP. */
export class CameraTransportError extends AgentError {
  constructor(operation: string, detail: string, options?: { cause?: unknown; httpStatus?: number }) {
    super('camera_unreachable', `${operation}: ${detail}`, options);
    this.httpStatus = options?.httpStatus;
  }

  /** The HTTP status when the camera answered something that is not SOAP (401 from firmware that wants Digest). */
  readonly httpStatus: number | undefined;
}

/** Credentials that cannot be put safely into a WS-Security header (control characters). */
export class UnsafeCredentialsError extends AgentError {
  constructor(camera: string) {
    super('unsafe_credentials', `camera ${camera}: username contains characters that cannot be sent in XML`);
  }
}

/** The outbox refused a record (health sample while full, or a record larger than a message may be). */
export class OutboxRejectedError extends AgentError {
  constructor(reason: string) {
    super('outbox_rejected', reason);
  }
}

/**
 * The outbox could not write a record (disk full, I/O error). Nothing half-written is left behind: the record is
 * simply not stored, and the caller decides what to tell (an event that could not be made durable is not published).
 */
export class OutboxWriteError extends AgentError {
  constructor(
    readonly errno: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(errno === 'ENOSPC' ? 'outbox_disk_full' : 'outbox_write_failed', detail, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
