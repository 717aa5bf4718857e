/**
 * `gse-control rollout` as operators run it: real processes against the test stack's gateway,
 * whose automation queue drives the rollouts (rollout.tick) and whose simulator delivers the
 * waves and answers them. Other files share the simulator: every agent and rollout id here is
 * this file's own.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutListSchema, rolloutViewSchema, type RolloutView } from "../../../lib/rollouts/schemas.ts";
import { callApi, simulatorControl, useStack } from "../../helpers/stack.ts";
import { cliRunner, type Run } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-rollout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = cliRunner(info, dir);
const runs: Run[] = [];
/** Every run is kept, so the last test can check that none printed a credential. */
const cli = async (args: readonly string[]): Promise<Run> => {
  const result = await runner.cli(args);
  runs.push(result);
  return result;
};

const run = randomBytes(4).toString("hex");
const agentIds = (label: string, n: number): string[] => Array.from({ length: n }, (_, i) => `cli-ro-${run}-${label}-${i}`);
const replying = agentIds("up", 2);
const silent = agentIds("quiet", 2);
const rolloutId = (label: string): string => `cli-ro-${run}-${label}`;
/** Tests that start the CLI several times and wait for waves: each start costs a second or two on a busy machine. */
const SLOW = { timeout: 120_000 };

const viewOf = (res: Run): RolloutView => rolloutViewSchema.parse(JSON.parse(res.stdout));

beforeAll(async () => {
  // Addresses in 10.246/16 are this file's; the simulator's generated fleet starts at 10.0.0.1.
  const base = Math.floor(Math.random() * 250);
  const agents = [...replying, ...silent].map((id, i) => ({ bk_agent_id: id, ip: `10.246.${base}.${i + 1}`, status_code: 2, churn: false }));
  await simulatorControl(info, "POST", "agents", { agents });
  await simulatorControl(info, "POST", "agents/silent", { ids: silent, silent: true });
});

describe("gse-control rollout", () => {
  it("start --watch on a tiny rollout follows it to SUCCEEDED (exit 0); --json prints the final view", SLOW, async () => {
    const id = rolloutId("ok");
    const res = await cli([
      "--json",
      "rollout",
      "start",
      "--id",
      id,
      "--agents",
      replying.join(","),
      "--content",
      '{"task":"ping"}',
      "--reply-timeout",
      "30",
      "--watch",
    ]);
    expect(res.code, res.stderr).toBe(0);
    // Nothing but the view on stdout: no progress lines with --json.
    const view = viewOf(res);
    expect(view).toMatchObject({ rollout_id: id, status: "SUCCEEDED", targets: 2, errors: 0 });
    expect(view.waves.map((w) => [w.index, w.size, w.status, w.counts?.REPLIED])).toEqual([[1, 2, "SUCCEEDED", 2]]);
  });

  it("status --watch off a terminal prints a line per wave as it changes, and the final view; status --json prints the view", SLOW, async () => {
    const id = rolloutId("lines");
    const started = await cli([
      "--json",
      "rollout",
      "start",
      "--id",
      id,
      "--agents",
      replying.join(","),
      "--content",
      "{}",
      "--strategy",
      "linear:1",
      "--reply-timeout",
      "30",
    ]);
    expect(started.code, started.stderr).toBe(0);
    expect(viewOf(started)).toMatchObject({ rollout_id: id, targets: 2 });

    const watched = await cli(["rollout", "status", id, "--watch"]);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`^rollout ${id}: SUCCEEDED`, "m"));
    expect(watched.stdout).toMatch(/^wave 1 {2}1 agents \[█+\] sent 1 settled 1 failed 0 {2}SUCCEEDED$/m);
    expect(watched.stdout).toMatch(/^wave 2 {2}1 agents \[█+\] sent 1 settled 1 failed 0 {2}SUCCEEDED$/m);
    expect(watched.stdout).toMatch(/^gate ok: 0 unhealthy of \d+ touched/m);
    // No bake asked: no "bake until" shown.
    expect(watched.stdout).not.toContain("bake until");

    const status = await cli(["--json", "rollout", "status", id]);
    expect(status.code, status.stderr).toBe(0);
    expect(viewOf(status)).toMatchObject({ rollout_id: id, status: "SUCCEEDED", current_wave: 2 });
  });

  it("pause, resume and abort answer the view (exit 0); abort of an ended rollout exits 1; status --watch of an aborted one exits 1", SLOW, async () => {
    const id = rolloutId("ops");
    const body = join(dir, "rollout.json");
    // A body file with the targets; the flags add to it. The agents never reply: wave 1 stays RUNNING.
    writeFileSync(body, JSON.stringify({ targets: { agent_id_list: silent }, content: '{"task":"slow"}', reply_timeout_seconds: 600 }));
    const started = await cli(["--json", "rollout", "start", "-f", body, "--id", id, "--strategy", "linear:1"]);
    expect(started.code, started.stderr).toBe(0);

    const paused = await cli(["--json", "rollout", "pause", id]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(viewOf(paused).status).toBe("PAUSED");
    const resumed = await cli(["rollout", "resume", id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^rollout ${id}: (RUNNING|BAKING)`, "m"));

    const aborted = await cli(["--json", "rollout", "abort", id, "--reason", "cli test"]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(viewOf(aborted)).toMatchObject({ rollout_id: id, status: "ABORTED" });
    expect(viewOf(aborted).reason).toContain("cli test");

    const again = await cli(["--json", "rollout", "abort", id]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { status: 409 } });

    const watched = await cli(["rollout", "status", id, "--watch"]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`^rollout ${id}: ABORTED`, "m"));
    expect(watched.stderr).toContain("the rollout ended ABORTED");

    const list = await cli(["--json", "rollout", "list", "--status", "ABORTED", "--limit", "200"]);
    expect(list.code, list.stderr).toBe(0);
    expect(rolloutListSchema.parse(JSON.parse(list.stdout)).rollouts.map((r) => r.rollout_id)).toContain(id);
    const table = await cli(["rollout", "list", "--limit", "200"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(id);

    // What the CLI showed is what the API holds.
    const api = await callApi(info.gatewayUrl, `/v1/rollouts/${encodeURIComponent(id)}`, { headers: authHeader });
    expect(api.body).toMatchObject({ result: true, data: { status: "ABORTED" } });
  });

  it("a rollout that does not exist exits 1 naming the API's 404; a body the route refuses exits 2 before anything is sent", async () => {
    const missing = await cli(["rollout", "status", rolloutId("nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("HTTP 404");
    const bad = await cli(["rollout", "start", "--agents", replying.join(","), "--content", "x", "--strategy", "linear:0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--strategy");
  });

  it("never prints a credential", () => {
    const secret = info.credentials.caller.bk_app_secret;
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
