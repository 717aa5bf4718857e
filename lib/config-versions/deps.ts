/**
 * What a function that changes configuration builds once at cold start: the configs table, the
 * clock and ids, around the GSE function context. Only functions that link the configs table
 * import this file (test/unit/infra checks links against what code reads).
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { queueUrlOf, tableOf } from "../core/config.ts";
import { sqsSender } from "../core/queue.ts";
import type { GseFunctionContext } from "../gse/context.ts";
import type { ConfigOperation } from "../gse/config-apply.ts";
import type { OperationRequest } from "../gse/operations.ts";
import { authorOf } from "../http/author.ts";
import type { HttpRequestContext } from "../http/handler.ts";
import { ConfigStore } from "./store.ts";
import { objectOf, timeoutSubjectOf } from "./documents.ts";
import { assertChangeFits } from "./table.ts";
import { GSE_OPERATION_TIMEOUT_SECONDS } from "../function-timeouts.ts";
import { changeConfig, type ConfigDeps } from "./apply.ts";
import { IDEMPOTENCY_HEADER, withIdempotency, type IdempotencyDeps } from "./idempotency.ts";

/** Pending-add records outlive any retry of the add by far; a week keeps them for a look. */
const PENDING_ADD_TTL_SECONDS = 7 * 86_400;

export type VersionedDeps = ConfigDeps & IdempotencyDeps;

export function configDeps(context: GseFunctionContext, clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient }): VersionedDeps {
  const { config } = context;
  return {
    // A version its request leaves PENDING (a timeout) is decided by a config.decide job (decide.ts).
    decide: {
      queue: sqsSender(clients.sqs, queueUrlOf(config, "automation")),
      delaySeconds: config.configPendingDecideSeconds,
      operator: config.gse.username,
    },
    gse: context.gse,
    logger: context.logger,
    metrics: context.metrics,
    store: new ConfigStore({ client: clients.dynamo, tableName: tableOf(config, "configs") }),
    now: () => Date.now(),
    newId: () => randomUUID(),
    settings: {
      pendingAddTtlSeconds: PENDING_ADD_TTL_SECONDS,
      lockWaitMs: config.configLockWaitMs,
      idempotencyTtlSeconds: config.configIdempotencyTtlSeconds,
      dedupeWindowSeconds: config.configDedupeWindowSeconds,
      // A change runs within one invocation of a GSE operation's function: a key IN_PROGRESS for
      // twice its timeout is abandoned.
      inProgressTimeoutSeconds: GSE_OPERATION_TIMEOUT_SECONDS * 2,
    },
  };
}

/** The request's deadline for the version item, when it has one (a bare test context has none). */
export const deadlineOf = (ctx: Pick<HttpRequestContext<unknown>, "deadline">): { deadlineAt?: number } =>
  Number.isFinite(ctx.deadline.at) ? { deadlineAt: ctx.deadline.at } : {};

/** A GSE config operation's handler body: idempotency, then the versioned change. */
export function versionedChange<N extends ConfigOperation>(deps: VersionedDeps, name: N) {
  return async (ctx: HttpRequestContext<OperationRequest<N>>): Promise<unknown> => {
    const key = ctx.event.headers?.[IDEMPOTENCY_HEADER] || undefined;
    const ref = objectOf(name, ctx.body);
    if (ref) ctx.deadline.working(timeoutSubjectOf(ref));
    // GSE's config operations name the person they act for (lib/http/author.ts).
    const author = authorOf(ctx, (ctx.body as { operation: { operator_name: string } }).operation.operator_name);
    // Too large to record is answered before the idempotency record or GSE is touched.
    assertChangeFits(name, ctx.body);
    return withIdempotency(deps, { appCode: ctx.caller.appCode, operation: name, body: ctx.body, key }, () =>
      changeConfig(deps, name, ctx.body, { author, ...deadlineOf(ctx), ...(key ? { idempotencyKey: key } : {}) }),
    );
  };
}
