/**
 * The heartbeat's view of GSE: one chunk of ids asked through the agent state fetcher
 * (lib/agent-state/fetch.ts), every id answered with an observation, within a hard deadline.
 */
import { agentSourceOf, fetchAgentStates } from "../agent-state/fetch.ts";
import { withinTime } from "../core/deadline.ts";
import { GseError } from "../core/errors.ts";
import type { GseClient } from "../gse/client.ts";
import type { Observation } from "./rules.ts";

export class PollDeadlineError extends Error {
  constructor(ms: number) {
    super(`GSE did not answer within the poll's time (${Math.round(ms)} ms left)`);
    this.name = "PollDeadlineError";
  }
}

/** `work`, or a PollDeadlineError after `ms` of real time (Lambda's timeout is real time too). */
export const withDeadline = <T>(work: Promise<T>, ms: number): Promise<T> => withinTime(work, ms, () => new PollDeadlineError(ms));

/**
 * Asks GSE about one chunk; every id gets an observation (omitted ones are unknown). GSE's
 * "none of these is known" is an answer here too: each id is unknown, not a failed call.
 */
export async function observeChunk(
  gse: Pick<GseClient, "call">,
  useNewApi: boolean,
  ids: readonly string[],
  timeoutMs?: number,
): Promise<Map<string, Observation>> {
  const answer = await fetchAgentStates(gse, agentSourceOf(useNewApi), ids, timeoutMs !== undefined ? { timeoutMs } : {});
  return new Map(
    ids.map((id): [string, Observation] => {
      const facts = answer.facts.get(id) ?? { known: false, source: agentSourceOf(useNewApi), alive: false };
      const record = answer.records.get(id);
      return [id, { facts, ...(record !== undefined ? { record } : {}) }];
    }),
  );
}

/** A failure as the shard result and the logs say it. */
export const describeError = (error: unknown): string =>
  error instanceof GseError ? `${error.kind}: ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
