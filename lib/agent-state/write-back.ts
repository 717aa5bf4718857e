/**
 * Write-behind for the agent state cache. Writing 10,000 agents back is 400 BatchWriteItem calls:
 * waiting for them would make a cold list_agent_state several times slower than asking GSE. So a
 * lookup hands what GSE said to the automation queue and answers; the automation function writes
 * it. A message that cannot be sent is written by the lookup itself, so nothing is lost.
 *
 * The job carries facts, not items: the writer reads each item as it is when the job runs and
 * decides there (new, changed, renewal), so a state confirmed later by someone else is never
 * replaced by this older one, and a job delivered twice writes nothing the second time.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import * as z from "zod";
import { applyWriteBack } from "./writes.ts";
import { parseJobBody, type JobHandler } from "../automation/jobs.ts";
import { JOB_TYPES } from "../automation/job-types.ts";
import type { QueueSender } from "../core/queue.ts";
import { agentFactsSchema, isStorableAgentId, type AgentStore } from "./store.ts";

export const AGENT_WRITE_BACK_JOB = JOB_TYPES.agentWriteBack;

const storableIdSchema = z.string().refine(isStorableAgentId, "is not a storable agent id (1 to 2048 UTF-8 bytes)");
const jobHeadShape = {
  type: z.literal(AGENT_WRITE_BACK_JOB),
  /** When GSE answered (ms): when the facts were true, and the newest state they may replace. */
  fetched_at: z.int().positive(),
};

/** A job as the writer applies it, and as a person may send it: one entry per agent. */
export const agentWriteBackJobSchema = z.object({
  ...jobHeadShape,
  agents: z.array(agentFactsSchema.extend({ agent_id: storableIdSchema })).min(1),
});
export type AgentWriteBackJob = z.infer<typeof agentWriteBackJobSchema>;

/**
 * The same job as the lookup sends it: agents grouped by what GSE said of them. A fleet has few
 * distinct states (versions × statuses × clouds), so a body is mostly ids, about a fifth of the
 * bytes of one entry per agent; the SQS client escapes every character of a body, so bytes are
 * time in the answer's path.
 */
export const groupedWriteBackJobSchema = z
  .object({
    ...jobHeadShape,
    groups: z.array(agentFactsSchema.extend({ ids: z.array(storableIdSchema).min(1) })).min(1),
  })
  .transform(
    ({ groups, ...head }): AgentWriteBackJob => ({
      ...head,
      agents: groups.flatMap(({ ids, ...facts }) => ids.map((agent_id) => ({ agent_id, ...facts }))),
    }),
  );

/** A write-back body in either form; a body that is neither is poison, with the field at fault. */
export function parseWriteBackJob(body: unknown): AgentWriteBackJob {
  const grouped = typeof body === "object" && body !== null && Object.hasOwn(body, "groups");
  return grouped
    ? parseJobBody(groupedWriteBackJobSchema, body, "not an agent write-back")
    : parseJobBody(agentWriteBackJobSchema, body, "not an agent write-back");
}

/** Where a lookup hands what GSE said, to be written after the answer has gone. */
export interface WriteBehind {
  /** What GSE said at `fetchedAt` about `agents`. */
  send(fetchedAt: number, agents: AgentWriteBackJob["agents"]): Promise<void>;
}

/** Below SQS's classic 256 KiB message limit, with room for the envelope and attributes. */
export const MAX_JOB_BYTES = 200 * 1024;

/**
 * Equal for equal states, without a JSON.stringify per agent (a lookup's 5000 agents share a few
 * states); the version is the one free-text field, so it alone is quoted.
 */
const stateKey = (a: AgentWriteBackJob["agents"][number]): string =>
  `${a.known}|${a.source}|${a.bk_cloud_id}|${a.run_mode}|${a.status_code}|${a.alive}|${a.version === undefined ? "" : JSON.stringify(a.version)}`;

/** The job as grouped message bodies of at most `maxBytes` each (one agent never splits). */
export function jobBodies(job: AgentWriteBackJob, maxBytes = MAX_JOB_BYTES): string[] {
  // By state: the facts' JSON once per group, the ids as JSON strings.
  const groups = new Map<string, string[]>();
  const factsJson = new Map<string, string>();
  for (const agent of job.agents) {
    const key = stateKey(agent);
    const ids = groups.get(key);
    if (ids) ids.push(JSON.stringify(agent.agent_id));
    else {
      groups.set(key, [JSON.stringify(agent.agent_id)]);
      const { agent_id: _, ...facts } = agent;
      factsJson.set(key, JSON.stringify(facts));
    }
  }
  const head = `{"type":${JSON.stringify(job.type)},"fetched_at":${job.fetched_at},"groups":[`;
  const tail = "]}";
  const bodies: string[] = [];
  let parts: string[] = [];
  let size = Buffer.byteLength(head) + tail.length;
  const close = (): void => {
    bodies.push(head + parts.join(",") + tail);
    parts = [];
    size = Buffer.byteLength(head) + tail.length;
  };
  for (const [key, ids] of groups) {
    const facts = factsJson.get(key) ?? "{}";
    // `{…facts,"ids":[` + ids + `]}`, and a comma before it unless it opens the body.
    const open = `${facts.slice(0, -1)},"ids":[`;
    const groupOverhead = Buffer.byteLength(open) + 2;
    let current: string[] = [];
    let currentBytes = 0;
    for (const id of ids) {
      const bytes = Buffer.byteLength(id) + (current.length > 0 ? 1 : 0);
      const wanted = size + (parts.length > 0 ? 1 : 0) + groupOverhead + currentBytes + bytes;
      if (wanted > maxBytes && (current.length > 0 || parts.length > 0)) {
        if (current.length > 0) parts.push(`${open}${current.join(",")}]}`);
        close();
        current = [id];
        currentBytes = Buffer.byteLength(id);
        continue;
      }
      current.push(id);
      currentBytes += bytes;
    }
    if (current.length > 0) {
      size += (parts.length > 0 ? 1 : 0) + groupOverhead + currentBytes;
      parts.push(`${open}${current.join(",")}]}`);
    }
  }
  if (parts.length > 0) close();
  return bodies;
}

/**
 * How long a write-back waits on the queue before the automation function may take it. bk-monitor
 * sends its requests side by side (10,000 ids are two of 5000): the first to answer would
 * otherwise start its writes while the others are still answering, and where they share a
 * process (the local stack, one thread) the writes slow those answers. A second later costs
 * nothing: a repeat within it asks GSE again, as it could before the write landed anyway.
 */
export const WRITE_BACK_DELAY_SECONDS = 1;

/** Write-behind through the automation queue: the job in as few bodies as fit, sent side by side. */
export class QueueWriteBehind implements WriteBehind {
  constructor(
    private readonly queue: QueueSender,
    private readonly delaySeconds = WRITE_BACK_DELAY_SECONDS,
  ) {}

  async send(fetchedAt: number, agents: AgentWriteBackJob["agents"]): Promise<void> {
    const job: AgentWriteBackJob = { type: AGENT_WRITE_BACK_JOB, fetched_at: fetchedAt, agents };
    await Promise.all(jobBodies(job).map((body) => this.queue.sendBody(body, { delaySeconds: this.delaySeconds })));
  }
}

/**
 * The automation job that runs write-backs; a body that is not one is poison, not a retry.
 * `onFirstSeen` hears the agents the cache meets for the first time (the fleet registry watches
 * them); it must not fail, since the write is done by then.
 */
export function agentWriteBackJob(deps: {
  store: AgentStore;
  ttlMs: number;
  now: () => number;
  logger?: Logger;
  onFirstSeen?: (ids: readonly string[]) => Promise<unknown>;
}): JobHandler {
  return async (envelope) => {
    const job = parseWriteBackJob(envelope);
    const { first_seen, ...result } = await applyWriteBack(deps, job);
    if (first_seen.length > 0) await deps.onFirstSeen?.(first_seen);
    deps.logger?.info("agent state write-back", { fetched_at: job.fetched_at, lag_ms: deps.now() - job.fetched_at, first_seen: first_seen.length, ...result });
  };
}
