/**
 * An APM datasource action whose probes are told by a rollout, driven through lib/ against the
 * shared stack's real parts: an apps table of this file's own, the stack's config flow and GSE
 * simulator (the route), and a rollout engine with its own commands table, heartbeat and clock
 * (test/helpers/rollouts.ts), so the health gate trips exactly when the test says. The stream's
 * hand-over of the rollout's end is called as the recovery function calls it
 * (settleDatasourceRollout); apm.test.ts proves the same through the stack's own stream.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createApp, getApp, type ApmDeps } from "../../../lib/apm/apps.ts";
import { setDatasource, settleDatasourceRollout } from "../../../lib/apm/datasources.ts";
import { ingestProbes } from "../../../lib/apm/probes.ts";
import { AppStore } from "../../../lib/apm/store.ts";
import { readObject } from "../../../lib/config-versions/documents.ts";
import { createAlertPublisher } from "../../../lib/core/alerts.ts";
import { ConflictError, ValidationError } from "../../../lib/core/errors.ts";
import { TABLES } from "../../../lib/resources.ts";
import { abortRolloutByOperator } from "../../../lib/rollouts/api.ts";
import { tableSpec } from "../../../local/dynamodb.ts";
import { configStore, directGse, libDeps } from "../../helpers/configs.ts";
import { addSimAgents, setSimStatus } from "../../helpers/heartbeat.ts";
import { rolloutHarness, type RolloutHarness } from "../../helpers/rollouts.ts";
import { simulatorControl, uniqueBuiltInChannelId, useStack } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
const BIZ = 8_000_000 + Math.floor(Math.random() * 1_000_000);
const PLAT = "bkmonitor";
let apps = 0;

interface Setup {
  readonly h: RolloutHarness;
  readonly apm: ApmDeps;
  readonly appName: string;
  readonly dataId: number;
  readonly agents: string[];
}

/** An app with a trace datasource whose probes run on `n` simulator agents, and APM deps on the harness's engine and clock. */
async function setup(n: number, options: { rollouts?: boolean } = {}): Promise<Setup> {
  const h = await rolloutHarness();
  const tableName = `apps-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.apps, tableName)));
  const store = configStore(info, dynamo);
  const apm: ApmDeps = {
    store: new AppStore({ client: DynamoDBDocumentClient.from(dynamo), tableName }),
    configs: {
      ...libDeps(store, directGse(info)),
      settings: { pendingAddTtlSeconds: 3600, idempotencyTtlSeconds: 3600, dedupeWindowSeconds: 0, inProgressTimeoutSeconds: 60 },
    },
    commands: h.deps.commands,
    ...(options.rollouts === false ? {} : { rollouts: h.deps }),
    // The harness's topic: its inbox reads what was published.
    alerts: createAlertPublisher({ sns: h.hb.deps.sns, topicArn: h.hb.deps.topicArn }),
    settings: { retentionDays: 7, platName: PLAT },
    now: () => h.clock.now,
    logger: new Logger({ logLevel: "SILENT" }),
  };
  const appName = `dsr-${run}-${apps++}`;
  const dataId = uniqueBuiltInChannelId();
  await createApp(apm, { bk_biz_id: BIZ, app_name: appName, datasources: { trace: { data_id: dataId, stream_to_id: 501 } } }, "tester");
  const { ids } = await addSimAgents(info, n);
  await ingestProbes(
    apm,
    BIZ,
    appName,
    ids.map((agent_id) => ({ agent_id, service: "web", instance: agent_id, probe_version: "1.0" })),
  );
  return { h, apm, appName, dataId, agents: ids };
}

const routeNames = async (s: Setup): Promise<string[] | null> => {
  const doc = await readObject(directGse(info), { kind: "route", id: s.dataId }, PLAT, "admin");
  return doc && "route" in doc ? doc.route.map((r) => r.name) : null;
};
const trace = async (s: Setup) => (await getApp(s.apm.store, BIZ, s.appName)).datasources.trace;
const deliveries = async (messageId: string): Promise<Record<string, number>> =>
  ((await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(messageId)}`)) as { agents: Record<string, number> }).agents;
const published = async (s: Setup): Promise<Record<string, unknown>[]> => (await s.h.hb.takeMessages()).map((m) => m.body as Record<string, unknown>);

describe("APM datasource start under a rollout's health gate", () => {
  it("30% of the touched agents going down in the bake aborts: route rolled back, the stop sent to exactly the touched agents, one alert naming the gate", async () => {
    const s = await setup(20);
    const started = await setDatasource(s.apm, BIZ, s.appName, "trace", "start", "tester", {
      strategy: { kind: "linear", wave_size: 10 },
      bake_seconds: 600,
      gate: { max_unhealthy: "20%" },
    });
    expect(started.command).toBeUndefined();
    expect(started.rollout).toMatchObject({ targets: 20, strategy: { kind: "linear", wave_size: 10 } });
    const id = started.rollout?.rollout_id ?? "";
    expect(await trace(s)).toMatchObject({ enabled: true, apply: { state: "ROLLING_OUT", action: "start", rollout_id: id, targets: 20 } });
    expect(await routeNames(s)).toEqual([`apm_trace_${BIZ}_${s.appName}`]);

    await s.h.poll();
    const baking = await s.h.driveUntil(id, (v) => v.status === "BAKING");
    expect(baking.gate).toMatchObject({ state: "ok", touched: 10, unhealthy: 0 });
    // The end is not handed over while the rollout runs.
    expect(await settleDatasourceRollout(s.apm, (await s.h.deps.store.get(id))!)).toBe("ignored");

    // The probes' agents in the order the rollout snapshots them (sorted): wave 1 is the first 10.
    const touched = [...s.agents].sort().slice(0, 10);
    await setSimStatus(info, touched.slice(0, 2), 3);
    await setSimStatus(info, touched.slice(2, 3), 7);
    s.h.clock.now += 60_000;
    await s.h.poll();
    const aborted = await s.h.driveUntil(id, (v) => v.status === "ABORTED" && v.undo?.status !== "PENDING" && v.undo?.status !== "RUNNING");
    expect(aborted.gate).toMatchObject({ state: "tripped", gate: "health", touched: 10, unhealthy: 3 });
    expect(await settleDatasourceRollout(s.apm, (await s.h.deps.store.get(id))!)).toBe("rolled_back");

    expect(await routeNames(s)).toBeNull();
    const ds = await trace(s);
    expect(ds).toMatchObject({ enabled: false, apply: { state: "FAILED", action: "start", step: "rollout", rollout_id: id } });
    expect(ds?.apply?.error?.message).toContain("health gate");
    // The undo is the stop message, to the 7 touched agents still up; the second wave never went out.
    expect(Object.keys(await deliveries(`${id}.undo`)).sort()).toEqual(touched.slice(3).sort());
    expect(await deliveries(`${id}.w2`)).toEqual({});
    const undo = await s.h.deps.commands.store.getCommand(`${id}.undo`);
    expect(JSON.parse(undo?.content ?? "{}")).toMatchObject({ action: "stop_trace", enabled: false });

    const alerts = await published(s);
    expect(alerts.filter((a) => a.type === "rollout.aborted")).toEqual([]);
    expect(alerts.filter((a) => a.type === "apm.datasource_apply")).toMatchObject([{ step: "rollout", rollout_id: id, gate: "health", action: "start" }]);

    // Handed over again (a redelivered stream record): nothing more happens, no second alert.
    const versions = (await s.apm.configs.store.getHead({ kind: "route", id: s.dataId }))?.current_version;
    expect(await settleDatasourceRollout(s.apm, (await s.h.deps.store.get(id))!)).toBe("ignored");
    expect((await s.apm.configs.store.getHead({ kind: "route", id: s.dataId }))?.current_version).toBe(versions);
    expect((await published(s)).filter((a) => a.type === "apm.datasource_apply")).toEqual([]);
  });

  it("a healthy rollout ends SUCCEEDED and applies the datasource; while it runs another start or stop is a 409 naming it", async () => {
    const s = await setup(4);
    const started = await setDatasource(s.apm, BIZ, s.appName, "trace", "start", "tester", {
      strategy: { kind: "linear", wave_size: 2 },
      bake_seconds: 30,
      gate: { max_unhealthy: 1 },
    });
    const id = started.rollout?.rollout_id ?? "";
    const busy = await setDatasource(s.apm, BIZ, s.appName, "trace", "stop", "tester").catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(ConflictError);
    expect((busy as ConflictError).message).toContain(id);

    await s.h.poll();
    const done = await s.h.driveUntil(id, (v) => v.status === "SUCCEEDED");
    expect(done.waves.map((w) => w.size)).toEqual([2, 2]);
    expect(await settleDatasourceRollout(s.apm, (await s.h.deps.store.get(id))!)).toBe("applied");
    expect(await trace(s)).toMatchObject({ enabled: true, apply: { state: "APPLIED", action: "start", rollout_id: id } });
    expect(await routeNames(s)).toEqual([`apm_trace_${BIZ}_${s.appName}`]);
    expect(await setDatasource(s.apm, BIZ, s.appName, "trace", "start", "tester")).toMatchObject({ changed: false });
    expect((await published(s)).filter((a) => a.type === "apm.datasource_apply" || a.type === "rollout.aborted")).toEqual([]);
  });

  it("an operator's abort rolls the route back without an alert (a person asked)", async () => {
    const s = await setup(4);
    const started = await setDatasource(s.apm, BIZ, s.appName, "trace", "start", "tester", { strategy: { kind: "linear", wave_size: 2 }, bake_seconds: 600 });
    const id = started.rollout?.rollout_id ?? "";
    await s.h.driveUntil(id, (v) => v.status === "BAKING");
    await abortRolloutByOperator(s.h.deps, id, "not now");
    expect(await settleDatasourceRollout(s.apm, (await s.h.deps.store.get(id))!)).toBe("rolled_back");
    expect(await routeNames(s)).toBeNull();
    expect(await trace(s)).toMatchObject({ enabled: false, apply: { state: "FAILED", step: "rollout" } });
    expect((await published(s)).filter((a) => a.type === "apm.datasource_apply" || a.type === "rollout.aborted")).toEqual([]);
  });

  it("refuses a gate at an entry point that cannot run rollouts with a 400 on strategy, before changing anything", async () => {
    const plain = await setup(2, { rollouts: false });
    const refused = await setDatasource(plain.apm, BIZ, plain.appName, "trace", "start", "tester", { gate: { max_unhealthy: 1 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).problems[0]?.path).toBe("strategy");
    expect((await trace(plain))?.apply).toBeUndefined();
    expect(await trace(plain)).toMatchObject({ enabled: false });
    expect(await routeNames(plain)).toBeNull();
  });
});
