/**
 * `gse-control plan`, `apply` and `applies`: a plan printed as terraform prints one (objects by
 * + ~ -, their fields, secrets as (sensitive), the summary line), an apply's steps, the history,
 * the bodies the flags build, and the exit codes of wrong use (plan: 1, since 2 means changes).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyBody, planBody } from "../../../cli/desired.ts";
import { appliesTable, applyText, planText, summaryLine } from "../../../cli/desired-format.ts";
import { loadRuntime } from "../../../cli/lazy.ts";
import type { ApplyView, PlanView } from "../../../lib/desired/schemas.ts";
import { usage } from "../../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "gse-desired-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await loadRuntime();
});

const plan: PlanView = {
  plan_id: "plan-0123456789",
  plat_name: "bkmonitor",
  source: "request",
  prune: false,
  state_hash: "h",
  has_changes: true,
  summary: { create: 1, update: 1, delete: 1, unchanged: 1 },
  changes: [
    {
      order: 1,
      kind: "streamto",
      name: "bkmonitor_kafka",
      id: null,
      action: "create",
      changes: [
        { path: "kafka.storage_address[0].ip", change: "added", to: "10.0.0.11" },
        { path: "kafka.sasl_passwd", change: "added", secret: true },
      ],
      before: null,
      after: {},
    },
    {
      order: 2,
      kind: "route",
      name: "1001",
      id: 1001,
      action: "update",
      changes: [
        { path: "route[name=r].stream_to.kafka.topic_name", change: "changed", from: "old", to: "new" },
        { path: "route[name=r].filter_name_and", change: "removed", from: ["f"] },
      ],
      before: {},
      after: {},
    },
    { order: 3, kind: "route", name: "1002", id: 1002, action: "unchanged", changes: [], before: {}, after: {} },
    {
      order: 4,
      kind: "streamto",
      name: "old_redis",
      id: 7,
      action: "delete",
      changes: [{ path: "name", change: "removed", from: "old_redis" }],
      before: {},
      after: null,
    },
  ],
  created_by: "ops",
  created_at: "2026-01-01T00:00:00.000Z",
  apply_id: null,
};

const applyView: ApplyView = {
  apply_id: "apply-0123456789",
  plan_id: plan.plan_id,
  plat_name: "bkmonitor",
  status: "ROLLED_BACK",
  author: "ops",
  summary: { create: 1, update: 1, delete: 0, unchanged: 0 },
  steps: [
    { order: 1, kind: "streamto", name: "bkmonitor_kafka", id: 12, action: "create", status: "UNDONE", version: 1, undo_version: 2, error: null },
    {
      order: 2,
      kind: "route",
      name: "1001",
      id: 1001,
      action: "update",
      status: "FAILED",
      version: null,
      undo_version: null,
      error: { gse_code: 1011, message: "GSE said no" },
    },
  ],
  error: { gse_code: 1011, message: "GSE said no" },
  bake: null,
  started_at: "2026-01-01T00:00:00.000Z",
  finished_at: "2026-01-01T00:00:01.000Z",
};

describe("plan's output", () => {
  it("prints each changed object as + create, ~ update or - delete with its key and id, its fields under it, and the summary line", () => {
    const text = planText(plan, false);
    expect(text).toContain("+ create streamto bkmonitor_kafka\n");
    expect(text).toContain('    + kafka.storage_address[0].ip = "10.0.0.11"');
    expect(text).toContain("~ update route channel 1001\n");
    expect(text).toContain('    ~ route[name=r].stream_to.kafka.topic_name: "old" → "new"');
    expect(text).toContain("    - route[name=r].filter_name_and");
    expect(text).toContain("- delete streamto old_redis (id 7)");
    expect(text).not.toContain("1002");
    expect(text).toContain("Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged.");
    expect(text).toContain("gse-control apply plan-0123456789");
  });

  it("prints a secret's change as (sensitive), never a value", () => {
    expect(planText(plan, false)).toContain("    + kafka.sasl_passwd = (sensitive)");
    const changed = planText({ ...plan, changes: [{ ...plan.changes[1]!, changes: [{ path: "redis.passwd", change: "changed", secret: true }] }] }, false);
    expect(changed).toContain("~ redis.passwd: (sensitive) → (sensitive)");
  });

  it("colours creates green, updates yellow and deletes red on a terminal, and says so when nothing changes", () => {
    const text = planText(plan, true);
    expect(text).toContain("\u001b[32m+ create streamto bkmonitor_kafka");
    expect(text).toContain("\u001b[33m~ update route channel 1001");
    expect(text).toContain("\u001b[31m- delete streamto old_redis");
    const none = planText({ ...plan, has_changes: false, summary: { create: 0, update: 0, delete: 0, unchanged: 4 }, changes: [] }, false);
    expect(none).toContain("No changes.");
    expect(none).not.toContain("gse-control apply");
    expect(summaryLine({ create: 0, update: 0, delete: 0, unchanged: 4 })).toBe("Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged.");
  });
});

describe("apply's and applies' output", () => {
  it("prints the apply's status and a line per step with its id, version, undo and error", () => {
    const text = applyText(applyView, false);
    expect(text).toContain("apply apply-0123456789 of plan-0123456789 (bkmonitor) by ops: ROLLED_BACK");
    expect(text).toContain("1. create streamto bkmonitor_kafka (id 12)  UNDONE version 1, undo version 2");
    expect(text).toContain("2. update route 1001 (id 1001)  FAILED: GSE said no");
  });

  it("prints a bake's gate that tripped", () => {
    const baked = applyText(
      {
        ...applyView,
        bake: {
          seconds: 600,
          until: "2026-01-01T00:10:00.000Z",
          gate: { max_alive_drop_points: 10 },
          alive_before: 100,
          alive_now: 80,
          tripped: { gate: "alive_ratio", reason: "alive share fell 20 points" },
        },
      },
      false,
    );
    expect(baked).toContain("bake: 600 s until 2026-01-01T00:10:00.000Z, alive 100% at the start, 80% now");
    expect(baked).toContain("gate alive_ratio tripped: alive share fell 20 points");
  });

  it("lists applies as a table, and says when there are none", () => {
    const table = appliesTable({ applies: [applyView], next_cursor: "c1" }, false);
    expect(table).toContain("apply-0123456789");
    expect(table).toContain("+1 ~1 -0");
    expect(table).toContain("more: --cursor c1");
    expect(appliesTable({ applies: [] }, false)).toBe("No applies.");
  });
});

describe("the bodies the flags build", () => {
  it("sends a .json document as itself and anything else as YAML text", () => {
    const json = join(dir, "desired.json");
    writeFileSync(json, '{"plat_name":"bkmonitor"}');
    const yaml = join(dir, "desired.yaml");
    writeFileSync(yaml, "plat_name: bkmonitor\n");
    expect(planBody(json)).toEqual({ plat_name: "bkmonitor" });
    expect(planBody(yaml)).toEqual({ yaml: "plat_name: bkmonitor\n" });
  });

  it("builds the apply body from --bake and --max-alive-drop", () => {
    expect(applyBody({})).toEqual({});
    expect(applyBody({ bake: "600", maxAliveDrop: "10" })).toEqual({ bake_seconds: 600, gate: { max_alive_drop_points: 10 } });
  });
});

describe("wrong use", () => {
  const doc = join(dir, "doc.yaml");
  beforeAll(() => writeFileSync(doc, "plat_name: bkmonitor\n"));

  it.each([
    ["plan without -f", ["plan"]],
    ["plan of a file that is not there", ["plan", "-f", "/no/such/desired.yaml"]],
    ["plan that cannot reach the API", ["plan", "-f", doc]],
    ["plan with an option it does not have", ["plan", "-f", doc, "--detailed"]],
  ])("exits 1 (2 means changes) for %s, saying why", async (_label, argv) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(1);
    expect(res.err).toContain("gse-control:");
  });

  it.each([
    ["apply without a plan id or -f", ["apply"]],
    ["apply with both", ["apply", "plan-0123456789", "-f", doc]],
    ["apply of something that is not a plan id", ["apply", "not-a-plan"]],
    ["--bake that is not whole seconds", ["apply", "plan-0123456789", "--bake", "1.5"]],
    ["--max-alive-drop without --bake", ["apply", "plan-0123456789", "--max-alive-drop", "10"]],
    ["--max-alive-drop above 100", ["apply", "plan-0123456789", "--bake", "60", "--max-alive-drop", "120"]],
    ["apply -f without --yes and no terminal to ask on", ["apply", "-f", doc]],
  ])("exits 2 for %s, before anything is sent", async (_label, argv) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(2);
    expect(res.err).not.toBe("");
  });

  it("tells apply -f without a terminal to pass --yes", async () => {
    expect((await usage(["apply", "-f", doc])).err).toContain("--yes");
  });
});
