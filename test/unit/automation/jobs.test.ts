import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { datasourceJobSchema, probeJobSchema, upgradeJobSchema } from "../../../lib/apm/jobs.ts";
import { JOB_TYPES, LEGACY_JOB_TYPES } from "../../../lib/automation/job-types.ts";
import { createJobRunner, parseJob, PoisonJobError, type JobEnvelope, type JobHandler } from "../../../lib/automation/jobs.ts";
import { dispatchJobSchema } from "../../../lib/commands/jobs.ts";
import { applyConfigJobSchema, rollbackConfigJobSchema } from "../../../lib/config-versions/jobs.ts";
import { createLogger } from "../../../lib/core/logger.ts";
import { heartbeatShardJobSchema } from "../../../lib/heartbeat/poll.ts";
import { sqsRecord } from "../../helpers/events.ts";

const CURRENT = Object.values(JOB_TYPES);
const registered = (): Record<string, JobHandler> => Object.fromEntries(CURRENT.map((type) => [type, async () => undefined]));

/** A valid body of each job type as other systems and older code sent it, and the schema its handler reads it with. */
const OLD_NAMED: readonly [string, Record<string, unknown>, { safeParse(v: unknown): { success: boolean } }][] = [
  ["heartbeat_shard", { poll_id: "p", at: 1, shard: "1", partitions: [3] }, heartbeatShardJobSchema],
  ["dispatch", { message_id: "m-1", agent_id_list: ["0:10.0.0.1"], content: "x" }, dispatchJobSchema],
  ["apply_config", { operation: "update_route", body: {} }, applyConfigJobSchema],
  ["rollback_config", { kind: "route", id: 7, version: 2 }, rollbackConfigJobSchema],
  ["probe_start", { agent_id_list: ["0:10.0.0.1"], probe: "ebpf" }, probeJobSchema],
  ["probe_stop", { bk_biz_id: 2, app_name: "shop", datasource: "profiling" }, datasourceJobSchema],
  ["probe_upgrade", { bk_biz_id: 2, app_name: "shop", target_version: "1.2.0" }, upgradeJobSchema],
];

describe("job type names", () => {
  it("name every job <feature>.<verb>, and map each old name to one of them, never to itself", () => {
    for (const type of CURRENT) expect(type).toMatch(/^[a-z][a-z-]*\.[a-z][a-z-]*$/);
    expect(new Set(CURRENT).size).toBe(CURRENT.length);
    for (const [old, current] of Object.entries(LEGACY_JOB_TYPES)) {
      expect(CURRENT).toContain(current);
      expect(CURRENT).not.toContain(old);
    }
    expect(OLD_NAMED.map(([old]) => old).sort()).toEqual(Object.keys(LEGACY_JOB_TYPES).sort());
  });

  it.each(OLD_NAMED)("runs a %s job sent under its old name as the current job, whose schema takes it", (old, rest, schema) => {
    const { job } = parseJob(sqsRecord(JSON.stringify({ type: old, ...rest })), registered(), LEGACY_JOB_TYPES);
    expect(job.type).toBe(LEGACY_JOB_TYPES[old]);
    expect(schema.safeParse(job).success).toBe(true);
  });
});

describe("the input limits of a job body", () => {
  it("make a config job carrying what DynamoDB cannot store poison, naming the field", () => {
    const text = `{"type":"config.apply","operation":"update_route","body":{"condition":{"channel_id":7,"plat_name":"p"},"specification":{"route":[{"name":"r","extra":1e400}]}}}`;
    expect(() => parseJob(sqsRecord(text), registered(), LEGACY_JOB_TYPES)).toThrow(/body\.specification\.route\.0\.extra: is not a finite number/);
  });
});

describe("the job runner", () => {
  const logger = createLogger("automation-test");

  it("hands an old-named job to the current type's handler, under the current name", async () => {
    const seen: JobEnvelope[] = [];
    const run = createJobRunner({
      jobs: { [JOB_TYPES.heartbeatShard]: async (job) => void seen.push(job) },
      aliases: LEGACY_JOB_TYPES,
      sqs: {} as SQSClient,
      deadLetterQueueUrl: "unused",
      logger,
    });
    await run(sqsRecord(JSON.stringify({ type: "heartbeat_shard", poll_id: "p" })));
    expect(seen).toEqual([{ type: JOB_TYPES.heartbeatShard, poll_id: "p" }]);
  });

  it("dead-letters a type that is only a name every object has, with the reason and the source message id", async () => {
    const sent: unknown[] = [];
    const sqs = { send: async (command: { input: unknown }) => void sent.push(command.input) } as unknown as SQSClient;
    const run = createJobRunner({ jobs: registered(), aliases: LEGACY_JOB_TYPES, sqs, deadLetterQueueUrl: "dlq", logger });
    await run(sqsRecord(JSON.stringify({ type: "constructor" }), "m-1"));
    expect(sent).toEqual([
      {
        QueueUrl: "dlq",
        MessageBody: '{"type":"constructor"}',
        MessageAttributes: {
          reason: { DataType: "String", StringValue: expect.stringContaining('unknown job type "constructor"') },
          source_message_id: { DataType: "String", StringValue: "m-1" },
        },
      },
    ]);
    expect(() => parseJob(sqsRecord(JSON.stringify({ type: "toString" })), registered(), LEGACY_JOB_TYPES)).toThrow(PoisonJobError);
  });
});
