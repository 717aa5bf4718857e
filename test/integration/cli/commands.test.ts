/**
 * The CLI's tracked commands as operators run them: `dispatch` (with and without
 * `--wait`), `command`, `commands` and `cancel`, real processes against the test stack. Other
 * files share the simulator: every agent and message id here is this file's own.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandList, CommandPage, DispatchAnswer } from "../../../lib/commands/schemas.ts";
import { callApi, eventually, simulatorControl, useStack, withFaults } from "../../helpers/stack.ts";
import { cliRunner, type Run } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = cliRunner(info, dir);
const runs: Run[] = [];
/** Every run is kept, so the last test can check that none printed a credential. */
const cli = async (args: readonly string[], env?: Record<string, string | undefined>): Promise<Run> => {
  const result = await runner.cli(args, env);
  runs.push(result);
  return result;
};

const run = randomBytes(4).toString("hex");
const agentIds = (label: string, n: number): string[] => Array.from({ length: n }, (_, i) => `cli-cmd-${run}-${label}-${i}`);
const up = agentIds("up", 3);
const [down = "", downToo = "", quiet = ""] = agentIds("other", 3);
const messageId = (label: string): string => `cli-test/${run}/${label}`;
/** Tests that start the CLI four times or more: each start costs a second or two on a busy machine. */
const SLOW = { timeout: 60_000 };
const commandUrl = (id: string): string => `/v1/commands/${encodeURIComponent(id)}`;

/** The simulator's clock churns ~1 % of agents a minute: each test sets the statuses it relies on. */
const setStatus = (ids: readonly string[], statusCode: number): Promise<unknown> =>
  simulatorControl(info, "POST", "agents/status", { ids, status_code: statusCode });

beforeAll(async () => {
  // Addresses in 10.247/16 are this file's; the simulator's generated fleet starts at 10.0.0.1.
  const base = Math.floor(Math.random() * 250);
  const agents = [...up, down, downToo, quiet].map((id, i) => ({ bk_agent_id: id, ip: `10.247.${base}.${i + 1}`, status_code: 2, churn: false }));
  await simulatorControl(info, "POST", "agents", { agents });
  await simulatorControl(info, "POST", "agents/silent", { ids: [quiet], silent: true });
});

describe("gse-control tracked commands", () => {
  it("dispatch --wait to running agents ends SUCCEEDED (exit 0); --json prints the final page with its counts", async () => {
    await setStatus(up, 2);
    const id = messageId("ok");
    const res = await cli([
      "--json",
      "dispatch",
      "--agents",
      up.join(","),
      "--content",
      '{"task":"ping"}',
      "--message-id",
      id,
      "--reply-timeout",
      "30",
      "--wait",
    ]);
    expect(res.code, res.stderr).toBe(0);
    // Nothing but the JSON on stdout: no progress lines with --json.
    const page = JSON.parse(res.stdout) as CommandPage;
    expect(page.command).toMatchObject({ message_id: id, status: "SUCCEEDED", targets: 3, counts: { REPLIED: 3, FAILED: 0, PENDING: 0, RETRYING: 0 } });
    expect(page.agents.map((a) => [a.bk_agent_id, a.outcome]).sort()).toEqual(up.map((a) => [a, "REPLIED"]));
  });

  it("takes agents from a file and content from @file, and without --json prints the summary", async () => {
    await setStatus(up, 2);
    const agentsFile = join(dir, "agents.txt");
    writeFileSync(agentsFile, `# this file's agents\n${up.join("\n")}\n\n`);
    const contentFile = join(dir, "content.json");
    writeFileSync(contentFile, '{"task":"from-file"}');
    const id = messageId("files");
    const res = await cli(["dispatch", "--agents", agentsFile, "--content", `@${contentFile}`, "--message-id", id, "--max-concurrency", "50%", "--wait"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`${id}: SUCCEEDED, 3 agents`);
    // Half the targets at once: two batches.
    expect(res.stdout).toContain("batches 2/2 sent");
  });

  it("dispatch without --wait prints the command and its undelivered agents (exit 0 while it runs); cancel stops it", SLOW, async () => {
    await setStatus([quiet], 2);
    await setStatus([down], 0);
    const id = messageId("cancel");
    // The quiet agent takes the message and never replies: the command runs until its reply timeout, or a cancel.
    const res = await cli(["dispatch", "--agents", `${quiet},${down}`, "--content", "x", "--message-id", id, "--reply-timeout", "600"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`${id}: RUNNING, 2 agents`);
    expect(res.stdout).toMatch(new RegExp(`${down}\\s*│\\s*1\\s*│\\s*agent not connected`));

    expect(await listed(id, "RUNNING")).toBe(true);

    const cancelled = await cli(["--json", "cancel", id, "--reason", "test is done"]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ message_id: id, status: "CANCELLED", reason: expect.stringContaining("test is done") });

    const again = await cli(["cancel", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/HTTP 409.*CANCELLED, not RUNNING/);
  });

  it("dispatch --wait follows retries: an agent back up before its last attempt ends the command SUCCEEDED", async () => {
    await setStatus([downToo], 0);
    const id = messageId("retry");
    const waiting = cli(["dispatch", "--agents", downToo, "--content", "x", "--message-id", id, "--wait"]);
    await eventually("the first failed delivery", async () => {
      const res = await callApi(info.gatewayUrl, commandUrl(id), { headers: authHeader });
      const counts = (res.body.data as CommandPage | undefined)?.command.counts;
      return counts && counts.FAILED + counts.RETRYING > 0 ? true : undefined;
    });
    await setStatus([downToo], 2);
    const res = await waiting;
    expect(res.code, res.stderr).toBe(0);
    // Not a terminal: one line per change, then the summary.
    expect(res.stdout).toMatch(/^RUNNING: 0\/1 agents settled \((FAILED|RETRYING) 1\)$/m);
    expect(res.stdout).toContain(`${id}: SUCCEEDED, 1 agent,`);
  });

  it("dispatch --wait follows a command GSE refused at first: the route answered 5xx, the command retried", async () => {
    await setStatus(up, 2);
    const id = messageId("refused");
    const res = await withFaults(info, [{ kind: "http_error", status: 502, operation: "dispatch_message", match: id, count: 1 }], () =>
      cli(["dispatch", "--agents", up.join(","), "--content", "x", "--message-id", id, "--wait"]),
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/HTTP 502.*the command was recorded and retries, waiting for it/);
    expect(res.stdout).toContain(`${id}: SUCCEEDED, 3 agents`);
  });

  const aborted = messageId("aborted");

  it("exits 1 when a command ends other than SUCCEEDED, printing the final page", async () => {
    await setStatus(up, 2);
    await setStatus([down], 0);
    const res = await cli([
      "--json",
      "dispatch",
      "--agents",
      `${down},${up.join(",")}`,
      "--content",
      "x",
      "--message-id",
      aborted,
      "--max-errors",
      "0",
      "--wait",
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("the command ended ABORTED");
    const page = JSON.parse(res.stdout) as CommandPage;
    expect(page.command).toMatchObject({ status: "ABORTED", rollout: { max_errors: 0, errors: 1 }, counts: { FAILED: 1 } });
  });

  it("command shows the agents' outcomes, all or one outcome's", SLOW, async () => {
    const shown = await cli(["command", aborted]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`${aborted}: ABORTED, 4 agents`);
    expect(shown.stdout).toMatch(new RegExp(`${down}\\s*│\\s*FAILED\\s*│`));
    expect(shown.stdout).toContain("agent not connected");

    const failed = await cli(["--json", "command", aborted, "--outcome", "FAILED"]);
    expect(failed.code, failed.stderr).toBe(0);
    expect((JSON.parse(failed.stdout) as CommandPage).agents.map((a) => [a.bk_agent_id, a.outcome, a.code])).toEqual([[down, "FAILED", 1]]);
  });

  it("commands --status lists the command; cancel of a finished command exits 1", SLOW, async () => {
    expect(await listed(aborted, "ABORTED")).toBe(true);
    const table = await cli(["commands", "--status", "ABORTED", "--limit", "5"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("ABORTED");
    expect(table.stdout).not.toMatch(/SUCCEEDED|RUNNING/);

    const cancel = await cli(["cancel", aborted]);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/HTTP 409.*ABORTED, not RUNNING/);
  });

  it("without --wait, a command that ended at once other than SUCCEEDED exits 1 with the dispatch answer", async () => {
    await setStatus([down], 0);
    const res = await cli(["--json", "dispatch", "--agents", down, "--content", "x", "--max-errors", "0"]);
    expect(res.code).toBe(1);
    const answer = JSON.parse(res.stdout) as DispatchAnswer;
    expect(answer.command.message_id).toMatch(/^cli\.[0-9a-f]{16}$/);
    expect(answer).toMatchObject({ results: [{ bk_agent_id: down, code: 1 }], command: { status: "ABORTED" } });
  });

  it("exits 1 for a command that does not exist, and 1 without echoing a wrong secret", async () => {
    const missing = await cli(["command", messageId("never-sent")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("HTTP 404");

    const secret = "wrong-secret-never-to-be-printed";
    const denied = await cli(["dispatch", "--agents", up.join(","), "--content", "x", "--wait"], { ...runner.env, GSE_CONTROL_APP_SECRET: secret });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 401/);
    expect(denied.stdout + denied.stderr).not.toContain(secret);
  });

  it("never printed the caller's credentials in any run", () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(info.credentials.caller.bk_app_secret);
  });
});

/** Whether `commands --status` lists the command, following pages (other files' commands share the table). */
async function listed(id: string, status: string): Promise<boolean> {
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await cli(["--json", "commands", "--status", status, "--limit", "200", ...(cursor ? ["--cursor", cursor] : [])]);
    expect(res.code, res.stderr).toBe(0);
    const list = JSON.parse(res.stdout) as CommandList;
    if (list.commands.some((c) => c.message_id === id && c.status === status)) return true;
    if (!list.next_cursor) return false;
    cursor = list.next_cursor;
  }
  return false;
}
