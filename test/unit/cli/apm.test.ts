/**
 * The APM commands of the CLI in-process: wrong use exits 2 before anything is sent
 * (as in usage.test.ts), and the human output of an app's datasources.
 */
import { describe, expect, it } from "vitest";
import type { AppView, Datasource } from "../../../lib/apm/schemas.ts";
import { appDetail, appsTable, datasourceState } from "../../../cli/apm-format.ts";
import { usage } from "../../helpers/cli.ts";

describe("the APM commands' usage errors", () => {
  it.each([
    ["app without a subcommand", ["app"], ""],
    ["app show without --biz", ["app", "show", "shop"], "--biz"],
    ["a start without --biz", ["app", "start-trace", "shop"], "--biz"],
    ["a datasource that does not exist", ["app", "start-tracing", "shop", "--biz", "2"], "start-tracing"],
    ["create with a datasource flag that does not exist", ["app", "create", "shop", "--biz", "2", "--tracing", "1:2"], "--tracing"],
    ["a business id that is not a number", ["app", "show", "shop", "--biz", "two"], "--biz"],
    ["apps with a business id that is not whole", ["apps", "--biz", "1.5"], "--biz"],
    ["an app name bk-monitor would not take", ["app", "show", "my shop", "--biz", "2"], "app name"],
    ["a datasource without its stream_to id", ["app", "create", "shop", "--biz", "2", "--trace", "1500001"], "--trace"],
    ["a datasource id that is not a number", ["app", "create", "shop", "--biz", "2", "--metric", "x:501"], "--metric"],
    ["a topic Kafka would not take", ["app", "create", "shop", "--biz", "2", "--log", "1500001:501:no/slash"], "--log (topic_name)"],
    ["a retention that is not a number", ["app", "create", "shop", "--biz", "2", "--retention-days", "week"], "--retention-days"],
    ["a retention of 0 days", ["app", "create", "shop", "--biz", "2", "--retention-days", "0"], "--retention-days"],
    ["a probe page of 0", ["app", "probes", "shop", "--biz", "2", "--limit", "0"], "--limit"],
    ["a probe page that is not a number", ["app", "probes", "shop", "--biz", "2", "--limit", "ten"], "--limit"],
    ["upgrade without --to", ["app", "upgrade", "shop", "--biz", "2"], "--to"],
    ["an upgrade max-concurrency of 0", ["app", "upgrade", "shop", "--biz", "2", "--to", "2.0", "--max-concurrency", "0"], "--max-concurrency"],
    [
      "an upgrade max-errors that is neither a count nor a share",
      ["app", "upgrade", "shop", "--biz", "2", "--to", "2.0", "--max-errors", "some", "--wait"],
      "--max-errors",
    ],
    ["delete without --biz", ["app", "delete", "shop"], "--biz"],
    ["a start with a strategy that does not exist", ["app", "start-trace", "shop", "--biz", "2", "--strategy", "waves:3"], "--strategy"],
    ["a start with a bake that is not whole seconds", ["app", "start-trace", "shop", "--biz", "2", "--bake", "1m"], "--bake"],
    ["a start with a gate that is neither a count nor a share", ["app", "start-trace", "shop", "--biz", "2", "--max-unhealthy", "few"], "--max-unhealthy"],
    ["--watch on a start without a rollout", ["app", "stop-log", "shop", "--biz", "2", "--watch"], "--strategy, --bake or --max-unhealthy"],
  ])("exits 2 for %s, saying why", async (_label, argv, names) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(2);
    expect(res.err).toContain(names);
    // Nothing was sent: the unreachable URL would have said so.
    expect(res.err).not.toContain("cannot reach");
    expect(res.err + res.out).not.toContain("unit-secret-0001");
  });

  it("gets past its checks with good arguments (and fails only at the unreachable API: 1)", async () => {
    const res = await usage([
      "app",
      "create",
      "shop",
      "--biz",
      "-2",
      "--trace",
      "1500001:501",
      "--profiling",
      "1500002:502:apm.prof",
      "--retention-days",
      "30",
      "--json",
    ]);
    expect(res.code).toBe(1);
    expect(res.err).toContain("cannot reach");
  });
});

const ds = (over: Partial<Datasource> = {}): Datasource => ({
  data_id: 1_500_001,
  stream_to_id: 501,
  topic_name: "apm_trace_1500001",
  enabled: false,
  ...over,
});
const AT = Date.UTC(2026, 10, 25, 12);
const app = (datasources: AppView["datasources"]): AppView => ({
  bk_biz_id: 2,
  app_name: "shop",
  retention_days: 7,
  datasources,
  created_by: "admin",
  created_at: AT,
  updated_at: AT,
  revision: 3,
});

describe("the APM commands' human output", () => {
  it("says of each datasource on, off, APPLYING or FAILED(<step>)", () => {
    expect(datasourceState(undefined, false)).toBe("-");
    expect(datasourceState(ds(), false)).toBe("off");
    expect(datasourceState(ds({ enabled: true, apply: { state: "APPLIED", action: "start", at: AT } }), false)).toBe("on");
    expect(datasourceState(ds({ apply: { state: "APPLYING", action: "start", at: AT } }), false)).toBe("APPLYING");
    expect(datasourceState(ds({ apply: { state: "FAILED", action: "start", step: "config", error: { message: "no" }, at: AT } }), false)).toBe(
      "FAILED(config)",
    );
    // A stop that failed left the datasource on.
    expect(datasourceState(ds({ enabled: true, apply: { state: "FAILED", action: "stop", step: "command", at: AT } }), false)).toBe("on FAILED(stop: command)");
  });

  it("lists apps with a column per datasource, and shows one with its last apply and its error", () => {
    const failed = app({
      trace: ds({ enabled: true }),
      metric: ds({
        data_id: 1_500_002,
        apply: {
          state: "FAILED",
          action: "start",
          step: "config",
          error: { message: "GSE said 1012001" },
          config_version: 4,
          message_id: "m-1",
          targets: 3,
          at: AT,
        },
      }),
    });
    const listed = appsTable([failed], false);
    expect(listed).toMatch(/│ 2\s+│ shop\s+│ 7 d\s+│ on\s+│ FAILED\(config\)\s+│ -\s+│ -\s+│/);
    const shown = appDetail(failed, false);
    expect(shown).toContain("2/shop: retention 7 days, revision 3");
    expect(shown).toMatch(/│ metric\s+│ FAILED\s+│ start\s+│ config\s+│ 4\s+│ m-1\s+│ 3\s+│ 2026-11-25T12:00:00.000Z/);
    expect(shown).toContain("metric: start failed at the config step: GSE said 1012001");
    expect(appsTable([], false)).toBe("No APM apps.");
  });
});
