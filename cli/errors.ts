/**
 * The CLI's failures, each with its exit code and the `{"error": …}` object `--json` prints for it.
 * A message never holds a secret: the credentials are sent, never quoted.
 */

/** What `--json` prints on stdout for a failure. */
export interface ErrorJson {
  readonly error: { readonly message: string; readonly status: number | null; readonly code: number | string; readonly data?: unknown };
}

/** A failure the CLI reports and exits 1 for: the API said no, or could not be reached. */
export class CliError extends Error {
  readonly exitCode: number = 1;
  /**
   * The API's HTTP status, when it answered: some callers act on 5xx differently from 4xx; and
   * the envelope's code and data, for callers that explain a particular failure (an APM apply's step).
   */
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: number | string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJson(): ErrorJson {
    return {
      error: { message: this.message, status: this.status ?? null, code: this.code ?? "failed", ...(this.data !== undefined ? { data: this.data } : {}) },
    };
  }
}

/** Wrong use of the CLI itself, or of its settings (a flag, a profile file): exit 2, nothing sent. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super(message, undefined, "usage");
  }
}

/** The API could not be reached, or did not answer within `--timeout`. */
export class NetworkError extends CliError {
  constructor(message: string, code: "unreachable" | "timeout") {
    super(message, undefined, code);
  }
}

/**
 * The command's result is already printed (a dispatch that ended ABORTED, a datasource whose
 * apply failed) and says the failure: with `--json` stdout stays that one object.
 */
export class ReportedError extends CliError {}
