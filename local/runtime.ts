/**
 * The local "Lambda service": one process that serves the HTTP routes, polls the streams and
 * queues, and runs the schedules, invoking the same handler modules that run in AWS. Started by
 * local/stack.ts with the environment a deployed function would get; reports readiness over IPC.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getConfig, queueUrlOf, tableOf, type Config } from "../lib/core/config.ts";
import type { QueueKey } from "../lib/resources.ts";
import { ROUTES } from "../lib/routes.ts";
import { QUEUE_SUBSCRIPTIONS, SCHEDULES, scheduleMinutes, STREAM_SUBSCRIPTIONS } from "../lib/wiring.ts";
import { startGateway } from "./gateway.ts";
import { createInvoker } from "./invoke.ts";
import { fileCheckpoints, memoryCheckpoints } from "./pollers/checkpoints.ts";
import { QueuePoller } from "./pollers/queue.ts";
import { StreamPoller } from "./pollers/stream.ts";
import { recoveryDeps, tickRunningCommands } from "./recovery.ts";
import { startScheduler } from "./scheduler.ts";
import "./aws.ts";

/** Batches of one queue in flight at once, as Lambda's SQS event source starts with. */
const SQS_POLLERS = 5;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// Locally nothing collects EMF lines or X-Ray segments: metrics are off unless GSE_METRICS=1
// (then EMF lines go to the runtime's log), tracing is off. Set before any handler module loads;
// lib/core/metrics.ts and tracing.ts read them on first use.
process.env.POWERTOOLS_METRICS_DISABLED ??= process.env.GSE_METRICS === "1" ? "false" : "true";
process.env.POWERTOOLS_TRACE_ENABLED ??= "false";

function log(component: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component, ...fields })}\n`);
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

function queueUrl(config: Config, queue: QueueKey): string {
  return queueUrlOf(config, queue);
}

async function main(): Promise<void> {
  const config = await getConfig();
  const invoke = createInvoker(root);
  const dynamo = new DynamoDBClient({});
  const streams = new DynamoDBStreamsClient({});
  const sqs = new SQSClient({});
  const checkpointFile = process.env.LOCAL_CHECKPOINT_FILE;
  const checkpoints = checkpointFile ? fileCheckpoints(checkpointFile) : memoryCheckpoints();

  const gateway = await startGateway({
    port: Number(process.env.LOCAL_GATEWAY_PORT ?? 0),
    routes: ROUTES,
    invoke,
    onError: (error, routeKey) => log("gateway", { level: "ERROR", routeKey, error: describe(error) }),
  });

  const streamPollers = STREAM_SUBSCRIPTIONS.map((sub) => {
    const poller = new StreamPoller({
      dynamo,
      streams,
      tableName: tableOf(config, sub.table),
      batchSize: sub.batchSize,
      maxRetryAttempts: sub.maxRetryAttempts,
      bisectBatchOnError: sub.bisectBatchOnError,
      filters: sub.filters,
      checkpoints,
      invoke: (event) => invoke(sub.function, event),
      onInvoke: ({ records, failed, keys, error }) =>
        log("stream-poller", { table: sub.table, function: sub.function, records, failed, keys, ...(error ? { error: describe(error) } : {}) }),
      onDiscard: (records, reason) =>
        log("stream-poller", {
          level: "ERROR",
          table: sub.table,
          discarded: records.map((r) => r.dynamodb?.SequenceNumber),
          reason: describe(reason),
        }),
    });
    poller.start();
    return poller;
  });

  // Lambda's SQS event source runs five batches at once from the start: one long job (a command's
  // tick sending thousands of agents) does not hold up the short ones behind it.
  const queuePollers = QUEUE_SUBSCRIPTIONS.flatMap((sub) => Array.from({ length: SQS_POLLERS }, () => sub)).map((sub) => {
    const poller = new QueuePoller({
      sqs,
      queueUrl: queueUrl(config, sub.queue),
      batchSize: sub.batchSize,
      invoke: (event) => invoke(sub.function, event),
      onInvoke: ({ records, failed, error }) =>
        log("queue-poller", { queue: sub.queue, function: sub.function, records, failed, ...(error ? { error: describe(error) } : {}) }),
    });
    poller.start();
    return poller;
  });

  const scheduler = startScheduler({
    // Each period as deployed: its setting from the environment (e.g. HEARTBEAT_EVERY_MINUTES), else the default.
    schedules: SCHEDULES.map((schedule) => ({ ...schedule, everyMinutes: scheduleMinutes(schedule) })),
    invoke: (schedule, event) => invoke(schedule.function, event),
    onRun: (schedule, { error }) => log("scheduler", { schedule: schedule.name, ...(error ? { error: describe(error) } : {}) }),
    onSkip: (schedule) => log("scheduler", { level: "WARN", schedule: schedule.name, skipped: "previous run still going" }),
  });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    scheduler.stop();
    await Promise.all([...streamPollers, ...queuePollers].map((p) => p.stop()));
    await gateway.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The supervisor going away (even by SIGKILL) closes the IPC channel: never outlive it.
  process.on("disconnect", () => void stop());

  log("runtime", { ready: true, gateway: gateway.url });
  process.send?.({ type: "ready", gateway: gateway.url });

  // After a crash, commands left RUNNING get their tick now rather than after a visibility timeout or sweep.
  tickRunningCommands(recoveryDeps(config, { dynamo: DynamoDBDocumentClient.from(dynamo), sqs })).then(
    (ticked) => log("recovery", { running_commands_ticked: ticked.length, ...(ticked.length > 0 ? { message_ids: ticked.slice(0, 20) } : {}) }),
    (error: unknown) => log("recovery", { level: "ERROR", error: describe(error) }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`runtime failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.send?.({ type: "failed", error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
