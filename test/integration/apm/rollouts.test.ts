/**
 * APM's rollouts: a datasource action whose probes are told by a rollout, and a probe upgrade judged
 * by the versions the probes report afterwards, driven through lib/ against the
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
import { ingestProbes, upgradeProbes } from "../../../lib/apm/probes.ts";
import { probeVersionReader } from "../../../lib/apm/rollout-deps.ts";
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
let appCount = 0;

interface Setup {
  readonly h: RolloutHarness;
  readonly apm: ApmDeps;
  readonly appName: string;
  readonly dataId: number;
  readonly agents: string[];
}

/** An app with a trace datasource whose probes run on `n` simulator agents, and APM deps on the harness's engine and clock. */
async function setup(n: number, options: { rollouts?: boolean } = {}): Promise<Setup> {
  const tableName = `apps-${randomBytes(6).toString("hex")}`;
  await dynamo.send(new CreateTableCommand(tableSpec(TABLES.apps, tableName)));
  const apps = new AppStore({ client: DynamoDBDocumentClient.from(dynamo), tableName });
  const h = await rolloutHarness({ probeVersions: probeVersionReader(apps) });
  const store = configStore(info, dynamo);
  const apm: ApmDeps = {
    store: apps,
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
  const appName = `dsr-${run}-${appCount++}`;
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

describe("APM probe upgrade run as a rollout", () => {
  /** The probes of `ids` report `version`, a second after the clock's now (after their wave went out). */
  const reportVersion = async (s: Setup, ids: readonly string[], version: string): Promise<void> => {
    s.h.clock.now += 1_000;
    await ingestProbes(
      s.apm,
      BIZ,
      s.appName,
      ids.map((agent_id) => ({ agent_id, service: "web", instance: agent_id, probe_version: version })),
    );
  };

  for (const [maxErrors, status] of [
    [0, "ABORTED"],
    [1, "SUCCEEDED"],
  ] as const) {
    it(`counts a probe that replied but still reports the old version as an error (max_errors ${maxErrors} → ${status})`, async () => {
      const s = await setup(4);
      const answer = await upgradeProbes(
        s.apm,
        BIZ,
        s.appName,
        { target_version: "2.0", strategy: { kind: "linear", wave_size: 2 }, max_errors: maxErrors, gate: { max_unhealthy: 4, silent_seconds: 30 } },
        "tester",
      );
      const id = answer.rollout?.rollout_id ?? "";
      expect(answer.rollout).toMatchObject({ expect_probe_version: { bk_biz_id: BIZ, app_name: s.appName, version: "2.0" } });
      const order = [...s.agents].sort();
      // Wave 1 went out and its command ended; the probes have not reported since: the wave waits.
      await s.h.drain();
      await s.h.driveUntil(id, (v) => v.current_wave === 1, 0);
      expect((await s.h.deps.store.waves(id))[0]?.status).toBe("RUNNING");
      await reportVersion(s, order.slice(0, 1), "2.0");
      await reportVersion(s, order.slice(1, 2), "1.0");
      const after = await s.h.driveUntil(id, (v) => v.status !== "RUNNING" || v.current_wave === 2);
      expect(after.waves[0]).toMatchObject({ errors: 1, version_mismatch: [order[1]] });
      if (status === "ABORTED") {
        expect(after).toMatchObject({ status: "ABORTED", errors: 1, gate: { gate: "errors" } });
        expect(await deliveries(`${id}.w2`)).toEqual({});
        return;
      }
      await reportVersion(s, order.slice(2), "2.0");
      const done = await s.h.driveUntil(id, (v) => v.status === "SUCCEEDED");
      expect(done).toMatchObject({ errors: 1, waves: [{ errors: 1 }, { errors: 0 }] });
    });
  }
});
