/**
 * Helpers for the status page's tests against the shared stack: agents of the test's own in the
 * simulator, watched in the stack's own fleet table, and heartbeat polls of that table on demand
 * (real time, so each poll is a new one to the rules; alerts go to the stack's topic and so to
 * its alert log). The stack's scheduled heartbeat polls the same agents too; both observe the
 * same simulator, and each write is conditional on what it read.
 */
import { randomUUID } from "node:crypto";
import { registerAgents } from "../../lib/fleet/service.ts";
import { runShard, startPoll, type HeartbeatDeps, type HeartbeatSettings } from "../../lib/heartbeat/poll.ts";
import type { StackInfo } from "../../local/stack.ts";
import { testHeartbeat } from "./heartbeat.ts";
import { addSimulatorAgents, simulatorControl } from "./stack.ts";

/** Basic credentials as a browser sends them. */
export const basicAuth = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`,
});

let block = 0;

/** `n` GSE 2.0 agents of this file's own, running, exempt from the simulator's status churn. */
export async function addConsoleAgents(info: StackInfo, n: number, version = "2.1.5"): Promise<string[]> {
  const run = randomUUID().slice(0, 8);
  const agents = await addSimulatorAgents(info, () => {
    const b = 1 + Math.floor(Math.random() * 200) + block++;
    return Array.from({ length: n }, (_, i) => ({
      bk_agent_id: `console-${run}-${i}`,
      ip: `10.250.${b % 256}.${i + 1}`,
      version,
      status_code: 2,
      churn: false,
    }));
  });
  return agents.map((a) => a.bk_agent_id);
}

export interface StackPoller {
  /** One heartbeat poll of the stack's fleet table now, every shard run; its alerts go to the stack's topic. Answers the poll's time. */
  poll(): Promise<number>;
  /** Watches these agents (as POST /v1/fleet/agents/register does). */
  watch(ids: readonly string[]): Promise<void>;
}

export async function stackPoller(info: StackInfo, settings: Partial<HeartbeatSettings> = {}): Promise<StackPoller> {
  const hb = await testHeartbeat(settings, { table: info.tables.fleet });
  hb.clock.now = Date.now();
  const deps: HeartbeatDeps = { ...hb.deps, topicArn: info.alertsTopicArn, now: () => Math.max(Date.now(), hb.clock.now) };
  return {
    async poll() {
      // A new poll id each time, even within one millisecond of the last.
      hb.clock.now = Math.max(Date.now(), hb.clock.now + 1);
      await startPoll(deps, hb.clock.now);
      while (hb.queued.length > 0) {
        const job = hb.queued.shift();
        if (job) await runShard(deps, job);
      }
      return hb.clock.now;
    },
    async watch(ids) {
      await registerAgents({ store: hb.store, now: Date.now, settings: { evictAfterSeconds: 86_400 } }, ids, "api");
    },
  };
}

export const setAgentStatus = (info: StackInfo, ids: readonly string[], statusCode: number): Promise<unknown> =>
  simulatorControl(info, "POST", "agents/status", { ids, status_code: statusCode });
