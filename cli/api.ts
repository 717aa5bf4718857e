/**
 * The CLI's HTTP client: our API's envelope in, typed data out (the same zod schemas the routes
 * answer with), credentials from the environment or a 0600 profile file, never echoed.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { z } from "zod";
import { LOCAL_SECRETS } from "../local/credentials.ts";

/** A failure the CLI reports and exits 1 for: the API said no, or could not be reached. */
export class CliError extends Error {
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
    this.name = "CliError";
  }
}

/** Wrong use of the CLI itself (exit 2). */
export class UsageError extends CliError {}

const profileSchema = z.object({
  url: z.url().optional(),
  bk_app_code: z.string().min(1),
  bk_app_secret: z.string().min(1),
});

export const DEFAULT_URL = "http://127.0.0.1:3000";
/** The credentials `npm start` documents for its local stack (README): used only against loopback. */
const LOCAL_CALLER = LOCAL_SECRETS.caller;

export interface Target {
  readonly url: string;
  readonly appCode: string;
  readonly appSecret: string;
}

export const defaultProfilePath = (): string => join(homedir(), ".config", "gse-control", "credentials.json");

/**
 * Where to call and as whom: `--url` or GSE_CONTROL_URL; credentials from GSE_CONTROL_APP_CODE and
 * GSE_CONTROL_APP_SECRET, else the profile file (GSE_CONTROL_PROFILE or ~/.config/gse-control/
 * credentials.json), which must not be readable by others; else, for a loopback URL only, the
 * local stack's documented credentials.
 */
export function resolveTarget(env: NodeJS.ProcessEnv, urlOption: string | undefined): Target {
  const profilePath = env.GSE_CONTROL_PROFILE ?? defaultProfilePath();
  let profile: z.infer<typeof profileSchema> | undefined;
  if (!(env.GSE_CONTROL_APP_CODE && env.GSE_CONTROL_APP_SECRET)) {
    let mode: number | undefined;
    try {
      mode = statSync(profilePath).mode;
    } catch {
      mode = undefined;
    }
    if (mode !== undefined) {
      if ((mode & 0o077) !== 0) throw new UsageError(`${profilePath} is readable by others; run: chmod 600 ${profilePath}`);
      const parsed = profileSchema.safeParse(JSON.parse(readFileSync(profilePath, "utf8")));
      if (!parsed.success) throw new UsageError(`${profilePath} is not a profile: ${parsed.error.issues.map((i) => i.path.join(".") || "(file)").join(", ")}`);
      profile = parsed.data;
    }
  }
  const url = (urlOption ?? env.GSE_CONTROL_URL ?? profile?.url ?? DEFAULT_URL).replace(/\/+$/, "");
  const appCode = env.GSE_CONTROL_APP_CODE ?? profile?.bk_app_code;
  const appSecret = env.GSE_CONTROL_APP_SECRET ?? profile?.bk_app_secret;
  if (appCode && appSecret) return { url, appCode, appSecret };
  if (/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(url))
    return { url, appCode: LOCAL_CALLER.bk_app_code, appSecret: LOCAL_CALLER.bk_app_secret };
  throw new UsageError(`no credentials for ${url}: set GSE_CONTROL_APP_CODE and GSE_CONTROL_APP_SECRET, or write ${profilePath} (mode 600)`);
}

const envelopeSchema = z.looseObject({
  result: z.boolean(),
  code: z.union([z.number(), z.string()]),
  message: z.string().optional(),
  data: z.unknown(),
});

/** Calls one route and returns its `data`, parsed with the route's own answer schema. */
export async function callApi<T extends z.ZodType>(
  target: Target,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  schema: T,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<z.output<T>> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${target.url}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        "x-bkapi-authorization": JSON.stringify({ bk_app_code: target.appCode, bk_app_secret: target.appSecret }),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new CliError(`cannot reach ${target.url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path}: HTTP ${res.statusCode}, not a JSON answer`);
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw new CliError(`${method} ${path}: HTTP ${res.statusCode}, not our API's envelope`);
  if (!envelope.data.result) {
    const fields = z.object({ errors: z.array(z.object({ path: z.string(), message: z.string() })) }).safeParse(envelope.data.data);
    const detail = fields.success ? ` (${fields.data.errors.map((e) => `${e.path}: ${e.message}`).join("; ")})` : "";
    throw new CliError(
      `${method} ${path}: HTTP ${res.statusCode}, code ${envelope.data.code}: ${envelope.data.message ?? ""}${detail}`,
      res.statusCode,
      envelope.data.code,
      envelope.data.data,
    );
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new CliError(`${method} ${path}: the answer is not what this CLI expects (${data.error.issues[0]?.path.join(".") ?? ""})`);
  return data.data;
}

/** Where a command writes, reads its settings and draws progress: a process, or a test. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
  /** Where `dispatch --wait` (and `app upgrade --wait`) draws its live bar; null: nowhere; absent: stderr when stdout and stderr are terminals. */
  readonly progress?: NodeJS.WritableStream | null;
}
