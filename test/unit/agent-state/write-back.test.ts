import { beforeEach, describe, expect, it } from "vitest";
import { applyWriteBack } from "../../../lib/agent-state/writes.ts";
import {
  AGENT_WRITE_BACK_JOB,
  agentWriteBackJob,
  jobBodies,
  parseWriteBackJob,
  QueueWriteBehind,
  WRITE_BACK_DELAY_SECONDS,
  type AgentWriteBackJob,
} from "../../../lib/agent-state/write-back.ts";
import { PoisonJobError } from "../../../lib/automation/jobs.ts";
import type { AgentItem } from "../../../lib/agent-state/store.ts";
import { toSqsRecord } from "../../../local/pollers/queue.ts";
import { MemoryStore } from "./memory-store.ts";

const sqsRecord = (body: string) => toSqsRecord({ MessageId: "m-1", Body: body }, "arn:aws:sqs:us-east-1:000000000000:automation");
const TTL_MS = 300_000;
const AT = 1_750_000_000_000;
let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
});

const running = { known: true, source: "list_agent_state", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2, alive: true } as const;
const job = (agents: AgentWriteBackJob["agents"], fetchedAt = AT): AgentWriteBackJob => ({ type: AGENT_WRITE_BACK_JOB, fetched_at: fetchedAt, agents });
const stored = (agent_id: string, fetchedAt: number, extra: Partial<AgentItem> = {}): AgentItem => ({
  agent_id,
  ...running,
  fetched_at: fetchedAt,
  changed_at: fetchedAt,
  expires_at: Math.floor(fetchedAt / 1000) + 86_400,
  ...extra,
});

describe("jobBodies", () => {
  const states = [
    running,
    { ...running, version: "2.1.6" },
    { ...running, status_code: 4, alive: false },
    { known: false, source: "list_agent_state", alive: false } as const,
  ];
  const mixed = (n: number): AgentWriteBackJob["agents"] =>
    Array.from({ length: n }, (_, i) => ({ agent_id: `0:10.${i >> 8}.${i & 255}.1`, ...(states[(i * 7) % states.length] ?? running) }));

  it("splits a large job into bodies under the limit, losing and repeating no agent", () => {
    const agents = mixed(3000);
    const bodies = jobBodies(job(agents), 8 * 1024);
    expect(bodies.length).toBeGreaterThan(1);
    const back = bodies.flatMap((body) => {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8 * 1024);
      return parseWriteBackJob(JSON.parse(body)).agents;
    });
    const byId = (a: { agent_id: string }, b: { agent_id: string }): number => a.agent_id.localeCompare(b.agent_id);
    expect(back.sort(byId)).toEqual([...agents].sort(byId));
  });

  it("fills bodies to the limit at every split, group boundaries included", () => {
    for (const limit of [300, 301, 517, 1024]) {
      const bodies = jobBodies(job(mixed(200)), limit);
      for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(limit);
      // Each body is cut only where the next id, with its group's header when it opens one, would not fit.
      const longestOpening = Math.max(...states.map((state) => `,${JSON.stringify(state).slice(0, -1)},"ids":[]}`.length)) + '"0:10.0.199.1"'.length;
      for (const body of bodies.slice(0, -1)) expect(Buffer.byteLength(body) + longestOpening).toBeGreaterThan(limit);
    }
  });

  it("groups agents by state: a fifth or less of the bytes of one entry per agent", () => {
    const agents = mixed(1000);
    const [body, ...more] = jobBodies(job(agents));
    expect(more).toEqual([]);
    expect(JSON.parse(body as string).groups).toHaveLength(states.length);
    expect(Buffer.byteLength(body as string) * 5).toBeLessThan(Buffer.byteLength(JSON.stringify(job(agents))));
  });

  it("keeps a small job in one body", () => {
    expect(jobBodies(job([{ agent_id: "0:10.0.0.1", ...running }]))).toHaveLength(1);
  });
});

describe("applyWriteBack", () => {
  it("puts new and changed agents, renews unchanged ones, and leaves states confirmed after the job alone", async () => {
    store.items.set("changed", stored("changed", AT - 400_000, { status_code: 4, alive: false }));
    store.items.set("unchanged", stored("unchanged", AT - 200_000, { foreign: "kept" }));
    store.items.set("newer", stored("newer", AT + 5, { status_code: 6, alive: false }));
    const result = await applyWriteBack({ store, ttlMs: TTL_MS }, job(["new", "changed", "unchanged", "newer"].map((agent_id) => ({ agent_id, ...running }))));
    expect(result).toMatchObject({ agents: 4, written: 2, renewed: 1, superseded: 1, unchanged: 0, write_failures: 0 });
    expect(store.items.get("new")).toMatchObject({ status_code: 2, fetched_at: AT, changed_at: AT });
    expect(store.items.get("changed")).toMatchObject({ status_code: 2, alive: true, changed_at: AT });
    expect(store.items.get("unchanged")).toMatchObject({ fetched_at: AT, changed_at: AT - 200_000, foreign: "kept" });
    expect(store.items.get("newer")).toMatchObject({ status_code: 6, fetched_at: AT + 5 });
  });

  it("writes nothing when the same job is delivered again", async () => {
    const twice = job([
      { agent_id: "a", ...running },
      { agent_id: "b", known: false, source: "list_agent_state", alive: false },
    ]);
    await applyWriteBack({ store, ttlMs: TTL_MS }, twice);
    const puts = store.puts;
    const again = await applyWriteBack({ store, ttlMs: TTL_MS }, twice);
    expect(again).toMatchObject({ superseded: 2, written: 0, renewed: 0 });
    expect(store.puts).toBe(puts);
  });

  it("fails, to be retried, when the table refuses the write", async () => {
    store.failWrites = true;
    await expect(applyWriteBack({ store, ttlMs: TTL_MS }, job([{ agent_id: "a", ...running }]))).rejects.toThrow();
  });
});

describe("the automation job", () => {
  const envelope = (body: unknown) => body as AgentWriteBackJob;

  it.each([
    ["no agents", { type: AGENT_WRITE_BACK_JOB, fetched_at: AT, agents: [] }, "agents"],
    ["an agent without state", { type: AGENT_WRITE_BACK_JOB, fetched_at: AT, agents: [{ agent_id: "a" }] }, "agents.0.known"],
    ["an id too long to store", { type: AGENT_WRITE_BACK_JOB, fetched_at: AT, agents: [{ agent_id: "x".repeat(2049), ...running }] }, "agents.0.agent_id"],
    ["no time", { type: AGENT_WRITE_BACK_JOB, agents: [{ agent_id: "a", ...running }] }, "fetched_at"],
    ["an empty group", { type: AGENT_WRITE_BACK_JOB, fetched_at: AT, groups: [{ ...running, ids: [] }] }, "groups.0.ids"],
    ["a group without state", { type: AGENT_WRITE_BACK_JOB, fetched_at: AT, groups: [{ ids: ["a"] }] }, "groups.0.known"],
  ])("treats a body with %s as poison, naming the field", async (_label, body, field) => {
    const error = await agentWriteBackJob({ store, ttlMs: TTL_MS, now: () => AT })(envelope(body), sqsRecord(JSON.stringify(body))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonJobError);
    expect((error as Error).message).toContain(field);
    expect(store.puts).toBe(0);
  });

  it("tells onFirstSeen the agents the table had no item for and GSE knows, after writing them", async () => {
    store.items.set("old", stored("old", AT - 400_000));
    const seen: string[][] = [];
    const body = job([
      { agent_id: "old", ...running },
      { agent_id: "new", ...running },
      { agent_id: "ghost", known: false, source: "list_agent_state", alive: false },
    ]);
    await agentWriteBackJob({ store, ttlMs: TTL_MS, now: () => AT, onFirstSeen: async (ids) => void seen.push([...ids]) })(
      body,
      sqsRecord(JSON.stringify(body)),
    );
    expect(seen).toEqual([["new"]]);
    expect(store.items.get("new")).toMatchObject({ fetched_at: AT });
  });

  it("writes a valid job", async () => {
    const body = job([{ agent_id: "0:10.0.0.9", ...running }]);
    await agentWriteBackJob({ store, ttlMs: TTL_MS, now: () => AT })(body, sqsRecord(JSON.stringify(body)));
    expect(store.items.get("0:10.0.0.9")).toMatchObject({ status_code: 2, fetched_at: AT });
  });
});

describe("QueueWriteBehind", () => {
  it("holds the write-back on the queue a second, so requests sent side by side all answer before it runs", async () => {
    const sent: { body: string; delaySeconds: number | undefined }[] = [];
    const queue = {
      send: async () => undefined,
      sendBodies: async () => undefined,
      sendBody: async (body: string, options?: { delaySeconds?: number }) => void sent.push({ body, delaySeconds: options?.delaySeconds }),
    };
    await new QueueWriteBehind(queue).send(AT, [{ agent_id: "0:10.0.0.1", known: true, source: "list_agent_state", alive: true }]);
    expect(WRITE_BACK_DELAY_SECONDS).toBe(1);
    expect(sent.map((m) => m.delaySeconds)).toEqual([1]);
    expect(parseWriteBackJob(JSON.parse(sent[0]?.body ?? "{}"))).toMatchObject({ fetched_at: AT, agents: [{ agent_id: "0:10.0.0.1" }] });
  });
});
