import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX } from "../../../lib/gse/operations.ts";
import {
  GSE_AGENT_NONE_FOUND_CODE,
  getAgentInfoDataSchema,
  getProcStatusDataSchema,
  listAgentInfoDataSchema,
  listAgentStateDataSchema,
  type AgentState,
} from "../../../lib/gse/schemas.ts";
import { SIM_VALIDATION_ERROR_CODE, type AgentView, type GseSimulator } from "../../../local/gse-simulator/index.ts";
import * as examples from "../../helpers/gse-api-examples.ts";
import { call, control, envelopeOf, startTestSimulator } from "./client.ts";

const CLUSTER = `${GATEWAY_PREFIX}/api/v2/cluster`;
const ESB = "/api/c/compapi/v2/gse";

/** The two agents of the §4.1 example, added to an otherwise empty fleet. */
const EXAMPLE_AGENTS = [
  { bk_cloud_id: 0, ip: "10.0.0.1", version: "2.1.5", run_mode: 1, status_code: 2 },
  { bk_agent_id: "02000000005254003dd2ea1700473962076n", bk_cloud_id: 0, ip: "10.0.0.2", version: "2.1.5", run_mode: 1, status_code: 5 },
];

async function data(sim: GseSimulator, path: string, body: unknown): Promise<unknown> {
  const envelope = envelopeOf(await call(sim, path, body));
  expect(envelope, envelope.message).toMatchObject({ result: true, code: 0 });
  return envelope.data;
}

describe("agent operations on the §4 examples", () => {
  let sim: GseSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator({ agents: 0 });
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    sim.reset();
    sim.addAgents(EXAMPLE_AGENTS);
  });

  it("answers the §4.1 list_agent_state example exactly, omitting the unknown 0:10.0.0.9", async () => {
    expect(await data(sim, `${CLUSTER}/list_agent_state`, examples.listAgentStateRequestExample)).toEqual(examples.listAgentStateResponseExample.data);
  });

  it("answers list_agent_state with code 1011003 when no id is known", async () => {
    const envelope = envelopeOf(await call(sim, `${CLUSTER}/list_agent_state/`, { agent_id_list: ["0:10.0.0.9", "nope"] }));
    expect(envelope).toMatchObject({ result: false, code: GSE_AGENT_NONE_FOUND_CODE, data: null });
  });

  it("answers list_agent_state with an empty id list as a validation error naming agent_id_list", async () => {
    const envelope = envelopeOf(await call(sim, `${CLUSTER}/list_agent_state`, { agent_id_list: [] }));
    expect(envelope).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE });
    expect(envelope.message).toContain("agent_id_list");
  });

  it('answers the §4.3 get_agent_status example with data keyed cloud:ip, for bk_supplier_account "0" and 0', async () => {
    for (const account of ["0", 0]) {
      const body = { ...examples.getAgentStatusRequestExample, bk_supplier_account: account };
      expect(await data(sim, `${ESB}/get_agent_status/`, body)).toEqual(examples.getAgentStatusDataExample);
    }
  });

  it("reports bk_agent_alive 0 for an agent whose status is not 2 and for an unknown host", async () => {
    const body = {
      hosts: [
        { ip: "10.0.0.2", bk_cloud_id: 0 },
        { ip: "10.9.9.9", bk_cloud_id: 0 },
      ],
    };
    expect(await data(sim, `${ESB}/get_agent_status`, body)).toEqual({
      "0:10.0.0.2": { ip: "10.0.0.2", bk_cloud_id: 0, bk_agent_alive: 0 },
      "0:10.9.9.9": { ip: "10.9.9.9", bk_cloud_id: 0, bk_agent_alive: 0 },
    });
  });

  it("answers get_agent_info keyed cloud:ip with version and parent fields, omitting unknown hosts", async () => {
    const result = await data(sim, `${ESB}/get_agent_info/`, {
      hosts: [
        { ip: "10.0.0.1", bk_cloud_id: 0 },
        { ip: "10.9.9.9", bk_cloud_id: 0 },
      ],
    });
    expect(getAgentInfoDataSchema.parse(result)).toEqual({
      "0:10.0.0.1": { ip: "10.0.0.1", version: "2.1.5", bk_cloud_id: 0, parent_ip: "", parent_port: 0 },
    });
  });

  it("answers list_agent_info with the §4.2 fields and status text", async () => {
    const result = listAgentInfoDataSchema.parse(await data(sim, `${CLUSTER}/list_agent_info`, examples.listAgentStateRequestExample));
    expect(result.map((item) => [item.bk_agent_id, item.status_code, item.status, item.bk_host_ip])).toEqual([
      ["0:10.0.0.1", 2, "running", "10.0.0.1"],
      ["02000000005254003dd2ea1700473962076n", 5, "upgrading", "10.0.0.2"],
    ]);
  });

  it("answers get_proc_status_v2 by agent_id_list and ESB get_proc_status by hosts", async () => {
    const meta = { namespace: "nodeman", name: "bkmonitorbeat", labels: { proc_name: "bkmonitorbeat" } };
    const byId = getProcStatusDataSchema.parse(
      await data(sim, `${GATEWAY_PREFIX}/api/v2/proc/get_proc_status_v2`, { meta, agent_id_list: ["0:10.0.0.1", "02000000005254003dd2ea1700473962076n"] }),
    );
    expect(byId.proc_infos.map((p) => [p.bk_agent_id, p.status, p.meta])).toEqual([
      ["0:10.0.0.1", 1, meta],
      ["02000000005254003dd2ea1700473962076n", 2, meta],
    ]);
    const byHost = getProcStatusDataSchema.parse(
      await data(sim, `${ESB}/get_proc_status/`, { meta, namespace: "nodeman", hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }] }),
    );
    expect(byHost.proc_infos).toMatchObject([{ host: { ip: "10.0.0.1", bk_cloud_id: 0 }, status: 1 }]);
  });
});

describe("the simulated fleet", () => {
  let sim: GseSimulator;
  let clock = 0;
  beforeAll(async () => {
    sim = await startTestSimulator({ agents: 1000, seed: 42, now: () => clock, tickMs: 1000, churnRate: 0.05 });
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    clock = 0;
    sim.reset();
  });

  const statusById = async (ids: readonly string[]): Promise<Map<string, number>> => {
    const items = listAgentStateDataSchema.parse(await data(sim, `${CLUSTER}/list_agent_state`, { agent_id_list: ids }));
    return new Map(items.map((item: AgentState) => [item.bk_agent_id, item.status_code]));
  };

  it("knows each agent by its 2.0 id and its cloud:ip id and echoes the id as sent", async () => {
    const [agent] = sim.listAgents({ offset: 7, limit: 1 });
    const ids = [agent?.bk_agent_id ?? "", agent?.legacy_id ?? ""];
    const items = listAgentStateDataSchema.parse(await data(sim, `${CLUSTER}/list_agent_state`, { agent_id_list: ids }));
    expect(items.map((item) => item.bk_agent_id)).toEqual(ids);
    expect(items[0]).toEqual({ ...items[1], bk_agent_id: ids[0] });
    expect(agent?.bk_agent_id).toHaveLength(36);
    expect(agent?.legacy_id).toMatch(/^\d+:10\.\d+\.\d+\.\d+$/);
  });

  it("answers one item per distinct id when an id is repeated", async () => {
    const id = sim.listAgents({ limit: 1 })[0]?.bk_agent_id ?? "";
    expect(await statusById([id, id, id])).toEqual(new Map([[id, expect.any(Number)]]));
  });

  it("has mostly running agents, a few other states, and several versions", () => {
    const agents = sim.listAgents({ limit: 1000 });
    const running = agents.filter((a) => a.status_code === 2).length;
    expect(running).toBeGreaterThan(800);
    expect(running).toBeLessThan(1000);
    expect(new Set(agents.map((a) => a.version))).toEqual(new Set(["2.1.5", "2.1.4", "2.0.9"]));
  });

  it("builds the same fleet from the same seed and a different one from another seed", async () => {
    const twin = await startTestSimulator({ agents: 1000, seed: 42 });
    const other = await startTestSimulator({ agents: 1000, seed: 43 });
    try {
      expect(twin.listAgents({ limit: 1000 })).toEqual(sim.listAgents({ limit: 1000 }));
      expect(other.listAgents({ limit: 5 }).map((a) => a.bk_agent_id)).not.toEqual(sim.listAgents({ limit: 5 }).map((a) => a.bk_agent_id));
    } finally {
      await Promise.all([twin.stop(), other.stop()]);
    }
  });

  it("changes no status until the injected clock reaches tickMs, then about churnRate of them per tick", async () => {
    const before = sim.listAgents({ limit: 1000 });
    clock = 999;
    expect(sim.listAgents({ limit: 1000 })).toEqual(before);
    clock = 3000;
    const after = sim.listAgents({ limit: 1000 });
    const changed = after.filter((agent, i) => agent.status_code !== before[i]?.status_code).length;
    expect(sim.counters().ticks).toBe(3);
    expect(changed).toBeGreaterThan(50);
    expect(changed).toBeLessThanOrEqual(150);
  });

  it("churns identically in two simulators with the same seed and ticks", async () => {
    const twin = await startTestSimulator({ agents: 1000, seed: 42, churnRate: 0.05 });
    try {
      sim.tick(4);
      twin.tick(4);
      expect(twin.listAgents({ limit: 1000 }).map((a) => a.status_code)).toEqual(sim.listAgents({ limit: 1000 }).map((a) => a.status_code));
    } finally {
      await twin.stop();
    }
  });

  it("ticks on POST /_sim/tick", async () => {
    const answer = await control(sim, "POST", "/_sim/tick", { count: 2 });
    expect(answer.json).toMatchObject({ ticks: 2, changed: expect.any(Number) });
    expect(sim.counters().ticks).toBe(2);
  });

  it("takes an agent down and up through the control endpoint", async () => {
    const agent = sim.listAgents({ limit: 1 })[0] as AgentView;
    const ids = [agent.legacy_id];
    const down = await control(sim, "POST", "/_sim/agents/status", { ids: [agent.bk_agent_id, "nope"], status_code: 3 });
    expect(down.json).toEqual({ updated: 1, unknown: ["nope"] });
    expect(await statusById(ids)).toEqual(new Map([[agent.legacy_id, 3]]));
    const alive = await data(sim, `${ESB}/get_agent_status/`, { hosts: [{ ip: agent.ip, bk_cloud_id: agent.bk_cloud_id }] });
    expect(alive).toEqual({ [agent.legacy_id]: { ip: agent.ip, bk_cloud_id: agent.bk_cloud_id, bk_agent_alive: 0 } });
    await control(sim, "POST", "/_sim/agents/status", { ids, status_code: 2 });
    expect(await statusById(ids)).toEqual(new Map([[agent.legacy_id, 2]]));
  });

  it("adds and removes agents through the control endpoint, refusing duplicates with 409", async () => {
    const added = await control(sim, "POST", "/_sim/agents", { agents: [{ bk_agent_id: "agent-new-1", ip: "192.168.0.1", bk_cloud_id: 2 }] });
    expect(added.json).toMatchObject({ agents: [{ bk_agent_id: "agent-new-1", legacy_id: "2:192.168.0.1", status_code: 2 }] });
    expect(await statusById(["agent-new-1", "2:192.168.0.1"])).toEqual(
      new Map([
        ["agent-new-1", 2],
        ["2:192.168.0.1", 2],
      ]),
    );
    expect((await control(sim, "POST", "/_sim/agents", { agents: [{ ip: "192.168.0.1", bk_cloud_id: 2 }] })).status).toBe(409);

    const first = sim.listAgents({ limit: 1 })[0] as AgentView;
    const removed = await control(sim, "POST", "/_sim/agents/remove", { ids: ["agent-new-1", first.legacy_id] });
    expect(removed.json).toEqual({ removed: 2, unknown: [] });
    const envelope = envelopeOf(await call(sim, `${CLUSTER}/list_agent_state`, { agent_id_list: ["2:192.168.0.1", first.bk_agent_id] }));
    expect(envelope.code).toBe(GSE_AGENT_NONE_FOUND_CODE);
    expect(sim.counters().agents).toBe(999);
  });

  it("lists agents with offset and limit on GET /_sim/agents", async () => {
    const answer = await control(sim, "GET", "/_sim/agents?offset=10&limit=3");
    expect(answer.json).toMatchObject({ total: 1000, agents: sim.listAgents({ offset: 10, limit: 3 }) });
  });

  it("restores the initial fleet on POST /_sim/reset", async () => {
    const before = sim.listAgents({ limit: 1000 });
    sim.tick(5);
    sim.removeAgents([before[0]?.legacy_id ?? ""]);
    await control(sim, "POST", "/_sim/reset");
    expect(sim.listAgents({ limit: 1000 })).toEqual(before);
    expect(sim.counters().ticks).toBe(0);
  });
});

describe("a fleet of 100000 agents", () => {
  let sim: GseSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator({ agents: 100_000, seed: 7 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it("starts and answers list_agent_state for 1000 ids spread over the fleet, in both id forms", async () => {
    expect(sim.counters().agents).toBe(100_000);
    const all = sim.listAgents({ limit: 100_000 });
    expect(all).toHaveLength(100_000);
    const picked = all.filter((_agent, i) => i % 100 === 37);
    expect(picked).toHaveLength(1000);
    const ids = picked.map((agent, i) => (i % 2 === 0 ? (agent.bk_agent_id ?? "") : agent.legacy_id));
    const items = listAgentStateDataSchema.parse(await data(sim, `${CLUSTER}/list_agent_state`, { agent_id_list: ids }));
    expect(items).toEqual(
      picked.map((agent, i) => ({
        bk_agent_id: ids[i],
        bk_cloud_id: agent.bk_cloud_id,
        version: agent.version,
        run_mode: agent.run_mode,
        status_code: agent.status_code,
      })),
    );
    expect(new Set(ids).size).toBe(1000);
  });
});
