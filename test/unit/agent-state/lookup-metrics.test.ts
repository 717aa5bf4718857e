/**
 * The agent state cache's hits and misses as metrics: a lookup counts the ids it answered from a
 * fresh copy as hits and the ids it asked GSE for as misses. The table is the in-memory store of
 * these unit tests; GSE is a simulator of this file's own over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAgentState } from "../../../lib/agent-state/lookup.ts";
import type { AgentStateDeps } from "../../../lib/agent-state/lookup-run.ts";
import { GseClient } from "../../../lib/gse/client.ts";
import { startGseSimulator, type GseSimulator } from "../../../local/gse-simulator/index.ts";
import { captureMetrics } from "../../helpers/emf.ts";
import { MemoryStore } from "./memory-store.ts";

const secret = "agent-state-metrics-secret";
let sim: GseSimulator;
let gse: GseClient;
beforeAll(async () => {
  sim = await startGseSimulator({ agents: 10, tickMs: 0, credentials: [{ bk_app_code: "bk_monitorv3", bk_app_secret: secret }] });
  gse = new GseClient({
    gse: { baseUrl: sim.url, flavour: "v2", appCode: "bk_monitorv3", appSecret: secret, username: "admin", timeoutMs: 2000, maxAttempts: 2 },
    sleep: async () => undefined,
  });
});
afterAll(() => sim.stop());

describe("agent state cache metrics", () => {
  it("counts a cold lookup's ids as misses, and the same ids within the TTL as hits", async () => {
    const { metrics, values } = captureMetrics();
    const clock = 1_750_000_000_000;
    const deps: AgentStateDeps = {
      store: new MemoryStore(),
      gse,
      now: () => clock,
      settings: { ttlSeconds: 300, chunkSize: 1000, concurrency: 5, useNewAgentStatusApi: true },
      metrics,
    };
    const ids = ["0:10.0.0.1", "0:10.0.0.2"];
    await listAgentState(deps, { agent_id_list: ids });
    expect(values("AgentCacheMisses")).toEqual([2]);
    expect(values("AgentCacheHits")).toEqual([0]);
    await listAgentState(deps, { agent_id_list: ids });
    expect(values("AgentCacheHits")).toEqual([0, 2]);
    expect(values("AgentCacheMisses")).toEqual([2, 0]);
  });
});
