/**
 * The OpenAPI document against what the API answers: every route of the route table is called
 * through the local gateway (real sockets, DynamoDB Local, the GSE simulator) with a request that
 * succeeds and the error requests it can answer, and every answer must be one the document lists
 * for that path and method, with a body that validates (Ajv, JSON Schema 2020-12) against the
 * documented schema. A route without a case here fails: add its case with the route.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES, MAX_ROUTE_BODY_BYTES } from "../../../lib/http/handler.ts";
import { buildOpenApiDocument, openApiPath } from "../../../lib/openapi/document.ts";
import type { OpenApiOperation, OpenApiResponse, Ref } from "../../../lib/openapi/types.ts";
import { ROUTES, type RouteDefinition } from "../../../lib/routes.ts";
import {
  addSimulatorAgents,
  callApi,
  simulatorControl,
  uniqueBuiltInChannelId,
  uniqueSimIp,
  useStack,
  withFaults,
  type ApiResponse,
} from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const doc = buildOpenApiDocument(ROUTES);
const run = randomUUID().slice(0, 8);
const PLAT = `oa_${run}`;
const BIZ = 9_000_000 + Math.floor(Math.random() * 1_000_000);
let serial = 0;
const unique = (prefix: string): string => `${prefix}-${run}-${serial++}`;

// ---------------------------------------------------------------------------------------------
// the document as a validator
// ---------------------------------------------------------------------------------------------

const DOC_ID = "urn:gse-control:openapi";
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ $id: DOC_ID, components: { schemas: doc.components.schemas } });

/** A schema of the document, its `#/components/…` references pointed at the document Ajv holds. */
const rebased = (schema: unknown): object => JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOC_ID}#/`)) as object;

function operationOf(route: RouteDefinition): OpenApiOperation {
  const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase() as "get"];
  if (!op) throw new Error(`${route.method} ${route.path} is not in the document`);
  return op;
}

function responseOf(op: OpenApiOperation, status: number): OpenApiResponse | undefined {
  const response = op.responses[String(status)] as OpenApiResponse | Ref | undefined;
  if (response === undefined || !("$ref" in response)) return response;
  return doc.components.responses[response.$ref.split("/").pop() as string];
}

interface Answer {
  readonly label: string;
  readonly res: ApiResponse;
}

/** The answer is one the document lists for the route, and its body fits the documented schema. */
function checkAgainstDocument(route: RouteDefinition, { label, res }: Answer): void {
  const where = `${route.method} ${route.path} (${label}) answered ${res.status}: ${res.text.slice(0, 300)}`;
  const response = responseOf(operationOf(route), res.status);
  expect(response, `status not documented: ${where}`).toBeDefined();
  const contentType = String(res.headers["content-type"] ?? "").split(";")[0] as string;
  const media = response?.content?.[contentType];
  expect(media, `content type ${contentType} not documented: ${where}`).toBeDefined();
  if (contentType !== "application/json") return;
  const validate = ajv.compile(rebased(media?.schema));
  const valid = validate(JSON.parse(res.text));
  expect(valid, `body does not fit the documented schema: ${where}\n${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// calling a route
// ---------------------------------------------------------------------------------------------

interface Call {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Without the caller's credentials. */
  readonly anonymous?: boolean;
}

const pathOf = (route: RouteDefinition, params: Readonly<Record<string, string | number>> = {}): string =>
  route.path.replace(/\{(\w+)\+?\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.path}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });

/** The callback route's credential is the key in its URL, the others' the header. */
const callbackKeyQuery = (): string => new URL(info.callbackUrl).search.slice(1);

/** What one route's case does: calls it (`expectAnswer`), each answer checked against the document, then its status. */
interface RouteCalls {
  readonly route: RouteDefinition;
  expectAnswer(status: number, label: string, call?: Call): Promise<ApiResponse>;
}

function routeCalls(route: RouteDefinition, answers: Answer[]): RouteCalls {
  return {
    route,
    async expectAnswer(status, label, call = {}) {
      const query = [route.auth === "callback-key" && !call.anonymous ? callbackKeyQuery() : "", call.query ?? ""].filter(Boolean).join("&");
      const res = await callApi(info.gatewayUrl, `${pathOf(route, call.params)}${query ? `?${query}` : ""}`, {
        method: route.method,
        headers: { ...(call.anonymous ? {} : authHeader), ...call.headers },
        ...(call.body !== undefined ? { body: call.body } : {}),
      });
      answers.push({ label, res });
      checkAgainstDocument(route, { label, res });
      expect(res.status, `${route.method} ${route.path} (${label}): ${res.text.slice(0, 300)}`).toBe(status);
      return res;
    },
  };
}

const dataOf = <T>(res: ApiResponse): T => res.body.data as T;

// ---------------------------------------------------------------------------------------------
// fixtures: objects the cases read, made once through the API itself
// ---------------------------------------------------------------------------------------------

const GATEWAY = "/api/bk-gse/prod";
const operation = () => ({ operator_name: "admin" });
const kafkaStreamTo = (name: string, host = "kafka.ops.local") => ({
  name,
  report_mode: "kafka",
  kafka: { storage_address: [{ ip: host, port: 9092 }], sasl_username: "", sasl_passwd: "" },
});
const addStreamToBody = (name = unique("st")) => ({ metadata: { plat_name: PLAT }, operation: operation(), stream_to: kafkaStreamTo(name) });
const kafkaRoute = (name = unique("route"), streamToId = 501) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0oa_${name}` } } });
const addRouteBody = (channelId: number) => ({ metadata: { plat_name: PLAT, channel_id: channelId }, operation: operation(), route: [kafkaRoute()] });

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const res = await callApi(info.gatewayUrl, path, { method: "POST", headers: { ...authHeader, ...headers }, body });
  expect(res.status, `${path}: ${res.text.slice(0, 300)}`).toBe(200);
  expect(res.body, res.text).toMatchObject({ result: true });
  return res;
}

const newStreamTo = async (): Promise<number> =>
  dataOf<{ stream_to_id: number }>(await post(`${GATEWAY}/api/v2/data/add_streamto`, addStreamToBody())).stream_to_id;

async function newChannel(): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  await post(`${GATEWAY}/api/v2/data/add_route`, addRouteBody(channelId));
  return channelId;
}

/** A silent agent: commands sent to it stay RUNNING until their reply timeout. */
let quietAgent: string;
/** A stream_to with versions 1 and 2. */
let versioned: number;
let runningCommand: string;
const appName = unique("app");
const appPath = { bk_biz_id: BIZ, app_name: appName };

async function runningCommandId(): Promise<string> {
  const id = unique("oa-cmd");
  await post(`${GATEWAY}/api/v2/cluster/dispatch_message`, { message_id: id, agent_id_list: [quietAgent], content: "x", reply_timeout_seconds: 600 });
  return id;
}

/** A rollout baking after its one wave (600 s): pausable, resumable, abortable. */
async function bakingRollout(): Promise<string> {
  const id = unique("oa-rollout");
  const res = await post("/v1/rollouts", { rollout_id: id, targets: { agent_id_list: [quietAgent] }, content: "x", bake_seconds: 600 });
  expect(res.status, res.text).toBe(200);
  return id;
}

/** A plan of a platform of its own (nothing else in it): its state cannot move under it. */
async function planOfOwnPlatform(withStreamTo: boolean): Promise<string> {
  const plat = unique("oa-plat");
  const streamTos = withStreamTo ? [{ name: unique("oa-st"), report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }] } }] : [];
  const res = await callApi(info.gatewayUrl, "/v1/plans", { method: "POST", headers: authHeader, body: { plat_name: plat, stream_tos: streamTos } });
  expect(res.status, res.text).toBe(201);
  return (res.body.data as { plan_id: string }).plan_id;
}

/** An apply of a plan with no changes (the apply engine, lib/desired/apply.ts): APPLIED without a GSE write. */
async function appliedPlan(): Promise<{ plan_id: string; apply_id: string }> {
  const planId = await planOfOwnPlatform(false);
  const res = await post(`/v1/plans/${planId}/apply`, {});
  return { plan_id: planId, apply_id: (res.body.data as { apply_id: string }).apply_id };
}

beforeAll(async () => {
  const [agent] = await addSimulatorAgents(info, () => [{ bk_agent_id: unique("oa-agent"), ip: uniqueSimIp("10.251"), status_code: 2, churn: false }]);
  quietAgent = agent?.bk_agent_id as string;
  await simulatorControl(info, "POST", "agents/silent", { ids: [quietAgent], silent: true });
  versioned = await newStreamTo();
  await post(`${GATEWAY}/api/v2/data/update_streamto`, {
    condition: { stream_to_id: versioned, plat_name: PLAT },
    operation: operation(),
    specification: { stream_to: kafkaStreamTo(unique("st"), "kafka-2.ops.local") },
  });
  runningCommand = await runningCommandId();
  const created = await callApi(info.gatewayUrl, "/v1/apm/apps", {
    method: "POST",
    headers: authHeader,
    body: { ...appPath, datasources: { trace: { data_id: uniqueBuiltInChannelId(), stream_to_id: 501 } } },
  });
  expect(created.status, created.text).toBe(201);
}, 60_000);

// ---------------------------------------------------------------------------------------------
// one case per route: a success and the errors it answers
// ---------------------------------------------------------------------------------------------

type Case = (calls: RouteCalls) => Promise<void>;

/** A versioned GSE write: it succeeds; the same Idempotency-Key with another body is 409; a bad body 400. */
const versionedWrite =
  (body: () => Promise<unknown>, other: () => Promise<unknown>): Case =>
  async ({ expectAnswer }) => {
    const key = unique("idem");
    await expectAnswer(200, "a change", { body: await body(), headers: { "idempotency-key": key } });
    await expectAnswer(409, "its Idempotency-Key with another body", { body: await other(), headers: { "idempotency-key": key } });
    await expectAnswer(400, "a body that is not the operation's", { body: { operation: "admin" } });
  };

const gseRead =
  (body: () => Promise<unknown>, failing?: { operation: string; match: string }): Case =>
  async ({ expectAnswer }) => {
    await expectAnswer(200, "a read", { body: await body() });
    await expectAnswer(400, "a body that is not the operation's", { body: { condition: 5, agent_id_list: 5, hosts: 5 } });
    if (failing) {
      // GSE's own failures come back as our gateway statuses, in the error envelope.
      const { operation: op, match } = failing;
      const body = { condition: { channel_id: Number(match), plat_name: PLAT }, operation: operation() };
      await withFaults(info, [{ kind: "rate_limit", retryAfterSeconds: 1, operation: op, match }], () => expectAnswer(429, "GSE rate-limits", { body }));
      await withFaults(info, [{ kind: "http_error", status: 502, operation: op, match }], () => expectAnswer(502, "GSE fails", { body }));
    }
  };

const CASES: Readonly<Record<string, Case>> = {
  // GSE operations, on every path form.
  add_streamto: versionedWrite(
    async () => addStreamToBody(),
    async () => addStreamToBody(),
  ),
  update_streamto: versionedWrite(
    async () => ({
      condition: { stream_to_id: await newStreamTo(), plat_name: PLAT },
      operation: operation(),
      specification: { stream_to: kafkaStreamTo(unique("st"), "kafka-3.ops.local") },
    }),
    async () => ({
      condition: { stream_to_id: versioned, plat_name: PLAT },
      operation: operation(),
      specification: { stream_to: kafkaStreamTo(unique("st")) },
    }),
  ),
  delete_streamto: versionedWrite(
    async () => ({ condition: { stream_to_id: await newStreamTo(), plat_name: PLAT }, operation: operation() }),
    async () => ({ condition: { stream_to_id: versioned, plat_name: PLAT }, operation: operation() }),
  ),
  query_streamto: gseRead(async () => ({ condition: { stream_to_id: versioned, plat_name: PLAT }, operation: operation() })),
  add_route: versionedWrite(
    async () => addRouteBody(uniqueBuiltInChannelId()),
    async () => addRouteBody(uniqueBuiltInChannelId()),
  ),
  update_route: versionedWrite(
    async () => ({ condition: { channel_id: await newChannel(), plat_name: PLAT }, operation: operation(), specification: { route: [kafkaRoute()] } }),
    async () => ({ condition: { channel_id: await newChannel(), plat_name: PLAT }, operation: operation(), specification: { route: [kafkaRoute()] } }),
  ),
  delete_route: versionedWrite(
    async () => ({ condition: { channel_id: await newChannel(), plat_name: PLAT }, operation: { ...operation(), method: "all" } }),
    async () => ({ condition: { channel_id: await newChannel(), plat_name: PLAT }, operation: { ...operation(), method: "all" } }),
  ),
  query_route: gseRead(async () => ({ condition: { channel_id: await newChannel(), plat_name: PLAT }, operation: operation() }), {
    operation: "query_route",
    match: String(uniqueBuiltInChannelId()),
  }),
  list_agent_state: gseRead(async () => ({ agent_id_list: [quietAgent] })),
  get_agent_status: gseRead(async () => ({ bk_supplier_account: "0", hosts: [{ ip: "10.0.0.1", bk_cloud_id: 0 }] })),
  dispatch_message: async ({ expectAnswer }) => {
    const id = unique("oa-dispatch");
    await expectAnswer(200, "a command", { body: { message_id: id, agent_id_list: [quietAgent], content: "a" } });
    await expectAnswer(409, "its message_id with another body", { body: { message_id: id, agent_id_list: [quietAgent], content: "b" } });
    await expectAnswer(403, "another slot's slot_id", {
      body: { slot_id: 999_999, token: "x", message_id: unique("m"), agent_id_list: [quietAgent], content: "a" },
    });
    await expectAnswer(400, "no targets", { body: { message_id: unique("m"), agent_id_list: [], content: "a" } });
  },

  // The service.
  health: async ({ expectAnswer }) => {
    await expectAnswer(200, "every dependency up");
  },
  openapi: async ({ expectAnswer }) => {
    const res = await expectAnswer(200, "the document");
    expect((res.body as { servers: { url: string }[] }).servers[0]?.url).toBe(new URL(info.gatewayUrl).origin);
  },

  // Fleet.
  fleet_summary: async ({ expectAnswer }) => {
    await expectAnswer(200, "the summary");
  },
  fleet_agents: async ({ expectAnswer }) => {
    await expectAnswer(200, "a page", { query: "limit=5&status=alive" });
    await expectAnswer(400, "limit 0", { query: "limit=0" });
    await expectAnswer(400, "a cursor this API never returned", { query: "cursor=bogus" });
  },
  fleet_register: async ({ expectAnswer }) => {
    await expectAnswer(200, "an agent", { body: { agent_id_list: [quietAgent] } });
    await expectAnswer(400, "no agents", { body: { agent_id_list: [] } });
  },
  fleet_unregister: async ({ expectAnswer }) => {
    await expectAnswer(200, "an agent", { body: { agent_id_list: [unique("gone")] } });
    await expectAnswer(400, "no agents", { body: { agent_id_list: [] } });
  },
  fleet_history: async ({ expectAnswer }) => {
    await expectAnswer(200, "a watched agent", { params: { agent_id: quietAgent } });
    await expectAnswer(404, "an agent never watched", { params: { agent_id: unique("nobody") } });
    await expectAnswer(400, "limit 0", { params: { agent_id: quietAgent }, query: "limit=0" });
  },
  fleet_labels_put: async ({ expectAnswer }) => {
    await expectAnswer(200, "a watched agent", { params: { agent_id: quietAgent }, body: { labels: { contract: run } } });
    await expectAnswer(404, "an agent never watched", { params: { agent_id: unique("nobody") }, body: { labels: {} } });
    await expectAnswer(400, "a key that is not a label key", { params: { agent_id: quietAgent }, body: { labels: { "Not A Key": "x" } } });
  },
  fleet_labels_patch: async ({ expectAnswer }) => {
    await expectAnswer(200, "a watched agent", { params: { agent_id: quietAgent }, body: { set: { contract: run }, remove: ["other"] } });
    await expectAnswer(404, "an agent never watched", { params: { agent_id: unique("nobody") }, body: { set: { env: "x" } } });
    await expectAnswer(400, "one key set and removed", { params: { agent_id: quietAgent }, body: { set: { env: "x" }, remove: ["env"] } });
  },
  fleet_resolve: async ({ expectAnswer }) => {
    await callApi(info.gatewayUrl, `/v1/fleet/agents/${encodeURIComponent(quietAgent)}/labels`, {
      method: "PATCH",
      headers: authHeader,
      body: { set: { contract: run } },
    });
    await expectAnswer(200, "a query by label", { body: { query: { labels: { contract: run } } } });
    await expectAnswer(400, "a query nobody matches", { body: { query: { labels: { contract: unique("none") } } } });
    await expectAnswer(400, "a version that is not a range", { body: { query: { version: "two" } } });
  },

  // Config versions.
  "GET /v1/configs/{kind}/{id}/versions": async ({ expectAnswer }) => {
    await expectAnswer(200, "the history", { params: { kind: "streamto", id: versioned }, query: "limit=1" });
    await expectAnswer(404, "an object never changed", { params: { kind: "streamto", id: 2_000_000_000 } });
    await expectAnswer(400, "an unknown kind", { params: { kind: "bogus", id: versioned } });
  },
  "GET /v1/configs/{kind}/{id}/versions/{version}": async ({ expectAnswer }) => {
    await expectAnswer(200, "version 1", { params: { kind: "streamto", id: versioned, version: 1 } });
    await expectAnswer(404, "a version that does not exist", { params: { kind: "streamto", id: versioned, version: 999 } });
    await expectAnswer(400, "a version that is not a number", { params: { kind: "streamto", id: versioned, version: "x" } });
  },
  "GET /v1/configs/{kind}/{id}/diff": async ({ expectAnswer }) => {
    await expectAnswer(200, "1 to 2", { params: { kind: "streamto", id: versioned }, query: "from=1&to=2" });
    await expectAnswer(400, "no `to`", { params: { kind: "streamto", id: versioned }, query: "from=1" });
    await expectAnswer(404, "a version that does not exist", { params: { kind: "streamto", id: versioned }, query: "from=1&to=999" });
  },
  config_rollback: async ({ expectAnswer }) => {
    const id = await newStreamTo();
    await post(`${GATEWAY}/api/v2/data/update_streamto`, {
      condition: { stream_to_id: id, plat_name: PLAT },
      operation: operation(),
      specification: { stream_to: kafkaStreamTo(unique("st"), "kafka-4.ops.local") },
    });
    await expectAnswer(200, "to version 1", { params: { kind: "streamto", id }, body: { version: 1 } });
    await expectAnswer(404, "to a version that does not exist", { params: { kind: "streamto", id }, body: { version: 999 } });
    await expectAnswer(400, "a negative version", { params: { kind: "streamto", id }, body: { version: -1 } });
  },
  config_drift: async ({ expectAnswer }) => {
    await expectAnswer(200, "an object", { params: { kind: "streamto", id: versioned } });
    await expectAnswer(404, "an object never changed", { params: { kind: "route", id: 2_000_000_000 } });
    await expectAnswer(400, "an id that is not a number", { params: { kind: "route", id: "x" } });
  },

  // Commands.
  command_list: async ({ expectAnswer }) => {
    await expectAnswer(200, "running commands", { query: "status=RUNNING&limit=5" });
    await expectAnswer(400, "an unknown status", { query: "status=BOGUS" });
  },
  command_get: async ({ expectAnswer }) => {
    await expectAnswer(200, "a command", { params: { message_id: runningCommand } });
    await expectAnswer(404, "an unknown command", { params: { message_id: unique("nobody") } });
    await expectAnswer(400, "limit 0", { params: { message_id: runningCommand }, query: "limit=0" });
  },
  command_cancel: async ({ expectAnswer }) => {
    const id = await runningCommandId();
    await expectAnswer(200, "a running command", { params: { message_id: id }, body: { reason: "contract" } });
    await expectAnswer(409, "a cancelled one", { params: { message_id: id }, body: {} });
    await expectAnswer(404, "an unknown command", { params: { message_id: unique("nobody") }, body: {} });
  },
  // Desired state (docs/desired-state.md); the apply cases need the apply engine.
  plan_create: async ({ expectAnswer }) => {
    await expectAnswer(201, "a plan", {
      body: { plat_name: unique("oa-plat"), stream_tos: [{ name: "s", report_mode: "redis", redis: { storage_address: [] } }] },
    });
    await expectAnswer(400, "a document without plat_name", { body: { stream_tos: [] } });
  },
  plan_get: async ({ expectAnswer }) => {
    await expectAnswer(200, "a plan", { params: { plan_id: await planOfOwnPlatform(true) } });
    await expectAnswer(404, "an unknown plan", { params: { plan_id: unique("plan") } });
    await expectAnswer(400, "not a plan id", { params: { plan_id: "nope" } });
  },
  plan_apply: async ({ expectAnswer }) => {
    const planId = await planOfOwnPlatform(false);
    await expectAnswer(200, "a plan with no changes", { params: { plan_id: planId }, body: {} });
    await expectAnswer(409, "the same plan again", { params: { plan_id: planId }, body: {} });
    await expectAnswer(404, "an unknown plan", { params: { plan_id: unique("plan") }, body: {} });
    await expectAnswer(400, "a bake of -1 s", { params: { plan_id: planId }, body: { bake_seconds: -1 } });
  },
  "GET /v1/applies": async ({ expectAnswer }) => {
    await expectAnswer(200, "the applies", { query: "limit=5" });
    await expectAnswer(400, "limit 0", { query: "limit=0" });
  },
  "GET /v1/applies/{apply_id}": async ({ expectAnswer }) => {
    await expectAnswer(200, "an apply", { params: { apply_id: (await appliedPlan()).apply_id } });
    await expectAnswer(404, "an unknown apply", { params: { apply_id: unique("apply") } });
  },
  // Rollouts.
  rollout_start: async ({ expectAnswer }) => {
    const id = unique("oa-rollout");
    const body = { rollout_id: id, targets: { agent_id_list: [quietAgent] }, content: "x", bake_seconds: 600 };
    await expectAnswer(200, "a rollout", { body });
    await expectAnswer(409, "its id with another body", { body: { ...body, content: "y" } });
    await expectAnswer(400, "no content", { body: { targets: { agent_id_list: [quietAgent] } } });
  },
  rollout_list: async ({ expectAnswer }) => {
    await bakingRollout();
    await expectAnswer(200, "the rollouts", { query: "status=BAKING" });
    await expectAnswer(400, "limit 0", { query: "limit=0" });
  },
  rollout_get: async ({ expectAnswer }) => {
    await expectAnswer(200, "a rollout", { params: { rollout_id: await bakingRollout() } });
    await expectAnswer(404, "an unknown rollout", { params: { rollout_id: unique("nobody") } });
  },
  "POST /v1/rollouts/{rollout_id}/pause": async ({ expectAnswer }) => {
    await expectAnswer(200, "a baking rollout", { params: { rollout_id: await bakingRollout() }, body: {} });
    await expectAnswer(404, "an unknown rollout", { params: { rollout_id: unique("nobody") }, body: {} });
  },
  "POST /v1/rollouts/{rollout_id}/resume": async ({ expectAnswer }) => {
    const id = await bakingRollout();
    await post(`/v1/rollouts/${id}/pause`, {});
    await expectAnswer(200, "a paused rollout", { params: { rollout_id: id }, body: {} });
    await expectAnswer(404, "an unknown rollout", { params: { rollout_id: unique("nobody") }, body: {} });
  },
  "POST /v1/rollouts/{rollout_id}/abort": async ({ expectAnswer }) => {
    const id = await bakingRollout();
    await expectAnswer(200, "a baking rollout", { params: { rollout_id: id }, body: { reason: "contract" } });
    await expectAnswer(409, "an aborted one", { params: { rollout_id: id }, body: {} });
  },
  command_pause: async ({ expectAnswer }) => {
    const id = await runningCommandId();
    await expectAnswer(200, "a running command", { params: { message_id: id } });
    await expectAnswer(404, "an unknown command", { params: { message_id: unique("nobody") } });
  },
  command_resume: async ({ expectAnswer }) => {
    const id = await runningCommandId();
    await expectAnswer(200, "a running command", { params: { message_id: id } });
    await expectAnswer(404, "an unknown command", { params: { message_id: unique("nobody") } });
  },
  upstream_messages: async ({ expectAnswer }) => {
    await expectAnswer(200, "today's");
    await expectAnswer(400, "limit 0", { query: "limit=0" });
  },
  // Command templates.
  template_put: async ({ expectAnswer }) => {
    const name = unique("tpl");
    const body = { content: '{"v": "{{version}}"}', parameters: [{ name: "version", required: true }], strategy: { kind: "all" } };
    await expectAnswer(201, "a new template", { params: { name }, body });
    await expectAnswer(200, "the same body again", { params: { name }, body });
    await expectAnswer(400, "an undeclared placeholder", { params: { name }, body: { content: "{{nobody}}" } });
  },
  template_get: async ({ expectAnswer }) => {
    const name = unique("tpl");
    const put = await callApi(info.gatewayUrl, `/v1/templates/${name}`, { method: "PUT", headers: authHeader, body: { content: "reload" } });
    expect(put.status, put.text).toBe(201);
    await expectAnswer(200, "the latest", { params: { name } });
    await expectAnswer(200, "version 1", { params: { name }, query: "version=1" });
    await expectAnswer(404, "a version that does not exist", { params: { name }, query: "version=9" });
    await expectAnswer(400, "a name outside the pattern", { params: { name: "Bad Name" } });
  },
  template_list: async ({ expectAnswer }) => {
    await expectAnswer(200, "a page", { query: "limit=2" });
    await expectAnswer(400, "limit 0", { query: "limit=0" });
  },
  gse_callback: async ({ expectAnswer }) => {
    await expectAnswer(200, "a reply", { body: { message_id: unique("m"), bk_agent_id: quietAgent, content: "{}" } });
    await expectAnswer(400, "no message_id", { body: { bk_agent_id: quietAgent, content: "{}" } });
  },

  // The status page.
  console_page: async ({ expectAnswer }) => {
    await expectAnswer(200, "the page");
  },
  console_data: async ({ expectAnswer }) => {
    await expectAnswer(200, "the data");
  },
  console_rollout_action: async ({ expectAnswer }) => {
    const id = await bakingRollout();
    await expectAnswer(200, "pause a baking rollout", { params: { rollout_id: id, action: "pause" }, body: {} });
    await expectAnswer(200, "abort it", { params: { rollout_id: id, action: "abort" }, body: { reason: "contract" } });
    await expectAnswer(409, "abort it again", { params: { rollout_id: id, action: "abort" }, body: {} });
    await expectAnswer(404, "an unknown rollout", { params: { rollout_id: unique("nobody"), action: "pause" }, body: {} });
    await expectAnswer(400, "an action that is none", { params: { rollout_id: id, action: "restart" }, body: {} });
  },

  // APM.
  "POST /v1/apm/apps": async ({ expectAnswer }) => {
    const body = { bk_biz_id: BIZ, app_name: unique("app") };
    await expectAnswer(201, "a new app", { body });
    await expectAnswer(409, "the same name again", { body });
    await expectAnswer(400, "no app_name", { body: { bk_biz_id: BIZ } });
  },
  "GET /v1/apm/apps": async ({ expectAnswer }) => {
    await expectAnswer(200, "one business's", { query: `bk_biz_id=${BIZ}` });
    await expectAnswer(400, "a bk_biz_id that is not a number", { query: "bk_biz_id=x" });
  },
  "GET /v1/apm/apps/{bk_biz_id}/{app_name}": async ({ expectAnswer }) => {
    await expectAnswer(200, "the app", { params: appPath });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") } });
    await expectAnswer(400, "a name with a space", { params: { bk_biz_id: BIZ, app_name: "a b" } });
  },
  "PUT /v1/apm/apps/{bk_biz_id}/{app_name}": async ({ expectAnswer }) => {
    await expectAnswer(200, "a new retention", { params: appPath, body: { retention_days: 14 } });
    await expectAnswer(409, "a stale if_revision", { params: appPath, body: { retention_days: 15, if_revision: 999 } });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") }, body: { retention_days: 14 } });
    await expectAnswer(400, "a retention that is not a number", { params: appPath, body: { retention_days: "x" } });
  },
  "DELETE /v1/apm/apps/{bk_biz_id}/{app_name}": async ({ expectAnswer }) => {
    const name = unique("app");
    expect((await callApi(info.gatewayUrl, "/v1/apm/apps", { method: "POST", headers: authHeader, body: { bk_biz_id: BIZ, app_name: name } })).status).toBe(
      201,
    );
    await expectAnswer(200, "an app", { params: { bk_biz_id: BIZ, app_name: name } });
    await expectAnswer(404, "it again", { params: { bk_biz_id: BIZ, app_name: name } });
  },
  "POST /v1/apm/apps/{bk_biz_id}/{app_name}/datasources/{datasource}/start": async ({ expectAnswer }) => {
    const app = (await callApi(info.gatewayUrl, `/v1/apm/apps/${BIZ}/${appName}`, { headers: authHeader })).body.data as {
      datasources: { trace: { data_id: number } };
    };
    await withFaults(info, [{ kind: "business_error", code: 1_012_001, operation: "add_route", match: String(app.datasources.trace.data_id) }], () =>
      expectAnswer(502, "GSE refuses the route", { params: { ...appPath, datasource: "trace" } }),
    );
    await expectAnswer(200, "the trace datasource", { params: { ...appPath, datasource: "trace" } });
    await expectAnswer(404, "a datasource the app does not define", { params: { ...appPath, datasource: "metric" } });
    await expectAnswer(400, "an unknown datasource", { params: { ...appPath, datasource: "bogus" } });
  },
  "POST /v1/apm/apps/{bk_biz_id}/{app_name}/datasources/{datasource}/stop": async ({ expectAnswer }) => {
    await expectAnswer(200, "the trace datasource", { params: { ...appPath, datasource: "trace" } });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none"), datasource: "trace" } });
  },
  "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probes": async ({ expectAnswer }) => {
    await expectAnswer(200, "the probes", { params: appPath });
    await expectAnswer(400, "limit 0", { params: appPath, query: "limit=0" });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") } });
  },
  "POST /v1/apm/apps/{bk_biz_id}/{app_name}/probes": async ({ expectAnswer }) => {
    const instances = [{ agent_id: quietAgent, service: "db", instance: "db-1", probe_version: "1.0" }];
    await expectAnswer(200, "an instance", { params: appPath, body: { instances } });
    await expectAnswer(400, "no instances", { params: appPath, body: { instances: [] } });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") }, body: { instances } });
  },
  "GET /v1/apm/apps/{bk_biz_id}/{app_name}/probe-versions": async ({ expectAnswer }) => {
    await expectAnswer(200, "the versions", { params: appPath });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") } });
  },
  "POST /v1/apm/apps/{bk_biz_id}/{app_name}/discover": async ({ expectAnswer }) => {
    await expectAnswer(200, "one agent", { params: appPath, body: { agent_id_list: [quietAgent], reply_timeout_seconds: 5 } });
    await expectAnswer(400, "a key it does not take", { params: appPath, body: { bogus: 1 } });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") }, body: {} });
  },
  "POST /v1/apm/apps/{bk_biz_id}/{app_name}/upgrade": async ({ expectAnswer }) => {
    await expectAnswer(200, "to 2.0", { params: appPath, body: { target_version: "2.0", reply_timeout_seconds: 5 } });
    await expectAnswer(400, "no target_version", { params: appPath, body: {} });
    await expectAnswer(404, "an unknown app", { params: { bk_biz_id: BIZ, app_name: unique("none") }, body: { target_version: "2.0" } });
  },
};

/** Any values for a route's path parameters: the generic probes are refused before they are read. */
const anyParams = (route: RouteDefinition): Record<string, string> =>
  Object.fromEntries([...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => [m[1] as string, m[1] === "bk_biz_id" || m[1] === "id" ? "1" : "x"]));

/**
 * What every route answers whatever it is: 401 without credentials; and where it reads a body, 400
 * for one that is not JSON and 413 for one above its limit (dispatch_message's is larger). The body
 * is just above the route's limit, so the route answers; far above it, past Lambda's 6 MB, API
 * Gateway would refuse it before any of our code runs (docs/api.md, Payload limits).
 */
async function sharedErrors({ route, expectAnswer }: RouteCalls): Promise<void> {
  const params = anyParams(route);
  await expectAnswer(401, "no credentials", { params, anonymous: true, ...(route.method === "GET" ? {} : { body: {} }) });
  if (operationOf(route).requestBody === undefined) return;
  await expectAnswer(400, "a body that is not JSON", { params, body: "{not json" });
  const limit = route.function === "dispatch_message" ? MAX_ROUTE_BODY_BYTES : DEFAULT_MAX_BODY_BYTES;
  await expectAnswer(413, "a body above the limit", { params, body: JSON.stringify({ pad: "x".repeat(limit) }) });
}

describe("the OpenAPI document describes what every route answers", () => {
  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))("%s", async (key, route) => {
    const run = CASES[key] ?? CASES[route.function];
    expect(run, `no contract case for ${key} (function ${route.function}): add one to CASES`).toBeDefined();
    const answers: Answer[] = [];
    const calls = routeCalls(route, answers);
    await run?.(calls);
    await sharedErrors(calls);
    expect(answers.some((a) => a.res.status >= 200 && a.res.status < 300)).toBe(true);
  });
});
