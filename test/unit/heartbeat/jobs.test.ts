import { describe, expect, it } from "vitest";
import { PoisonJobError } from "../../../lib/automation/jobs.ts";
import { heartbeatShardJob } from "../../../lib/heartbeat/jobs.ts";
import { assertBudgetFits, HEARTBEAT_SHARD_JOB, type HeartbeatDeps } from "../../../lib/heartbeat/poll.ts";
import { FUNCTIONS } from "../../../lib/wiring.ts";
import { sqsRecord } from "../../helpers/events.ts";

describe("heartbeat shard job", () => {
  it("sends a body that is not a shard straight to the dead-letter queue, before touching anything", async () => {
    const run = heartbeatShardJob({} as HeartbeatDeps);
    const job = { type: HEARTBEAT_SHARD_JOB, poll_id: "p", at: 1, shard: "1", partitions: [64] };
    await expect(run(job, sqsRecord(JSON.stringify(job)))).rejects.toThrow(PoisonJobError);
    await expect(run(job, sqsRecord(JSON.stringify(job)))).rejects.toThrow(/partitions\.0/);
  });
});

describe("heartbeat budget", () => {
  it("refuses a budget that leaves the function no time to write and alert before its timeout", () => {
    expect(() => assertBudgetFits({ budgetMs: 40_000 }, FUNCTIONS.heartbeat.timeoutSeconds)).not.toThrow();
    expect(() => assertBudgetFits({ budgetMs: 55_000 }, FUNCTIONS.heartbeat.timeoutSeconds)).toThrow(/HEARTBEAT_BUDGET_SECONDS/);
  });
});
