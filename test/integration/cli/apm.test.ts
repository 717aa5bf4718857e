/**
 * The CLI's APM commands as operators run them: real processes against the test
 * stack, few of them (each start costs a second or two). The app, its data ids, its business and
 * its agents are this file's own; probes are reported through the HTTP API, as agents do.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppView } from "../../../lib/apm/schemas.ts";
import type { CommandPage } from "../../../lib/commands/schemas.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, withFaults } from "../../helpers/stack.ts";
import { cliRunner, type Run } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-apm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = cliRunner(info, dir);
const runs: Run[] = [];
const cli = async (args: readonly string[]): Promise<Run> => {
  const result = await runner.cli(args);
  runs.push(result);
  return result;
};

const run = randomBytes(4).toString("hex");
const BIZ = String(2_000_000 + Math.floor(Math.random() * 1_000_000_000));
const APP = `cli-${run}`;
const TRACE = uniqueBuiltInChannelId();
const METRIC = uniqueBuiltInChannelId();
const agents = Array.from({ length: 3 }, (_, i) => `cli-apm-${run}-${i}`);
const appPath = `/v1/apm/apps/${BIZ}/${APP}`;
const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
  const res = await callApi(info.gatewayUrl, path, { method, headers: authHeader, ...(body !== undefined ? { body } : {}) });
  expect(res.status, res.text.slice(0, 400)).toBeLessThan(300);
  return res.body;
};

beforeAll(async () => {
  // Addresses in 10.246/16 are this file's; the simulator's generated fleet starts at 10.0.0.1.
  const base = Math.floor(Math.random() * 250);
  await simulatorControl(info, "POST", "agents", {
    agents: agents.map((id, i) => ({ bk_agent_id: id, ip: `10.246.${base}.${i + 1}`, status_code: 2, churn: false })),
  });
});

describe("gse-control APM apps", () => {
  it("app create with a trace and a metric datasource; app start-trace applies the route and tells the probes (exit 0)", { timeout: 60_000 }, async () => {
    const created = await cli([
      "--json",
      "app",
      "create",
      APP,
      "--biz",
      BIZ,
      "--trace",
      `${TRACE}:501`,
      "--metric",
      `${METRIC}:501:cli-${run}-metric`,
      "--retention-days",
      "3",
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      bk_biz_id: Number(BIZ),
      app_name: APP,
      retention_days: 3,
      datasources: {
        trace: { data_id: TRACE, stream_to_id: 501, topic_name: `apm_trace_${TRACE}`, enabled: false },
        metric: { topic_name: `cli-${run}-metric` },
      },
    });
    // The agents' probes report themselves, as they do, through the API.
    await api("POST", `${appPath}/probes`, {
      instances: agents.map((agent_id, i) => ({ agent_id, service: "web", instance: `web-${i}`, probe_version: "1.0" })),
    });

    const started = await cli(["app", "start-trace", APP, "--biz", BIZ]);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`^trace of ${BIZ}/${APP}: started \\(route#${TRACE} version \\d+\\)$`, "m"));
    const messageId = /probes told by command (\S+): \w+, 3 agents/.exec(started.stdout)?.[1];
    expect(messageId, started.stdout).toBeDefined();
    const app = (await api("GET", appPath)).data as AppView;
    expect(app.datasources.trace).toMatchObject({ enabled: true, apply: { state: "APPLIED", action: "start", message_id: messageId, targets: 3 } });
    const versions = (await api("GET", `/v1/configs/route/${TRACE}/versions`)).data as { versions: { version: number; status: string }[] };
    expect(versions.versions[0]).toMatchObject({ version: app.datasources.trace?.apply?.config_version, status: "APPLIED" });
  });

  it("app versions shows the probes' versions; app upgrade --wait follows the command to SUCCEEDED (exit 0)", { timeout: 60_000 }, async () => {
    const shown = await cli(["app", "versions", APP, "--biz", BIZ]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^retention window \(3 days\): \S+Z → \S+Z; 3 instances$/m);
    expect(shown.stdout).toMatch(/│ 1\.0\s+│ 3\s+│ 3\s+│/);

    const upgraded = await cli(["--json", "app", "upgrade", APP, "--biz", BIZ, "--to", "2.0", "--max-concurrency", "2", "--wait"]);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const page = JSON.parse(upgraded.stdout) as CommandPage;
    expect(page.command).toMatchObject({ status: "SUCCEEDED", targets: 3, batches: { total: 2, sent: 2 } });
    expect(page.agents.map((a) => a.bk_agent_id).sort()).toEqual([...agents].sort());
  });

  it("app start-metric exits 1 with the step and error when GSE refuses the route; apps shows trace on, metric FAILED(config)", {
    timeout: 60_000,
  }, async () => {
    const failed = await withFaults(info, [{ kind: "business_error", code: 1_012_001, operation: "add_route", match: String(METRIC) }], () =>
      cli(["app", "start-metric", APP, "--biz", BIZ]),
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`^start metric of ${BIZ}/${APP} failed at the config step: .+`, "m"));
    expect(failed.stdout).toContain("metric kept its previous state (off)");
    expect(failed.stderr).toContain("failed at the config step");

    const listed = await cli(["--json", "apps", "--biz", BIZ]);
    expect(listed.code, listed.stderr).toBe(0);
    const { apps } = JSON.parse(listed.stdout) as { apps: AppView[] };
    expect(apps.map((a) => a.app_name)).toEqual([APP]);
    expect(apps[0]?.datasources).toMatchObject({
      trace: { enabled: true },
      metric: { enabled: false, apply: { state: "FAILED", action: "start", step: "config" } },
    });
  });

  it("app stop-trace --strategy --max-unhealthy --watch tells the probes by a rollout, follows it to SUCCEEDED (exit 0), and the datasource is off", {
    timeout: 60_000,
  }, async () => {
    const stopped = await cli(["--json", "app", "stop-trace", APP, "--biz", BIZ, "--strategy", "linear:2", "--max-unhealthy", "50%", "--watch"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const rollout = JSON.parse(stopped.stdout) as { rollout_id: string; status: string; waves: { size: number }[] };
    expect(rollout).toMatchObject({ status: "SUCCEEDED", targets: 3 });
    expect(rollout.waves.map((w) => w.size)).toEqual([2, 1]);
    const app = await eventually("the rollout's end handed to the datasource", async () => {
      const a = (await api("GET", appPath)).data as AppView;
      return a.datasources.trace?.apply?.state === "APPLIED" ? a : undefined;
    });
    expect(app.datasources.trace).toMatchObject({ enabled: false, apply: { action: "stop", rollout_id: rollout.rollout_id } });
  });

  it("never printed the caller's credentials", () => {
    expect(runs).toHaveLength(7);
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(info.credentials.caller.bk_app_secret);
  });
});
