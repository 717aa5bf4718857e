/**
 * The local stack's supervisor against real crashes: kill -9 of the runtime and of the supervisor
 * itself, and a second start on a directory in use. Each wait is on a condition (a pid gone, the
 * gateway answering, a line printed), never a fixed sleep.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { localClientConfig } from "../../../local/aws.ts";
import { isRunning } from "../../../local/pid-file.ts";
import type { StackInfo } from "../../../local/stack.ts";
import { spawnStack, startExpectingFailure, type SpawnedStack } from "../../helpers/spawn-stack.ts";
import { commandStore } from "../../helpers/commands.ts";
import { callApi, eventually, simulatorControl } from "../../helpers/stack.ts";

const dirs: string[] = [];
const started: SpawnedStack[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "gse-control-supervisor-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const stack of started) await stack.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(args: readonly string[]): Promise<SpawnedStack> {
  const stack = await spawnStack(["--ports", "auto", "--random-secrets", ...args]);
  started.push(stack);
  return stack;
}

const auth = (info: StackInfo): Record<string, string> => ({ "x-bkapi-authorization": JSON.stringify(info.credentials.caller) });

async function healthy(info: StackInfo): Promise<true | undefined> {
  try {
    return (await callApi(info.gatewayUrl, "/health", { headers: auth(info) })).status === 200 ? true : undefined;
  } catch {
    return undefined;
  }
}

const gone = (pid: number | undefined) => (): true | undefined => (pid !== undefined && !isRunning(pid) ? true : undefined);

/** The pid of the runtime the supervisor says it started after `before`, once it says so. */
const restartedPid = (stack: SpawnedStack, before: number) => (): number | undefined => {
  const pids = [...stack.output().matchAll(/restarted it \(pid (\d+)\)/g)].map((m) => Number(m[1]));
  const last = pids.at(-1);
  return last !== undefined && last !== before ? last : undefined;
};

const supervisorLog = (info: StackInfo): string => {
  const path = join(info.logsDir, "supervisor.log");
  return existsSync(path) ? readFileSync(path, "utf8") : "";
};

/**
 * One data directory's life, as a user meets it; the tests run in order on it (vitest runs a
 * file's tests one after another), which keeps this file to two stack starts.
 */
describe("the local stack's supervisor", () => {
  const dataDir = tempDir();
  let stack: SpawnedStack;
  beforeAll(async () => {
    stack = await start(["--data-dir", dataDir]);
  }, 90_000);

  it("refuses a second start on a data directory in use at once, naming the running stack's pid, and that stack keeps serving", async () => {
    const began = Date.now();
    const { code, output } = await startExpectingFailure(["--in-memory", "--ports", "auto", "--data-dir", dataDir]);
    expect(code).toBe(1);
    expect(output).toContain(`is in use by another local stack (pid ${stack.info.pids.supervisor}`);
    expect(output).toContain("--data-dir");
    // Refused before any part starts: no DynamoDB Local to wait for.
    expect(Date.now() - began).toBeLessThan(15_000);
    // /health has short timeouts of its own: on a loaded machine one answer may be a 503.
    await eventually("the stack to answer /health", () => healthy(stack.info), 30_000);
  });

  it("restarts a runtime killed with SIGKILL on the same gateway URL, and says so", async () => {
    const first = stack.info.pids.runtime;
    expect(first).toBeDefined();
    process.kill(first as number, "SIGKILL");
    await eventually("the killed runtime to be gone", gone(first));
    const second = await eventually("the supervisor to restart the runtime", restartedPid(stack, first as number), 30_000);
    await eventually("the gateway to answer again", () => healthy(stack.info), 30_000);
    expect(isRunning(second)).toBe(true);
    expect(supervisorLog(stack.info)).toContain('"event":"runtime restarted"');
  }, 60_000);

  it("after a SIGKILL of the supervisor, a restart on the same data directory ends the orphaned DynamoDB Local and ticks the command left RUNNING at once", async () => {
    const first = stack;
    const agent = `sup-${randomUUID().slice(0, 8)}`;
    await simulatorControl(first.info, "POST", "agents", { agents: [{ bk_agent_id: agent, ip: "10.250.0.1", status_code: 2, churn: false }] });
    await simulatorControl(first.info, "POST", "agents/silent", { ids: [agent], silent: true });
    const messageId = `test.supervisor.${randomUUID()}`;
    const dispatched = await callApi(first.info.gatewayUrl, "/api/v2/cluster/dispatch_message", {
      method: "POST",
      headers: auth(first.info),
      body: { message_id: messageId, agent_id_list: [agent], content: "ping", reply_timeout_seconds: 5 },
    });
    expect(dispatched.status, dispatched.text.slice(0, 300)).toBe(200);

    // The supervisor alone, as the OOM killer would: its children are not signalled. Its tick for
    // the command (due after the reply timeout) was in the supervisor's in-memory SQS and is lost.
    process.kill(first.info.pids.supervisor, "SIGKILL");
    await eventually("the supervisor to be gone", gone(first.info.pids.supervisor));
    const runtime = Number([...first.output().matchAll(/restarted it \(pid (\d+)\)/g)].at(-1)?.[1]);
    await eventually("the orphaned runtime to stop", gone(runtime), 15_000);

    stack = await start(["--data-dir", dataDir]);
    expect(isRunning(first.info.pids.dynamodb as number)).toBe(false);
    expect(stack.info.pids.dynamodb).not.toBe(first.info.pids.dynamodb);
    // /health has short timeouts of its own: on a loaded machine one answer may be a 503.
    await eventually("the stack to answer /health", () => healthy(stack.info), 30_000);
    expect(supervisorLog(stack.info)).toContain(`"event":"ended DynamoDB Local left running by an earlier stack","pid":${first.info.pids.dynamodb}`);

    // Without a tick on start-up the command would stay RUNNING until the five-minute sweep. Read
    // from the table, not GET /v1/commands (reading a command through the API settles it too).
    const dynamo = new DynamoDBClient(localClientConfig(stack.info.dynamodbEndpoint));
    try {
      const ended = await eventually(
        "the command left RUNNING to end",
        async () => {
          const command = await commandStore(stack.info, dynamo).getCommand(messageId);
          return command && command.status !== "RUNNING" ? command : undefined;
        },
        30_000,
      );
      expect(ended.counts).toMatchObject({ TIMED_OUT: 1 });
    } finally {
      dynamo.destroy();
    }
  }, 120_000);

  it("stops whole, exit code 1 and a message, when the runtime keeps crashing (a fourth crash within 60 s), leaving no process, lock or pid file", async () => {
    let runtime = stack.info.pids.runtime as number;
    const exited = new Promise<number | null>((resolve) => stack.child.once("exit", (code) => resolve(code)));
    for (let crash = 1; crash <= 4; crash++) {
      process.kill(runtime, "SIGKILL");
      const killed = runtime;
      await eventually("the killed runtime to be gone", gone(killed));
      if (crash < 4) runtime = await eventually("the supervisor to restart the runtime", restartedPid(stack, killed), 30_000);
    }
    expect(await exited).toBe(1);
    expect(stack.output()).toMatch(/the runtime crashed more than 3 times in 60 s \(last: exited with signal SIGKILL\); stopping the stack/);
    await eventually("DynamoDB Local to stop with the stack", gone(stack.info.pids.dynamodb), 15_000);
    expect(existsSync(join(dataDir, "supervisor.lock"))).toBe(false);
    expect(existsSync(join(dataDir, "dynamodb-local.pid"))).toBe(false);
  }, 90_000);
});

describe("a local stack whose DynamoDB Local dies", () => {
  it("stops whole: exit code 1, a message naming DynamoDB Local, the runtime gone, the lock and pid file removed", async () => {
    const dataDir = tempDir();
    const stack = await start(["--in-memory", "--data-dir", dataDir]);
    const exited = new Promise<number | null>((resolve) => stack.child.once("exit", (code) => resolve(code)));
    process.kill(stack.info.pids.dynamodb as number, "SIGKILL");
    expect(await exited).toBe(1);
    expect(stack.output()).toContain("DynamoDB Local exited unexpectedly (signal SIGKILL); stopping the stack");
    await eventually("the runtime to stop with the stack", gone(stack.info.pids.runtime), 15_000);
    expect(existsSync(join(dataDir, "supervisor.lock"))).toBe(false);
    expect(existsSync(join(dataDir, "dynamodb-local.pid"))).toBe(false);
  }, 90_000);
});
