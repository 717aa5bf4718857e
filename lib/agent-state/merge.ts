/**
 * A lookup's fetch, merge and write-back steps: pending ids go to GSE a chunk at a time (fetch.ts),
 * each answer is merged into the lookup's items as soon as it comes, and what GSE said is handed
 * to the write-behind queue or written directly (writes.ts) while other chunks are still out.
 */
import type { AgentWriteBackJob } from "./write-back.ts";
import { fetchAgentStates } from "./fetch.ts";
import type { LookupRun } from "./lookup-run.ts";
import { writeBackFor } from "./rules.ts";
import { isStorableAgentId, type AgentFacts, type AgentItem, type AgentRenewal } from "./store.ts";
import { storeWrites, writeOver, type WriteCounts } from "./writes.ts";

const errorOf = (error: unknown): Error | string => (error instanceof Error ? error : String(error));

/** Sends every full chunk of pending ids to GSE; with `all`, the last partial one too. */
export function dispatch(run: LookupRun, all: boolean): void {
  const { chunkSize } = run.deps.settings;
  while (run.pending.length >= chunkSize || (all && run.pending.length > 0)) {
    const part = run.pending.slice(0, chunkSize);
    run.pending = run.pending.slice(chunkSize);
    run.fetchStartedAt ??= run.deps.now();
    run.stats.fetched += part.length;
    run.fetches.push(run.limit(async () => merge(run, await fetchChunk(run, part))));
  }
}

/** One GSE call; "none of these is known" is kept for the answer, not thrown. */
async function fetchChunk(run: LookupRun, part: readonly string[]): Promise<Map<string, AgentFacts>> {
  run.stats.gse_calls++;
  const answer = await fetchAgentStates(run.deps.gse, run.source, part);
  if (answer.noneFound) run.noneFound = answer.noneFound;
  return answer.facts;
}

/**
 * Puts GSE's answer for a chunk into the lookup's items and the memo, and starts its write:
 * kept for the lookup's one write-behind message (handOn), or written directly against the items
 * as read before this lookup; agents the fleet holds are not written.
 */
async function merge(run: LookupRun, facts: ReadonlyMap<string, AgentFacts>): Promise<void> {
  // Handed on, what the fleet holds is left out at the end (handOn): only direct writes wait for the fleet here.
  await (run.deps.writeBehind ? run.readDone : Promise.all([run.readDone, run.fleetDone]));
  const { deps, ttlMs } = run;
  const now = deps.now();
  const puts: AgentItem[] = [];
  const renewals: AgentRenewal[] = [];
  const handed = run.handed;
  if (deps.writeBehind) run.handedAt ??= now;
  for (const [id, fact] of facts) {
    const write = writeBackFor(id, fact, run.previous.get(id), now, ttlMs);
    run.items.set(id, write.item);
    if (!isStorableAgentId(id)) continue;
    deps.memo?.set(write.item);
    if (deps.writeBehind) {
      handed.push({ agent_id: id, ...fact });
      continue;
    }
    // The heartbeat keeps it in the fleet table: a copy in the agents table would only cost writes.
    if (run.fleetHeld.has(id)) {
      run.stats.fleet_held++;
      continue;
    }
    if (write.kind === "put") puts.push(write.item);
    else if (write.kind === "renew") renewals.push(write.renewal);
  }
  // Written while other chunks are still with GSE; a cache write never fails the answer.
  if (!deps.writeBehind && !run.stats.cache_unavailable && (puts.length > 0 || renewals.length > 0)) {
    run.writes.push(writeDirectly(run, puts, renewals));
  }
}

/**
 * Hands what GSE said to the write-behind queue, once every chunk is in and the fleet has said
 * what it holds (agents it holds are left out): one message per lookup
 * (a 5000-id request's is about 80 KB), not one per chunk. The chunks of a request come back
 * together (GSE_CONCURRENCY of them at once), so a message per chunk saved no time; it cost more
 * SQS requests, and let the write-back start while the answer was still being made.
 */
export function handOn(run: LookupRun): void {
  const at = run.handedAt;
  if (run.handed.length === 0 || at === undefined) return;
  // A no-cache lookup reads the fleet while GSE answers; what the fleet holds is not written.
  const handing = run.fleetDone.then(() => {
    const agents = run.handed.filter((agent) => !run.fleetHeld.has(agent.agent_id));
    run.stats.fleet_held += run.handed.length - agents.length;
    return agents.length > 0 ? handToWriteBehind(run, at, agents) : undefined;
  });
  run.writes.push(handing);
}

function addCounts(run: LookupRun, counts: WriteCounts): void {
  run.stats.written += counts.written;
  run.stats.renewed += counts.renewed;
  run.stats.renew_conflicts += counts.renew_conflicts;
  run.stats.write_failures += counts.write_failures;
}

async function writeDirectly(run: LookupRun, puts: AgentItem[], renewals: AgentRenewal[]): Promise<void> {
  try {
    addCounts(run, await storeWrites(run.deps.store, puts, renewals, run.calls));
  } catch (error) {
    run.stats.write_failures += puts.length + renewals.length;
    run.deps.logger?.error("agent cache write failed", { error: errorOf(error) });
  }
}

/** Queued for the automation function; when the queue is down, written here as the job would. */
function handToWriteBehind(run: LookupRun, now: number, handed: AgentWriteBackJob["agents"]): Promise<void> {
  const { deps, stats } = run;
  const writeBehind = deps.writeBehind;
  if (writeBehind === undefined) return Promise.resolve();
  const sendStartedAt = deps.now();
  return writeBehind.send(now, handed).then(
    () => {
      stats.queued += handed.length;
      stats.queue_ms = deps.now() - sendStartedAt;
    },
    async (error: unknown) => {
      deps.logger?.warn("write-behind queue unavailable; writing the agent cache directly", { error: errorOf(error) });
      if (stats.cache_unavailable) {
        stats.write_failures += handed.length;
        return;
      }
      // What the write-back job would do, done here: read the items as they are now, then write.
      try {
        addCounts(run, await writeOver(deps.store, run.ttlMs, now, handed, run.calls));
      } catch (writeError) {
        stats.write_failures += handed.length;
        deps.logger?.error("agent cache write failed", { error: errorOf(writeError) });
      }
    },
  );
}
