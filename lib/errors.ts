/**
 * Every error the API answers with. Handlers throw these; one middleware
 * (lib/http/errors.ts) turns them into responses. `expose` says whether the message may
 * reach the caller; anything else is answered with a generic message and logged.
 */

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Numeric code in GSE's style; gateway-level errors reuse the API gateway's codes (gse-api.md §2.3). */
  abstract readonly code: number;
  abstract readonly codeName: string;
  readonly expose: boolean = true;
  readonly data: unknown = null;
  readonly headers: Readonly<Record<string, string>> = {};

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly code = 1640001;
  readonly codeName = "INVALID_ARGS";
  override readonly data: { errors: readonly FieldProblem[] };

  constructor(readonly problems: readonly FieldProblem[], message?: string) {
    super(message ?? `invalid request: ${problems.map((p) => `${p.path || "(body)"}: ${p.message}`).join("; ")}`);
    this.data = { errors: problems };
  }
}

export class MalformedJsonError extends AppError {
  readonly status = 400;
  readonly code = 1640002;
  readonly codeName = "INVALID_JSON";
}

export class UnauthenticatedError extends AppError {
  readonly status = 401;
  // The gateway documents no 401 code (gse-api.md §10.12); this one is ours, in its range.
  readonly code = 1640101;
  readonly codeName = "UNAUTHENTICATED";
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly code = 1640301;
  readonly codeName = "APP_NO_PERMISSION";
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 1640401;
  readonly codeName = "API_NOT_FOUND";
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly code = 1640901;
  readonly codeName = "CONFLICT";
  override readonly data: unknown;

  constructor(message: string, data: unknown = null) {
    super(message);
    this.data = data;
  }
}

export class BodyTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 1641301;
  readonly codeName = "BODY_SIZE_LIMIT_EXCEED";
}

/** A dependency (GSE, DynamoDB, SNS) failed in a way the caller can do nothing about now. */
export class DependencyError extends AppError {
  readonly status: number;
  readonly code: number;
  readonly codeName: string;

  constructor(
    readonly dependency: string,
    message: string,
    options: { cause?: unknown; timeout?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = options.timeout ? 504 : 502;
    this.code = options.timeout ? 1650401 : 1650200;
    this.codeName = options.timeout ? "REQUEST_BACKEND_TIMEOUT" : "BAD_GATEWAY";
  }
}

export class InternalError extends AppError {
  readonly status = 500;
  readonly code = 1650000;
  readonly codeName = "INTERNAL_ERROR";
  override readonly expose = false;
}
