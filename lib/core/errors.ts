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
  /** Numeric code in GSE's style; gateway-level errors reuse the API gateway's codes (docs/gse-contract.md §2.3). */
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

  constructor(
    readonly problems: readonly FieldProblem[],
    message?: string,
  ) {
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
  // The gateway documents no 401 code (docs/gse-contract.md §10.12); this one is ours, in its range.
  readonly code = 1640101;
  readonly codeName = "UNAUTHENTICATED";
}

/** The realm a browser shows when it asks for credentials (HTTP Basic) on the status page. */
export const BASIC_REALM = "gse-control";

/**
 * 401 on a route a browser opens (the status page): the challenge makes it ask for the app code
 * and secret (HTTP Basic) and send them with every later request to the same place.
 */
export class BasicAuthRequiredError extends UnauthenticatedError {
  override readonly headers: Readonly<Record<string, string>> = { "www-authenticate": `Basic realm="${BASIC_REALM}", charset="UTF-8"` };
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly code = 1640301;
  readonly codeName = "APP_NO_PERMISSION";
}

/** The caller is who it says, but its scopes do not include the one the route needs (lib/core/scopes.ts). */
export class MissingScopeError extends ForbiddenError {
  override readonly data: { required_scope: string };

  constructor(
    readonly requiredScope: string,
    appCode: string,
  ) {
    super(`${appCode} may not call this route: it needs the scope ${requiredScope}`);
    this.data = { required_scope: requiredScope };
  }
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

/**
 * GSE accepted a configuration change but reading it back shows it is not there (or could not
 * be read): the change is recorded FAILED and recovery restores the last good version.
 */
export class ConfigNotAppliedError extends AppError {
  readonly status = 502;
  readonly code = 1650202;
  readonly codeName = "CONFIG_NOT_APPLIED";
  override readonly data: unknown;

  constructor(message: string, data: unknown = null) {
    super(message);
    this.data = data;
  }
}

/**
 * A dependency the answer rests on is down: GET /health when degraded, GET /v1/console/data when
 * DynamoDB cannot be read. 503 in GSE's gateway range (1650301); `data` says which dependency
 * failed and how (codes and error names, never a body or a secret).
 */
export class DependencyUnavailableError extends AppError {
  readonly status = 503;
  readonly code = 1650301;
  readonly codeName = "DEPENDENCY_UNAVAILABLE";
  override readonly data: unknown;

  constructor(message: string, data: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.data = data;
  }
}

/** Where a caller looks to learn how a request that ran out of time ended. */
export interface TimeoutSubject {
  /** The object being changed (`route#123`) or the command (`message_id`). */
  readonly object?: string;
  readonly message_id?: string;
  /** The request that tells, e.g. `GET /v1/configs/route/123/versions`. */
  readonly check?: string;
}

/**
 * The function ran out of time before it could answer: the work may have gone on, finished or not,
 * so the outcome is unknown and `data` says which object or command to look at, and where. In GSE's
 * gateway range beside REQUEST_BACKEND_TIMEOUT (1650401, GSE itself too slow).
 */
export class RequestTimeoutError extends AppError {
  readonly status = 504;
  readonly code = 1650402;
  readonly codeName = "REQUEST_TIMEOUT";
  override readonly data: { readonly outcome: "unknown" } & TimeoutSubject;

  constructor(subject: TimeoutSubject = {}) {
    const where = subject.check ? `; check ${subject.check}` : "";
    super(`the request ran out of time before it could answer; whether it took effect is unknown${where}`);
    this.data = { outcome: "unknown", ...subject };
  }
}

export class BodyTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 1641301;
  readonly codeName = "BODY_SIZE_LIMIT_EXCEED";
}

/**
 * A body that is valid but would not fit in the DynamoDB item that records it: 413 like a body
 * over the size limit, with the field to shrink (`field`, in the validation errors' path form).
 */
export class ItemTooLargeError extends BodyTooLargeError {
  override readonly data: { readonly field: string; readonly field_bytes: number; readonly record_bytes: number; readonly limit_bytes: number };

  constructor(message: string, data: ItemTooLargeError["data"]) {
    super(message);
    this.data = data;
  }
}

export class InternalError extends AppError {
  readonly status = 500;
  readonly code = 1650000;
  readonly codeName = "INTERNAL_ERROR";
  override readonly expose = false;
}

export type GseErrorKind =
  /** GSE answered with a non-zero code (HTTP 200, as GSE does). */
  | "business"
  /** 429 from GSE's gateway. */
  | "rate_limited"
  /** 5xx, connection refused or reset. */
  | "unavailable"
  | "timeout"
  /** GSE refused our app credentials: a deployment problem, not the caller's. */
  | "auth"
  /** The body is not JSON, or not the shape the contract says. */
  | "malformed";

/**
 * Whether a write took effect: `rejected` (GSE said no), `not_sent` (never reached GSE), or
 * `unknown` (sent, no usable answer): only a read-back can tell, never a blind repeat.
 */
export type WriteOutcome = "rejected" | "not_sent" | "unknown";

const NOT_FOUND_CODES: readonly number[] = [1014505, 1014003, 14001];

/** A failed GSE call, with what a caller needs to decide: retry, read back, or report. */
export class GseError extends AppError {
  readonly status: number;
  readonly code: number;
  readonly codeName: string;
  override readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly operation: string,
    readonly kind: GseErrorKind,
    message: string,
    readonly details: {
      readonly gseCode?: number;
      readonly requestId?: string;
      readonly retryable: boolean;
      readonly outcome: WriteOutcome;
      readonly retryAfterMs?: number;
      readonly httpStatus?: number;
      readonly cause?: unknown;
    },
  ) {
    super(GseError.callerMessage(kind, message, details.gseCode), { cause: details.cause });
    switch (kind) {
      case "business":
        // Passed through as GSE answers it: HTTP 200, GSE's own code and message.
        this.status = 200;
        this.code = details.gseCode ?? 1306000;
        this.codeName = "GSE_ERROR";
        break;
      case "rate_limited":
        this.status = 429;
        this.code = 1642903;
        this.codeName = "RATE_LIMIT_RESTRICTION";
        break;
      case "timeout":
        this.status = 504;
        this.code = 1650401;
        this.codeName = "REQUEST_BACKEND_TIMEOUT";
        break;
      default:
        this.status = 502;
        this.code = 1650200;
        this.codeName = "BAD_GATEWAY";
    }
    this.headers = details.retryAfterMs !== undefined ? { "retry-after": String(Math.ceil(details.retryAfterMs / 1000)) } : {};
  }

  /**
   * bk-monitor tells "absent" from "failed" by the words "not found" in the message, while GSE's
   * data service says "not exist" (docs/gse-contract.md §10b.1); keep GSE's text and add the words it needs.
   */
  private static callerMessage(kind: GseErrorKind, message: string, gseCode: number | undefined): string {
    const absent = kind === "business" && ((gseCode !== undefined && NOT_FOUND_CODES.includes(gseCode)) || /not exist/i.test(message));
    return absent && !/not found/i.test(message) ? `${message} (not found)` : message;
  }

  get retryable(): boolean {
    return this.details.retryable;
  }

  get outcome(): WriteOutcome {
    return this.details.outcome;
  }

  get gseCode(): number | undefined {
    return this.details.gseCode;
  }

  get requestId(): string | undefined {
    return this.details.requestId;
  }

  /** bk-monitor decides "absent" by these codes or by "not found" in the text (docs/gse-contract.md §7.5, §10b.1). */
  get notFound(): boolean {
    const code = this.details.gseCode;
    return this.kind === "business" && ((code !== undefined && NOT_FOUND_CODES.includes(code)) || /not (found|exist)/i.test(this.message));
  }
}
