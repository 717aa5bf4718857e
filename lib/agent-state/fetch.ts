/**
 * The one way this project asks GSE about agents: a chunk of ids goes to list_agent_state (GSE
 * 2.0) or get_agent_status (the legacy ESB call), as bk-monitor's USE_GSE_AGENT_STATUS_NEW_API
 * chooses, and the answer becomes one AgentFacts per id asked. The agent state cache
 * (lookup.ts) and the heartbeat (lib/heartbeat/observe.ts) both call fetchAgentStates; what they
 * do with GSE's raw records, its "none found" and its failures is theirs.
 */
import { GseError } from "../core/errors.ts";
import type { CallOptions, GseClient } from "../gse/client.ts";
import { GSE_AGENT_NONE_FOUND_CODE, type GetAgentStatusData, type Host, type ListAgentStateData } from "../gse/schemas.ts";
import { legacyId, parseLegacyId } from "./rules.ts";
import type { AgentFacts, AgentSource } from "./store.ts";

/** list_agent_state's status_code of a running agent. */
export const RUNNING_STATUS = 2;

/** Which call a deployment fills agent state from. */
export const agentSourceOf = (useNewAgentStatusApi: boolean): AgentSource => (useNewAgentStatusApi ? "list_agent_state" : "get_agent_status");

/** The legacy call addresses hosts, so a 2.0 id cannot be asked through it. */
export const isAskable = (source: AgentSource, id: string): boolean => source === "list_agent_state" || parseLegacyId(id) !== undefined;

const unknownFacts = (source: AgentSource): AgentFacts => ({ known: false, source, alive: false });

/** One entry per asked id: GSE's item (the first, if repeated), or unknown when GSE omitted it. */
export function factsFromListAgentState(asked: readonly string[], data: ListAgentStateData): Map<string, AgentFacts> {
  const answered = firstPerId(data);
  return new Map(
    asked.map((id): [string, AgentFacts] => {
      const state = answered.get(id);
      if (state === undefined) return [id, unknownFacts("list_agent_state")];
      return [
        id,
        {
          known: true,
          source: "list_agent_state",
          bk_cloud_id: state.bk_cloud_id,
          version: state.version,
          run_mode: state.run_mode,
          status_code: state.status_code,
          alive: state.status_code === RUNNING_STATUS,
        },
      ];
    }),
  );
}

/**
 * The legacy call reports only `bk_agent_alive` per host (no version, run_mode or status_code),
 * and answers unknown hosts as not alive: that is all an item filled from it holds.
 */
export function factsFromGetAgentStatus(asked: readonly string[], data: GetAgentStatusData): Map<string, AgentFacts> {
  return new Map(
    asked.map((id): [string, AgentFacts] => {
      const entry = hostEntryOf(data, id);
      if (entry === undefined) return [id, unknownFacts("get_agent_status")];
      return [id, { known: true, source: "get_agent_status", bk_cloud_id: entry.bk_cloud_id, alive: entry.bk_agent_alive === 1 }];
    }),
  );
}

function firstPerId(data: ListAgentStateData): Map<string, ListAgentStateData[number]> {
  const first = new Map<string, ListAgentStateData[number]>();
  for (const state of data) if (!first.has(state.bk_agent_id)) first.set(state.bk_agent_id, state);
  return first;
}

function hostEntryOf(data: GetAgentStatusData, id: string): GetAgentStatusData[string] | undefined {
  const host = parseLegacyId(id);
  const key = host === undefined ? id : legacyId(host);
  return Object.hasOwn(data, key) ? data[key] : undefined;
}

/** GSE's list_agent_state answer when it knows none of the ids (1011003): not a failed call. */
export const isNoneFound = (error: unknown): error is GseError =>
  error instanceof GseError && error.kind === "business" && error.gseCode === GSE_AGENT_NONE_FOUND_CODE;

export interface AgentStateAnswer {
  /** One entry per id asked; ids GSE omitted are unknown. */
  readonly facts: Map<string, AgentFacts>;
  /** GSE's own item (list_agent_state) or host entry (get_agent_status), for ids it answered about. */
  readonly records: Map<string, Readonly<Record<string, unknown>>>;
  /** Set when GSE answered "none of these is known": every id of the chunk is unknown. */
  readonly noneFound?: GseError;
}

export interface FetchOptions {
  /** Per attempt; the client's own timeout when absent. */
  readonly timeoutMs?: number;
}

/**
 * Asks GSE about one chunk of ids through `source`. A legacy chunk asks only the ids that are
 * hosts (see isAskable); the others come back unknown. Any failure but "none found" is thrown.
 */
export async function fetchAgentStates(
  gse: Pick<GseClient, "call">,
  source: AgentSource,
  ids: readonly string[],
  options: FetchOptions = {},
): Promise<AgentStateAnswer> {
  const callOptions: CallOptions = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  if (source === "get_agent_status") {
    const hosts = ids.map((id) => parseLegacyId(id)).filter((h): h is Host => h !== undefined);
    const data = await gse.call("get_agent_status", { bk_supplier_account: "0", hosts }, callOptions);
    const records = new Map<string, Readonly<Record<string, unknown>>>();
    for (const id of ids) {
      const entry = hostEntryOf(data, id);
      if (entry !== undefined) records.set(id, entry);
    }
    return { facts: factsFromGetAgentStatus(ids, data), records };
  }
  let data: ListAgentStateData = [];
  let noneFound: GseError | undefined;
  try {
    data = await gse.call("list_agent_state", { agent_id_list: [...ids] }, callOptions);
  } catch (error) {
    if (!isNoneFound(error)) throw error;
    noneFound = error;
  }
  return { facts: factsFromListAgentState(ids, data), records: firstPerId(data), ...(noneFound ? { noneFound } : {}) };
}
