import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/core/errors.ts";
import type { AgentPage } from "../../../lib/fleet/agents-store.ts";
import { FLEET_PARTITIONS, type FleetAgent } from "../../../lib/fleet/items.ts";
import { partitionOf } from "../../../lib/fleet/table.ts";
import { resolveBodySchema } from "../../../lib/fleet/resolve-schemas.ts";
import { patchLabelsBodySchema, putLabelsBodySchema } from "../../../lib/fleet/schemas.ts";
import { resolveTargets, selectTargets, targetMatcher, type TargetDeps } from "../../../lib/targets/resolve.ts";
import { targetQuerySchema, type TargetQuery } from "../../../lib/targets/schemas.ts";

const agent = (id: string, fields: Partial<FleetAgent> = {}): FleetAgent => ({
  agent_id: id,
  registered_at: 0,
  sources: ["api"],
  status: "alive",
  misses: 0,
  changed_at: 0,
  rev: 1,
  status_code: 2,
  status_class: "alive",
  bk_cloud_id: 0,
  version: "2.1.5",
  ...fields,
});

const q = (query: unknown): TargetQuery => targetQuerySchema.parse(query);
const ids = (agents: FleetAgent[], query: unknown) => selectTargets(agents, q(query));

describe("target query filters", () => {
  const fleet = [
    agent("a-alive"),
    agent("b-degraded", { status_code: 3, status_class: "degraded", misses: 1 }),
    agent("c-lost", { status: "lost", status_code: 3, status_class: "degraded", misses: 3 }),
    agent("d-stuck", { status_code: 5, status_class: "transitional", transitional_since: 1, stuck_at: 2 }),
    agent("e-pending", { status: "pending", status_code: undefined, status_class: undefined, version: undefined, bk_cloud_id: undefined }),
    // Written before classes existed: its class comes from its status and misses.
    agent("f-legacy", { status_class: undefined, status_code: undefined }),
  ];

  it("status_class matches the class of the last observation, lost by status, stuck by stuck_at", () => {
    expect(ids(fleet, { status_class: ["alive"] })).toEqual(["a-alive", "f-legacy"]);
    expect(ids(fleet, { status_class: ["degraded"] })).toEqual(["b-degraded", "c-lost"]);
    expect(ids(fleet, { status_class: ["lost"] })).toEqual(["c-lost"]);
    expect(ids(fleet, { status_class: ["stuck"] })).toEqual(["d-stuck"]);
    expect(ids(fleet, { status_class: ["transitional", "lost"] })).toEqual(["c-lost", "d-stuck"]);
  });

  it("version is a semver range over the coerced version; an agent without a version matches no range", () => {
    const versions = [
      agent("v1", { version: "1.9.0" }),
      agent("v2", { version: "v2.1" }),
      agent("v3", { version: "2.1.5.1" }),
      agent("v4", { version: undefined }),
    ];
    expect(ids(versions, { version: ">=2.0.0 <3" })).toEqual(["v2", "v3"]);
    expect(ids(versions, { version: "<2" })).toEqual(["v1"]);
    expect(ids(versions, { version: "*" })).toEqual(["v1", "v2", "v3"]);
  });

  it("bk_cloud_id is any of the list; an agent whose cloud is not known matches none", () => {
    const clouds = [agent("c0"), agent("c1", { bk_cloud_id: 1 }), agent("c2", { bk_cloud_id: 2 }), agent("cx", { bk_cloud_id: undefined })];
    expect(ids(clouds, { bk_cloud_id: [1, 2] })).toEqual(["c1", "c2"]);
  });

  it("labels must all match exactly", () => {
    const labelled = [
      agent("l1", { labels: { env: "prod", zone: "sz-1" } }),
      agent("l2", { labels: { env: "prod", zone: "sz-2" } }),
      agent("l3", { labels: { env: "prod" } }),
      agent("l4", { labels: { env: "Prod", zone: "sz-1" } }),
      agent("l5"),
    ];
    expect(ids(labelled, { labels: { env: "prod", zone: "sz-1" } })).toEqual(["l1"]);
    expect(ids(labelled, { labels: { env: "prod" } })).toEqual(["l1", "l2", "l3"]);
  });

  it("ANDs the fields, sorts, drops duplicates and keeps the first `limit`", () => {
    const many = [
      agent("z", { labels: { env: "prod" } }),
      agent("y", { labels: { env: "prod" }, bk_cloud_id: 1 }),
      agent("x", { labels: { env: "prod" } }),
      agent("x", { labels: { env: "prod" } }),
      agent("w", { labels: { env: "prod" }, version: "1.0.0" }),
    ];
    expect(ids(many, { labels: { env: "prod" }, bk_cloud_id: [0], version: ">=2" })).toEqual(["x", "z"]);
    expect(ids(many, { labels: { env: "prod" }, limit: 2 })).toEqual(["w", "x"]);
  });

  it("a matcher is a pure test of one agent", () => {
    const matches = targetMatcher(q({ status_class: ["alive"], labels: { env: "prod" } }));
    expect(matches(agent("m", { labels: { env: "prod" } }))).toBe(true);
    expect(matches(agent("m", { labels: { env: "prod" }, status_class: "gone", status_code: 7 }))).toBe(false);
  });
});

/** The fleet table's paging, in memory: partitions as the store spreads ids, pages of `pageSize`. */
function pagedFleet(agents: FleetAgent[], pageSize: number): TargetDeps & { pages: number } {
  const byPartition = new Map<number, FleetAgent[]>();
  for (const a of agents) byPartition.set(partitionOf(a.agent_id), [...(byPartition.get(partitionOf(a.agent_id)) ?? []), a]);
  for (const list of byPartition.values()) list.sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const deps = {
    pages: 0,
    fleet: {
      async agentPage(partition: number, options: { after?: string }): Promise<AgentPage> {
        deps.pages++;
        const list = byPartition.get(partition) ?? [];
        const start = options.after === undefined ? 0 : list.findIndex((a) => `agent#${a.agent_id}` === options.after) + 1;
        const page = list.slice(start, start + pageSize);
        const more = start + pageSize < list.length;
        return { agents: page, ...(more ? { after: `agent#${page.at(-1)?.agent_id}` } : {}) };
      },
    } as unknown as TargetDeps["fleet"],
  };
  return deps;
}

describe("resolveTargets", () => {
  it("reads every page of every partition and answers the matches sorted", async () => {
    const agents = Array.from({ length: 500 }, (_, i) => agent(`0:10.0.${Math.floor(i / 250)}.${i % 250}`, { labels: { shard: String(i % 5) } }));
    const deps = pagedFleet(agents, 3);
    const { agent_ids, query } = await resolveTargets(deps, q({ labels: { shard: "2" } }));
    const expected = agents.filter((a) => a.labels?.shard === "2").map((a) => a.agent_id);
    expect(agent_ids).toEqual([...expected].sort());
    expect(query).toEqual({ labels: { shard: "2" } });
    expect(deps.pages).toBeGreaterThan(FLEET_PARTITIONS);
  });

  it("resolves 100,000 agents in one pass, quickly", async () => {
    const agents = Array.from({ length: 100_000 }, (_, i) =>
      agent(`0:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, { version: i % 2 ? "2.1.5" : "1.9.0", labels: { env: i % 10 ? "prod" : "test" } }),
    );
    const deps = pagedFleet(agents, 1000);
    const started = performance.now();
    const { agent_ids } = await resolveTargets(deps, q({ version: ">=2", labels: { env: "prod" }, status_class: ["alive"] }));
    expect(agent_ids).toHaveLength(50_000);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("no match is a 400 on target_query", async () => {
    const error = await resolveTargets(pagedFleet([agent("a")], 10), q({ labels: { env: "nowhere" } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, message: "no agents match target_query", data: { errors: [{ path: "target_query" }] } });
  });
});

describe("label and resolve bodies", () => {
  const pathsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => result.error?.issues.map((i) => i.path.join("."));

  it("refuses a bad key, a long value and too many labels, naming the field", () => {
    expect(pathsOf(putLabelsBodySchema.safeParse({ labels: { "Bad Key": "x" } }))).toEqual([expect.stringMatching(/^labels/)]);
    expect(pathsOf(putLabelsBodySchema.safeParse({ labels: { env: "x".repeat(64) } }))).toEqual(["labels.env"]);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
    expect(pathsOf(putLabelsBodySchema.safeParse({ labels: many }))).toEqual(["labels"]);
    expect(putLabelsBodySchema.safeParse({ labels: { env: "prod", "app.kubernetes.io_name": "beat" } }).success).toBe(true);
  });

  it("a patch names set or remove, never one key in both", () => {
    expect(pathsOf(patchLabelsBodySchema.safeParse({}))).toEqual(["set"]);
    expect(pathsOf(patchLabelsBodySchema.safeParse({ set: { env: "a" }, remove: ["env"] }))).toEqual(["remove"]);
    expect(pathsOf(patchLabelsBodySchema.safeParse({ remove: ["-bad"] }))).toEqual(["remove.0"]);
    expect(patchLabelsBodySchema.safeParse({ set: { env: "a" }, remove: ["zone"] }).success).toBe(true);
  });

  it("a query names at least one filter, a real semver range and known classes", () => {
    expect(resolveBodySchema.safeParse({ query: { limit: 5 } }).success).toBe(false);
    expect(pathsOf(resolveBodySchema.safeParse({ query: { version: "not a range" } }))).toEqual(["query.version"]);
    expect(pathsOf(resolveBodySchema.safeParse({ query: { status_class: ["sleeping"] } }))).toEqual(["query.status_class.0"]);
  });
});
