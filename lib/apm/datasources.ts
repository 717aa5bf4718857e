/**
 * Starting and stopping an APM datasource: bk-monitor's start_trace / stop_trace / start_metric …
 * Two steps, in order:
 *   1. config: the datasource's data id channel (route#<data_id>) gets, or loses, the route to its
 *      stream_to, as a new config version (claim → GSE → verify → commit; lib/config-versions).
 *   2. command: the app's probes (seen within the retention window) are told, by a tracked command.
 * If step 1 fails, the version is REJECTED (GSE refused the route: nothing changed) or FAILED (and
 * recovery restores GSE as for any change). If step 2 fails (GSE refuses the dispatch now, or the
 * command ends FAILED or ABORTED later), the config is rolled back to the version before step 1.
 * Either way the datasource keeps its previous state and its apply status names the step and the
 * error; one `apm.datasource_apply` alert goes out unless GSE refused the route and nothing changed.
 */
import { z } from "zod";
import { cancelCommand, dispatchCommand } from "../commands/api.ts";
import type { CommandItem } from "../commands/store.ts";
import { rollbackTo, applyDocument, leftUnchanged, storedError, underLock } from "../config-versions/apply.ts";
import { isRouteDocument, readObject, type ConfigDocument, type ObjectRef, type RouteDocument } from "../config-versions/documents.ts";
import { AppError, ConflictError, NotFoundError } from "../core/errors.ts";
import type { StoredError } from "../config-versions/items.ts";
import { datasourceApplyAlert } from "./alerts.ts";
import { apmMessageId, getApp, saveApp, STALE_APPLY_MS, type ApmDeps } from "./apps.ts";
import { probeAgents } from "./probes.ts";
import type { AppView, ApplyStep, Datasource, DatasourceAction, DatasourceApplyFailure, DatasourceName } from "./schemas.ts";

export type DatasourceVerb = "start" | "stop";

/** The start/stop could not be carried out; the datasource kept its previous state. */
export class DatasourceApplyError extends AppError {
  readonly status = 502;
  readonly code = 1650203;
  readonly codeName = "DATASOURCE_APPLY_FAILED";
  override readonly data: DatasourceApplyFailure;

  constructor(message: string, data: DatasourceApplyFailure) {
    super(message);
    this.data = data;
  }
}

/** What a datasource's command carries back to us (commands keep it as `origin`). */
export const datasourceOriginSchema = z.object({
  kind: z.literal("apm.datasource"),
  bk_biz_id: z.int(),
  app_name: z.string(),
  datasource: z.string(),
  action: z.enum(["start", "stop"]),
  data_id: z.int(),
  /** The route's version before step 1: what a failed command rolls back to. */
  before_version: z.int(),
});
export type DatasourceOrigin = z.infer<typeof datasourceOriginSchema>;

/** The route entry that carries the datasource's data to its stream_to. */
export const routeName = (app: Pick<AppView, "bk_biz_id" | "app_name">, name: DatasourceName): string => `apm_${name}_${app.bk_biz_id}_${app.app_name}`;

/**
 * The channel's document with the datasource's route entry present (start) or absent (stop);
 * the channel's other routes and filters, someone else's, stay as they are.
 */
export function routeDocument(
  current: ConfigDocument,
  app: Pick<AppView, "bk_biz_id" | "app_name">,
  name: DatasourceName,
  ds: Datasource,
  enabled: boolean,
  platName: string,
): RouteDocument {
  const base: RouteDocument = current !== null && isRouteDocument(current) ? current : { plat_name: platName, route: [], stream_filters: [] };
  const entryName = routeName(app, name);
  const others = base.route.filter((r) => r.name !== entryName);
  const entry = { name: entryName, stream_to: { stream_to_id: ds.stream_to_id, kafka: { topic_name: ds.topic_name } } };
  return { ...base, route: enabled ? [...others, entry] : others };
}

/** The route's current version and document: from our history when we have one, else from GSE. */
async function currentRoute(deps: ApmDeps, ref: ObjectRef, platName: string, operator: string): Promise<{ version: number; document: ConfigDocument }> {
  // Another change of the route in flight: wait for it (bounded), as a change itself would.
  return underLock(deps.configs, ref, async (head) => {
    if (head) return { version: head.current_version, document: (await deps.configs.store.getVersion(ref, head.current_version))?.document ?? null };
    return { version: 0, document: await readObject(deps.configs.gse, ref, platName, operator) };
  });
}

const applying = (ds: Datasource, now: number): boolean => ds.apply?.state === "APPLYING" && now - ds.apply.at < STALE_APPLY_MS;

export async function setDatasource(
  deps: ApmDeps,
  bizId: number,
  appName: string,
  name: DatasourceName,
  verb: DatasourceVerb,
  author: string,
): Promise<DatasourceAction> {
  const app = await getApp(deps.store, bizId, appName);
  const ds = app.datasources[name];
  if (!ds) throw new NotFoundError(`app ${bizId}/${appName} has no ${name} datasource; define it first (PUT the app with datasources.${name})`);
  const enable = verb === "start";
  // Already there: nothing is sent, so start-start and stop-stop are free and safe.
  if (ds.enabled === enable && ds.apply?.state !== "FAILED" && !applying(ds, deps.now())) return { app, datasource: name, action: verb, changed: false };
  if (applying(ds, deps.now()))
    throw new ConflictError(`the ${name} datasource of ${bizId}/${appName} is being ${ds.apply?.action === "start" ? "started" : "stopped"}; try again`, {
      apply: ds.apply,
    });

  let current = await saveApp(deps, app, (a) => withApply(a, name, { state: "APPLYING", action: verb, at: deps.now() }));
  const ref: ObjectRef = { kind: "route", id: ds.data_id };
  const platName = deps.settings.platName;

  // 1. config
  let before: { version: number; document: ConfigDocument };
  let configVersion: number;
  try {
    before = await currentRoute(deps, ref, platName, author);
    const version = await applyDocument(
      deps.configs,
      ref,
      routeDocument(before.document, app, name, ds, enable, platName),
      { author },
      {
        operation: `apm.${verb}_${name}`,
        request: { bk_biz_id: bizId, app_name: appName, datasource: name, action: verb },
        basedOn: before,
      },
    );
    configVersion = version.version;
  } catch (error) {
    // GSE refused the route (nothing changed): the answer says so, and no alert pages anyone.
    throw await failed(deps, current, name, verb, "config", storedError(error), { nothingChanged: leftUnchanged(error) });
  }

  // 2. command
  const agents = await probeAgents(deps, current);
  let command: DatasourceAction["command"];
  if (agents.length > 0) {
    const messageId = apmMessageId(`${verb}-${name}`, bizId, appName, current.revision);
    const origin: DatasourceOrigin = {
      kind: "apm.datasource",
      bk_biz_id: bizId,
      app_name: appName,
      datasource: name,
      action: verb,
      data_id: ds.data_id,
      before_version: before.version,
    };
    current = await saveApp(deps, current, (a) =>
      withApply(a, name, { state: "APPLYING", action: verb, at: deps.now(), config_version: configVersion, message_id: messageId, targets: agents.length }),
    );
    try {
      const content = JSON.stringify({
        action: `${verb}_${name}`,
        bk_biz_id: bizId,
        app_name: appName,
        datasource: name,
        data_id: ds.data_id,
        enabled: enable,
      });
      command = (await dispatchCommand(deps.commands, { message_id: messageId, agent_id_list: agents, content }, author, origin)).command;
    } catch (error) {
      // The command may exist and keep retrying: stop it before undoing what it announces.
      await cancelCommand(deps.commands, messageId, `datasource ${name} could not be ${verb === "start" ? "started" : "stopped"}`).catch(() => undefined);
      const rollback = await rollbackRoute(deps, ref, before.version, author);
      throw await failed(deps, current, name, verb, "command", storedError(error), { rollbackError: rollback });
    }
  }
  current = await saveApp(deps, current, (a) =>
    withApply({ ...a, datasources: { ...a.datasources, [name]: { ...a.datasources[name], enabled: enable } } }, name, {
      state: "APPLIED",
      action: verb,
      at: deps.now(),
      config_version: configVersion,
      targets: agents.length,
      ...(command ? { message_id: command.message_id } : {}),
    }),
  );
  deps.logger.info("datasource applied", {
    bk_biz_id: bizId,
    app_name: appName,
    datasource: name,
    action: verb,
    config_version: configVersion,
    targets: agents.length,
  });
  return { app: current, datasource: name, action: verb, changed: true, ...(command ? { command } : {}) };
}

function withApply(app: AppView, name: DatasourceName, apply: NonNullable<Datasource["apply"]>): AppView {
  const ds = app.datasources[name];
  if (!ds) return app;
  return { ...app, datasources: { ...app.datasources, [name]: { ...ds, apply } } };
}

/** Restores the route to the version before the action; what went wrong doing so, if anything. */
async function rollbackRoute(deps: ApmDeps, ref: ObjectRef, version: number, author: string): Promise<StoredError | undefined> {
  try {
    await rollbackTo(deps.configs, ref, version, { author });
    return undefined;
  } catch (error) {
    deps.logger.error("could not roll a datasource's route back", { object: `route#${ref.id}`, version, error: storedError(error) });
    return storedError(error);
  }
}

/**
 * Records the failure on the datasource (its enabled flag untouched) and alerts. The record is
 * conditioned on the revision read, so when two processes see one failure only one alerts.
 */
async function failed(
  deps: ApmDeps,
  app: AppView,
  name: DatasourceName,
  verb: DatasourceVerb,
  step: ApplyStep,
  error: StoredError,
  outcome: { rollbackError?: StoredError | undefined; nothingChanged?: boolean } = {},
): Promise<DatasourceApplyError> {
  const { rollbackError, nothingChanged = false } = outcome;
  const at = deps.now();
  const ds = app.datasources[name];
  let recorded: AppView | undefined;
  try {
    recorded = await saveApp(deps, app, (a) =>
      withApply(a, name, {
        state: "FAILED",
        action: verb,
        step,
        error,
        at,
        ...(ds?.apply?.config_version !== undefined ? { config_version: ds.apply.config_version } : {}),
        ...(ds?.apply?.message_id ? { message_id: ds.apply.message_id } : {}),
      }),
    );
  } catch (writeError) {
    deps.logger.warn("could not record a datasource failure (another request changed the app)", {
      app_name: app.app_name,
      datasource: name,
      error: storedError(writeError),
    });
  }
  const summary = `${verb} ${name} of ${app.bk_biz_id}/${app.app_name} failed at the ${step} step: ${error.message}`;
  if (recorded && !nothingChanged) {
    await deps.alerts
      .publish(datasourceApplyAlert({ app, datasource: name, action: verb, step, error, rollbackError, summary, at }))
      .catch((publishError: unknown) => deps.logger.error("could not publish the datasource-apply alert", { error: storedError(publishError) }));
  }
  return new DatasourceApplyError(summary, {
    app: recorded ?? app,
    datasource: name,
    action: verb,
    step,
    error,
    ...(rollbackError ? { rollback_error: rollbackError } : {}),
  });
}

/**
 * Recovery's part (commands stream): a datasource's command that ended FAILED or ABORTED undoes
 * the action — the route goes back to the version before it and the datasource back to its
 * previous state. Only while the datasource still shows that command: a later action wins.
 */
/** How long the stream waits for a request still applying a datasource before judging its command's end. */
const REQUEST_SETTLE_WAIT_MS = 20_000;

export async function settleDatasourceCommand(deps: ApmDeps, command: CommandItem): Promise<"rolled_back" | "ignored"> {
  const origin = datasourceOriginSchema.safeParse(command.origin);
  if (!origin.success || (command.status !== "FAILED" && command.status !== "ABORTED")) return "ignored";
  const o = origin.data;
  const name = o.datasource as DatasourceName;
  let app = await deps.store.getApp(o.bk_biz_id, o.app_name);
  // The request that sent the command may still be at work on it (a command GSE refused ends within
  // that request, which undoes the start itself): wait, bounded, until it saved what it came to, so
  // the route is never rolled back twice at once.
  for (const until = Date.now() + REQUEST_SETTLE_WAIT_MS; ; ) {
    const current = app?.datasources[name];
    if (!current || current.apply?.message_id !== command.message_id || !applying(current, deps.now()) || Date.now() >= until) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
    app = await deps.store.getApp(o.bk_biz_id, o.app_name);
  }
  const ds = app?.datasources[name];
  if (!app || !ds || ds.apply?.message_id !== command.message_id || ds.apply.state === "FAILED") return "ignored";
  const rollback = await rollbackRoute(deps, { kind: "route", id: o.data_id }, o.before_version, command.created_by);
  const restored = { ...app, datasources: { ...app.datasources, [name]: { ...ds, enabled: o.action !== "start" } } };
  // failed() records and alerts; its error is for a caller, and here nobody waits for an answer.
  await failed(
    deps,
    restored,
    name,
    o.action,
    "command",
    { message: `command ${command.message_id} ended ${command.status}${command.reason ? `: ${command.reason}` : ""}`, kind: "command" },
    { rollbackError: rollback },
  );
  return "rolled_back";
}
