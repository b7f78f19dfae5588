/** Every failure the demo reports to the person running it: a short machine code and a message that says what to do. */
export class DemoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad command-line option. */
export class DemoUsageError extends DemoError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** A service the demo needs (Redis, a free port, …) is not there and cannot be provided. */
export class ServiceUnavailableError extends DemoError {
  constructor(message: string) {
    super('service_unavailable', message);
  }
}

/** A process the demo started (hub, agent, redis-server) exited while it should have kept running. */
export class ChildExitedError extends DemoError {
  constructor(
    readonly child: string,
    detail: string,
  ) {
    super('child_exited', `${child} ${detail}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
