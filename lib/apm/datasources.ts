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
 *
 * An action that names a strategy, bake or gate tells the probes by a rollout instead (waves, bake,
 * health gate; docs/rollouts.md §3) whose undo is the opposite action's message. The datasource is
 * ROLLING_OUT until the rollout ends; the commands table's stream hands its end here
 * (settleDatasourceRollout): SUCCEEDED applies it, an abort rolls the route back as a failed command
 * does, and a gate's abort is the one alert, naming the gate (the rollout raises none of its own).
 */
import * as z from "zod";
import { cancelCommand, dispatchCommand } from "../commands/api.ts";
import { canonicalJson } from "../core/canonical-json.ts";
import { abortRolloutByOperator, checkWaveCount, startRollout } from "../rollouts/api.ts";
import { isFinalRollout, type RolloutItem } from "../rollouts/items.ts";
import type { RolloutView } from "../rollouts/schemas.ts";
import type { CommandItem } from "../commands/store.ts";
import { rollbackTo, applyDocument, leftUnchanged, storedError, underLock } from "../config-versions/apply.ts";
import { isRouteDocument, readObject, type ConfigDocument, type ObjectRef, type RouteDocument } from "../config-versions/documents.ts";
import { AppError, ConflictError, NotFoundError, ValidationError } from "../core/errors.ts";
import type { StoredError } from "../config-versions/items.ts";
import { datasourceApplyAlert } from "./alerts.ts";
import { apmMessageId, getApp, saveApp, STALE_APPLY_MS, type ApmDeps } from "./apps.ts";
import { probeAgents } from "./probes.ts";
import type { AppView, ApplyStep, Datasource, DatasourceAction, DatasourceApplyFailure, DatasourceName, DatasourceRequest } from "./schemas.ts";

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

/** What the probes are told: the action, and the datasource it is about. */
function probeMessage(app: Pick<AppView, "bk_biz_id" | "app_name">, name: DatasourceName, ds: Datasource, verb: DatasourceVerb): string {
  return JSON.stringify({
    action: `${verb}_${name}`,
    bk_biz_id: app.bk_biz_id,
    app_name: app.app_name,
    datasource: name,
    data_id: ds.data_id,
    enabled: verb === "start",
  });
}

/** A strategy, bake or gate makes the probes' part a rollout; limits alone pace the one command. */
const isStaged = (request: DatasourceRequest): boolean => request.strategy !== undefined || request.bake_seconds !== undefined || request.gate !== undefined;

/**
 * A datasource whose rollout is still telling the probes: refused (409) while that rollout runs; if
 * it ended and its end was not yet handed over, settled first; a ROLLING_OUT left by a process that
 * died before its rollout existed is taken over once stale. The app as it is after that.
 */
async function settlePreviousRollout(deps: ApmDeps, app: AppView, name: DatasourceName): Promise<AppView> {
  const apply = app.datasources[name]?.apply;
  if (apply?.state !== "ROLLING_OUT" || apply.rollout_id === undefined) return app;
  const rollout = await deps.rollouts?.store.get(apply.rollout_id);
  if (rollout && isFinalRollout(rollout.status)) {
    await settleDatasourceRollout(deps, rollout);
    return getApp(deps.store, app.bk_biz_id, app.app_name);
  }
  if (rollout || deps.now() - apply.at < STALE_APPLY_MS)
    throw new ConflictError(
      `the ${name} datasource of ${app.bk_biz_id}/${app.app_name} is being ${apply.action === "start" ? "started" : "stopped"} by rollout ${apply.rollout_id}; wait for it, or abort it (POST /v1/rollouts/${apply.rollout_id}/abort)`,
      { apply },
    );
  return app;
}

export async function setDatasource(
  deps: ApmDeps,
  bizId: number,
  appName: string,
  name: DatasourceName,
  verb: DatasourceVerb,
  author: string,
  request: DatasourceRequest = {},
): Promise<DatasourceAction> {
  const found = await getApp(deps.store, bizId, appName);
  if (!found.datasources[name])
    throw new NotFoundError(`app ${bizId}/${appName} has no ${name} datasource; define it first (PUT the app with datasources.${name})`);
  const app = await settlePreviousRollout(deps, found, name);
  const ds = app.datasources[name] as Datasource;
  const enable = verb === "start";
  const busy = applying(ds, deps.now()) || ds.apply?.state === "ROLLING_OUT";
  // Already there: nothing is sent, so start-start and stop-stop are free and safe.
  if (ds.enabled === enable && ds.apply?.state !== "FAILED" && !busy) return { app, datasource: name, action: verb, changed: false };
  if (busy)
    throw new ConflictError(`the ${name} datasource of ${bizId}/${appName} is being ${ds.apply?.action === "start" ? "started" : "stopped"}; try again`, {
      apply: ds.apply,
    });
  const staged = isStaged(request);
  const agents = await probeAgents(deps, app);
  // Refused before anything changes: a request this entry point cannot carry out, or a strategy of too many waves.
  if (staged && !deps.rollouts) throw new ValidationError([{ path: "strategy", message: "this entry point tells probes by one command only" }]);
  if (staged) checkWaveCount(request, agents.length);

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

  // 2. the probes: one command, or a rollout
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
    const content = probeMessage(app, name, ds, verb);
    if (staged && deps.rollouts) {
      const rollout = await rollOut(deps, current, name, verb, { request, messageId, origin, content, agents, configVersion, author, before: before.version });
      return { app: rollout.app, datasource: name, action: verb, changed: true, rollout: rollout.view };
    }
    current = await saveApp(deps, current, (a) =>
      withApply(a, name, { state: "APPLYING", action: verb, at: deps.now(), config_version: configVersion, message_id: messageId, targets: agents.length }),
    );
    const { strategy: _s, bake_seconds: _b, gate: _g, ...limits } = request;
    try {
      command = (await dispatchCommand(deps.commands, { ...limits, message_id: messageId, agent_id_list: agents, content }, author, origin)).command;
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

/**
 * The probes told by a rollout: the datasource is ROLLING_OUT (enabled as asked: the route is
 * applied) before the rollout exists, so the stream that hands over its end always finds it. A
 * rollout that cannot start is aborted if it exists, and the route rolled back.
 */
async function rollOut(
  deps: ApmDeps,
  app: AppView,
  name: DatasourceName,
  verb: DatasourceVerb,
  run: {
    request: DatasourceRequest;
    messageId: string;
    origin: DatasourceOrigin;
    content: string;
    agents: string[];
    configVersion: number;
    author: string;
    before: number;
  },
): Promise<{ app: AppView; view: RolloutView }> {
  const rollouts = deps.rollouts as NonNullable<ApmDeps["rollouts"]>;
  const ds = app.datasources[name] as Datasource;
  const current = await saveApp(deps, app, (a) =>
    withApply({ ...a, datasources: { ...a.datasources, [name]: { ...ds, enabled: verb === "start" } } }, name, {
      state: "ROLLING_OUT",
      action: verb,
      at: deps.now(),
      config_version: run.configVersion,
      rollout_id: run.messageId,
      targets: run.agents.length,
    }),
  );
  const undoVerb: DatasourceVerb = verb === "start" ? "stop" : "start";
  const { reply_timeout_seconds, reply_rule } = run.request;
  const settings = {
    ...run.request,
    undo: {
      content: probeMessage(app, name, ds, undoVerb),
      ...(reply_timeout_seconds !== undefined ? { reply_timeout_seconds } : {}),
      ...(reply_rule !== undefined ? { reply_rule } : {}),
    },
  };
  try {
    const view = await startRollout(
      rollouts,
      { rollout_id: run.messageId, content: run.content, settings, agent_ids: run.agents, origin: { ...run.origin, owner_alerts: true } },
      run.author,
    );
    deps.logger.info("datasource rolling out", { bk_biz_id: app.bk_biz_id, app_name: app.app_name, datasource: name, action: verb, rollout_id: run.messageId });
    return { app: current, view };
  } catch (error) {
    await abortRolloutByOperator(rollouts, run.messageId, `datasource ${name} could not be ${verb === "start" ? "started" : "stopped"}`).catch(() => undefined);
    const rollback = await rollbackRoute(deps, { kind: "route", id: ds.data_id }, run.before, run.author);
    const restored = { ...current, datasources: { ...current.datasources, [name]: { ...ds, enabled: verb !== "start" } } };
    throw await failed(deps, restored, name, verb, "rollout", storedError(error), { rollbackError: rollback });
  }
}

function withApply(app: AppView, name: DatasourceName, apply: NonNullable<Datasource["apply"]>): AppView {
  const ds = app.datasources[name];
  if (!ds) return app;
  return { ...app, datasources: { ...app.datasources, [name]: { ...ds, apply } } };
}

/**
 * Restores the route to the version before the action; what went wrong doing so, if anything. A
 * route that already holds that version's document is left alone, so a redelivered stream record
 * makes no second version.
 */
async function rollbackRoute(deps: ApmDeps, ref: ObjectRef, version: number, author: string): Promise<StoredError | undefined> {
  try {
    const head = await deps.configs.store.getHead(ref);
    if (head && head.current_version !== version) {
      const [now, target] = await Promise.all([deps.configs.store.getVersion(ref, head.current_version), deps.configs.store.getVersion(ref, version)]);
      if (now && target && now.status === "APPLIED" && canonicalJson(now.document) === canonicalJson(target.document)) return undefined;
    }
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
  outcome: {
    rollbackError?: StoredError | undefined;
    /** GSE refused the change, or a person aborted it and the undo went well: no alert. */
    nothingChanged?: boolean;
    /** The stream's part: a record that cannot be written is thrown, so the record is delivered again. */
    mustRecord?: boolean;
    rollout?: { rollout_id: string; gate: string | null };
  } = {},
): Promise<DatasourceApplyError> {
  const { rollbackError, nothingChanged = false, rollout } = outcome;
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
        ...(ds?.apply?.rollout_id ? { rollout_id: ds.apply.rollout_id } : {}),
      }),
    );
  } catch (writeError) {
    if (outcome.mustRecord) throw writeError;
    deps.logger.warn("could not record a datasource failure (another request changed the app)", {
      app_name: app.app_name,
      datasource: name,
      error: storedError(writeError),
    });
  }
  const summary = `${verb} ${name} of ${app.bk_biz_id}/${app.app_name} failed at the ${step} step: ${error.message}`;
  if (recorded && !nothingChanged) {
    await deps.alerts
      .publish(datasourceApplyAlert({ app, datasource: name, action: verb, step, error, rollbackError, summary, at, rollout }))
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

/**
 * Recovery's part (commands stream) for a datasource told by a rollout: once the rollout ended,
 * SUCCEEDED applies the datasource; ABORTED (a gate, or an operator) rolls the route back to the
 * version before the action and the datasource back to its previous state. A gate's abort is the
 * one alert, naming the gate; an operator's is not alerted unless the route could not be restored.
 * Only while the datasource still shows that rollout: a later action wins.
 */
export async function settleDatasourceRollout(deps: ApmDeps, rollout: RolloutItem): Promise<"applied" | "rolled_back" | "ignored"> {
  const origin = datasourceOriginSchema.safeParse(rollout.origin);
  if (!origin.success || !isFinalRollout(rollout.status)) return "ignored";
  const o = origin.data;
  const name = o.datasource as DatasourceName;
  const app = await deps.store.getApp(o.bk_biz_id, o.app_name);
  const ds = app?.datasources[name];
  if (!app || !ds || ds.apply?.state !== "ROLLING_OUT" || ds.apply.rollout_id !== rollout.rollout_id) return "ignored";
  if (rollout.status === "SUCCEEDED") {
    await saveApp(deps, app, (a) => withApply(a, name, { ...(ds.apply as NonNullable<Datasource["apply"]>), state: "APPLIED", at: deps.now() }));
    deps.logger.info("datasource applied", {
      bk_biz_id: o.bk_biz_id,
      app_name: o.app_name,
      datasource: name,
      action: o.action,
      rollout_id: rollout.rollout_id,
    });
    return "applied";
  }
  const rollback = await rollbackRoute(deps, { kind: "route", id: o.data_id }, o.before_version, rollout.created_by);
  const restored = { ...app, datasources: { ...app.datasources, [name]: { ...ds, enabled: o.action !== "start" } } };
  const gate = rollout.gate?.gate ?? null;
  const by = gate ? `its ${gate} gate` : "an operator";
  await failed(
    deps,
    restored,
    name,
    o.action,
    "rollout",
    { message: `rollout ${rollout.rollout_id} was aborted by ${by}${rollout.reason ? `: ${rollout.reason}` : ""}`, kind: "rollout" },
    { rollbackError: rollback, nothingChanged: gate === null && rollback === undefined, mustRecord: true, rollout: { rollout_id: rollout.rollout_id, gate } },
  );
  return "rolled_back";
}
