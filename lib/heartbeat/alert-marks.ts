/**
 * The alerts a poll owes, marked on the agents they are about. A poll's write of an agent that
 * makes an alerting transition (lost, stuck, unknown, recovered) also sets `alerts_due[<poll id>]`
 * = `<shard>#<kind>#<from>` in the same plain conditional update: no transaction, no alert item.
 * The shard counts its alerts in its result; when it dies between the agents' writes and that
 * result, its re-run (the job redelivered, the scheduled run retried) re-observes the agents as
 * already changed and makes no transition, but finds the marks naming its poll and its shard and
 * counts those alerts again (shard.ts recallDueAlerts). The result is stored once (the first one
 * wins), so each transition is counted in exactly one result, and alerted once.
 *
 * A mark names its poll, so it needs no clearing; marks of older polls are dropped by the agent's
 * next write once they are past the horizon, and kept until then so that another poll's write in
 * between cannot take away a mark a re-run still needs.
 */
import { FLEET_STATUSES, type FleetAgent, type FleetStatus } from "../fleet/store.ts";
import { TRANSITION_ALERT_KINDS, type TransitionAlertKind } from "./alerts.ts";

/**
 * How long a mark is kept after its poll: longer than a shard can wait for its re-run (the
 * automation queue receives a job at most 5 times, 180 s apart; Lambda retries a failed scheduled
 * run within minutes), short enough that an agent flapping every few polls carries few.
 */
export const ALERT_MARK_HORIZON_MS = 30 * 60_000;

/** One alert an agent's write owes: the shard that wrote it, the alert's kind, and the status it left. */
export interface DueAlert {
  readonly shard: string;
  readonly kind: TransitionAlertKind;
  readonly from: FleetStatus;
}

/** The status a transition of each kind leaves the agent in (rules.ts); `stuck` keeps the one it had. */
const STATUS_AFTER: { readonly [K in TransitionAlertKind]: FleetStatus | undefined } = {
  lost: "lost",
  recovered: "alive",
  unknown: "unknown",
  stuck: undefined,
};

export const statusAfter = (due: Omit<DueAlert, "shard">): FleetStatus => STATUS_AFTER[due.kind] ?? due.from;

/** The poll and shard that write. */
export interface MarkingShard {
  readonly pollId: string;
  readonly at: number;
  readonly shard: string;
}

const isKind = (value: string | undefined): value is TransitionAlertKind => TRANSITION_ALERT_KINDS.some((k) => k === value);
const isStatus = (value: string | undefined): value is FleetStatus => FLEET_STATUSES.some((s) => s === value);

/** A mark as stored: the shard id may hold anything, the kind and status never a `#`. */
const markOf = (due: DueAlert): string => `${due.shard}#${due.kind}#${due.from}`;

function parseMark(mark: string): DueAlert | undefined {
  const parts = mark.split("#");
  const from = parts.pop();
  const kind = parts.pop();
  if (!isKind(kind) || !isStatus(from) || parts.length === 0) return undefined;
  return { shard: parts.join("#"), kind, from };
}

/** The alert `shard`'s write of this agent owes, if the agent carries its mark. */
export function dueAlertOf(agent: Pick<FleetAgent, "alerts_due">, shard: Pick<MarkingShard, "pollId" | "shard">): DueAlert | undefined {
  const mark = agent.alerts_due?.[shard.pollId];
  const due = mark === undefined ? undefined : parseMark(mark);
  return due?.shard === shard.shard ? due : undefined;
}

/**
 * The agent's marks as this write leaves them: with `due` added under the poll (older marks past
 * the horizon dropped), or null to remove marks all past it, or undefined to leave them as they
 * are (nothing to add or drop: the field is not written).
 */
export function marksAfter(
  agent: Pick<FleetAgent, "alerts_due">,
  shard: MarkingShard,
  due: Omit<DueAlert, "shard"> | undefined,
): Record<string, string> | null | undefined {
  const current = agent.alerts_due ?? {};
  const kept = Object.fromEntries(Object.entries(current).filter(([pollId]) => shard.at - Date.parse(pollId) < ALERT_MARK_HORIZON_MS));
  if (due !== undefined) return { ...kept, [shard.pollId]: markOf({ ...due, shard: shard.shard }) };
  if (Object.keys(kept).length === Object.keys(current).length) return undefined;
  return Object.keys(kept).length > 0 ? kept : null;
}
