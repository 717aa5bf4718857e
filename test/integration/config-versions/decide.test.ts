/**
 * config.decide (lib/config-versions/decide.ts) against the stack's configs table and GSE simulator:
 * a version its request left PENDING is decided from GSE once the request's deadline has passed,
 * not before, and not at all once its request decided it. The queue is a recorder here (the
 * reliability test test/reliability/timeouts.test.ts runs the job through the stack's real queue).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { changeConfig, type ConfigDeps } from "../../../lib/config-versions/apply.ts";
import { DECIDE_CONFIG_JOB, decideConfigJob, type DecideConfigJob } from "../../../lib/config-versions/decide.ts";
import type { QueueSender } from "../../../lib/core/queue.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import type { OperationRequest } from "../../../lib/gse/operations.ts";
import { configStore, route } from "../../helpers/configs.ts";
import { sqsRecord } from "../../helpers/events.ts";
import { uniqueBuiltInChannelId, useStack, testGseConfig, withFaults } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const store = configStore(info, dynamo);
const PLAT = `cfgdec_${randomUUID().slice(0, 8)}`;
const op = { operator_name: "admin" };
const logger = new Logger({ logLevel: "SILENT" });
const gse = new GseClient({ gse: testGseConfig(info) });
const DECIDE_DELAY_S = 3;

const kafkaRoute = (name: string) => ({ name, stream_to: { stream_to_id: 501, kafka: { topic_name: `0dec_${name}` } } });
const update = (channelId: number, name: string) =>
  ({ condition: { channel_id: channelId, plat_name: PLAT }, operation: op, specification: { route: [kafkaRoute(name)] } }) as OperationRequest<"update_route">;

class ProcessDied extends Error {}

/** A queue that keeps what is sent to it, with the delay asked for. */
function recordingQueue(): QueueSender & { sent: { job: object; delaySeconds: number | undefined }[] } {
  const sent: { job: object; delaySeconds: number | undefined }[] = [];
  return {
    sent,
    send: async (job, delaySeconds) => void sent.push({ job, delaySeconds }),
    sendBody: async () => {},
    sendBodies: async () => {},
  };
}

function deps(queue: QueueSender, overrides: Partial<ConfigDeps> = {}): ConfigDeps {
  return {
    gse,
    store,
    logger,
    now: () => Date.now(),
    newId: () => randomUUID(),
    settings: { pendingAddTtlSeconds: 3600 },
    decide: { queue, delaySeconds: DECIDE_DELAY_S, operator: "admin" },
    ...overrides,
  };
}

async function channel(): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  const add = { metadata: { channel_id: channelId, plat_name: PLAT }, operation: op, route: [kafkaRoute(`a${channelId}`)] } as OperationRequest<"add_route">;
  await changeConfig(deps(recordingQueue()), "add_route", add, { author: "t" });
  return channelId;
}

/** An update whose request dies after GSE answered and before the head moved, as a timed-out function's does. */
async function leftPending(channelId: number, name: string, deadlineAt: number, queue = recordingQueue()) {
  const dying = deps(queue, {
    beforeHeadMove: async () => {
      throw new ProcessDied("the function's time is up");
    },
  });
  await expect(changeConfig(dying, "update_route", update(channelId, name), { author: "t", deadlineAt })).rejects.toBeInstanceOf(ProcessDied);
  return queue;
}

const runJob = (queue: QueueSender, job: DecideConfigJob, now = Date.now()) =>
  decideConfigJob(deps(queue, { now: () => now }))(job, sqsRecord(JSON.stringify(job)));

describe("config.decide", () => {
  it("is scheduled with every versioned change, for CONFIG_PENDING_DECIDE_SECONDS after the request's deadline, which the version records", async () => {
    const channelId = await channel();
    const deadlineAt = Date.now() + 20_000;
    const queue = await leftPending(channelId, `b${channelId}`, deadlineAt);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]?.job).toEqual({ type: DECIDE_CONFIG_JOB, kind: "route", id: channelId, version: 2 });
    expect(queue.sent[0]?.delaySeconds).toBeGreaterThanOrEqual(20 + DECIDE_DELAY_S - 1);
    expect(queue.sent[0]?.delaySeconds).toBeLessThanOrEqual(20 + DECIDE_DELAY_S);
    expect(await store.getVersion(route(channelId), 2)).toMatchObject({ status: "PENDING", deadline_at: deadlineAt });
  });

  it("decides a version left PENDING after its request's deadline APPLIED when GSE holds it, freeing the object", async () => {
    const channelId = await channel();
    const queue = await leftPending(channelId, `b${channelId}`, Date.now() - 1);
    const job = queue.sent[0]?.job as DecideConfigJob;
    const again = recordingQueue();
    await runJob(again, job);
    expect(await store.getVersion(route(channelId), 2)).toMatchObject({ status: "APPLIED" });
    const head = await store.getHead(route(channelId));
    expect(head).toMatchObject({ current_version: 2 });
    expect(head?.pending_version).toBeUndefined();
    expect(again.sent).toEqual([]);
  });

  it("decides it FAILED (for recovery to undo) when GSE does not hold it", async () => {
    const channelId = await channel();
    // GSE refuses the change and the request dies before recording that: GSE does not hold it.
    const queue = recordingQueue();
    const dying = deps(queue, {
      store: Object.assign(Object.create(Object.getPrototypeOf(store)) as typeof store, store, {
        markRejected: async () => {
          throw new ProcessDied("the function's time is up");
        },
      }),
    });
    await withFaults(info, [{ kind: "business_error", code: 1012009, operation: "update_route", match: `"channel_id":${channelId}`, count: 1 }], async () => {
      await expect(changeConfig(dying, "update_route", update(channelId, `b${channelId}`), { author: "t", deadlineAt: Date.now() - 1 })).rejects.toMatchObject({
        gseCode: 1012009,
      });
    });
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("PENDING");
    await runJob(recordingQueue(), queue.sent[0]?.job as DecideConfigJob);
    expect(await store.getVersion(route(channelId), 2)).toMatchObject({ status: "FAILED", error: { kind: "stuck_pending" } });
  });

  it("looks again later while the request may still be working, and leaves the version PENDING", async () => {
    const channelId = await channel();
    const deadlineAt = Date.now() + 60_000;
    const queue = await leftPending(channelId, `b${channelId}`, deadlineAt);
    const job = queue.sent[0]?.job as DecideConfigJob;
    const again = recordingQueue();
    await runJob(again, job);
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("PENDING");
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]?.job).toEqual(job);
    expect(again.sent[0]?.delaySeconds).toBeGreaterThanOrEqual(60 + DECIDE_DELAY_S - 1);
  });

  it("does nothing for a version its request decided", async () => {
    const channelId = await channel();
    const queue = recordingQueue();
    await changeConfig(deps(queue), "update_route", update(channelId, `b${channelId}`), { author: "t", deadlineAt: Date.now() + 20_000 });
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("APPLIED");
    const again = recordingQueue();
    await runJob(again, queue.sent[0]?.job as DecideConfigJob, Date.now() + 60_000);
    expect((await store.getVersion(route(channelId), 2))?.status).toBe("APPLIED");
    expect(again.sent).toEqual([]);
  });
});
