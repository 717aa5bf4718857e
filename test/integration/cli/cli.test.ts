/**
 * The CLI as operators run it: a real process (`bin/gse-control.mjs`) against the test stack's
 * gateway, checked by its output and exit code.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addSimulatorAgents, callApi, uniqueBuiltInChannelId, useStack } from "../../helpers/stack.ts";
import { cliRunner } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const caller = info.credentials.caller;
const { cli, env } = cliRunner(info, dir);

async function twoAgents(): Promise<string[]> {
  const agents = await addSimulatorAgents(info, () => {
    const base = 100 + Math.floor(Math.random() * 150);
    return [`10.231.${base}.1`, `10.231.${base}.2`].map((ip) => ({ ip, version: "2.1.5", run_mode: 1, status_code: 2 }));
  });
  return agents.map((a) => `0:${a.ip}`);
}

describe("gse-control CLI", () => {
  it("watches agents, then lists them and shows one, as tables and as JSON", async () => {
    const ids = await twoAgents();
    const watched = await cli(["watch", ...ids]);
    expect(watched, watched.stderr).toMatchObject({ code: 0 });
    expect(watched.stdout).toContain("registered 2");

    // The stack's heartbeat runs every minute: a just-registered agent is pending, or alive if a poll came between.
    for (const id of ids) {
      const shown = await cli(["--json", "agent", id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect((JSON.parse(shown.stdout) as { agent: { agent_id: string; status: string } }).agent).toMatchObject({
        agent_id: id,
        status: expect.stringMatching(/^(pending|alive)$/),
      });
    }
    const one = await cli(["agent", ids[0] ?? ""]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^${ids[0]}: (pending|alive)`));

    const listed = await cli(["--json", "agents", "--limit", "5"]);
    expect(listed.code, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout) as { agents: { agent_id: string }[]; next_cursor: string | null };
    expect(page.agents.length).toBeGreaterThan(0);
    expect(page.agents.length).toBeLessThanOrEqual(5);
    const table = await cli(["agents", "--limit", "5"]);
    expect(table.stdout).toContain(page.agents[0]?.agent_id);
  });

  it("reads agent state through the cache, from arguments or a file", async () => {
    const ids = await twoAgents();
    const file = join(dir, "ids.txt");
    writeFileSync(file, `# two agents\n${ids.join("\n")}\n\n`);
    const fromFile = await cli(["--json", "state", "--file", file, "--no-cache"]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect((JSON.parse(fromFile.stdout) as { bk_agent_id: string; status_code: number }[]).map((s) => [s.bk_agent_id, s.status_code])).toEqual(
      ids.map((id) => [id, 2]),
    );
    const table = await cli(["state", ...ids]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(ids[1]);
    expect(table.stdout).toContain("running (2)");
  });

  it("prints the fleet summary, or says no poll has finished", async () => {
    const res = await cli(["fleet"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/agents as of|No heartbeat poll has finished yet/);
  });

  it("shows a route's versions and their diff, rolls it back and finds it in sync with GSE", { timeout: 60_000 }, async () => {
    const channelId = uniqueBuiltInChannelId();
    const routeOf = (n: number) => ({ name: `cli_${channelId}_${n}`, stream_to: { stream_to_id: 501, kafka: { topic_name: `cli_${channelId}_${n}` } } });
    const added = await callApi(info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: authHeader,
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, route: [routeOf(1)] },
    });
    expect(added.body).toMatchObject({ result: true });
    const updated = await callApi(info.gatewayUrl, "/api/v2/data/update_route", {
      method: "POST",
      headers: authHeader,
      body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" }, specification: { route: [routeOf(2)] } },
    });
    expect(updated.body).toMatchObject({ result: true });

    const history = await cli(["--json", "config", "history", "route", String(channelId)]);
    expect(history.code, history.stderr).toBe(0);
    const page = JSON.parse(history.stdout) as { head: { current_version: number }; versions: { version: number; status: string }[] };
    expect(page.head.current_version).toBe(2);
    expect(page.versions.map((v) => [v.version, v.status])).toEqual([
      [2, "APPLIED"],
      [1, "APPLIED"],
      [0, "APPLIED"],
    ]);
    const table = await cli(["config", "history", "route", String(channelId)]);
    expect(table.stdout).toContain(`route#${channelId}: current 2, last good 2`);

    const diff = await cli(["config", "diff", "route", String(channelId), "1", "2"]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`+ route[name=cli_${channelId}_2]`);

    const rolled = await cli(["config", "rollback", "route", String(channelId), "1"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toMatch(/^version 3 \(rollback_to of version 1\): APPLIED/);
    const drift = await cli(["config", "drift", "route", String(channelId)]);
    expect(drift.code, drift.stderr).toBe(0);
    expect(drift.stdout).toContain("in sync with GSE");
  });

  // The other usage errors are checked in-process (test/unit/cli/usage.test.ts); this one proves the binary's exit code.
  it("exits 2 from the real binary for an unknown command", async () => {
    const res = await cli(["nope"]);
    expect(res.code).toBe(2);
    expect(res.stderr).not.toBe("");
  });
  it("exits 1 with the API's field when an id is not GSE's, and 1 without echoing a wrong secret", async () => {
    const bad = await cli(["watch", "0:10.0.0.999"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("agent_id_list.0");

    const secret = "wrong-secret-never-to-be-printed";
    const denied = await cli(["fleet"], { ...env, GSE_CONTROL_APP_SECRET: secret });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 401/);
    expect(denied.stdout + denied.stderr).not.toContain(secret);
  });

  it("takes credentials from a profile only when nobody else can read it", async () => {
    const profile = join(dir, "profile.json");
    writeFileSync(profile, JSON.stringify({ url: info.gatewayUrl, bk_app_code: caller.bk_app_code, bk_app_secret: caller.bk_app_secret }));
    chmodSync(profile, 0o644);
    const open = await cli(["fleet"], { GSE_CONTROL_PROFILE: profile });
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("chmod 600");
    expect(open.stderr).not.toContain(caller.bk_app_secret);
    chmodSync(profile, 0o600);
    const closed = await cli(["fleet"], { GSE_CONTROL_PROFILE: profile });
    expect(closed.code, closed.stderr).toBe(0);
  });
});
