/**
 * Watched agents answered from the heartbeat's state in the fleet table (lib/agent-state/fleet-state.ts):
 * the fleet items here are made by the heartbeat's own rules from what the simulator answered,
 * so "equal to GSE's answer" compares two real paths, not two hand-written fixtures.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { factsFromFleet, type FleetStateCalls, type FleetState, type FleetStateReader } from "../../../lib/agent-state/fleet-state.ts";
import { getAgentStatus, listAgentState } from "../../../lib/agent-state/lookup.ts";
import type { AgentStateDeps, AgentStateSettings } from "../../../lib/agent-state/lookup-run.ts";
import { AgentMemo } from "../../../lib/agent-state/memo.ts";
import { COLD_SAMPLE_SIZE } from "../../../lib/agent-state/rules.ts";
import type { AgentWriteBackJob, WriteBehind } from "../../../lib/agent-state/write-back.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../../../lib/fleet/items.ts";
import { partitionOf } from "../../../lib/fleet/table.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import { observeChunk } from "../../../lib/heartbeat/observe.ts";
import { applyUpdate, observe } from "../../../lib/heartbeat/rules.ts";
import { startGseSimulator, type GseSimulator } from "../../../local/gse-simulator/index.ts";
import { MemoryStore } from "./memory-store.ts";

const secret = "fleet-state-unit-secret";
const TTL_S = 300;
let sim: GseSimulator;
let gse: GseClient;
let clock: number;
let store: MemoryStore;
let fleet: MemoryFleet;

/** The fleet table in memory: agents by id and the per-partition poll times, with read counts. */
class MemoryFleet implements FleetStateReader {
  readonly agentsById = new Map<string, FleetAgent>();
  polled = new Map<number, number>();
  failReads = false;
  readonly read: string[] = [];

  async agents(ids: readonly string[], calls: FleetStateCalls): Promise<Map<string, FleetState>> {
    calls.batchGet += Math.ceil(ids.length / 100);
    this.read.push(...ids);
    if (this.failReads) throw new Error("fleet table unreachable");
    return new Map(ids.flatMap((id): [string, FleetState][] => (this.agentsById.has(id) ? [[id, this.agentsById.get(id) as FleetState]] : [])));
  }

  async polledAt(calls: FleetStateCalls): Promise<ReadonlyMap<number, number>> {
    calls.get++;
    if (this.failReads) throw new Error("fleet table unreachable");
    return this.polled;
  }

  /** Registers `ids` and runs one heartbeat observation of them through `useNewApi`, at `at`, marking every partition polled. */
  async poll(ids: readonly string[], at: number, useNewApi = true): Promise<void> {
    const observations = await observeChunk(gse, useNewApi, ids);
    for (const id of ids) {
      const agent = this.agentsById.get(id) ?? {
        agent_id: id,
        registered_at: at - 1,
        sources: ["api"],
        status: "pending",
        misses: 0,
        changed_at: at - 1,
        rev: 0,
      };
      const observation = observations.get(id);
      if (observation === undefined) throw new Error(`no observation of ${id}`);
      const { update } = observe(
        agent,
        observation,
        { pollId: `poll-${at}`, at, partitionPolledAt: this.polled.get(partitionOf(id)) },
        { lostAfterPolls: 3, evictAfterSeconds: 30 * 86_400, transitionalGraceMs: 15 * 60_000 },
      );
      this.agentsById.set(id, update ? applyUpdate(agent, update, at) : agent);
    }
    this.polled = new Map(Array.from({ length: FLEET_PARTITIONS }, (_, p): [number, number] => [p, at]));
  }
}

class RecordingWriteBehind implements WriteBehind {
  readonly agents: AgentWriteBackJob["agents"] = [];
  async send(_fetchedAt: number, agents: AgentWriteBackJob["agents"]): Promise<void> {
    this.agents.push(...agents);
  }
}

/** One agent per status code GSE has, plus one that is removed from GSE after being seen. */
const CODES = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7] as const;
const agentOf = (code: number) => ({ ip: `10.79.0.${code + 10}`, legacy: `0:10.79.0.${code + 10}`, modern: `02fleet-code-${code + 10}` });

beforeAll(async () => {
  sim = await startGseSimulator({ agents: 400, tickMs: 0, credentials: [{ bk_app_code: "bk_monitorv3", bk_app_secret: secret }] });
  gse = new GseClient({
    gse: { baseUrl: sim.url, flavour: "v2", appCode: "bk_monitorv3", appSecret: secret, username: "admin", timeoutMs: 2000, maxAttempts: 2 },
    sleep: async () => undefined,
  });
  sim.addAgents(
    CODES.map((code) => ({ ip: agentOf(code).ip, bk_agent_id: agentOf(code).modern, status_code: code, version: `2.1.${code + 10}`, run_mode: code & 1 })),
  );
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  for (const code of CODES) sim.setAgentStatus(agentOf(code).legacy, code);
  clock = 1_750_000_000_000;
  store = new MemoryStore();
  fleet = new MemoryFleet();
});

const settings = (useNewAgentStatusApi: boolean): AgentStateSettings => ({ ttlSeconds: TTL_S, chunkSize: 1000, concurrency: 5, useNewAgentStatusApi });
const withFleet = (useNewApi = true, extra: Partial<AgentStateDeps> = {}): AgentStateDeps => ({
  store,
  fleet,
  gse,
  now: () => clock,
  settings: settings(useNewApi),
  ...extra,
});
/** The same lookup with no fleet and an empty table: what GSE answers through our route. */
const fromGse = (useNewApi = true): AgentStateDeps => ({ store: new MemoryStore(), gse, now: () => clock, settings: settings(useNewApi) });
const gseCalls = (): number => sim.counters().calls.list_agent_state + sim.counters().calls.get_agent_status;

const legacyIds = CODES.map((code) => agentOf(code).legacy);
const modernIds = CODES.map((code) => agentOf(code).modern);

describe("a watched agent polled within the TTL", () => {
  it("is answered from the fleet without a GSE call and without a cache write", async () => {
    await fleet.poll(legacyIds, clock - 30_000);
    const queue = new RecordingWriteBehind();
    const before = gseCalls();
    const { stats } = await listAgentState(withFleet(true, { writeBehind: queue }), { agent_id_list: legacyIds });
    expect(gseCalls() - before).toBe(0);
    expect(stats).toMatchObject({ ids: CODES.length, fresh: CODES.length, fleet: CODES.length, fetched: 0, gse_calls: 0, queued: 0, written: 0 });
    expect(queue.agents).toEqual([]);
    expect(stats.dynamo_calls).toMatchObject({ batchWrite: 0, batchStatement: 0 });
    expect(store.puts + store.renewals).toBe(0);
  });

  it("answers exactly what GSE answers through our route, for every status code, both routes and both calls", async () => {
    for (const useNewApi of [true, false]) {
      fleet = new MemoryFleet();
      const ids = useNewApi ? [...modernIds, ...legacyIds] : legacyIds;
      await fleet.poll(ids, clock - 1000, useNewApi);
      const hosts = CODES.map((code) => ({ ip: agentOf(code).ip, bk_cloud_id: 0 }));
      const before = gseCalls();
      const list = await listAgentState(withFleet(useNewApi), { agent_id_list: ids });
      const status = await getAgentStatus(withFleet(useNewApi), { bk_supplier_account: "0", hosts });
      expect(gseCalls() - before).toBe(0);
      expect(list.data).toEqual((await listAgentState(fromGse(useNewApi), { agent_id_list: ids })).data);
      expect(status.data).toEqual((await getAgentStatus(fromGse(useNewApi), { bk_supplier_account: "0", hosts })).data);
    }
  });

  it("follows a change GSE reported at the next poll, also within one class (lossy → busy)", async () => {
    await fleet.poll(legacyIds, clock - 120_000);
    sim.setAgentStatus(agentOf(3).legacy, 4);
    sim.setAgentStatus(agentOf(2).legacy, 3);
    await fleet.poll(legacyIds, clock - 1000);
    const { data, stats } = await listAgentState(withFleet(), { agent_id_list: legacyIds });
    expect(stats).toMatchObject({ fleet: CODES.length, fetched: 0 });
    expect(data).toEqual((await listAgentState(fromGse(), { agent_id_list: legacyIds })).data);
  });

  it("answers an id GSE stopped knowing as GSE does: omitted, or 1011003 when it is the only one", async () => {
    const gone = agentOf(2);
    await fleet.poll([gone.legacy], clock - 60_000);
    sim.removeAgents([gone.legacy]);
    try {
      await fleet.poll([gone.legacy], clock - 1000);
      expect(fleet.agentsById.get(gone.legacy)).toMatchObject({ status: "unknown", status_class: "unknown" });
      expect(factsFromFleet(fleet.agentsById.get(gone.legacy) as FleetState, "list_agent_state")).toEqual({
        known: false,
        source: "list_agent_state",
        alive: false,
      });
      const before = gseCalls();
      const error = await listAgentState(withFleet(), { agent_id_list: [gone.legacy] }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "business", gseCode: 1011003 });
      expect(gseCalls() - before).toBe(0);
    } finally {
      sim.addAgents([{ ip: gone.ip, bk_agent_id: gone.modern, status_code: 2, version: "2.1.12", run_mode: 0 }]);
    }
  });

  it("is answered for many ids with one sample of the table read and nothing asked of GSE", async () => {
    const ids = sim.listAgents({ offset: 0, limit: 300 }).map((a) => a.legacy_id);
    await fleet.poll(ids, clock - 1000);
    const before = gseCalls();
    const { data, stats } = await listAgentState(withFleet(), { agent_id_list: ids });
    expect(data).toHaveLength(300);
    expect(gseCalls() - before).toBe(0);
    expect(stats).toMatchObject({ fleet: 300, fetched: 0, dynamo_calls: { batchGet: 1 } });
    expect(store.read).toHaveLength(COLD_SAMPLE_SIZE);
  });

  it("is kept in this instance's memo as of its poll", async () => {
    const memo = new AgentMemo({ maxItems: 100, maxAgeMs: 30_000, now: () => clock });
    await fleet.poll(legacyIds, clock - 1000);
    await listAgentState(withFleet(true, { memo }), { agent_id_list: legacyIds });
    fleet.failReads = true;
    const { stats } = await listAgentState(withFleet(true, { memo }), { agent_id_list: legacyIds });
    expect(stats).toMatchObject({ memo_hits: CODES.length, fleet: 0, fleet_calls: { batchGet: 0, get: 0 } });
    expect(memo.get(legacyIds[0] as string)?.fetched_at).toBe(clock - 1000);
  });
});

describe("a watched agent the fleet cannot answer for", () => {
  it("goes to GSE when its partition's last poll is older than the TTL, and is written to the table", async () => {
    await fleet.poll(legacyIds, clock - TTL_S * 1000);
    const queue = new RecordingWriteBehind();
    const before = gseCalls();
    const { stats } = await listAgentState(withFleet(true, { writeBehind: queue }), { agent_id_list: legacyIds });
    expect(gseCalls() - before).toBe(1);
    expect(stats).toMatchObject({ fleet: 0, fetched: CODES.length, queued: CODES.length, fleet_calls: { get: 1, batchGet: 0 } });
    expect(queue.agents.map((a) => a.agent_id)).toEqual(legacyIds);
  });

  it("goes to GSE when the heartbeat saw it through get_agent_status and list_agent_state's fields are asked", async () => {
    await fleet.poll(legacyIds, clock - 1000, false);
    const before = gseCalls();
    const { data, stats } = await listAgentState(withFleet(true), { agent_id_list: legacyIds });
    expect(gseCalls() - before).toBe(1);
    expect(stats).toMatchObject({ fleet: 0, fetched: CODES.length });
    expect(data).toEqual((await listAgentState(fromGse(true), { agent_id_list: legacyIds })).data);
  });

  it("goes to GSE while it was registered but never polled (pending)", async () => {
    await fleet.poll(legacyIds.slice(1), clock - 1000);
    fleet.agentsById.set(legacyIds[0] as string, {
      agent_id: legacyIds[0] as string,
      registered_at: clock,
      sources: ["api"],
      status: "pending",
      misses: 0,
      changed_at: clock,
      rev: 0,
    });
    const { stats } = await listAgentState(withFleet(), { agent_id_list: legacyIds });
    expect(stats).toMatchObject({ fleet: CODES.length - 1, fetched: 1 });
  });

  it("goes to GSE with no-cache, and is not written to the table", async () => {
    await fleet.poll(legacyIds, clock - 1000);
    const queue = new RecordingWriteBehind();
    const before = gseCalls();
    const { data, stats } = await listAgentState(withFleet(true, { writeBehind: queue }), { agent_id_list: legacyIds }, { noCache: true });
    expect(gseCalls() - before).toBe(1);
    expect(stats).toMatchObject({ fleet: 0, fleet_held: CODES.length, fetched: CODES.length, queued: 0 });
    expect(queue.agents).toEqual([]);
    expect(data).toEqual((await listAgentState(fromGse(), { agent_id_list: legacyIds })).data);

    const direct = await listAgentState(withFleet(true), { agent_id_list: legacyIds }, { noCache: true });
    expect(direct.stats).toMatchObject({ fleet_held: CODES.length, written: 0, renewed: 0 });
    expect(store.puts + store.renewals).toBe(0);
  });

  it("with no-cache, leaves out what the fleet holds even when the fleet answers after GSE", async () => {
    await fleet.poll(legacyIds, clock - 1000);
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const late: FleetStateReader = {
      polledAt: (calls) => fleet.polledAt(calls),
      agents: async (ids, calls) => {
        await gate;
        return fleet.agents(ids, calls);
      },
    };
    const queue = new RecordingWriteBehind();
    const before = gseCalls();
    const lookup = listAgentState(withFleet(true, { fleet: late, writeBehind: queue }), { agent_id_list: legacyIds }, { noCache: true });
    await expect.poll(() => gseCalls() - before).toBe(1);
    release();
    const { stats } = await lookup;
    expect(stats).toMatchObject({ fetched: CODES.length, fleet_held: CODES.length, queued: 0 });
    expect(queue.agents).toEqual([]);
  });

  it("does not fail the lookup when the fleet table cannot be read: the table and GSE answer", async () => {
    await fleet.poll(legacyIds, clock - 1000);
    fleet.failReads = true;
    const { data, stats } = await listAgentState(withFleet(), { agent_id_list: legacyIds });
    expect(stats).toMatchObject({ fleet_unavailable: true, fleet: 0, fetched: CODES.length, written: CODES.length });
    expect(data).toEqual((await listAgentState(fromGse(), { agent_id_list: legacyIds })).data);
  });
});

describe("an agent the fleet does not watch", () => {
  it("takes the cache path as before: GSE once, then the table within the TTL", async () => {
    await fleet.poll(modernIds, clock - 1000);
    const before = gseCalls();
    const first = await listAgentState(withFleet(), { agent_id_list: legacyIds });
    expect(first.stats).toMatchObject({ fleet: 0, fetched: CODES.length, written: CODES.length });
    clock += 60_000;
    const second = await listAgentState(withFleet(), { agent_id_list: legacyIds });
    expect(second.stats).toMatchObject({ fleet: 0, fresh: CODES.length, fetched: 0 });
    expect(second.data).toEqual(first.data);
    expect(gseCalls() - before).toBe(1);
  });

  it("reads only a sample of the fleet when a large request is cold", async () => {
    const ids = sim.listAgents({ offset: 0, limit: 300 }).map((a) => a.legacy_id);
    await fleet.poll(modernIds, clock - 1000);
    const { stats } = await listAgentState(withFleet(), { agent_id_list: ids });
    expect(fleet.read).toHaveLength(COLD_SAMPLE_SIZE);
    expect(stats).toMatchObject({ fleet: 0, cold_guessed: 300 - COLD_SAMPLE_SIZE, fetched: 300, fleet_calls: { batchGet: 1, get: 1 } });
  });
});

describe("factsFromFleet", () => {
  const base = { agent_id: "a", status: "alive", misses: 0, changed_at: 1 } as const;
  it("cannot tell an item written before status classes existed, nor one never polled", () => {
    expect(factsFromFleet({ ...base, status_code: 2, bk_cloud_id: 0, version: "1", run_mode: 0 }, "list_agent_state")).toBeUndefined();
    expect(factsFromFleet({ ...base, status: "pending" }, "list_agent_state")).toBeUndefined();
  });
  it("cannot answer get_agent_status's facts from an item list_agent_state filled", () => {
    const item = { ...base, status_code: 2, status_class: "alive", bk_cloud_id: 0, version: "1", run_mode: 0 } as const;
    expect(factsFromFleet(item, "get_agent_status")).toBeUndefined();
    expect(factsFromFleet(item, "list_agent_state")).toEqual({
      known: true,
      source: "list_agent_state",
      bk_cloud_id: 0,
      version: "1",
      run_mode: 0,
      status_code: 2,
      alive: true,
    });
  });
});
