/**
 * The desired-state routes through the local gateway: plans from JSON and YAML, reading one back,
 * refusals naming the field or the dangling reference, secrets masked, who may call them, and an
 * apply through the route listed in the history (that one needs the apply engine,
 * lib/desired/apply.ts).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import type { DesiredDocumentInput } from "../../../lib/desired/schemas.ts";
import { callApi, simulatorCounters, uniqueBuiltInChannelId, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const run = randomUUID().slice(0, 8);
const { monitor } = info.credentials.scoped;
const monitorHeader = { "x-bkapi-authorization": JSON.stringify({ bk_app_code: monitor.bk_app_code, bk_app_secret: monitor.bk_app_secret }) };

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = authHeader): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, path, { method, headers, ...(body !== undefined ? { body } : {}) });

interface Change {
  readonly order: number;
  readonly kind: string;
  readonly name: string;
  readonly action: string;
}
interface Plan {
  readonly plan_id: string;
  readonly has_changes: boolean;
  readonly summary: Record<string, number>;
  readonly changes: Change[];
}
const planOf = (res: ApiResponse): Plan => res.body.data as Plan;

/** 2 stream_tos (Kafka and Redis, with passwords) and 3 routes of this test's own. */
function pipeline(tag: string): DesiredDocumentInput {
  const kafka = `kafka-${tag}-${run}`;
  const redis = `redis-${tag}-${run}`;
  const [a, b, c] = [uniqueBuiltInChannelId(), uniqueBuiltInChannelId(), uniqueBuiltInChannelId()];
  return {
    plat_name: "bkmonitor",
    stream_tos: [
      { name: kafka, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }], sasl_username: "u", sasl_passwd: `kpw-${run}` } },
      { name: redis, report_mode: "redis", redis: { storage_address: [{ ip: "10.0.0.2", port: 6379 }], passwd: `rpw-${run}` } },
    ],
    routes: [
      { channel_id: a, route: [{ name: `r-${a}`, stream_to: { name: kafka, kafka: { topic_name: `t-${a}` } } }] },
      { channel_id: b, route: [{ name: `r-${b}`, stream_to: { name: kafka, kafka: { topic_name: `t-${b}` } } }] },
      { channel_id: c, route: [{ name: `r-${c}`, stream_to: { name: redis, redis: { channel_name: `c-${c}` } } }] },
    ],
  };
}

const expectFiveCreatesMasked = (res: ApiResponse): void => {
  expect(res.status, res.text).toBe(201);
  const plan = planOf(res);
  expect(plan.plan_id).toMatch(/^plan-/);
  expect(plan.summary).toEqual({ create: 5, update: 0, delete: 0, unchanged: 0 });
  expect(plan.changes.map((c) => [c.order, c.kind, c.action])).toEqual([
    [1, "streamto", "create"],
    [2, "streamto", "create"],
    [3, "route", "create"],
    [4, "route", "create"],
    [5, "route", "create"],
  ]);
  expect(res.text).not.toContain(`kpw-${run}`);
  expect(res.text).not.toContain(`rpw-${run}`);
};

describe("POST /v1/plans", () => {
  it("plans a JSON document: 201 with 5 creates in order, secrets masked, nothing written to GSE", async () => {
    const before = await simulatorCounters(info);
    expectFiveCreatesMasked(await call("POST", "/v1/plans", pipeline("json")));
    expect((await simulatorCounters(info)).applied).toEqual(before.applied);
  });

  it("plans the same document written as YAML, and GET /v1/plans/{plan_id} answers the stored plan, secrets masked", async () => {
    const created = await call("POST", "/v1/plans", { yaml: stringify(pipeline("yaml")) });
    expectFiveCreatesMasked(created);
    const read = await call("GET", `/v1/plans/${planOf(created).plan_id}`);
    expect(read.status, read.text).toBe(200);
    expect(read.body.data).toEqual(created.body.data);
    expect(read.text).not.toContain(`kpw-${run}`);
    expect(read.text).not.toContain(`rpw-${run}`);
  });

  it("refuses a document with a wrong field with 400 naming it, under yaml. for a YAML body", async () => {
    const doc = pipeline("invalid");
    const broken = { ...doc, stream_tos: [{ ...doc.stream_tos?.[0], report_mode: "carrier-pigeon" }] };
    const json = await call("POST", "/v1/plans", broken);
    expect(json.status, json.text).toBe(400);
    expect(json.body).toMatchObject({ code_name: "INVALID_ARGS" });
    expect((json.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain("stream_tos.0.report_mode");
    const yaml = await call("POST", "/v1/plans", { yaml: stringify(broken) });
    expect(yaml.status, yaml.text).toBe(400);
    expect((yaml.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain("yaml.stream_tos.0.report_mode");
  });

  it("refuses text that is not YAML with 400 on yaml, its message quoting none of the text", async () => {
    const res = await call("POST", "/v1/plans", { yaml: `plat_name: bkmonitor\nstream_tos: [{name: x, sasl_passwd: secret-${run}\n` });
    expect(res.status, res.text).toBe(400);
    expect((res.body.data as { errors: { path: string }[] }).errors[0]?.path).toBe("yaml");
    expect(res.text).not.toContain(`secret-${run}`);
  });

  it("refuses a plan whose route names a stream_to neither the document nor GSE has: 400 naming the dangling reference", async () => {
    const doc = pipeline("dangling");
    const missing = `missing-${run}`;
    const routes = doc.routes ?? [];
    const res = await call("POST", "/v1/plans", {
      ...doc,
      routes: [{ ...routes[0], route: [{ name: "x", stream_to: { name: missing, kafka: { topic_name: "t" } } }] }],
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code_name: "INVALID_ARGS" });
    const errors = (res.body.data as { errors: { path: string; message: string }[] }).errors;
    expect(
      errors.some((e) => e.path.startsWith("routes.0.route.0") && e.message.includes(missing)),
      res.text,
    ).toBe(true);
  });

  it("plans the bk-monitor Kafka example of docs/examples", async () => {
    const res = await call("POST", "/v1/plans", { yaml: readFileSync(new URL("../../../docs/examples/bkmonitor-kafka.yaml", import.meta.url), "utf8") });
    expect(res.status, res.text).toBe(201);
    const plan = planOf(res);
    expect(plan.changes.map((c) => [c.kind, c.name])).toEqual([
      ["streamto", "bkmonitor_kafka"],
      ["route", "1001"],
      ["route", "1100001"],
      ["route", "1100002"],
      ["route", "1100003"],
    ]);
    expect(res.text).not.toContain("change-me");
  });
});

describe("who may plan and apply", () => {
  it("refuses a caller without credentials with 401", async () => {
    const res = await call("POST", "/v1/plans", pipeline("anonymous"), {});
    expect(res.status, res.text).toBe(401);
    expect((await call("GET", "/v1/applies", undefined, {})).status).toBe(401);
  });

  it("refuses a caller without the operator scope (bk-monitor's) with 403 naming it, for plan and apply", async () => {
    const plan = await call("POST", "/v1/plans", pipeline("monitor"), monitorHeader);
    expect(plan.status, plan.text).toBe(403);
    expect(plan.body).toMatchObject({ code_name: "APP_NO_PERMISSION", data: { required_scope: "operator" } });
    const apply = await call("POST", "/v1/plans/plan-000000/apply", {}, monitorHeader);
    expect(apply.status, apply.text).toBe(403);
  });

  it("answers 404 for a plan or an apply that does not exist, 400 for an id that is not one", async () => {
    expect((await call("GET", `/v1/plans/plan-${run}-none`)).status).toBe(404);
    expect((await call("GET", `/v1/applies/apply-${run}-none`)).status).toBe(404);
    expect((await call("GET", "/v1/plans/not-a-plan")).status).toBe(400);
    expect((await call("GET", "/v1/applies?limit=0")).status).toBe(400);
  });
});

describe("POST /v1/plans/{plan_id}/apply (needs the apply engine)", () => {
  it("applies a plan through the route: APPLIED, listed first by GET /v1/applies and read by GET /v1/applies/{apply_id}; planning again shows no changes", async () => {
    const doc = pipeline("apply");
    const plan = planOf(await call("POST", "/v1/plans", doc));
    const applied = await call("POST", `/v1/plans/${plan.plan_id}/apply`);
    expect(applied.status, applied.text).toBe(200);
    const view = applied.body.data as { apply_id: string; status: string; plan_id: string; summary: Record<string, number> };
    expect(view).toMatchObject({ status: "APPLIED", plan_id: plan.plan_id, summary: { create: 5, update: 0, delete: 0, unchanged: 0 } });
    expect(applied.text).not.toContain(`kpw-${run}`);

    const history = await call("GET", "/v1/applies?limit=100");
    expect(history.status, history.text).toBe(200);
    const listed = (history.body.data as { applies: { apply_id: string; status: string; author: string }[] }).applies;
    expect(listed.find((a) => a.apply_id === view.apply_id)).toMatchObject({ status: "APPLIED", author: info.credentials.caller.bk_app_code });
    const one = await call("GET", `/v1/applies/${view.apply_id}`);
    expect(one.body.data).toMatchObject({ apply_id: view.apply_id, status: "APPLIED" });
    // The record carries its diff (the plan's, secrets masked): the history reads whole.
    const diff = (one.body.data as { diff: { action: string; changes: { path: string; secret?: boolean }[] }[] }).diff;
    expect(diff.map((c) => c.action)).toEqual(["create", "create", "create", "create", "create"]);
    expect(diff.flatMap((c) => c.changes).some((c) => c.secret === true)).toBe(true);
    expect(one.text).not.toContain(`kpw-${run}`);
    expect((await call("GET", `/v1/plans/${plan.plan_id}`)).body.data).toMatchObject({ apply_id: view.apply_id });

    const again = planOf(await call("POST", "/v1/plans", doc));
    expect(again).toMatchObject({ has_changes: false, summary: { create: 0, update: 0, delete: 0, unchanged: 5 } });
    const twice = await call("POST", `/v1/plans/${plan.plan_id}/apply`, {});
    expect(twice.status, twice.text).toBe(409);
  });
});
