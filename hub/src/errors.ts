/** Errors the API maps to HTTP responses. Each has a stable machine `code` and a status. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'authentication required', code = 'unauthorized') {
    super(code, message, 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'not allowed', code = 'forbidden') {
    super(code, message, 403);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, code = 'not_found') {
    super(code, `${what} not found`, 404);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super('payload_too_large', message, 413);
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, code = 'unavailable') {
    super(code, message, 503);
  }
}

/** A configuration problem found at start; lists every bad variable at once. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
