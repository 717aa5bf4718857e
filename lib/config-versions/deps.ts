/**
 * What a function that changes configuration builds once at cold start: the configs table, the
 * clock and ids, around the GSE function context. Only functions that link the configs table
 * import this file (test/unit/infra checks links against what code reads).
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import { tableOf, type Config } from "../core/config.ts";
import type { GseClient } from "../gse/client.ts";
import type { ConfigOperation } from "../gse/config-apply.ts";
import type { OperationRequest } from "../gse/operations.ts";
import type { HttpRequestContext } from "../http/handler.ts";
import { ConfigStore } from "./store.ts";
import { FUNCTIONS } from "../wiring.ts";
import { changeConfig, type ConfigDeps } from "./apply.ts";
import { documentClient } from "../core/aws.ts";
import { IDEMPOTENCY_HEADER, withIdempotency, type IdempotencyDeps } from "./idempotency.ts";

/** Pending-add records outlive any retry of the add by far; a week keeps them for a look. */
const PENDING_ADD_TTL_SECONDS = 7 * 86_400;

export type VersionedDeps = ConfigDeps & IdempotencyDeps;

/** What a function has at cold start (lib/gse/handler.ts gseFunction builds the same for GSE routes). */
export interface FunctionContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly gse: GseClient;
}

export function configDeps(context: FunctionContext, dynamo: DynamoDBDocumentClient = documentClient()): VersionedDeps {
  const { config } = context;
  return {
    gse: context.gse,
    logger: context.logger,
    store: new ConfigStore({ client: dynamo, tableName: tableOf(config, "configs") }),
    now: () => Date.now(),
    newId: () => randomUUID(),
    settings: {
      pendingAddTtlSeconds: PENDING_ADD_TTL_SECONDS,
      lockWaitMs: config.configLockWaitMs,
      idempotencyTtlSeconds: config.configIdempotencyTtlSeconds,
      dedupeWindowSeconds: config.configDedupeWindowSeconds,
      // A change runs within one invocation: a key IN_PROGRESS for twice the timeout is abandoned.
      inProgressTimeoutSeconds: FUNCTIONS.update_route.timeoutSeconds * 2,
    },
  };
}

/** The author of a change: bk_username from the caller's header, else GSE's operator_name. */
export const authorOf = (ctx: HttpRequestContext<unknown>, body: { operation: { operator_name: string } }): string =>
  ctx.caller.username || body.operation.operator_name || ctx.caller.appCode;

/** A GSE config operation's handler body: idempotency, then the versioned change. */
export function versionedChange<N extends ConfigOperation>(deps: VersionedDeps, name: N) {
  return async (ctx: HttpRequestContext<OperationRequest<N>>): Promise<unknown> => {
    const key = ctx.event.headers?.[IDEMPOTENCY_HEADER] || undefined;
    const author = authorOf(ctx, ctx.body as { operation: { operator_name: string } });
    return withIdempotency(deps, { appCode: ctx.caller.appCode, operation: name, body: ctx.body, key }, () =>
      changeConfig(deps, name, ctx.body, { author, ...(key ? { idempotencyKey: key } : {}) }),
    );
  };
}
