/**
 * Where the CLI calls, as whom, and how long it waits: from flags, the environment, a named profile
 * in the credentials file, the stack file `npm start` writes, or the local stack's documented
 * defaults (docs/operations.md, "The CLI", has the precedence). Secrets are read, never echoed.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { LOCAL_SECRETS } from "../local/credentials.ts";
import { STACK_FILE_NAME, type StackFile, stackFileSchema } from "../local/stack-file.ts";
import { DEFAULT_TIMEOUT_SECONDS } from "./choices.ts";
import { UsageError } from "./errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:3000";
const MAX_TIMEOUT_SECONDS = 3600;
/** The name a legacy flat profile file answers to, and the one chosen when nothing names another. */
export const DEFAULT_PROFILE = "default";

export interface Target {
  readonly url: string;
  readonly appCode: string;
  readonly appSecret: string;
  /** Every request's whole budget: connect, headers and body. */
  readonly timeoutMs: number;
}

/** The global flags a target comes from. */
export interface TargetOptions {
  readonly url?: string;
  readonly profile?: string;
  readonly timeout?: string;
}

const profileSchema = z.object({
  url: z.url().optional(),
  bk_app_code: z.string().min(1),
  bk_app_secret: z.string().min(1),
});
type Profile = z.infer<typeof profileSchema>;

/** The named format; a file without `profiles` is the legacy single profile. */
const profilesFileSchema = z.object({
  default: z.string().min(1).optional(),
  profiles: z.record(z.string().min(1), profileSchema),
});

export const defaultProfilePath = (): string => join(homedir(), ".config", "gse-control", "credentials.json");

/** `--timeout`: seconds, more than 0; a fraction is fine. */
export function timeoutMs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS)
    throw new UsageError(`--timeout is seconds, a number above 0 and at most ${MAX_TIMEOUT_SECONDS}, not "${text}"`);
  return Math.round(seconds * 1000);
}

/**
 * Where JSON.parse stopped, as a message that quotes nothing of the file: V8 quotes the text around
 * an unexpected token, and a credentials file's text is its secret. Without a position in V8's
 * message, the shortest prefix with the same complaint finds it (the files are a few hundred bytes).
 */
export function jsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = /^(.*?) in JSON at position (\d+)/.exec(message);
  let reason: string;
  let position: number;
  if (at) {
    reason = at[1]!;
    position = Number(at[2]);
  } else if (/^Unexpected end of JSON input/.test(message)) {
    reason = "Unexpected end of input";
    position = text.length;
  } else {
    reason = /^Unexpected token/.test(message) ? "Unexpected character" : "Not JSON";
    position = firstBadToken(text);
  }
  const before = text.slice(0, position).split("\n");
  return `${reason} at line ${before.length}, column ${before.at(-1)!.length + 1} (position ${position})`;
}

function firstBadToken(text: string): number {
  for (let end = 1; end <= text.length; end++) {
    try {
      JSON.parse(text.slice(0, end));
    } catch (error) {
      if (error instanceof Error && /^Unexpected token/.test(error.message)) return end - 1;
    }
  }
  return 0;
}

/** A file of secrets: refused when others may read it, parsed with its path and position in every complaint. */
function readSecretJson(path: string, what: string): unknown {
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0) throw new UsageError(`${what} ${path} is readable by others; run: chmod 600 ${path}`);
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${jsonSyntaxError(text, error)}`);
  }
}

const issuePaths = (error: z.ZodError): string =>
  error.issues
    .map((i) => i.path.join(".") || "(file)")
    .filter((p, i, all) => all.indexOf(p) === i)
    .join(", ");

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * The profile the file holds under `name` (when `name` is undefined: the file's `default`, else the
 * profile called "default"; a legacy flat file is that one). Undefined when no name was asked for
 * and the file names none.
 */
export function selectProfile(path: string, json: unknown, name: string | undefined): Profile | undefined {
  if (typeof json === "object" && json !== null && "profiles" in json) {
    const file = profilesFileSchema.safeParse(json);
    if (!file.success) throw new UsageError(`profile file ${path} is not a profile file: fix ${issuePaths(file.error)}`);
    const chosen = name ?? file.data.default ?? DEFAULT_PROFILE;
    const profile = file.data.profiles[chosen];
    if (profile === undefined && (name !== undefined || file.data.default !== undefined))
      throw new UsageError(`profile file ${path} has no profile "${chosen}" (it has: ${Object.keys(file.data.profiles).join(", ") || "none"})`);
    return profile;
  }
  const legacy = profileSchema.safeParse(json);
  if (!legacy.success) throw new UsageError(`profile file ${path} is not a profile: fix ${issuePaths(legacy.error)}`);
  if (name !== undefined && name !== DEFAULT_PROFILE)
    throw new UsageError(
      `profile file ${path} holds one unnamed profile ("${DEFAULT_PROFILE}"), not "${name}"; name profiles with {"profiles": {"${name}": {…}}}`,
    );
  return legacy.data;
}

/** The stack file to read: GSE_CONTROL_STACK_FILE (it must exist), else `.data/stack.json` under `cwd` when there is one. */
export function readStackFile(env: NodeJS.ProcessEnv, cwd: string): { path: string; stack: StackFile } | undefined {
  const named = env.GSE_CONTROL_STACK_FILE;
  const path = named ? resolve(cwd, named) : join(cwd, ".data", STACK_FILE_NAME);
  if (!exists(path)) {
    if (named) throw new UsageError(`GSE_CONTROL_STACK_FILE: no such file ${path}`);
    return undefined;
  }
  const parsed = stackFileSchema.safeParse(readSecretJson(path, "stack file"));
  if (!parsed.success) throw new UsageError(`stack file ${path} is not a stack file: fix ${issuePaths(parsed.error)}`);
  return { path, stack: parsed.data };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;
const trimmed = (url: string): string => url.replace(/\/+$/, "");

/** What the target is resolved from besides the flags; tests pass their own. */
export interface TargetSources {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly alive?: (pid: number) => boolean;
}

/**
 * URL: `--url`, GSE_CONTROL_URL, the profile's url, the stack file's, http://127.0.0.1:3000.
 * Credentials: GSE_CONTROL_APP_CODE + GSE_CONTROL_APP_SECRET, the profile, the stack file's caller
 * (for the stack's own URL), the local stack's documented ones (for a loopback URL).
 * The profile: `--profile` or GSE_CONTROL_PROFILE_NAME from the file at GSE_CONTROL_PROFILE or
 * ~/.config/gse-control/credentials.json (mode 600); unnamed, the file's default, read only when the
 * environment does not hold both credentials.
 */
export function resolveTarget(sources: TargetSources, options: TargetOptions): Target {
  const { env } = sources;
  const timeout = timeoutMs(options.timeout);
  const profilePath = env.GSE_CONTROL_PROFILE ?? defaultProfilePath();
  const profileName = options.profile ?? (env.GSE_CONTROL_PROFILE_NAME || undefined);
  const envCredentials =
    env.GSE_CONTROL_APP_CODE && env.GSE_CONTROL_APP_SECRET ? { appCode: env.GSE_CONTROL_APP_CODE, appSecret: env.GSE_CONTROL_APP_SECRET } : undefined;

  let profile: Profile | undefined;
  if (profileName !== undefined && !exists(profilePath))
    throw new UsageError(`profile "${profileName}" asked for, but there is no profile file ${profilePath} (GSE_CONTROL_PROFILE names another)`);
  if (exists(profilePath) && (profileName !== undefined || envCredentials === undefined))
    profile = selectProfile(profilePath, readSecretJson(profilePath, "profile file"), profileName);

  const chosenUrl = options.url ?? (env.GSE_CONTROL_URL || undefined) ?? profile?.url;
  // Read for its URL when nothing else names one, and for its caller when the URL named is local.
  const found = chosenUrl === undefined || LOOPBACK.test(trimmed(chosenUrl)) ? readStackFile(env, sources.cwd) : undefined;
  const live = found && (sources.alive ?? processAlive)(found.stack.pid) ? found.stack : undefined;
  if (found && !live && chosenUrl === undefined)
    throw new UsageError(
      `stack file ${found.path} is left from a stack that is gone (pid ${found.stack.pid}): start it again (npm start), remove the file, or pass --url`,
    );
  const stack = live;
  const url = trimmed(chosenUrl ?? stack?.url ?? DEFAULT_URL);

  const credentials =
    envCredentials ??
    (profile ? { appCode: profile.bk_app_code, appSecret: profile.bk_app_secret } : undefined) ??
    (stack && trimmed(stack.url) === url ? { appCode: stack.caller.bk_app_code, appSecret: stack.caller.bk_app_secret } : undefined) ??
    (LOOPBACK.test(url) ? { appCode: LOCAL_SECRETS.caller.bk_app_code, appSecret: LOCAL_SECRETS.caller.bk_app_secret } : undefined);
  if (credentials === undefined)
    throw new UsageError(`no credentials for ${url}: set GSE_CONTROL_APP_CODE and GSE_CONTROL_APP_SECRET, or write ${profilePath} (mode 600)`);
  return { url, ...credentials, timeoutMs: timeout };
}
