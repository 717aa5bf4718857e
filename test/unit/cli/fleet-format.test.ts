import { describe, expect, it } from "vitest";
import { agentDetail, agentsTable, fleetSummary } from "../../../cli/format.ts";
import type { AgentView } from "../../../lib/fleet/schemas.ts";

const T = "2026-11-25T12:00:00.000Z";

const view = (fields: Partial<AgentView>): AgentView => ({
  agent_id: "0:10.0.0.1",
  status: "alive",
  misses: 0,
  sources: ["api"],
  registered_at: T,
  first_seen_at: T,
  last_seen: T,
  changed_at: T,
  outdated: false,
  record: null,
  ...fields,
});

describe("the CLI's fleet output", () => {
  it("shows each agent's class with GSE's status_code beside its status", () => {
    const out = agentsTable(
      { agents: [view({ status_code: 5, status_class: "transitional" }), view({ agent_id: "0:10.0.0.2", status: "pending" })], next_cursor: null },
      false,
    );
    expect(out).toMatch(/│ status\s+│ class\s+│/);
    expect(out).toMatch(/0:10\.0\.0\.1\s+│ alive\s+│ transitional \(5\)/);
    expect(out).toMatch(/0:10\.0\.0\.2\s+│ pending\s+│\s+│/);
  });

  it("counts the fleet by class when the summary has them", () => {
    const summary = {
      poll_id: T,
      as_of: T,
      duration_ms: 10,
      shards: 1,
      agents: 3,
      by_status: { pending: 0, alive: 2, lost: 1, unknown: 0 },
      by_class: { alive: 1, degraded: 1, transitional: 1, gone: 0, unknown: 0 },
      suspect: 0,
      by_version: [],
      outdated: 0,
      min_version: null,
      gse_calls: 1,
      gse_failed_chunks: 0,
    };
    expect(fleetSummary(summary, false)).toMatch(/transitional\s+│ 1/);
    const { by_class: _dropped, ...older } = summary;
    expect(fleetSummary(older, false)).not.toContain("class");
  });

  it("names the GSE state of each transition in an agent's history", () => {
    const out = agentDetail(
      {
        agent: view({ status_code: 5, status_class: "transitional", transitional_since: T }),
        transitions: [
          {
            agent_id: "0:10.0.0.1",
            kind: "stuck",
            at: T,
            poll_id: T,
            from: "alive",
            to: "alive",
            status_code: 5,
            status_name: "upgrading",
            status_class: "transitional",
          },
        ],
        next_cursor: null,
      },
      false,
    );
    expect(out).toContain(`alive [transitional (5) since ${T}]`);
    expect(out).toMatch(/stuck\s+│ alive → alive\s+│ 5 upgrading/);
  });
});
