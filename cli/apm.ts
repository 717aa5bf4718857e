/**
 * APM applications from the CLI: `apps`, and `app show|create|delete`, the datasource
 * starts and stops (`app start-trace` … `app stop-profiling`), `app probes|versions` and
 * `app upgrade [--wait]` (followed like `dispatch --wait`). Requests are checked with the routes'
 * own schemas (lib/apm/schemas.ts) first, so a mistake is a usage error (2) naming the flag and
 * nothing is sent.
 */
import type { Command } from "commander";
import type { z } from "zod";
import type { CreateAppRequest, DatasourceAction, DatasourceDefinition, UpgradeRequest } from "../lib/apm/schemas.ts";
import { DATASOURCES, type DatasourceName } from "./choices.ts";
import { rt } from "./lazy.ts";
import type { CommandView } from "../lib/commands/schemas.ts";
import { callApi } from "./api.ts";
import { CliError, ReportedError, UsageError } from "./errors.ts";
import { appDetail, appLabel, appsTable, datasourceActionText, noUpgradeText, probesText, probeVersionsText, upgradeText } from "./apm-format.ts";
import { followCommand, recordedOrThrow, rolloutLimit, throwIfEndedBadly, type CommandContext } from "./dispatch.ts";
import { followRollout, parseStrategy, wholeSeconds } from "./rollout.ts";

/** What a start or stop answers when it could not be carried out (HTTP 502). */
export const DATASOURCE_APPLY_FAILED = 1650203;

const INT32_MAX = 2_147_483_647;

/** `--biz`: a business id, a whole number (bk-monitor's are int32; negative ones are cloud areas' own). */
export function bizId(text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value > INT32_MAX || value < -INT32_MAX - 1) throw new UsageError(`--biz is a business id, a whole number, not "${text}"`);
  return value;
}

function appName(text: string): string {
  const parsed = rt().appNameSchema.safeParse(text);
  if (!parsed.success) throw new UsageError(`app name "${text}" ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  return parsed.data;
}

const appPath = (biz: string, name: string): string => `/v1/apm/apps/${bizId(biz)}/${encodeURIComponent(appName(name))}`;

/** `--trace 1500001:501[:topic]`: a datasource's data id, its stream_to id and optionally its Kafka topic. */
function datasourceSpec(name: DatasourceName, text: string): DatasourceDefinition {
  const [dataId, streamToId, topic, ...rest] = text.split(":");
  if (dataId === undefined || streamToId === undefined || rest.length > 0 || !/^\d+$/.test(dataId) || !/^\d+$/.test(streamToId)) {
    throw new UsageError(`--${name} is <data_id>:<stream_to_id>[:<topic>], numbers for the ids, not "${text}"`);
  }
  return { data_id: Number(dataId), stream_to_id: Number(streamToId), ...(topic !== undefined ? { topic_name: topic } : {}) };
}

/** The flag a request field came from, for a usage error. */
const FLAGS: Record<string, string> = {
  app_name: "app name",
  bk_biz_id: "--biz",
  retention_days: "--retention-days",
  target_version: "--to",
  max_concurrency: "--max-concurrency",
  max_errors: "--max-errors",
  reply_timeout_seconds: "--reply-timeout",
  strategy: "--strategy",
  bake_seconds: "--bake",
  gate: "--max-unhealthy",
  message_id: "--message-id",
  limit: "--limit",
  service: "--service",
  cursor: "--cursor",
  ...Object.fromEntries(DATASOURCES.map((name) => [name, `--${name}`])),
};

/** The request checked with the route's schema; its first problem as a usage error naming the flag. */
function checked<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  // datasources.trace.data_id names --trace; other fields name their own flag.
  const field = path[0] === "datasources" && path[1] !== undefined ? path[1] : (path[0] ?? "");
  const inner = path[0] === "datasources" ? path.slice(2) : path.slice(1);
  throw new UsageError(`${FLAGS[field] ?? (field || "request")}${inner.length > 0 ? ` (${inner.join(".")})` : ""}: ${issue?.message ?? "invalid"}`);
}

interface CreateOptions extends Partial<Record<DatasourceName, string>> {
  readonly biz: string;
  readonly retentionDays?: string;
}

function createBody(name: string, options: CreateOptions): CreateAppRequest {
  const retention = options.retentionDays;
  if (retention !== undefined && !/^\d+$/.test(retention)) throw new UsageError(`--retention-days is a whole number of days, not "${retention}"`);
  const datasources: Partial<Record<DatasourceName, DatasourceDefinition>> = {};
  for (const ds of DATASOURCES) {
    const spec = options[ds];
    if (spec !== undefined) datasources[ds] = datasourceSpec(ds, spec);
  }
  return checked(rt().createAppSchema, {
    bk_biz_id: bizId(options.biz),
    app_name: appName(name),
    ...(retention !== undefined ? { retention_days: Number(retention) } : {}),
    ...(Object.keys(datasources).length > 0 ? { datasources } : {}),
  });
}

interface UpgradeOptions {
  readonly biz: string;
  readonly to: string;
  readonly maxConcurrency?: string;
  readonly maxErrors?: string;
  readonly messageId?: string;
  readonly wait?: boolean;
}

const upgradeBody = (options: UpgradeOptions): UpgradeRequest =>
  checked(rt().upgradeRequestSchema, {
    target_version: options.to,
    max_concurrency: rolloutLimit(options.maxConcurrency),
    max_errors: rolloutLimit(options.maxErrors),
    message_id: options.messageId,
  });

async function upgrade(ctx: CommandContext, name: string, options: UpgradeOptions): Promise<void> {
  const path = `${appPath(options.biz, name)}/upgrade`;
  const body = upgradeBody(options);
  const target = ctx.target();
  if (!options.wait) {
    const answer = await callApi(target, "POST", path, rt().probeCommandAnswerSchema, { body });
    ctx.print(answer, () => upgradeText(answer, body.target_version, ctx.io.color));
    if (answer.command) throwIfEndedBadly(answer.command);
    return;
  }
  let first: CommandView;
  try {
    const answer = await callApi(target, "POST", path, rt().probeCommandAnswerSchema, { body });
    if (answer.command === undefined) {
      ctx.print(answer, () => noUpgradeText(body.target_version));
      return;
    }
    first = answer.command;
  } catch (error) {
    // Only a command id we chose can be looked up after a 5xx; the API's own is derived from the agents.
    if (body.message_id === undefined) throw error;
    first = await recordedOrThrow(ctx, target, body.message_id, error);
  }
  await followCommand(ctx, first);
}

interface DatasourceOptions {
  readonly biz: string;
  readonly maxConcurrency?: string;
  readonly maxErrors?: string;
  readonly replyTimeout?: string;
  readonly strategy?: string;
  readonly bake?: string;
  readonly maxUnhealthy?: string;
  readonly watch?: boolean;
}

/** The start/stop body from its flags: limits alone pace the command; a strategy, bake or gate makes it a rollout. */
function datasourceBody(options: DatasourceOptions): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    max_concurrency: rolloutLimit(options.maxConcurrency),
    max_errors: rolloutLimit(options.maxErrors),
    reply_timeout_seconds: wholeSeconds("--reply-timeout", options.replyTimeout),
    strategy: options.strategy === undefined ? undefined : parseStrategy(options.strategy),
    bake_seconds: wholeSeconds("--bake", options.bake),
    gate: options.maxUnhealthy === undefined ? undefined : { max_unhealthy: rolloutLimit(options.maxUnhealthy) },
  };
  return checked(rt().datasourceRequestSchema, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))) as Record<string, unknown>;
}

async function setDatasource(ctx: CommandContext, ds: DatasourceName, verb: "start" | "stop", name: string, options: DatasourceOptions): Promise<void> {
  const path = `${appPath(options.biz, name)}/datasources/${ds}/${verb}`;
  const body = datasourceBody(options);
  if (options.watch && body.strategy === undefined && body.bake_seconds === undefined && body.gate === undefined)
    throw new UsageError("--watch follows the rollout of a start or stop: give --strategy, --bake or --max-unhealthy");
  let answer: DatasourceAction;
  try {
    answer = await callApi(ctx.target(), "POST", path, rt().datasourceActionSchema, Object.keys(body).length > 0 ? { body } : undefined);
  } catch (error) {
    const failure =
      error instanceof CliError && error.status === 502 && Number(error.code) === DATASOURCE_APPLY_FAILED
        ? rt().datasourceApplyFailureSchema.safeParse(error.data)
        : undefined;
    if (!failure?.success) throw error;
    const f = failure.data;
    const label = `${verb} ${ds} of ${options.biz}/${name}`;
    ctx.print(f, () =>
      [
        `${label} failed at the ${f.step} step: ${f.error.message}`,
        ...(f.rollback_error ? [`the rollback failed too: ${f.rollback_error.message}`] : []),
        `${ds} kept its previous state (${f.app?.datasources[ds]?.enabled ? "on" : "off"}); details: gse-control app show ${name} --biz ${options.biz}`,
      ].join("\n"),
    );
    throw new ReportedError(`${label} failed at the ${f.step} step`, 502, DATASOURCE_APPLY_FAILED);
  }
  if (options.watch && answer.rollout) {
    await followRollout(ctx, answer.rollout);
    return;
  }
  ctx.print(answer, () => datasourceActionText(answer, ctx.io.color));
}

export function addApmCommands(program: Command, ctx: CommandContext): void {
  program
    .command("apps")
    .description("APM apps: retention and the state of each datasource (on, off, APPLYING, FAILED(<step>))")
    .option("--biz <bk_biz_id>", "only this business's apps")
    .action(async (options: { biz?: string }) => {
      const query = options.biz === undefined ? "" : `?bk_biz_id=${bizId(options.biz)}`;
      const list = await callApi(ctx.target(), "GET", `/v1/apm/apps${query}`, rt().appListSchema);
      ctx.print(list, () => appsTable(list.apps, ctx.io.color));
    });

  const app = program.command("app").description("one APM app: show, create, delete, start/stop its datasources, its probes, upgrade them");
  const BIZ = ["--biz <bk_biz_id>", "the app's business id"] as const;

  app
    .command("show")
    .description("the app: retention, revision, each datasource and its last apply (state, step, error, config version, command)")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .action(async (name: string, options: { biz: string }) => {
      const view = await callApi(ctx.target(), "GET", appPath(options.biz, name), rt().appViewSchema);
      ctx.print(view, () => appDetail(view, ctx.io.color));
    });

  const create = app
    .command("create")
    .description("create an app (409 when the business has one of that name)")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .option("--retention-days <n>", "how long a probe counts as present after it was last seen (default 7)");
  for (const ds of DATASOURCES)
    create.option(
      `--${ds} <data_id:stream_to_id[:topic]>`,
      `the ${ds} datasource: its data id (a GSE route channel), stream_to id and Kafka topic (default apm_${ds}_<data_id>)`,
    );
  create.action(async (name: string, options: CreateOptions) => {
    const body = createBody(name, options);
    const view = await callApi(ctx.target(), "POST", "/v1/apm/apps", rt().appViewSchema, { body });
    ctx.print(view, () => `created ${appLabel(view)}\n${appDetail(view, ctx.io.color)}`);
  });

  app
    .command("delete")
    .description("delete an app (refused while one of its datasources is on)")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .action(async (name: string, options: { biz: string }) => {
      const answer = await callApi(ctx.target(), "DELETE", appPath(options.biz, name), rt().deletedSchema);
      ctx.print(answer, () => `deleted ${options.biz}/${name}`);
    });

  for (const verb of ["start", "stop"] as const) {
    for (const ds of DATASOURCES) {
      app
        .command(`${verb}-${ds}`)
        .description(
          `${verb} the ${ds} datasource: its route, then a command (or, with --strategy/--bake/--max-unhealthy, a rollout) to the app's probes (exit 1 when that failed; the datasource keeps its state)`,
        )
        .argument("<app_name>")
        .requiredOption(...BIZ)
        .option("--max-concurrency <n|n%>", "probe agents in flight at once, a count or a share")
        .option("--max-errors <n|n%>", "errors (failures, timeouts, failing replies) tolerated before the rest is not sent")
        .option("--reply-timeout <seconds>", "wait this long for each agent's reply")
        .option("--strategy <spec>", "tell the probes by a rollout: all, linear:<n|n%> or exponential:<start>,<factor>[,<min_success_rate>]")
        .option("--bake <seconds>", "a rollout: wait this long after each wave, watching the health gate")
        .option("--max-unhealthy <n|n%>", "a rollout's health gate: more touched agents lost, stuck or degraded than this aborts it and rolls the route back")
        .option("--watch", "follow the rollout until it ends (exit 1 unless it SUCCEEDED)")
        .action((name: string, options: DatasourceOptions) => setDatasource(ctx, ds, verb, name, options));
    }
  }

  app
    .command("probes")
    .description("probe instances seen within the retention window")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .option("--service <service>", "only this service's instances")
    .option("--limit <n>", "instances per page (1 to 1000)", "200")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(async (name: string, options: { biz: string; service?: string; limit: string; cursor?: string }) => {
      const path = appPath(options.biz, name);
      if (!/^\d+$/.test(options.limit)) throw new UsageError(`--limit is a whole number, not "${options.limit}"`);
      const q = checked(rt().probeQuerySchema, { limit: options.limit, service: options.service, cursor: options.cursor });
      const query = new URLSearchParams({ limit: String(q.limit), ...(q.service ? { service: q.service } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
      const list = await callApi(ctx.target(), "GET", `${path}/probes?${query.toString()}`, rt().probeListSchema);
      ctx.print(list, () => probesText(list));
    });

  app
    .command("versions")
    .description("probe versions within the retention window: instances and agents on each")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .action(async (name: string, options: { biz: string }) => {
      const data = await callApi(ctx.target(), "GET", `${appPath(options.biz, name)}/probe-versions`, rt().probeVersionsSchema);
      ctx.print(data, () => probeVersionsText(data));
    });

  app
    .command("upgrade")
    .description("upgrade the app's probes to a version: a tracked command to every agent with an instance on another (--wait: exit 0 only if it SUCCEEDED)")
    .argument("<app_name>")
    .requiredOption(...BIZ)
    .requiredOption("--to <version>", "the probe version to upgrade to")
    .option("--max-concurrency <n|n%>", "agents in flight at once, a count or a share of the targets")
    .option("--max-errors <n|n%>", "delivery failures tolerated before the rest is not sent (ABORTED)")
    .option("--message-id <id>", "the command's id (default: derived from the app, the version and the agents, so the same upgrade is the same command)")
    .option("--wait", "follow the command until it ends, with a live bar on a terminal")
    .action((name: string, options: UpgradeOptions) => upgrade(ctx, name, options));
}
