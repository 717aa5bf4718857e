import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getAgentStatus, listAgentState } from "../../../lib/agent-state/lookup.ts";
import type { AgentStateDeps, AgentStateSettings } from "../../../lib/agent-state/lookup-run.ts";
import { COLD_SAMPLE_MIN_IDS, COLD_SAMPLE_SIZE, coldSample } from "../../../lib/agent-state/rules.ts";
import type { AgentItem } from "../../../lib/agent-state/store.ts";
import { GseError } from "../../../lib/core/errors.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import type { AgentWriteBackJob, WriteBehind } from "../../../lib/agent-state/write-back.ts";
import { AgentMemo } from "../../../lib/agent-state/memo.ts";
import { MemoryStore } from "./memory-store.ts";
import { startGseSimulator, type GseSimulator } from "../../../local/gse-simulator/index.ts";

const secret = "agent-state-unit-secret";
let sim: GseSimulator;
let gse: GseClient;
let clock: number;
let store: MemoryStore;
const TTL_S = 300;

beforeAll(async () => {
  // A simulator of this file's own (real HTTP on loopback, no status churn), so call counts are exact.
  sim = await startGseSimulator({ agents: 50, tickMs: 0, credentials: [{ bk_app_code: "bk_monitorv3", bk_app_secret: secret }] });
  gse = new GseClient({
    gse: { baseUrl: sim.url, flavour: "v2", appCode: "bk_monitorv3", appSecret: secret, username: "admin", timeoutMs: 2000, maxAttempts: 2 },
    sleep: async () => undefined,
  });
  sim.addAgents([
    { ip: "10.77.0.1", bk_agent_id: "02agent-one", status_code: 2, version: "2.1.5", run_mode: 1 },
    { ip: "10.77.0.2", bk_agent_id: "02agent-two", status_code: 4, version: "2.1.6", run_mode: 0 },
    { ip: "10.77.0.3", status_code: 2 },
  ]);
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  sim.setAgentStatus(["0:10.77.0.1", "0:10.77.0.3"], 2);
  sim.setAgentStatus("0:10.77.0.2", 4);
  clock = 1_750_000_000_000;
  store = new MemoryStore();
});

function deps(overrides: Partial<AgentStateSettings> = {}): AgentStateDeps {
  return { store, gse, now: () => clock, settings: { ttlSeconds: TTL_S, chunkSize: 1000, concurrency: 5, useNewAgentStatusApi: true, ...overrides } };
}

const calls = (name: "list_agent_state" | "get_agent_status"): number => sim.counters().calls[name];

describe("listAgentState", () => {
  it("asks GSE once, then answers from the table until the TTL has passed", async () => {
    const ids = ["0:10.77.0.1", "02agent-two"];
    const before = calls("list_agent_state");
    const first = await listAgentState(deps(), { agent_id_list: ids });
    expect(first.data).toEqual([
      { bk_agent_id: "0:10.77.0.1", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 },
      { bk_agent_id: "02agent-two", bk_cloud_id: 0, version: "2.1.6", run_mode: 0, status_code: 4 },
    ]);
    expect(first.stats).toMatchObject({ ids: 2, fresh: 0, fetched: 2, gse_calls: 1, written: 2 });

    clock += TTL_S * 1000 - 1;
    sim.setAgentStatus("02agent-two", 2);
    const cached = await listAgentState(deps(), { agent_id_list: ids });
    expect(cached.data).toEqual(first.data);
    expect(cached.stats).toMatchObject({ fresh: 2, fetched: 0, gse_calls: 0, written: 0, renewed: 0 });
    expect(calls("list_agent_state") - before).toBe(1);

    clock += 1;
    const refreshed = await listAgentState(deps(), { agent_id_list: ids });
    expect(refreshed.data[1]).toMatchObject({ bk_agent_id: "02agent-two", status_code: 2 });
    expect(refreshed.stats).toMatchObject({ fresh: 0, fetched: 2, gse_calls: 1, written: 1, renewed: 1 });
    expect(store.items.get("02agent-two")).toMatchObject({ status_code: 2, alive: true, changed_at: clock, fetched_at: clock });
    expect(store.items.get("0:10.77.0.1")).toMatchObject({ changed_at: clock - TTL_S * 1000, fetched_at: clock });
  });

  it("remembers ids GSE omitted and answers 1011003 when none is known, like GSE", async () => {
    const before = calls("list_agent_state");
    const error = await listAgentState(deps(), { agent_id_list: ["0:10.77.9.1", "0:10.77.9.2"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GseError);
    expect(error).toMatchObject({ kind: "business", gseCode: 1011003, status: 200, code: 1011003 });
    expect(store.items.get("0:10.77.9.1")).toMatchObject({ known: false });

    clock += 60_000;
    const again = await listAgentState(deps(), { agent_id_list: ["0:10.77.9.2", "0:10.77.9.1"] }).catch((e: unknown) => e);
    expect(again).toMatchObject({ kind: "business", gseCode: 1011003 });
    expect(calls("list_agent_state") - before).toBe(1);

    const mixed = await listAgentState(deps(), { agent_id_list: ["0:10.77.9.1", "0:10.77.0.3"] });
    expect(mixed.data.map((a) => a.bk_agent_id)).toEqual(["0:10.77.0.3"]);
    expect(mixed.stats).toMatchObject({ fresh: 1, fetched: 1 });
  });

  it("asks for stale ids in chunks of the configured size, and writes each chunk back", async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `0:10.0.0.${i + 1}`);
    const before = calls("list_agent_state");
    const { data, stats } = await listAgentState(deps({ chunkSize: 3, concurrency: 2 }), { agent_id_list: [...ids, ...ids] });
    expect(data.map((a) => a.bk_agent_id)).toEqual(ids);
    expect(stats).toMatchObject({ ids: 7, gse_calls: 3, written: 7 });
    expect(calls("list_agent_state") - before).toBe(3);
  });

  it("treats a chunk GSE answers with 1011003 as all unknown, not as a failure", async () => {
    const { data } = await listAgentState(deps({ chunkSize: 2 }), { agent_id_list: ["0:10.77.9.5", "0:10.77.9.6", "0:10.77.0.1"] });
    expect(data.map((a) => a.bk_agent_id)).toEqual(["0:10.77.0.1"]);
    expect(store.items.get("0:10.77.9.6")).toMatchObject({ known: false });
  });

  it("bypasses fresh items with no-cache, and writes only what changed", async () => {
    await listAgentState(deps(), { agent_id_list: ["0:10.77.0.1", "0:10.77.0.2"] });
    clock += 200_000;
    sim.setAgentStatus("0:10.77.0.2", 2);
    const { data, stats } = await listAgentState(deps(), { agent_id_list: ["0:10.77.0.1", "0:10.77.0.2"] }, { noCache: true });
    expect(data.map((a) => a.status_code)).toEqual([2, 2]);
    // 0:10.77.0.1 is unchanged and confirmed 200 s ago (more than half the TTL): renewed.
    expect(stats).toMatchObject({ fresh: 0, fetched: 2, written: 1, renewed: 1 });
    clock += 1000;
    const young = await listAgentState(deps(), { agent_id_list: ["0:10.77.0.1"] }, { noCache: true });
    expect(young.stats).toMatchObject({ fetched: 1, written: 0, renewed: 0 });
  });

  it("fails with GSE's error when a chunk fails, after writing what the other chunks fetched", async () => {
    sim.setFaults([{ kind: "http_error", status: 502, operation: "list_agent_state", match: '"0:10.0.0.9"' }]);
    const error = await listAgentState(deps({ chunkSize: 2 }), { agent_id_list: ["0:10.0.0.8", "0:10.0.0.9", "0:10.0.0.10", "0:10.0.0.11"] }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: "unavailable", status: 502 });
    expect([...store.items.keys()].sort()).toEqual(["0:10.0.0.10", "0:10.0.0.11"]);
  });

  it("answers from GSE when the table cannot be read, and writes nothing", async () => {
    store.failReads = true;
    const { data, stats } = await listAgentState(deps(), { agent_id_list: ["0:10.77.0.1"] });
    expect(data).toHaveLength(1);
    expect(stats).toMatchObject({ cache_unavailable: true, fetched: 1, written: 0 });
    expect(store.items.size).toBe(0);
  });

  it("still answers when the write-back fails", async () => {
    store.failWrites = true;
    const { data, stats } = await listAgentState(deps(), { agent_id_list: ["0:10.77.0.1", "0:10.77.9.9"] });
    expect(data).toHaveLength(1);
    expect(stats).toMatchObject({ written: 0, write_failures: 2 });
  });

  it("fills the cache with get_agent_status when the new API is switched off, and cannot ask for 2.0 ids", async () => {
    const before = { list: calls("list_agent_state"), esb: calls("get_agent_status") };
    const { data, stats } = await listAgentState(deps({ useNewAgentStatusApi: false }), { agent_id_list: ["0:10.77.0.2", "02agent-one", "0:10.77.0.1"] });
    expect(data).toEqual([
      { bk_agent_id: "0:10.77.0.2", bk_cloud_id: 0, version: "", run_mode: -1, status_code: -1 },
      { bk_agent_id: "0:10.77.0.1", bk_cloud_id: 0, version: "", run_mode: -1, status_code: 2 },
    ]);
    expect(stats).toMatchObject({ fetched: 2, gse_calls: 1 });
    expect(calls("get_agent_status") - before.esb).toBe(1);
    expect(calls("list_agent_state") - before.list).toBe(0);
    expect(store.items.get("0:10.77.0.1")).toMatchObject({ known: true, source: "get_agent_status", alive: true });
    expect(store.items.get("0:10.77.0.1")).not.toHaveProperty("status_code");
    expect(store.items.has("02agent-one")).toBe(false);
  });
});

describe("getAgentStatus", () => {
  const hosts = [
    { ip: "10.77.0.1", bk_cloud_id: 0 },
    { ip: "10.77.0.2", bk_cloud_id: 0 },
    { ip: "10.77.9.7", bk_cloud_id: 0 },
  ];

  it("answers every host in the legacy shape, from list_agent_state, and then from the table", async () => {
    const before = calls("list_agent_state");
    const { data } = await getAgentStatus(deps(), { bk_supplier_account: 0, hosts });
    expect(data).toEqual({
      "0:10.77.0.1": { ip: "10.77.0.1", bk_cloud_id: 0, bk_agent_alive: 1 },
      "0:10.77.0.2": { ip: "10.77.0.2", bk_cloud_id: 0, bk_agent_alive: 0 },
      "0:10.77.9.7": { ip: "10.77.9.7", bk_cloud_id: 0, bk_agent_alive: 0 },
    });
    const again = await getAgentStatus(deps(), { hosts });
    expect(again.data).toEqual(data);
    expect(calls("list_agent_state") - before).toBe(1);
  });

  it("answers every host even when GSE knows none of them", async () => {
    const { data } = await getAgentStatus(deps(), { hosts: [{ ip: "10.77.9.8", bk_cloud_id: 0 }] });
    expect(data).toEqual({ "0:10.77.9.8": { ip: "10.77.9.8", bk_cloud_id: 0, bk_agent_alive: 0 } });
  });

  it("asks get_agent_status on ESB when the new API is switched off", async () => {
    const before = calls("get_agent_status");
    const { data } = await getAgentStatus(deps({ useNewAgentStatusApi: false }), { hosts });
    expect(data["0:10.77.0.1"]).toEqual({ ip: "10.77.0.1", bk_cloud_id: 0, bk_agent_alive: 1 });
    expect(data["0:10.77.0.2"]?.bk_agent_alive).toBe(0);
    expect(calls("get_agent_status") - before).toBe(1);
  });

  it("answers {} for no hosts without asking anyone", async () => {
    const before = calls("list_agent_state");
    expect(await getAgentStatus(deps(), { hosts: [] })).toEqual({ data: {}, stats: undefined });
    expect(calls("list_agent_state")).toBe(before);
  });
});

/** The write-behind queue as the lookup sees it: what it was handed, or a queue that refuses. */
class RecordingWriteBehind implements WriteBehind {
  readonly jobs: { fetchedAt: number; agents: AgentWriteBackJob["agents"] }[] = [];
  fail = false;
  async send(fetchedAt: number, agents: AgentWriteBackJob["agents"]): Promise<void> {
    if (this.fail) throw new Error("queue unreachable");
    this.jobs.push({ fetchedAt, agents });
  }
}

describe("the instance's memo", () => {
  const memoDeps = (memo: AgentMemo, overrides: Partial<AgentStateSettings> = {}): AgentStateDeps => ({ ...deps(overrides), memo });
  const newMemo = (maxAgeMs = 30_000): AgentMemo => new AgentMemo({ maxItems: 1000, maxAgeMs, now: () => clock });
  const ids = ["0:10.77.0.1", "02agent-two"];

  it("answers a repeated lookup without reading the table or asking GSE", async () => {
    const memo = newMemo();
    await listAgentState(memoDeps(memo), { agent_id_list: ids });
    store.read.length = 0;
    const before = calls("list_agent_state");
    clock += 29_000;
    const again = await listAgentState(memoDeps(memo), { agent_id_list: ids });
    expect(again.stats).toMatchObject({ fresh: 2, memo_hits: 2, fetched: 0, dynamo_calls: { batchGet: 0 } });
    expect(store.read).toEqual([]);
    expect(calls("list_agent_state")).toBe(before);
  });

  it("reads the table again once its copy is older than the memo's max age, and sees another writer's newer state", async () => {
    const memo = newMemo();
    await listAgentState(memoDeps(memo), { agent_id_list: ids });
    clock += 30_001;
    const stored = store.items.get("02agent-two");
    if (!stored) throw new Error("not written");
    store.items.set("02agent-two", { ...stored, status_code: 6, fetched_at: clock });
    const again = await listAgentState(memoDeps(memo), { agent_id_list: ids });
    expect(again.stats).toMatchObject({ fresh: 2, memo_hits: 0, fetched: 0 });
    expect(again.data[1]).toMatchObject({ bk_agent_id: "02agent-two", status_code: 6 });
  });

  it("never answers from a copy whose state is past the cache TTL", async () => {
    const memo = newMemo(600_000);
    await listAgentState(memoDeps(memo, { ttlSeconds: 10 }), { agent_id_list: ids });
    clock += 10_000;
    const again = await listAgentState(memoDeps(memo, { ttlSeconds: 10 }), { agent_id_list: ids });
    expect(again.stats).toMatchObject({ memo_hits: 0, fetched: 2, gse_calls: 1 });
  });

  it("keeps nothing when switched off", async () => {
    const memo = new AgentMemo({ maxItems: 0, maxAgeMs: 30_000, now: () => clock });
    await listAgentState(memoDeps(memo), { agent_id_list: ids });
    expect(memo.size).toBe(0);
    const again = await listAgentState(memoDeps(memo), { agent_id_list: ids });
    expect(again.stats).toMatchObject({ memo_hits: 0, fresh: 2, dynamo_calls: { batchGet: 1 } });
  });
});

describe("reading and fetching together", () => {
  /** Ids the simulator does not know (it answers them unknown), but for the first: 0:10.77.0.1. */
  const manyIds = (n: number): string[] => Array.from({ length: n }, (_, i) => (i === 0 ? "0:10.77.0.1" : `0:10.78.${Math.floor(i / 250)}.${i % 250}`));
  const freshItem = (id: string): AgentItem => ({
    agent_id: id,
    known: true,
    source: "list_agent_state",
    bk_cloud_id: 0,
    version: "2.1.5",
    run_mode: 1,
    status_code: 2,
    alive: true,
    fetched_at: clock - 1000,
    changed_at: clock - 1000,
    expires_at: Math.floor(clock / 1000) + 86_400,
  });
  const gateReads = (): (() => void) => {
    let release = (): void => undefined;
    store.gate = new Promise<void>((resolve) => (release = resolve));
    return release;
  };

  it("asks GSE for the first chunk of stale ids while the rest of a warm-looking table is still being read", async () => {
    // Half of the sample (every third id) is fresh, so the table is read; its first part is all stale.
    const ids = manyIds(300);
    for (const id of ids.slice(150)) store.items.set(id, freshItem(id));
    const release = gateReads();
    const before = calls("list_agent_state");
    const lookup = listAgentState(deps({ chunkSize: 100 }), { agent_id_list: ids });
    await vi.waitFor(() => expect(calls("list_agent_state") - before).toBe(1));
    expect(store.read.length).toBe(300);
    release();
    const { data, stats } = await lookup;
    expect(calls("list_agent_state") - before).toBe(2);
    expect(stats).toMatchObject({ fresh: 150, fetched: 150, gse_calls: 2, cold_guessed: 0 });
    expect(data.map((a) => a.bk_agent_id)).toEqual(["0:10.77.0.1", ...ids.slice(150)]);
  });

  it("sends every id to GSE after a cold sample, without waiting for the rest of the table", async () => {
    const ids = manyIds(300);
    const release = gateReads();
    const before = calls("list_agent_state");
    const lookup = listAgentState(deps({ chunkSize: 100 }), { agent_id_list: ids });
    // The items are still being read for the direct write, but every chunk is already with GSE.
    await vi.waitFor(() => expect(calls("list_agent_state") - before).toBe(3));
    release();
    const { data, stats } = await lookup;
    expect(stats).toMatchObject({ fresh: 0, fetched: 300, gse_calls: 3, cold_guessed: 200, written: 300 });
    expect(data).toEqual([{ bk_agent_id: "0:10.77.0.1", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 }]);
  });

  it("reads only the sample of a cold lookup when the write-behind writes", async () => {
    const ids = manyIds(5000);
    const queue = new RecordingWriteBehind();
    const { stats } = await listAgentState({ ...deps(), writeBehind: queue }, { agent_id_list: ids });
    expect(stats).toMatchObject({ fetched: 5000, gse_calls: 5, cold_guessed: 4900, queued: 5000, dynamo_calls: { batchGet: 1 } });
    expect(store.read).toEqual(coldSample(ids));
  });

  it("treats stale items like missing ones: a sample past the TTL is cold", async () => {
    const ids = manyIds(300);
    for (const id of ids) store.items.set(id, { ...freshItem(id), fetched_at: clock - TTL_S * 1000 });
    const { stats } = await listAgentState({ ...deps(), writeBehind: new RecordingWriteBehind() }, { agent_id_list: ids });
    expect(stats).toMatchObject({ fresh: 0, fetched: 300, cold_guessed: 200, dynamo_calls: { batchGet: 1 } });
  });

  it("reads the whole table when any of the sample is fresh, and asks GSE for no fresh id", async () => {
    const ids = manyIds(1000);
    // Every 10th id is in the sample (1000 / 100): one of them fresh, and fresh ids outside it.
    for (const i of [0, 5, 15, 501]) store.items.set(ids[i] as string, freshItem(ids[i] as string));
    const { stats } = await listAgentState({ ...deps(), writeBehind: new RecordingWriteBehind() }, { agent_id_list: ids });
    expect(stats).toMatchObject({ fresh: 4, fetched: 996, cold_guessed: 0, dynamo_calls: { batchGet: 10 } });
  });

  it("reads before writing directly when the queue refuses a cold lookup's job, so other writers' attributes stay", async () => {
    const ids = manyIds(300);
    for (const id of ids) store.items.set(id, { ...freshItem(id), fetched_at: clock - TTL_S * 1000, changed_at: clock - TTL_S * 1000, poller_note: "kept" });
    const queue = new RecordingWriteBehind();
    queue.fail = true;
    const { stats } = await listAgentState({ ...deps(), writeBehind: queue }, { agent_id_list: ids });
    expect(stats).toMatchObject({ cold_guessed: 200, queued: 0, write_failures: 0 });
    // 0:10.77.0.1 is unchanged (renewed); the rest GSE does not know (rewritten, their extra attribute kept).
    expect(store.items.get("0:10.77.0.1")).toMatchObject({ fetched_at: clock, changed_at: clock - TTL_S * 1000, poller_note: "kept" });
    expect(store.items.get(ids[299] as string)).toMatchObject({ known: false, fetched_at: clock, poller_note: "kept" });
  });

  it("checks the whole table without a sample for a few ids", async () => {
    const ids = manyIds(COLD_SAMPLE_MIN_IDS);
    const { stats } = await listAgentState({ ...deps(), writeBehind: new RecordingWriteBehind() }, { agent_id_list: ids });
    expect(stats).toMatchObject({ cold_guessed: 0, fetched: COLD_SAMPLE_MIN_IDS, dynamo_calls: { batchGet: 2 } });
  });
});

describe("coldSample", () => {
  it("spreads the sample evenly over the ids, and takes all of a short list", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => String(i));
    expect(coldSample(ids, 4)).toEqual(["0", "250", "500", "750"]);
    expect(coldSample(ids)).toHaveLength(COLD_SAMPLE_SIZE);
    expect(new Set(coldSample(ids)).size).toBe(COLD_SAMPLE_SIZE);
    expect(coldSample(["a", "b"])).toEqual(["a", "b"]);
  });
});

describe("write-behind", () => {
  const behindDeps = (writeBehind: WriteBehind): AgentStateDeps => ({ ...deps(), writeBehind });
  const ids = ["0:10.77.0.1", "02agent-two", "0:10.77.9.9"];

  it("hands what GSE said to the queue and writes nothing itself", async () => {
    const queue = new RecordingWriteBehind();
    const { stats } = await listAgentState(behindDeps(queue), { agent_id_list: ids });
    expect(stats).toMatchObject({ fetched: 3, queued: 3, written: 0, dynamo_calls: { batchWrite: 0, batchStatement: 0 } });
    expect(store.puts).toBe(0);
    expect(queue.jobs).toEqual([
      {
        fetchedAt: clock,
        agents: [
          { agent_id: "0:10.77.0.1", known: true, source: "list_agent_state", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2, alive: true },
          { agent_id: "02agent-two", known: true, source: "list_agent_state", bk_cloud_id: 0, version: "2.1.6", run_mode: 0, status_code: 4, alive: false },
          { agent_id: "0:10.77.9.9", known: false, source: "list_agent_state", alive: false },
        ],
      },
    ]);
  });

  it("writes directly when the queue refuses the job, so nothing is lost", async () => {
    const queue = new RecordingWriteBehind();
    queue.fail = true;
    const { stats } = await listAgentState(behindDeps(queue), { agent_id_list: ids });
    expect(stats).toMatchObject({ queued: 0, written: 3, write_failures: 0 });
    expect(store.items.get("02agent-two")).toMatchObject({ status_code: 4, fetched_at: clock });
  });

  it("still hands the write-back on when the table cannot be read: the writer reads for itself", async () => {
    const queue = new RecordingWriteBehind();
    store.failReads = true;
    const { stats } = await listAgentState(behindDeps(queue), { agent_id_list: ids });
    expect(stats).toMatchObject({ cache_unavailable: true, fetched: 3, queued: 3 });
    expect(queue.jobs[0]?.agents.map((a) => a.agent_id)).toEqual(ids);
  });
});
