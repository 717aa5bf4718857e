/**
 * Bad input, property-based, on the automation queue: whatever a message says, the consumer
 * moves a body it cannot run to the dead-letter queue once, with a reason, and touches nothing;
 * a valid job among them still runs. Messages go through the stack's real queue (fauxqs) and
 * its queue poller, and outcomes are read from the automation function's log by message id.
 */
import { BatchGetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_WRITE_BACK_JOB } from "../../lib/agent-state/write-back.ts";
import { JOB_TYPES, LEGACY_JOB_TYPES } from "../../lib/automation/job-types.ts";
import { HEARTBEAT_SHARD_JOB } from "../../lib/heartbeat/poll.ts";
import { TRIES } from "../helpers/reliability-reporter.ts";
import { eventually, logLines, useStack } from "../helpers/stack.ts";

const { info, dynamo, sqs } = useStack();
afterAll(() => {
  dynamo.destroy();
  sqs.destroy();
});

/** What SQS accepts as a message body: not empty, and only #x9 #xA #xD, #x20–#xD7FF, #xE000–#xFFFD and astral characters. */
const sqsSafe = (text: string): boolean => !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(text);

const run = randomUUID().slice(0, 8);
let nextId = 0;
/** Agent ids of this file only: if any of them reaches the table, a poison job wrote something. */
const markerId = fc.constant(null).map(() => `fuzz-${run}-${nextId++}`);

const facts = { known: true, source: "list_agent_state", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2, alive: true };

/** Every type the runner knows, current and old: a random type must be none of them to be unknown. */
const KNOWN_TYPES = new Set<string>([...Object.values(JOB_TYPES), ...Object.keys(LEGACY_JOB_TYPES)]);

/** Bodies no job can run: not JSON, not an envelope, an unknown type, or a write-back its schema refuses. */
const poison = fc
  .oneof(
    fc.string({ maxLength: 200 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
    fc
      .jsonValue({ maxDepth: 4 })
      .filter((v) => typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as { type?: unknown }).type !== "string")
      .map((v) => JSON.stringify(v)),
    fc.record({ type: fc.string({ maxLength: 80 }).filter((t) => !KNOWN_TYPES.has(t)) }).map((v) => JSON.stringify(v)),
    fc
      .record({
        type: fc.constant(HEARTBEAT_SHARD_JOB),
        poll_id: fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 5 })),
        partitions: fc.jsonValue({ maxDepth: 2 }),
      })
      .map((v) => JSON.stringify(v)),
    fc.constant("").map(() => `{"__proto__":{"polluted":1},"type":"${AGENT_WRITE_BACK_JOB}"}`),
    fc
      .record({
        type: fc.constant(AGENT_WRITE_BACK_JOB),
        fetched_at: fc.oneof(fc.constant(-1), fc.constant("now"), fc.constant(1.5), fc.constant(null)),
        agents: fc.array(
          markerId.map((agent_id) => ({ agent_id, ...facts })),
          { minLength: 1, maxLength: 3 },
        ),
      })
      .map((v) => JSON.stringify(v)),
    fc
      .record({
        type: fc.constant(AGENT_WRITE_BACK_JOB),
        fetched_at: fc.constant(Date.now()),
        agents: fc.tuple(
          markerId.map((agent_id) => ({ agent_id, ...facts })),
          fc.oneof(
            markerId.map((agent_id) => ({ agent_id, ...facts, alive: "yes" })),
            markerId.map((agent_id) => ({ agent_id, known: true })),
            fc.constant({ agent_id: "x".repeat(2049), ...facts }),
            fc.jsonValue({ maxDepth: 3 }),
          ),
        ),
      })
      .map((v) => JSON.stringify(v)),
    fc.integer({ min: 50, max: 400 }).map((depth) => `{"type":"${AGENT_WRITE_BACK_JOB}","agents":${"[".repeat(depth)}${"]".repeat(depth)}}`),
    // The command jobs and the jobs other systems send (lib/commands), each with a body its schema refuses;
    // those other systems send them under their old names, which still run (lib/automation/job-types.ts).
    fc
      .oneof(
        fc.record({
          type: fc.constant("dispatch"),
          message_id: fc.oneof(fc.constant(""), fc.string({ minLength: 65, maxLength: 80 })),
          agent_id_list: fc.array(markerId, { maxLength: 3 }),
          content: fc.jsonValue(),
        }),
        fc.record({
          type: fc.constant("dispatch"),
          agent_id_list: fc.array(markerId, { minLength: 1, maxLength: 3 }),
          content: fc.oneof(fc.integer(), fc.constant(null)),
        }),
        fc.record({
          type: fc.constant("apply_config"),
          operation: fc.oneof(fc.constant("update_route"), fc.string({ maxLength: 12 })),
          body: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        }),
        fc.record({
          type: fc.constant("rollback_config"),
          kind: fc.oneof(fc.constant("channel"), fc.string({ maxLength: 8 })),
          id: fc.oneof(fc.constant(-1), fc.constant(0), fc.constant("x")),
          version: fc.integer({ min: -5, max: -1 }),
        }),
        fc.record({ type: fc.constantFrom("probe_start", "probe_stop"), agent_id_list: fc.constant([]), probe: fc.oneof(fc.constant(""), fc.integer()) }),
        // APM's forms (lib/apm/jobs.ts): an app's datasource, an upgrade.
        fc.record({
          type: fc.constantFrom("probe_start", "probe_stop"),
          bk_biz_id: fc.oneof(fc.constant("2"), fc.double()),
          app_name: fc.oneof(fc.constant("has space"), fc.constant("")),
          datasource: fc.oneof(fc.constant("tracing"), fc.integer()),
        }),
        fc.record({
          type: fc.constant("probe_upgrade"),
          bk_biz_id: fc.constant(2),
          app_name: fc.constant("shop"),
          target_version: fc.oneof(fc.constant(""), fc.integer()),
          max_errors: fc.constant("150%"),
        }),
        fc.record({
          type: fc.constant("command.retry"),
          message_id: fc.constant(""),
          agent_id: fc.oneof(fc.integer(), markerId),
          attempt: fc.constant(0),
          not_before: fc.constant("soon"),
        }),
        fc.record({ type: fc.constant("command.tick"), message_id: fc.oneof(fc.constant(""), fc.integer(), fc.string({ minLength: 65, maxLength: 70 })) }),
      )
      .map((v) => JSON.stringify(v)),
  )
  .filter((body) => body.length > 0 && sqsSafe(body));

interface LogLine {
  readonly message?: string;
  readonly message_id?: string;
  readonly reason?: string;
}

const automationLog = (): LogLine[] =>
  logLines(info, "runtime")
    .map((l) => JSON.parse(l) as LogLine & { service?: string })
    .filter((l) => l.service === "automation");

async function send(body: string): Promise<string> {
  const out = await sqs.send(new SendMessageCommand({ QueueUrl: info.queues.automation, MessageBody: body }));
  if (!out.MessageId) throw new Error("no message id");
  return out.MessageId;
}

async function storedIds(ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const out = await dynamo.send(
    new BatchGetItemCommand({ RequestItems: { [info.tables.agents]: { Keys: ids.map((id) => ({ agent_id: { S: id } })), ConsistentRead: true } } }),
  );
  return (out.Responses?.[info.tables.agents] ?? []).map((item) => item.agent_id?.S ?? "");
}

describe("automation queue", () => {
  it("dead-letters every job it cannot run exactly once, with a reason, writing nothing, while a valid job still runs", { timeout: 90_000 }, async ({
    annotate,
  }) => {
    const bodies = fc.sample(poison, { numRuns: 60, seed: 20261125 });
    const markers = bodies.flatMap((b) => b.match(new RegExp(`fuzz-${run}-\\d+`, "g")) ?? []);
    const valid = `fuzz-${run}-valid`;
    const poisonIds = await Promise.all(bodies.map(send));
    let missing: string[] = [];
    const validId = await send(JSON.stringify({ type: AGENT_WRITE_BACK_JOB, fetched_at: Date.now(), agents: [{ agent_id: valid, ...facts }] }));

    const outcomes = await eventually(
      "every message's outcome in the automation log",
      async () => {
        const lines = automationLog();
        const poisoned = new Map<string, LogLine[]>();
        for (const line of lines) {
          if (line.message !== "poison job moved to the dead-letter queue" || !line.message_id) continue;
          poisoned.set(line.message_id, [...(poisoned.get(line.message_id) ?? []), line]);
        }
        missing = poisonIds.flatMap((id, i) => (poisoned.has(id) ? [] : [bodies[i] ?? ""]));
        // The valid job's proof is its item, not a log line: records of a batch (and, locally, the
        // pollers' invocations) run side by side on one logger, so the keys the runner appends
        // for one record can show on another's line.
        const wrote = missing.length === 0 && (await storedIds([valid])).length === 1;
        return wrote ? poisoned : undefined;
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}; no outcome for ${missing.length} bodies, e.g. ${missing
          .slice(0, 3)
          .map((b) => b.slice(0, 200))
          .join(" | ")}; valid job ${validId}`,
      );
    });
    for (const [i, id] of poisonIds.entries()) {
      const lines = outcomes.get(id) ?? [];
      expect(lines, bodies[i]).toHaveLength(1);
      expect(lines[0]?.reason, bodies[i]).toMatch(/\S/);
    }
    expect(await storedIds([...new Set(markers)].slice(0, 100))).toEqual([]);
    expect(await storedIds([valid])).toEqual([valid]);
    await annotate(String(bodies.length + 1), TRIES);
  });
});
