import { describe, expect, it } from "vitest";
import { getAgentStatusAnswer, listAgentStateAnswer } from "../../../lib/agent-state/answers.ts";
import { factsFromGetAgentStatus, factsFromListAgentState } from "../../../lib/agent-state/fetch.ts";
import { wantsNoCache } from "../../../lib/agent-state/lookup.ts";
import {
  idsToFetch,
  isFresh,
  KNOWN_AGENT_RETENTION_SECONDS,
  parseLegacyId,
  uniqueIds,
  UNKNOWN_AGENT_RETENTION_SECONDS,
  writeBackFor,
} from "../../../lib/agent-state/rules.ts";
import { isStorableAgentId, type AgentFacts, type AgentItem } from "../../../lib/agent-state/store.ts";

const TTL = 300_000;
const T0 = 1_750_000_000_000;

const item = (agent_id: string, overrides: Partial<AgentItem> = {}): AgentItem => ({
  agent_id,
  known: true,
  source: "list_agent_state",
  bk_cloud_id: 0,
  version: "2.1.5",
  run_mode: 1,
  status_code: 2,
  alive: true,
  fetched_at: T0,
  changed_at: T0,
  expires_at: Math.floor(T0 / 1000) + KNOWN_AGENT_RETENTION_SECONDS,
  ...overrides,
});

const running: AgentFacts = { known: true, source: "list_agent_state", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2, alive: true };

describe("ids", () => {
  it("stores only ids that fit a DynamoDB key (2048 bytes of UTF-8)", () => {
    expect(isStorableAgentId("0:10.0.0.1")).toBe(true);
    expect(isStorableAgentId("x".repeat(2048))).toBe(true);
    expect(isStorableAgentId("x".repeat(2049))).toBe(false);
    expect(isStorableAgentId("界".repeat(683))).toBe(false);
  });

  it("keeps the first of repeated ids, in the order asked", () => {
    expect(uniqueIds(["b", "a", "b", "c", "a"])).toEqual(["b", "a", "c"]);
  });

  it("reads a legacy cloud:ip id and tells a 2.0 id apart", () => {
    expect(parseLegacyId("0:10.0.0.1")).toEqual({ bk_cloud_id: 0, ip: "10.0.0.1" });
    expect(parseLegacyId("3:fe80::1")).toEqual({ bk_cloud_id: 3, ip: "fe80::1" });
    expect(parseLegacyId("02000000005254003dd2ea1700473962076n")).toBeUndefined();
    expect(parseLegacyId("0:")).toBeUndefined();
  });
});

describe("freshness", () => {
  it("counts an item fresh for exactly the TTL after GSE confirmed it", () => {
    expect(isFresh({ fetched_at: T0 }, T0, TTL)).toBe(true);
    expect(isFresh({ fetched_at: T0 }, T0 + TTL - 1, TTL)).toBe(true);
    expect(isFresh({ fetched_at: T0 }, T0 + TTL, TTL)).toBe(false);
  });

  it("asks GSE for missing and stale ids only, or for all of them with no-cache", () => {
    const cached = new Map([
      ["fresh", item("fresh", { fetched_at: T0 })],
      ["stale", item("stale", { fetched_at: T0 - TTL })],
      ["unknown-fresh", item("unknown-fresh", { known: false, fetched_at: T0 - 1 })],
    ]);
    const ids = ["missing", "fresh", "stale", "unknown-fresh"];
    expect(idsToFetch(ids, cached, T0, TTL, false)).toEqual(["missing", "stale"]);
    expect(idsToFetch(ids, cached, T0, TTL, true)).toEqual(ids);
  });
});

describe("merging GSE's answer", () => {
  it("gives every asked id an entry: GSE's first item for it, or unknown when omitted", () => {
    const facts = factsFromListAgentState(
      ["a", "b", "c"],
      [
        { bk_agent_id: "c", bk_cloud_id: 1, version: "2.1.6", run_mode: 0, status_code: 3 },
        { bk_agent_id: "a", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 },
        { bk_agent_id: "a", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 5 },
        { bk_agent_id: "not-asked", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 2 },
      ],
    );
    expect([...facts.keys()]).toEqual(["a", "b", "c"]);
    expect(facts.get("a")).toEqual(running);
    expect(facts.get("b")).toEqual({ known: false, source: "list_agent_state", alive: false });
    expect(facts.get("c")).toMatchObject({ known: true, status_code: 3, alive: false, bk_cloud_id: 1 });
  });

  it("takes only bk_agent_alive from get_agent_status, matching hosts by cloud:ip", () => {
    const facts = factsFromGetAgentStatus(["0:10.0.0.1", "00:10.0.0.2", "0:10.0.0.3"], {
      "0:10.0.0.1": { ip: "10.0.0.1", bk_cloud_id: 0, bk_agent_alive: 1 },
      "0:10.0.0.2": { ip: "10.0.0.2", bk_cloud_id: 0, bk_agent_alive: 0 },
    });
    expect(facts.get("0:10.0.0.1")).toEqual({ known: true, source: "get_agent_status", bk_cloud_id: 0, alive: true });
    expect(facts.get("00:10.0.0.2")).toEqual({ known: true, source: "get_agent_status", bk_cloud_id: 0, alive: false });
    expect(facts.get("0:10.0.0.3")).toEqual({ known: false, source: "get_agent_status", alive: false });
  });
});

describe("write-back", () => {
  it("puts a new id in full, with changed_at and a 30-day TTL", () => {
    const write = writeBackFor("a", running, undefined, T0, TTL);
    expect(write.kind).toBe("put");
    expect(write.item).toEqual(item("a"));
  });

  it("remembers an unknown id without state fields, for a day", () => {
    const write = writeBackFor("x", { known: false, source: "list_agent_state", alive: false }, undefined, T0, TTL);
    expect(write).toEqual({
      kind: "put",
      item: {
        agent_id: "x",
        known: false,
        source: "list_agent_state",
        alive: false,
        fetched_at: T0,
        changed_at: T0,
        expires_at: Math.floor(T0 / 1000) + UNKNOWN_AGENT_RETENTION_SECONDS,
      },
    });
  });

  it("rewrites a changed agent in full, keeping attributes it does not own and dropping stale state", () => {
    const previous = item("a", { fetched_at: T0 - TTL, changed_at: T0 - 10 * TTL, missed_polls: 3 });
    const write = writeBackFor("a", { known: false, source: "list_agent_state", alive: false }, previous, T0, TTL);
    expect(write.kind).toBe("put");
    expect(write.item).toMatchObject({ known: false, changed_at: T0, fetched_at: T0, missed_polls: 3 });
    expect(write.item).not.toHaveProperty("status_code");
    expect(write.item).not.toHaveProperty("version");
  });

  it("renews only the fetched time of an unchanged stale agent, conditional on the time it read", () => {
    const previous = item("a", { fetched_at: T0 - TTL, changed_at: T0 - 10 * TTL });
    const write = writeBackFor("a", running, previous, T0, TTL);
    expect(write).toEqual({
      kind: "renew",
      item: { ...previous, fetched_at: T0, expires_at: Math.floor(T0 / 1000) + KNOWN_AGENT_RETENTION_SECONDS },
      renewal: { agent_id: "a", seen_fetched_at: T0 - TTL, fetched_at: T0, expires_at: Math.floor(T0 / 1000) + KNOWN_AGENT_RETENTION_SECONDS },
    });
  });

  it("writes nothing for an unchanged agent confirmed less than half a TTL ago", () => {
    const previous = item("a", { fetched_at: T0 - TTL / 2 + 1 });
    expect(writeBackFor("a", running, previous, T0, TTL)).toEqual({ kind: "none", item: previous });
    expect(writeBackFor("a", running, item("a", { fetched_at: T0 - TTL / 2 }), T0, TTL).kind).toBe("renew");
  });

  it("treats a switch of the filling call as a change", () => {
    const previous = item("0:10.0.0.1", { fetched_at: T0 - TTL });
    const write = writeBackFor("0:10.0.0.1", { known: true, source: "get_agent_status", bk_cloud_id: 0, alive: true }, previous, T0, TTL);
    expect(write.kind).toBe("put");
    expect(write.item).not.toHaveProperty("status_code");
  });
});

describe("answers", () => {
  const items = new Map([
    ["a", item("a", { status_code: 4, alive: false })],
    ["b", item("b", { known: false, alive: false })],
    [
      "0:10.0.0.3",
      { agent_id: "0:10.0.0.3", known: true, source: "get_agent_status" as const, bk_cloud_id: 0, alive: true, fetched_at: T0, changed_at: T0, expires_at: 1 },
    ],
    [
      "0:10.0.0.4",
      { agent_id: "0:10.0.0.4", known: true, source: "get_agent_status" as const, bk_cloud_id: 0, alive: false, fetched_at: T0, changed_at: T0, expires_at: 1 },
    ],
  ]);

  it("answers list_agent_state in the order asked, omitting unknown and unaskable ids", () => {
    expect(listAgentStateAnswer(["b", "0:10.0.0.3", "missing", "a"], items)).toEqual([
      { bk_agent_id: "0:10.0.0.3", bk_cloud_id: 0, version: "", run_mode: -1, status_code: 2 },
      { bk_agent_id: "a", bk_cloud_id: 0, version: "2.1.5", run_mode: 1, status_code: 4 },
    ]);
    expect(listAgentStateAnswer(["0:10.0.0.4"], items)).toEqual([{ bk_agent_id: "0:10.0.0.4", bk_cloud_id: 0, version: "", run_mode: -1, status_code: -1 }]);
    expect(listAgentStateAnswer(["b", "missing"], items)).toEqual([]);
  });

  it("answers get_agent_status for every host, alive only for status 2", () => {
    const withLegacy = new Map([...items, ["0:10.0.0.1", item("0:10.0.0.1")], ["0:10.0.0.2", item("0:10.0.0.2", { status_code: 3, alive: false })]]);
    const hosts = [
      { ip: "10.0.0.1", bk_cloud_id: 0 },
      { ip: "10.0.0.2", bk_cloud_id: 0 },
      { ip: "10.0.0.3", bk_cloud_id: 0 },
      { ip: "10.0.0.9", bk_cloud_id: 2 },
    ];
    expect(getAgentStatusAnswer(hosts, withLegacy)).toEqual({
      "0:10.0.0.1": { ip: "10.0.0.1", bk_cloud_id: 0, bk_agent_alive: 1 },
      "0:10.0.0.2": { ip: "10.0.0.2", bk_cloud_id: 0, bk_agent_alive: 0 },
      "0:10.0.0.3": { ip: "10.0.0.3", bk_cloud_id: 0, bk_agent_alive: 1 },
      "2:10.0.0.9": { ip: "10.0.0.9", bk_cloud_id: 2, bk_agent_alive: 0 },
    });
  });
});

describe("headers", () => {
  it("bypasses the cache for Cache-Control: no-cache only", () => {
    expect(wantsNoCache({ "cache-control": "no-cache" })).toBe(true);
    expect(wantsNoCache({ "cache-control": "max-age=0, No-Cache" })).toBe(true);
    expect(wantsNoCache({ "cache-control": 'no-cache="set-cookie"' })).toBe(true);
    expect(wantsNoCache({ "cache-control": "max-age=60" })).toBe(false);
    expect(wantsNoCache({})).toBe(false);
    expect(wantsNoCache(undefined)).toBe(false);
  });
});
