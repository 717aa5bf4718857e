/**
 * The two answer shapes the agent state cache serves from one set of items: list_agent_state's
 * (GSE 2.0) and get_agent_status's (the legacy ESB call). Pure.
 */
import type { GetAgentStatusData, Host, ListAgentStateData } from "../gse/schemas.ts";
import { RUNNING_STATUS } from "./fetch.ts";
import { legacyId, parseLegacyId } from "./rules.ts";
import type { AgentItem } from "./store.ts";

/**
 * list_agent_state's shape: one item per known id in the order asked, echoing the id as asked;
 * unknown ids omitted. Items filled by get_agent_status carry no version, run_mode or
 * status_code; they answer `""`, `-1`, and 2 (alive) or -1 (not alive: which state is unknown).
 */
export function listAgentStateAnswer(ids: readonly string[], items: ReadonlyMap<string, AgentItem>): ListAgentStateData {
  const data: ListAgentStateData = [];
  for (const id of ids) {
    const item = items.get(id);
    if (!item?.known) continue;
    data.push({
      bk_agent_id: id,
      bk_cloud_id: item.bk_cloud_id ?? parseLegacyId(id)?.bk_cloud_id ?? 0,
      version: item.version ?? "",
      run_mode: item.run_mode ?? -1,
      status_code: item.status_code ?? (item.alive ? RUNNING_STATUS : -1),
    });
  }
  return data;
}

/** get_agent_status's shape: every host asked, keyed `cloud:ip`; unknown hosts are not alive. */
export function getAgentStatusAnswer(hosts: readonly Host[], items: ReadonlyMap<string, AgentItem>): GetAgentStatusData {
  const data: GetAgentStatusData = {};
  for (const host of hosts) {
    const key = legacyId(host);
    const item = items.get(key);
    data[key] = { ip: host.ip, bk_cloud_id: host.bk_cloud_id, bk_agent_alive: item?.known && item.alive ? 1 : 0 };
  }
  return data;
}
