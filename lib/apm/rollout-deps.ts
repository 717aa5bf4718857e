/**
 * APM with rollouts, for the functions that also link the fleet table (APM probes and datasources,
 * automation): probe upgrades and datasource actions naming a strategy, bake or gate run as
 * rollouts, which check probe versions in the apps table. Apart from deps.ts so the functions that
 * run no rollout do not bundle the engine.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { GseFunctionContext } from "../gse/context.ts";
import { rolloutDeps } from "../rollouts/context.ts";
import type { ProbeVersionReader, RolloutDeps } from "../rollouts/deps.ts";
import type { ApmDeps } from "./apps.ts";
import { apmDeps } from "./deps.ts";
import type { AppStore } from "./store.ts";

/** expect_probe_version's source: the instances of an app reported since a time, by agent. */
export function probeVersionReader(store: AppStore): ProbeVersionReader {
  return {
    async reportedSince(bizId, appName, sinceMs) {
      const byAgent = new Map<string, { version: string; at: number }[]>();
      for (const item of await store.probesIn(bizId, appName, { startMs: sinceMs, endMs: Number.MAX_SAFE_INTEGER })) {
        byAgent.set(item.agent_id, [...(byAgent.get(item.agent_id) ?? []), { version: item.probe_version, at: item.last_seen }]);
      }
      return byAgent;
    },
  };
}

/** APM's deps with the rollout engine's, each knowing the other. */
export function apmWithRollouts(
  context: GseFunctionContext,
  clients: { readonly dynamo: DynamoDBDocumentClient; readonly sqs: SQSClient; readonly sns: SNSClient },
): { readonly apm: ApmDeps; readonly rollouts: RolloutDeps } {
  const apm = apmDeps(context, clients);
  const rollouts: RolloutDeps = { ...rolloutDeps(context, clients), probeVersions: probeVersionReader(apm.store) };
  return { apm: { ...apm, rollouts }, rollouts };
}
