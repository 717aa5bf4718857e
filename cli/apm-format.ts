/** Human output of the APM commands: tables (cli-table3) and colours (picocolors), as in format.ts. */
import Table from "cli-table3";
import { createColors } from "picocolors";
import { DATASOURCES } from "./choices.ts";
import type { AppView, Datasource, DatasourceAction, ProbeCommandAnswer, ProbeList, ProbeVersions, RetentionWindow } from "../lib/apm/schemas.ts";
import { commandSummary } from "./format.ts";

const table = (head: string[]): Table.Table => new Table({ head, style: { head: [], border: [] } });
const iso = (ms: number | undefined): string => (ms === undefined ? "" : new Date(ms).toISOString());
export const appLabel = (app: Pick<AppView, "bk_biz_id" | "app_name">): string => `${app.bk_biz_id}/${app.app_name}`;

/**
 * A datasource at a glance: `on`, `off`, `APPLYING`, `ROLLING_OUT(<rollout id>)`, `FAILED(<step>)` for a start that failed (the
 * datasource stayed off), `on FAILED(stop: <step>)` for a stop that failed (it stayed on); `-` when
 * the app has no such datasource.
 */
export function datasourceState(ds: Datasource | undefined, color: boolean): string {
  const c = createColors(color);
  if (ds === undefined) return c.gray("-");
  const apply = ds.apply;
  if (apply?.state === "APPLYING") return c.cyan("APPLYING");
  if (apply?.state === "ROLLING_OUT") return c.cyan(`ROLLING_OUT(${apply.rollout_id ?? "?"})`);
  const base = ds.enabled ? c.green("on") : "off";
  if (apply?.state !== "FAILED") return base;
  const step = apply.step ?? "?";
  return apply.action === "start" && !ds.enabled ? c.red(`FAILED(${step})`) : `${base} ${c.red(`FAILED(${apply.action}: ${step})`)}`;
}

export function appsTable(apps: readonly AppView[], color: boolean): string {
  if (apps.length === 0) return "No APM apps.";
  const t = table(["biz", "app", "retention", ...DATASOURCES]);
  for (const app of apps)
    t.push([String(app.bk_biz_id), app.app_name, `${app.retention_days} d`, ...DATASOURCES.map((name) => datasourceState(app.datasources[name], color))]);
  return t.toString();
}

export function appDetail(app: AppView, color: boolean): string {
  const c = createColors(color);
  const head = `${appLabel(app)}: retention ${app.retention_days} days, revision ${app.revision}, created by ${app.created_by} at ${iso(app.created_at)}, updated ${iso(app.updated_at)}`;
  const present = DATASOURCES.flatMap((name) => {
    const ds = app.datasources[name];
    return ds === undefined ? [] : [[name, ds] as const];
  });
  if (present.length === 0) return `${head}\nNo datasources.`;
  const defs = table(["datasource", "state", "data_id", "stream_to_id", "topic", "enabled"]);
  const applies = table(["datasource", "last apply", "action", "step", "config version", "message id", "targets", "at"]);
  const errors: string[] = [];
  for (const [name, ds] of present) {
    defs.push([name, datasourceState(ds, color), String(ds.data_id), String(ds.stream_to_id), ds.topic_name, ds.enabled ? c.green("yes") : "no"]);
    const a = ds.apply;
    if (a === undefined) {
      applies.push([name, c.gray("never"), "", "", "", "", "", ""]);
      continue;
    }
    const state = a.state === "APPLIED" ? c.green(a.state) : a.state === "FAILED" ? c.red(a.state) : c.cyan(a.state);
    applies.push([
      name,
      state,
      a.action,
      a.step ?? "",
      a.config_version === undefined ? "" : String(a.config_version),
      a.message_id ?? "",
      a.targets === undefined ? "" : String(a.targets),
      iso(a.at),
    ]);
    if (a.error) errors.push(c.red(`${name}: ${a.action} failed at the ${a.step ?? "?"} step: ${a.error.message}`));
  }
  return [head, defs.toString(), applies.toString(), ...errors].join("\n");
}

/** What a start or stop did: whether anything changed, the route's version and the command that told the probes. */
export function datasourceActionText(answer: DatasourceAction, color: boolean): string {
  const c = createColors(color);
  const label = `${answer.datasource} of ${appLabel(answer.app)}`;
  if (!answer.changed) return `${label}: already ${answer.action === "start" ? "on" : "off"}, nothing changed`;
  const ds = answer.app.datasources[answer.datasource];
  const version = ds?.apply?.config_version;
  const lines = [
    `${label}: ${c.green(answer.action === "start" ? "started" : "stopped")}${ds && version !== undefined ? ` (route#${ds.data_id} version ${version})` : ""}`,
  ];
  if (answer.rollout !== undefined) {
    const r = answer.rollout;
    lines.push(`probes told by rollout ${r.rollout_id}: ${r.status}, ${r.targets} agent${r.targets === 1 ? "" : "s"}`);
    if (r.status !== "SUCCEEDED")
      lines.push(`follow it: gse-control rollout status ${r.rollout_id} --watch; the ${answer.action} is rolled back if it aborts (its gate, or an operator)`);
  } else if (answer.command === undefined) lines.push("no probe seen within the retention window: no command sent");
  else {
    lines.push(
      `probes told by command ${answer.command.message_id}: ${answer.command.status}, ${answer.command.targets} agent${answer.command.targets === 1 ? "" : "s"}`,
    );
    // Step 2 may still fail: a command that ends FAILED or ABORTED undoes the change.
    if (answer.command.status === "RUNNING")
      lines.push(`follow it: gse-control command ${answer.command.message_id}; the ${answer.action} is undone if it ends FAILED or ABORTED`);
  }
  return lines.join("\n");
}

const windowText = (w: RetentionWindow): string => `retention window (${w.retention_days} days): ${w.start} → ${w.end}`;

export function probesText(list: ProbeList): string {
  const t = table(["agent", "service", "instance", "version", "last seen"]);
  for (const p of list.instances) t.push([p.agent_id, p.service, p.instance, p.probe_version, p.last_seen_iso]);
  return [
    windowText(list.window),
    list.instances.length === 0 ? "No probe instances seen within the window." : t.toString(),
    ...(list.next_cursor ? [`more: --cursor ${list.next_cursor}`] : []),
  ].join("\n");
}

export function probeVersionsText(data: ProbeVersions): string {
  const t = table(["version", "instances", "agents"]);
  for (const v of data.versions) t.push([v.probe_version, String(v.instances), String(v.agents)]);
  return [
    `${windowText(data.window)}; ${data.total} instance${data.total === 1 ? "" : "s"}`,
    data.versions.length === 0 ? "No probe instances seen within the window." : t.toString(),
  ].join("\n");
}

/** An upgrade without --wait: the command as it started, or why there is none. */
export function upgradeText(answer: ProbeCommandAnswer, version: string, color: boolean): string {
  if (answer.command === undefined) return noUpgradeText(version);
  const running = answer.command.status === "RUNNING";
  return `${commandSummary(answer.command, color)}${running ? `\nfollow it: gse-control command ${answer.command.message_id}` : ""}`;
}

export const noUpgradeText = (version: string): string =>
  `no probe to upgrade: every instance seen within the retention window is on ${version} already, or none was seen; no command sent`;
