import { createHash, timingSafeEqual } from "node:crypto";
import * as z from "zod";
import type { Caller } from "../core/config.ts";
import { BasicAuthRequiredError, MissingScopeError, UnauthenticatedError } from "../core/errors.ts";
import { CALLBACK_SCOPE, grants, type RouteScope } from "../core/scopes.ts";

export const AUTH_HEADER = "x-bkapi-authorization";

/** What bk-monitor, bk-job and the GSE SDK send (docs/gse-contract.md §2.1); extra keys are allowed. */
export const authorizationSchema = z.object({
  bk_app_code: z.string().min(1),
  bk_app_secret: z.string().min(1),
  bk_username: z.string().optional(),
});

export interface AuthenticatedCaller {
  readonly appCode: string;
  readonly username: string | undefined;
  /** What it may do: its configured scopes; a caller configured without any is an admin. */
  readonly scopes: readonly RouteScope[];
}

/** Refuses a caller whose scopes do not grant `required`: 403 APP_NO_PERMISSION naming the scope. */
export function authorize(caller: AuthenticatedCaller, required: RouteScope): void {
  if (!grants(caller.scopes, required)) throw new MissingScopeError(required, caller.appCode);
}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/** Equal-length digests make timingSafeEqual applicable to strings of any length. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Where the legacy ESB is served: its clients may put their credentials in the body instead. */
export const ESB_PATH_PREFIX = "/api/c/compapi/";

/**
 * The legacy ESB's other form (docs/gse-contract.md §2.1): `bk_app_code`/`bk_app_secret` as top-level body
 * fields. Turned into the header's JSON so one check serves both; undefined when not there.
 */
export function credentialsFromBody(body: string | undefined): string | undefined {
  if (!body) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const fields = authorizationSchema.safeParse(parsed);
  return fields.success ? JSON.stringify(fields.data) : undefined;
}

/**
 * Checks the header against every configured caller without stopping at the first match,
 * so the time taken does not tell whether an app code exists.
 */
export function authenticate(header: string | undefined, callers: readonly Caller[]): AuthenticatedCaller {
  if (!header) throw new UnauthenticatedError(`missing ${AUTH_HEADER} header`);
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(header);
  } catch {
    throw new UnauthenticatedError(`${AUTH_HEADER} header is not valid JSON`);
  }
  const parsed = authorizationSchema.safeParse(parsedJson);
  if (!parsed.success) {
    throw new UnauthenticatedError(`${AUTH_HEADER} header must hold bk_app_code and bk_app_secret`);
  }
  let matched: Caller | undefined;
  for (const caller of callers) {
    const codeOk = constantTimeEqual(caller.bk_app_code, parsed.data.bk_app_code);
    const secretOk = constantTimeEqual(caller.bk_app_secret, parsed.data.bk_app_secret);
    if (codeOk && secretOk && !matched) matched = caller;
  }
  if (!matched) throw new UnauthenticatedError("bk_app_code or bk_app_secret is incorrect");
  return { appCode: matched.bk_app_code, username: parsed.data.bk_username, scopes: matched.scopes ?? ["admin"] };
}

/** Where GSE's callback URL carries its key: `?key=<GseCallbackKey>`. */
export const CALLBACK_KEY_PARAM = "key";

/**
 * GSE posts slot callbacks without credentials (docs/gse-contract.md §5.4), so the URL registered with the
 * slot carries a key, compared in constant time. The caller is named "gse" in the logs.
 */
export function callbackKeyAuthenticator(key: string): (event: { queryStringParameters?: Record<string, string | undefined> }) => AuthenticatedCaller {
  return (event) => {
    const given = event.queryStringParameters?.[CALLBACK_KEY_PARAM];
    if (!given) throw new UnauthenticatedError(`missing ${CALLBACK_KEY_PARAM} in the callback URL`);
    if (!constantTimeEqual(given, key)) throw new UnauthenticatedError(`wrong ${CALLBACK_KEY_PARAM} in the callback URL`);
    return { appCode: "gse", username: undefined, scopes: [CALLBACK_SCOPE] };
  };
}

/**
 * `Authorization: Basic base64(app_code:app_secret)` turned into the X-Bkapi-Authorization JSON, so
 * one check serves both; undefined when the header is absent or not Basic. The secret is what
 * follows the first colon (it may hold colons itself).
 */
export function credentialsFromBasic(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return JSON.stringify({ bk_app_code: decoded.slice(0, colon), bk_app_secret: decoded.slice(colon + 1) });
}

/**
 * For the routes a browser opens (the status page): the API's header, or the same caller
 * credentials by HTTP Basic (user = app code, password = app secret), which a browser can send and
 * the header it cannot. Checked by the same constant-time comparison; a refusal carries the Basic
 * challenge (BasicAuthRequiredError) so the browser asks for them.
 */
export function browserAuthenticator(callers: readonly Caller[]): (event: { headers?: Record<string, string | undefined> }) => AuthenticatedCaller {
  return function authenticateBrowser(event) {
    const header = event.headers?.[AUTH_HEADER] || credentialsFromBasic(event.headers?.authorization);
    if (!header) throw new BasicAuthRequiredError(`missing credentials: the ${AUTH_HEADER} header, or HTTP Basic with the app code and secret`);
    try {
      return authenticate(header, callers);
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw new BasicAuthRequiredError(error.message, { cause: error });
      throw error;
    }
  };
}
