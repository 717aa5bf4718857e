/**
 * The transitions a poll's write of an agent made, marked on the agent: the write that makes a
 * transition also sets `alerts_due[<poll id>]` = `<shard>#<kinds>#<from>[#v=<previous version>]` in
 * the same plain conditional update (no transaction, no alert or history item of its own, no
 * write more). The shard counts alerts and records history from its tally; when it dies between
 * the agents' writes and its result, its re-run (the job redelivered, the scheduled run retried)
 * re-observes the agents as already changed and makes no transition, but finds the marks naming
 * its poll and its shard: it counts their alerts again and rewrites their history (shard.ts
 * recallMarks). The result is stored once (the first one wins), so each alerting transition is
 * counted in exactly one result, and alerted once; a history item is written over with itself.
 *
 * `<kinds>` lists the write's transitions, comma-separated (a recovery and a version change ride
 * on one write), a silent one (a recovery nobody was alerted the loss of) as `recovered:silent`;
 * `v=` carries the version a `version_changed` left, URI-encoded (the item holds the new one).
 * A mark of one alerting kind is spelled as marks were before non-alerting kinds were marked.
 *
 * A mark names its poll, so it needs no clearing; marks of older polls are dropped by the agent's
 * next write once they are past the horizon, and kept until then so that another poll's write in
 * between cannot take away a mark a re-run still needs.
 */
import { ALERT_MARK_HORIZON_MS, FLEET_STATUSES, TRANSITION_KINDS, type FleetAgent, type FleetStatus, type TransitionKind } from "../fleet/store.ts";
import { ALERT_OF_TRANSITION, type TransitionAlertKind } from "./alerts.ts";

/**
 * How long a mark is kept after its poll: longer than a shard can wait for its re-run (the
 * automation queue receives a job at most 5 times, 180 s apart; Lambda retries a failed scheduled
 * run within minutes), short enough that an agent flapping every few polls carries few.
 */
export { ALERT_MARK_HORIZON_MS } from "../fleet/store.ts";

/** One transition a mark records: its kind, and whether it was silent (recorded, never alerted). */
export interface MarkedTransition {
  readonly kind: TransitionKind;
  readonly silent?: true;
}

/** What one write of an agent made: the shard that wrote it, its transitions, the status it left and the version it replaced. */
export interface DueMark {
  readonly shard: string;
  readonly transitions: readonly MarkedTransition[];
  readonly from: FleetStatus;
  readonly previousVersion?: string;
}

/** The status a transition of each alerting kind leaves the agent in (rules.ts); `stuck` keeps the one it had. */
const STATUS_AFTER: { readonly [K in TransitionAlertKind]: FleetStatus | undefined } = {
  lost: "lost",
  recovered: "alive",
  unknown: "unknown",
  stuck: undefined,
};

export const statusAfter = (due: { readonly kind: TransitionAlertKind; readonly from: FleetStatus }): FleetStatus => STATUS_AFTER[due.kind] ?? due.from;

/** The alert a marked transition raises, if any. */
export const alertOfMarked = (t: MarkedTransition): TransitionAlertKind | undefined =>
  t.silent === true ? undefined : (ALERT_OF_TRANSITION[t.kind] ?? undefined);

/** The poll and shard that write. */
export interface MarkingShard {
  readonly pollId: string;
  readonly at: number;
  readonly shard: string;
}

const isKind = (value: string): value is TransitionKind => TRANSITION_KINDS.some((k) => k === value);
const isStatus = (value: string | undefined): value is FleetStatus => FLEET_STATUSES.some((s) => s === value);
const SILENT = ":silent";
const VERSION = "v=";

/** A mark as stored: the shard id may hold anything, the kinds and status never a `#`, the version is encoded. */
function markOf(due: DueMark): string {
  const kinds = due.transitions.map((t) => `${t.kind}${t.silent === true ? SILENT : ""}`).join(",");
  const version = due.previousVersion === undefined ? "" : `#${VERSION}${encodeURIComponent(due.previousVersion)}`;
  return `${due.shard}#${kinds}#${due.from}${version}`;
}

function parseKinds(kinds: string | undefined): MarkedTransition[] | undefined {
  if (kinds === undefined || kinds === "") return undefined;
  const out: MarkedTransition[] = [];
  for (const token of kinds.split(",")) {
    const silent = token.endsWith(SILENT);
    const kind = silent ? token.slice(0, -SILENT.length) : token;
    if (!isKind(kind)) return undefined;
    out.push(silent ? { kind, silent } : { kind });
  }
  return out;
}

function parseMark(mark: string): DueMark | undefined {
  const parts = mark.split("#");
  const last = parts.at(-1);
  let previousVersion: string | undefined;
  if (last?.startsWith(VERSION)) {
    parts.pop();
    try {
      previousVersion = decodeURIComponent(last.slice(VERSION.length));
    } catch {
      return undefined;
    }
  }
  const from = parts.pop();
  const transitions = parseKinds(parts.pop());
  if (transitions === undefined || !isStatus(from) || parts.length === 0) return undefined;
  return { shard: parts.join("#"), transitions, from, ...(previousVersion !== undefined ? { previousVersion } : {}) };
}

/** What `shard`'s write of this agent made, if the agent carries its mark. */
export function dueMarkOf(agent: Pick<FleetAgent, "alerts_due">, shard: Pick<MarkingShard, "pollId" | "shard">): DueMark | undefined {
  const mark = agent.alerts_due?.[shard.pollId];
  const due = mark === undefined ? undefined : parseMark(mark);
  return due?.shard === shard.shard ? due : undefined;
}

/**
 * The agent's marks as this write leaves them: with `due` (its transitions) added under the poll (older marks past
 * the horizon dropped), or null to remove marks all past it, or undefined to leave them as they
 * are (nothing to add or drop: the field is not written).
 */
export function marksAfter(
  agent: Pick<FleetAgent, "alerts_due">,
  shard: MarkingShard,
  due: Omit<DueMark, "shard"> | undefined,
): Record<string, string> | null | undefined {
  const current = agent.alerts_due ?? {};
  const kept = Object.fromEntries(Object.entries(current).filter(([pollId]) => shard.at - Date.parse(pollId) < ALERT_MARK_HORIZON_MS));
  if (due !== undefined) return { ...kept, [shard.pollId]: markOf({ ...due, shard: shard.shard }) };
  if (Object.keys(kept).length === Object.keys(current).length) return undefined;
  return Object.keys(kept).length > 0 ? kept : null;
}
