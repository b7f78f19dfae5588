/** Errors raised by the camera simulator. Each carries a stable `code` so callers branch on it, not on text. */
export class SimulatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorError';
  }
}

/** A request the simulated camera cannot make sense of (bad XML, bad duration); answered as a SOAP Sender fault. */
export class InvalidRequestError extends SimulatorError {
  constructor(message: string) {
    super('SIM_INVALID_REQUEST', message);
    this.name = 'InvalidRequestError';
  }
}

/** Options given to `startSimulator` or the CLI that cannot work. */
export class InvalidSimulatorOptionsError extends SimulatorError {
  constructor(message: string) {
    super('SIM_INVALID_OPTIONS', message);
    this.name = 'InvalidSimulatorOptionsError';
  }
}
