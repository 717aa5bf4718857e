/**
 * The CLI's HTTP client: our API's envelope in, typed data out (the same zod schemas the routes
 * answer with). Every request has the target's time budget; credentials are sent, never echoed.
 * Node's own fetch (undici inside Node) rather than the undici package: the bundle stays small and
 * runs on Node 20, which undici 8 does not.
 */
import type { z } from "zod";
import { CliError, NetworkError } from "./errors.ts";
import { rt } from "./lazy.ts";
import type { Target } from "./target.ts";

export { CliError, UsageError } from "./errors.ts";
export type { Target } from "./target.ts";

/** Calls one route and returns its `data`, parsed with the route's own answer schema. */
export async function callApi<T extends z.ZodType>(
  target: Target,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  schema: T,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<z.output<T>> {
  const url = `${target.url}${path}`;
  // One signal for the whole exchange: a server that accepts and never answers, or stops mid-body, ends here too.
  const signal = AbortSignal.timeout(target.timeoutMs);
  const timedOut = (): NetworkError => new NetworkError(`${method} ${url}: no answer within ${target.timeoutMs / 1000} s (--timeout)`, "timeout");
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      signal,
      headers: {
        "content-type": "application/json",
        "x-bkapi-authorization": JSON.stringify({ bk_app_code: target.appCode, bk_app_secret: target.appSecret }),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    if (signal.aborted) throw timedOut();
    throw new NetworkError(`${method} ${url}: cannot reach ${target.url}: ${reason(error)}`, "unreachable");
  }
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    if (signal.aborted) throw timedOut();
    throw new NetworkError(`${method} ${url}: the answer broke off: ${reason(error)}`, "unreachable");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path}: HTTP ${res.status}, not a JSON answer`, res.status, "bad_answer");
  }
  const envelope = rt().envelopeSchema.safeParse(json);
  if (!envelope.success) throw new CliError(`${method} ${path}: HTTP ${res.status}, not our API's envelope`, res.status, "bad_answer");
  if (!envelope.data.result) {
    const fields = rt().fieldErrorsSchema.safeParse(envelope.data.data);
    const detail = fields.success ? ` (${fields.data.errors.map((e) => `${e.path}: ${e.message}`).join("; ")})` : "";
    throw new CliError(
      `${method} ${path}: HTTP ${res.status}, code ${envelope.data.code}: ${envelope.data.message ?? ""}${detail}`,
      res.status,
      envelope.data.code,
      envelope.data.data,
    );
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success)
    throw new CliError(`${method} ${path}: the answer is not what this CLI expects (${data.error.issues[0]?.path.join(".") ?? ""})`, res.status, "bad_answer");
  return data.data;
}

const reason = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  // undici's "fetch failed"-style errors keep the useful part (ECONNREFUSED …) in the cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
};

/** Where a command writes, reads its settings and draws progress: a process, or a test. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Where `.data/stack.json` is looked for; default the process's working directory. */
  readonly cwd?: string;
  readonly color: boolean;
  /** Where `dispatch --wait` (and `app upgrade --wait`) draws its live bar; null: nowhere; absent: stderr when stdout and stderr are terminals. */
  readonly progress?: NodeJS.WritableStream | null;
  /** Asks a person a question and answers what they typed; absent when no one can answer (no terminal). */
  readonly ask?: (question: string) => Promise<string>;
}
