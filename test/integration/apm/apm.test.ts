/**
 * APM applications end to end through the local gateway: the apps table in DynamoDB
 * Local, datasource routes through the versioned config flow into the GSE simulator, probes told
 * by tracked commands, recovery on the streams, alerts on the topic. Apps, data ids and agents
 * are this file's own.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AppStore } from "../../../lib/apm/store.ts";
import { retentionWindow } from "../../../lib/apm/window.ts";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppView, DatasourceAction, ProbeCommandAnswer, ProbeList, ProbeVersions } from "../../../lib/apm/schemas.ts";
import type { CommandView } from "../../../lib/commands/schemas.ts";
import { alertInbox, configStore, recoverySettled, type AlertInbox } from "../../helpers/configs.ts";
import { commandFinished, commandPage } from "../../helpers/commands.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, withFaults, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader, sqs, sns, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
const BIZ = 7_000 + Math.floor(Math.random() * 1_000_000);
const DAY = 86_400_000;
let inbox: AlertInbox;
let appCount = 0;

const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method, headers: authHeader, ...(body !== undefined ? { body } : {}) });
const appPath = (name: string, biz = BIZ): string => `/v1/apm/apps/${biz}/${name}`;

/** Agents of this file's own in the simulator; the first `down` are not connected (their ids sort first). */
let block = 0;
async function addAgents(n: number, down = 0): Promise<string[]> {
  const b = block++;
  const agents = Array.from({ length: n }, (_, i) => ({
    bk_agent_id: `apm-${run}-${b}-${i < down ? "a" : "b"}-${String(i).padStart(4, "0")}`,
    ip: `10.${150 + b}.${i >> 8}.${i & 255}`,
    status_code: i < down ? 0 : 2,
    churn: false,
  }));
  await simulatorControl(info, "POST", "agents", { agents });
  return agents.map((a) => a.bk_agent_id);
}

async function newApp(datasources: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<AppView> {
  const res = await api("POST", "/v1/apm/apps", { bk_biz_id: BIZ, app_name: `app-${run}-${appCount++}`, datasources, ...extra });
  expect(res.status, res.text.slice(0, 400)).toBe(201);
  return res.body.data as AppView;
}

const trace = () => ({ data_id: uniqueBuiltInChannelId(), stream_to_id: 501 });

async function report(app: AppView, instances: Record<string, unknown>[]): Promise<void> {
  const res = await api("POST", `${appPath(app.app_name)}/probes`, { instances });
  expect(res.status, res.text.slice(0, 400)).toBe(200);
}

async function gseRoute(channelId: number): Promise<{ name: string }[] | null> {
  const res = await callApi(info.gseUrl, "/api/v2/data/query_route", {
    method: "POST",
    headers: { "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.gse.appCode, bk_app_secret: info.credentials.gse.appSecret }) },
    body: { condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: { operator_name: "admin" } },
  });
  const data = res.body.data as { route?: { name: string }[] }[] | null;
  if (res.body.code !== 0 || !data || data.length === 0) return null;
  return data[0]?.route ?? [];
}

async function versions(channelId: number): Promise<{ version: number; status: string; operation: string }[]> {
  const res = await api("GET", `/v1/configs/route/${channelId}/versions`);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return (res.body.data as { versions: { version: number; status: string; operation: string }[] }).versions;
}

const command = async (id: string): Promise<CommandView> => (await commandPage(info, authHeader, id)).command;
const finished = (id: string, timeoutMs = 60_000): Promise<CommandView> => commandFinished(info, authHeader, id, timeoutMs);

const applyAlerts = async (app: AppView, ds: string) => inbox.about(`apm#${app.bk_biz_id}#${app.app_name}#${ds}`);

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
});

afterAll(() => {
  sqs.destroy();
  sns.destroy();
  dynamo.destroy();
});

describe("APM applications", () => {
  it("creates an app with the default retention, keeps app names unique per business, reads, lists, updates and deletes it", async () => {
    const app = await newApp({ trace: { data_id: 1_500_001, stream_to_id: 501 } });
    expect(app).toMatchObject({
      bk_biz_id: BIZ,
      retention_days: 7,
      revision: 1,
      datasources: { trace: { data_id: 1_500_001, stream_to_id: 501, topic_name: "apm_trace_1500001", enabled: false } },
    });

    const again = await api("POST", "/v1/apm/apps", { bk_biz_id: BIZ, app_name: app.app_name });
    expect(again.status).toBe(409);
    const otherBiz = await api("POST", "/v1/apm/apps", { bk_biz_id: BIZ + 1, app_name: app.app_name });
    expect(otherBiz.status).toBe(201);

    expect((await api("GET", appPath(app.app_name))).body.data).toEqual(app);
    const listed = (await api("GET", `/v1/apm/apps?bk_biz_id=${BIZ + 1}`)).body.data as { apps: AppView[] };
    expect(listed.apps.map((a) => a.app_name)).toEqual([app.app_name]);

    const updated = await api("PUT", appPath(app.app_name), {
      retention_days: 30,
      datasources: { metric: { data_id: 1_500_002, stream_to_id: 502, topic_name: "m" }, trace: null },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.data).toMatchObject({ retention_days: 30, revision: 2, datasources: { metric: { topic_name: "m", enabled: false } } });
    expect((updated.body.data as AppView).datasources.trace).toBeUndefined();
    expect((await api("PUT", appPath(app.app_name), { retention_days: 3, if_revision: 1 })).status).toBe(409);

    expect((await api("DELETE", appPath(app.app_name))).status).toBe(200);
    expect((await api("GET", appPath(app.app_name))).status).toBe(404);
    expect((await api("DELETE", appPath(app.app_name, BIZ + 1))).status).toBe(200);
  });

  it("refuses bad input with 400 naming the field, and writes nothing", async () => {
    const name = `bad-${run}`;
    const cases: [unknown, string][] = [
      [{ bk_biz_id: BIZ, app_name: "has space" }, "app_name"],
      [{ bk_biz_id: "2", app_name: name }, "bk_biz_id"],
      [{ bk_biz_id: BIZ, app_name: name, retention_days: 0 }, "retention_days"],
      [{ bk_biz_id: BIZ, app_name: name, datasources: { tracing: { data_id: 1, stream_to_id: 1 } } }, "datasources"],
      [{ bk_biz_id: BIZ, app_name: name, datasources: { trace: { data_id: -1, stream_to_id: 1 } } }, "datasources.trace.data_id"],
      [
        { bk_biz_id: BIZ, app_name: name, datasources: { trace: { data_id: 9, stream_to_id: 1 }, metric: { data_id: 9, stream_to_id: 1 } } },
        "datasources.metric.data_id",
      ],
      [{ bk_biz_id: BIZ, app_name: name, owner: "x" }, ""],
    ];
    for (const [body, field] of cases) {
      const res = await api("POST", "/v1/apm/apps", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const errors = (res.body.data as { errors: { path: string }[] }).errors;
      expect(
        errors.some((e) => e.path === field || (field !== "" && e.path.startsWith(field))),
        `${JSON.stringify(errors)} names ${field}`,
      ).toBe(true);
    }
    expect((await api("GET", appPath(name))).status).toBe(404);
    expect((await api("POST", `/v1/apm/apps/${BIZ}/${name}/datasources/tracing/start`)).status).toBe(400);
    expect((await api("GET", `/v1/apm/apps/x/${name}`)).status).toBe(400);
  });

  it("discovers exactly the instances last seen within the retention window (both ends included)", async () => {
    const app = await newApp({}, { retention_days: 2 });
    const now = Date.now();
    const [agent] = await addAgents(1);
    // A minute of margin either side of the window's start: the server's clock reads "now" a little later.
    await report(app, [
      { agent_id: agent, service: "cart", instance: "fresh", probe_version: "1.0", last_seen: now - 1_000 },
      { agent_id: agent, service: "cart", instance: "inside", probe_version: "1.0", last_seen: now - 2 * DAY + 60_000 },
      { agent_id: agent, service: "cart", instance: "outside", probe_version: "0.9", last_seen: now - 2 * DAY - 60_000 },
      {
        agent_id: agent,
        service: "pay",
        instance: "iso",
        probe_version: "2.0",
        last_seen: new Date(now - DAY + 8 * 3_600_000).toISOString().replace("Z", "+08:00"),
      },
    ]);
    const res = await api("GET", `${appPath(app.app_name)}/probes`);
    expect(res.status, res.text).toBe(200);
    const list = res.body.data as ProbeList;
    expect(list.window.end_ms - list.window.start_ms).toBe(2 * DAY);
    expect(list.window.start).toMatch(/Z$/);
    expect(new Date(list.window.start).getTime()).toBe(list.window.start_ms);
    expect(list.instances.map((i) => i.instance).sort()).toEqual(["fresh", "inside", "iso"].sort());
    const versionsRes = (await api("GET", `${appPath(app.app_name)}/probe-versions`)).body.data as ProbeVersions;
    expect(versionsRes.total).toBe(3);
    expect(versionsRes.versions).toEqual([
      { probe_version: "1.0", instances: 2, agents: 1 },
      { probe_version: "2.0", instances: 1, agents: 1 },
    ]);
    // A report from behind the one kept never moves last_seen back.
    await report(app, [{ agent_id: agent, service: "cart", instance: "fresh", probe_version: "1.0", last_seen: now - 3 * DAY }]);
    const again = (await api("GET", `${appPath(app.app_name)}/probes?service=cart`)).body.data as ProbeList;
    expect(again.instances.map((i) => i.instance).sort()).toEqual(["fresh", "inside"]);
  });

  it("keeps the window's edges exact in the table: start and end included, a millisecond past either excluded", async () => {
    const app = await newApp({}, { retention_days: 1 });
    const store = new AppStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.apps });
    const w = retentionWindow(Date.UTC(2026, 2, 8, 12, 0, 0), 1);
    const at = { before: w.start_ms - 1, start: w.start_ms, end: w.end_ms, after: w.end_ms + 1 };
    await store.putProbes(
      BIZ,
      app.app_name,
      Object.entries(at).map(([instance, last_seen]) => ({ agent_id: "edge-agent", service: "s", instance, probe_version: "1", last_seen })),
      3_600,
    );
    const page = await store.probePage(BIZ, app.app_name, { startMs: w.start_ms, endMs: w.end_ms }, { limit: 10 });
    expect(page.items.map((i) => i.instance).sort()).toEqual(["end", "start"]);
  });

  it("records the instances an agent sends back to a discovery command through the slot callback", async () => {
    const app = await newApp();
    const [agent] = await addAgents(1);
    const res = await api("POST", `${appPath(app.app_name)}/discover`, { agent_id_list: [agent] });
    expect(res.status, res.text).toBe(200);
    const answer = res.body.data as ProbeCommandAnswer;
    expect(answer.targets).toBe(1);
    const messageId = answer.command?.message_id ?? "";
    // GSE posts the plugin's answer to our slot callback, as it does for every reply.
    const url = new URL(info.callbackUrl);
    const callback = await callApi(url.origin, url.pathname + url.search, {
      method: "POST",
      body: {
        message_id: messageId,
        bk_agent_id: agent,
        content: JSON.stringify({ instances: [{ service: "orders", instance: "orders-0", probe_version: "3.1" }] }),
      },
    });
    expect(callback.status, callback.text).toBe(200);
    const list = (await api("GET", `${appPath(app.app_name)}/probes`)).body.data as ProbeList;
    expect(list.instances).toMatchObject([{ agent_id: agent, service: "orders", instance: "orders-0", probe_version: "3.1" }]);
  });
});

describe("APM datasources", () => {
  it("start_trace that GSE refuses (add_route): trace stays off, the version is REJECTED, GSE unchanged, no alert", async () => {
    const ds = trace();
    const app = await newApp({ trace: ds });
    const res = await withFaults(info, [{ kind: "business_error", code: 1_012_001, operation: "add_route", match: String(ds.data_id) }], () =>
      api("POST", `${appPath(app.app_name)}/datasources/trace/start`),
    );
    expect(res.status, res.text).toBe(502);
    expect(res.body).toMatchObject({ code: 1_650_203, data: { step: "config", datasource: "trace", error: { gse_code: 1_012_001, outcome: "rejected" } } });
    const after = (await api("GET", appPath(app.app_name))).body.data as AppView;
    expect(after.datasources.trace).toMatchObject({ enabled: false, apply: { state: "FAILED", action: "start", step: "config" } });
    expect(after.datasources.trace?.apply?.error?.message).toBeTruthy();
    // GSE refused the route: nothing changed, so nothing to roll back and nobody paged.
    expect((await versions(ds.data_id)).find((v) => v.version === 1)).toMatchObject({ status: "REJECTED", operation: "apm.start_trace" });
    expect(await gseRoute(ds.data_id)).toBeNull();
    await recoverySettled(info, configStore(info, dynamo), inbox);
    expect(await applyAlerts(app, "trace")).toEqual([]);
    expect(await inbox.about(`route#${ds.data_id}`)).toEqual([]);
  }, 60_000);

  it("start, start again, stop, stop again, start: idempotent, the route follows, probes are told each change once", async () => {
    const ds = trace();
    const app = await newApp({ trace: ds });
    const agents = await addAgents(3);
    await report(
      app,
      agents.map((agent_id, i) => ({ agent_id, service: "web", instance: `web-${i}`, probe_version: "1.0" })),
    );
    const act = async (verb: "start" | "stop"): Promise<DatasourceAction> => {
      const res = await api("POST", `${appPath(app.app_name)}/datasources/trace/${verb}`);
      expect(res.status, res.text.slice(0, 400)).toBe(200);
      return res.body.data as DatasourceAction;
    };
    const routeName = `apm_trace_${BIZ}_${app.app_name}`;

    const started = await act("start");
    expect(started).toMatchObject({
      changed: true,
      app: { datasources: { trace: { enabled: true, apply: { state: "APPLIED", action: "start", targets: 3 } } } },
    });
    expect((await gseRoute(ds.data_id))?.map((r) => r.name)).toEqual([routeName]);
    expect(started.command?.targets).toBe(3);
    expect(await act("start")).toMatchObject({ changed: false });
    const afterStart = await versions(ds.data_id);

    const stopped = await act("stop");
    expect(stopped).toMatchObject({ changed: true, app: { datasources: { trace: { enabled: false, apply: { state: "APPLIED", action: "stop" } } } } });
    expect(await gseRoute(ds.data_id)).toEqual([]);
    expect(await act("stop")).toMatchObject({ changed: false });

    const restarted = await act("start");
    expect(restarted.changed).toBe(true);
    expect((await gseRoute(ds.data_id))?.map((r) => r.name)).toEqual([routeName]);
    // One version per change (adopt + start + stop + start), none for the repeats.
    const all = await versions(ds.data_id);
    expect(all.length).toBe(afterStart.length + 2);
    expect(all.map((v) => v.status).every((s) => s === "APPLIED")).toBe(true);
    expect(restarted.command?.message_id).not.toBe(started.command?.message_id);
    const delivered = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(started.command?.message_id ?? "")}`)) as {
      agents: Record<string, number>;
    };
    expect(Object.values(delivered.agents)).toEqual([1, 1, 1]);
    expect(await applyAlerts(app, "trace")).toHaveLength(0);
  }, 60_000);

  it("start_metric whose command GSE refuses: the route is rolled back to before, metric stays off, one alert", async () => {
    const ds = trace();
    const app = await newApp({ metric: ds });
    const agents = await addAgents(2);
    await report(
      app,
      agents.map((agent_id, i) => ({ agent_id, service: "db", instance: `db-${i}`, probe_version: "1.0" })),
    );
    const res = await withFaults(info, [{ kind: "business_error", code: 1_013_001, operation: "dispatch_message", match: agents[0] ?? "" }], () =>
      api("POST", `${appPath(app.app_name)}/datasources/metric/start`),
    );
    expect(res.status, res.text.slice(0, 400)).toBe(502);
    expect(res.body).toMatchObject({ data: { step: "command", datasource: "metric" } });
    const after = (await api("GET", appPath(app.app_name))).body.data as AppView;
    expect(after.datasources.metric).toMatchObject({ enabled: false, apply: { state: "FAILED", step: "command" } });
    // Adopted (nothing), started, rolled back to nothing: GSE holds no route again.
    expect(await gseRoute(ds.data_id)).toBeNull();
    const list = await versions(ds.data_id);
    expect(list[0]).toMatchObject({ operation: "rollback_to", status: "APPLIED" });
    const messageId = after.datasources.metric?.apply?.message_id ?? "";
    // GSE's refusal ended the command at once (FAILED), or it was cancelled before a retry: never RUNNING on.
    expect(["FAILED", "CANCELLED"]).toContain((await command(messageId)).status);
    const alerts = await eventually("the datasource alert", async () => {
      const found = await applyAlerts(app, "metric");
      return found.length > 0 ? found : undefined;
    });
    expect(alerts).toMatchObject([{ type: "apm.datasource_apply", step: "command" }]);
  }, 60_000);

  it("a datasource command that ends FAILED later undoes the start: route rolled back, log stays off, one alert", async () => {
    const ds = trace();
    const app = await newApp({ log: ds });
    const agents = await addAgents(2, 2);
    await report(
      app,
      agents.map((agent_id, i) => ({ agent_id, service: "batch", instance: `b-${i}`, probe_version: "1.0" })),
    );
    const res = await api("POST", `${appPath(app.app_name)}/datasources/log/start`);
    expect(res.status, res.text.slice(0, 400)).toBe(200);
    const messageId = (res.body.data as DatasourceAction).command?.message_id ?? "";
    expect((await finished(messageId)).status).toBe("FAILED");
    const after = await eventually("the start undone", async () => {
      const a = (await api("GET", appPath(app.app_name))).body.data as AppView;
      return a.datasources.log?.apply?.state === "FAILED" ? a : undefined;
    });
    expect(after.datasources.log).toMatchObject({ enabled: false, apply: { step: "command", message_id: messageId } });
    expect(await gseRoute(ds.data_id)).toBeNull();
    const alerts = await eventually("the datasource alert", async () => {
      const found = await applyAlerts(app, "log");
      return found.length > 0 ? found : undefined;
    });
    expect(alerts).toHaveLength(1);
  }, 90_000);

  it("upgrades probes to v2 with 10% of them failing and max_errors=5%: ABORTED, the rest never sent; asking again is a new attempt", async () => {
    const app = await newApp();
    const agents = await addAgents(100, 10);
    await report(
      app,
      agents.map((agent_id) => ({ agent_id, service: "api", instance: agent_id, probe_version: "1.0" })),
    );
    const res = await api("POST", `${appPath(app.app_name)}/upgrade`, { target_version: "2.0", max_concurrency: 10, max_errors: "5%" });
    expect(res.status, res.text.slice(0, 400)).toBe(200);
    const answer = res.body.data as ProbeCommandAnswer;
    expect(answer.targets).toBe(100);
    const done = await finished(answer.command?.message_id ?? "");
    expect(done.status).toBe("ABORTED");
    expect(done.counts.SKIPPED).toBe(90);
    // Asked again after it ended: a new attempt, not the aborted command back.
    const retry = (await api("POST", `${appPath(app.app_name)}/upgrade`, { target_version: "2.0", max_concurrency: 10, max_errors: "5%" })).body
      .data as ProbeCommandAnswer;
    expect(retry.command?.message_id).not.toBe(done.message_id);
    await finished(retry.command?.message_id ?? "");
  }, 60_000);

  it("runs an upgrade with a strategy, a gate and an undo as a rollout: linear waves under the health gate; asking again after it ended is a new attempt", async () => {
    const app = await newApp();
    const agents = await addAgents(4);
    await report(
      app,
      agents.map((agent_id) => ({ agent_id, service: "api", instance: agent_id, probe_version: "1.0" })),
    );
    const undo = { content: JSON.stringify({ action: "upgrade", bk_biz_id: BIZ, app_name: app.app_name, target_version: "1.0" }) };
    const body = { target_version: "2.0", strategy: { kind: "linear", wave_size: 2 }, gate: { max_unhealthy: "50%" }, undo };
    const res = await api("POST", `${appPath(app.app_name)}/upgrade`, body);
    expect(res.status, res.text.slice(0, 400)).toBe(200);
    const answer = res.body.data as ProbeCommandAnswer;
    expect(answer).toMatchObject({ targets: 4, rollout: { targets: 4, strategy: { kind: "linear", wave_size: 2 } } });
    expect(answer.command).toBeUndefined();
    const id = answer.rollout?.rollout_id ?? "";
    // Each wave is judged by what the probes report after it: they report 2.0 now and then, as upgraded probes do.
    const done = await eventually(
      "the upgrade's rollout ended",
      async () => {
        await report(
          app,
          agents.map((agent_id) => ({ agent_id, service: "api", instance: agent_id, probe_version: "2.0" })),
        );
        const view = (await api("GET", `/v1/rollouts/${id}`)).body.data as { status: string; errors: number; waves: { size: number; message_id: string }[] };
        return view.status === "SUCCEEDED" ? view : undefined;
      },
      45_000,
    );
    expect(done.waves.map((w) => w.size)).toEqual([2, 2]);
    expect(done.errors).toBe(0);
    // Asked again after it ended: a new attempt, as for a command.
    const again = (await api("POST", `${appPath(app.app_name)}/upgrade`, body)).body.data as ProbeCommandAnswer;
    expect(again.rollout?.rollout_id).not.toBe(id);
  }, 60_000);

  it("a start with a strategy and a gate rolls out and is APPLIED once the stream hands over its SUCCEEDED; a stop whose rollout an operator aborts is undone, without an alert", async () => {
    const ds = trace();
    const app = await newApp({ trace: ds });
    const agents = await addAgents(4);
    await report(
      app,
      agents.map((agent_id) => ({ agent_id, service: "web", instance: agent_id, probe_version: "1.0" })),
    );
    const start = await api("POST", `${appPath(app.app_name)}/datasources/trace/start`, {
      strategy: { kind: "linear", wave_size: 2 },
      gate: { max_unhealthy: "50%" },
    });
    expect(start.status, start.text.slice(0, 400)).toBe(200);
    const started = start.body.data as DatasourceAction;
    expect(started).toMatchObject({ changed: true, rollout: { targets: 4, strategy: { kind: "linear", wave_size: 2 } } });
    const startId = started.rollout?.rollout_id ?? "";
    const applied = await eventually(
      "the rollout's end handed to the datasource",
      async () => {
        const a = (await api("GET", appPath(app.app_name))).body.data as AppView;
        return a.datasources.trace?.apply?.state === "APPLIED" ? a : undefined;
      },
      45_000,
    );
    expect(applied.datasources.trace).toMatchObject({ enabled: true, apply: { action: "start", rollout_id: startId } });
    expect((await gseRoute(ds.data_id))?.length).toBe(1);

    const stop = await api("POST", `${appPath(app.app_name)}/datasources/trace/stop`, { strategy: { kind: "all" }, bake_seconds: 3_600 });
    expect(stop.status, stop.text.slice(0, 400)).toBe(200);
    const stopId = (stop.body.data as DatasourceAction).rollout?.rollout_id ?? "";
    expect(await gseRoute(ds.data_id)).toEqual([]);
    expect((await api("POST", `/v1/rollouts/${stopId}/abort`, {})).status).toBe(200);
    const undone = await eventually(
      "the aborted stop undone",
      async () => {
        const a = (await api("GET", appPath(app.app_name))).body.data as AppView;
        return a.datasources.trace?.apply?.state === "FAILED" ? a : undefined;
      },
      45_000,
    );
    expect(undone.datasources.trace).toMatchObject({ enabled: true, apply: { action: "stop", step: "rollout", rollout_id: stopId } });
    expect((await gseRoute(ds.data_id))?.length).toBe(1);
    // A person asked: no alert; the undo (the start message) went to the agents the stop went to.
    await recoverySettled(info, configStore(info, dynamo), inbox);
    expect(await applyAlerts(app, "trace")).toEqual([]);
    const undo = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(`${stopId}.undo`)}`)) as { agents: Record<string, number> };
    expect(Object.keys(undo.agents).sort()).toEqual([...agents].sort());
  }, 120_000);

  it("starts a datasource from a probe_start job on the automation queue", async () => {
    const ds = trace();
    const app = await newApp({ profiling: ds });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: info.queues.automation,
        MessageBody: JSON.stringify({ type: "probe_start", bk_biz_id: BIZ, app_name: app.app_name, datasource: "profiling" }),
      }),
    );
    const after = await eventually("the job's start", async () => {
      const a = (await api("GET", appPath(app.app_name))).body.data as AppView;
      return a.datasources.profiling?.enabled ? a : undefined;
    });
    expect(after.datasources.profiling).toMatchObject({ apply: { state: "APPLIED", action: "start", targets: 0 } });
    expect((await gseRoute(ds.data_id))?.length).toBe(1);
  }, 30_000);
});
