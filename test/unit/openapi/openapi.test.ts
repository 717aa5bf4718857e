import { describe, expect, it } from "vitest";
import { z } from "zod";
import { failure, ok } from "../../../lib/http/envelope.ts";
import { buildOpenApiDocument, LOCAL_SERVER_URL, openApiPath, requestOrigin, servedDocument } from "../../../lib/openapi/document.ts";
import { BASIC_SECURITY_SCHEME, JSON_SCHEMA_DIALECT, SECURITY_SCHEME, type OpenApiDocument, type OpenApiParameter } from "../../../lib/openapi/types.ts";
import { GSE_FUNCTIONS, ROUTES, type RouteDefinition } from "../../../lib/routes.ts";
import * as examples from "../../helpers/gse-api-examples.ts";

const doc = buildOpenApiDocument(ROUTES);

const documented = (d: OpenApiDocument): string[] =>
  Object.entries(d.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));

const routeKeys = (routes: readonly RouteDefinition[]): string[] => routes.map((r) => `${r.method} ${openApiPath(r.path)}`);

/** Every `$ref` anywhere in `value`. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => (key === "$ref" && typeof v === "string" ? [v] : refs(v)));
}

function resolve(ref: string): unknown {
  expect(ref.startsWith("#/")).toBe(true);
  return ref
    .slice(2)
    .split("/")
    .reduce<unknown>((node, part) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), doc);
}

/** The documented component schema, as a validator: what a client generated from the document would accept. */
const documentedSchema = (name: string): z.ZodType => {
  const schema = doc.components.schemas[name];
  if (schema === undefined) throw new Error(`no component schema ${name}`);
  return z.fromJSONSchema(schema);
};

const accepts = (name: string, value: unknown): boolean => documentedSchema(name).safeParse(value).success;

describe("buildOpenApiDocument", () => {
  it("documents every route of the route table, and nothing that is not a route", () => {
    expect(documented(doc).sort()).toEqual([...new Set(routeKeys(ROUTES))].sort());
  });

  it("documents a route added to the table, with its path parameter", () => {
    const routes: RouteDefinition[] = [...ROUTES, { method: "GET", path: "/configs/{name+}", function: "health", scope: "gse:read" }];
    const extended = buildOpenApiDocument(routes);
    expect(documented(extended).sort()).toEqual([...new Set(routeKeys(routes))].sort());
    expect(extended.paths["/configs/{name}"]?.get?.parameters).toContainEqual({ name: "name", in: "path", required: true, schema: { type: "string" } });
  });

  it("is OpenAPI 3.1 with JSON Schema 2020-12, serialisable as JSON", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.jsonSchemaDialect).toBe(JSON_SCHEMA_DIALECT);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    for (const schema of Object.values(doc.components.schemas)) expect(schema).not.toHaveProperty("$schema");
  });

  it("resolves every $ref inside the document", () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(0);
    for (const ref of new Set(all)) expect(resolve(ref), ref).toBeDefined();
  });

  it("gives every operation a unique operationId", () => {
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("requires the X-Bkapi-Authorization header on every route", () => {
    expect(doc.components.securitySchemes[SECURITY_SCHEME]).toMatchObject({ type: "apiKey", in: "header", name: "X-Bkapi-Authorization" });
    expect(doc.security).toEqual([{ [SECURITY_SCHEME]: [] }]);
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) expect(op.responses["401"]).toEqual({ $ref: "#/components/responses/Unauthenticated" });
    }
  });

  it("documents the status page as HTML and its data in the envelope, both signed in by the header or HTTP Basic", () => {
    expect(doc.components.securitySchemes[BASIC_SECURITY_SCHEME]).toMatchObject({ type: "http", scheme: "basic" });
    const page = doc.paths["/v1/console"]?.get;
    const data = doc.paths["/v1/console/data"]?.get;
    expect((page!.responses["200"] as { content: Record<string, unknown> }).content).toEqual({
      "text/html": { schema: { type: "string", description: "An HTML document" } },
    });
    expect((data!.responses["200"] as { content: Record<string, { schema: unknown }> }).content["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/console_data_response",
    });
    for (const op of [page, data]) expect(op?.security).toEqual([{ [SECURITY_SCHEME]: [] }, { [BASIC_SECURITY_SCHEME]: [] }]);
  });

  it("tags our own operations `service`, all under /v1/ but the service's /health and /openapi.json", () => {
    const service = Object.entries(doc.paths).filter(([, item]) => Object.values(item).some((op) => op.tags.includes("service")));
    const outside = service.map(([path]) => path).filter((path) => !path.startsWith("/v1/"));
    expect(outside.sort()).toEqual(["/health", "/openapi.json"]);
    for (const path of ["/fleet", "/fleet/agents", "/console", "/console/data"]) expect(doc.paths).not.toHaveProperty(path);
  });

  it("documents the fleet routes under /v1/fleet with the schemas their handlers validate with", () => {
    const register = doc.paths["/v1/fleet/agents/register"]?.post;
    expect(register?.requestBody?.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/fleet_register_request" });
    expect(accepts("fleet_register_request", { agent_id_list: ["0:10.0.0.1"] })).toBe(true);
    expect(accepts("fleet_register_request", { agent_id_list: [] })).toBe(false);
    expect(doc.paths["/v1/fleet/agents/{agent_id}/history"]?.get?.parameters).toContainEqual({
      name: "agent_id",
      in: "path",
      required: true,
      schema: { type: "string", minLength: 1 },
    });
    expect(doc.paths["/v1/fleet"]?.get?.operationId).toBe("fleet_summary");
  });

  it.each(GSE_FUNCTIONS.map((name) => [name]))("documents %s with its request body and its data in the envelope, on every path", (name) => {
    const ops = ROUTES.filter((r) => r.function === name).map((r) => doc.paths[openApiPath(r.path)]?.post);
    expect(ops.length).toBeGreaterThan(0);
    for (const op of ops) {
      expect(op?.requestBody?.content["application/json"]?.schema).toEqual({ $ref: `#/components/schemas/${name}_request` });
      const ok200 = op?.responses["200"] as { content: Record<string, { schema: unknown }> };
      expect(ok200.content["application/json"]?.schema).toEqual({
        anyOf: [{ $ref: `#/components/schemas/${name}_response` }, { $ref: "#/components/schemas/ErrorEnvelope" }],
      });
      for (const status of ["400", "401", "413", "429", "500", "502", "504"]) expect(op?.responses).toHaveProperty(status);
      expect(op?.responses).not.toHaveProperty("404");
      // Every one can be refused for the caller's scope (a dispatch also for another slot's slot_id/token).
      expect(op?.responses["403"]).toEqual({ $ref: "#/components/responses/Forbidden" });
      expect(op?.["x-required-scope"]).toBe(name === "dispatch_message" ? "gse:dispatch" : /^(query|list|get)_/.test(name) ? "gse:read" : "gse:write");
    }
  });
});

describe("servers", () => {
  it("lists a relative server (wherever the document was fetched) and the local stack's default", () => {
    expect(doc.servers.map((s) => s.url)).toEqual(["/", LOCAL_SERVER_URL]);
    expect(LOCAL_SERVER_URL).toBe("http://127.0.0.1:3000");
  });

  it("puts the origin a request reached first when served: API Gateway's domain over https, the local gateway's over http", () => {
    const event = (domainName: string | undefined, headers: Record<string, string> = {}) =>
      ({ requestContext: { domainName }, headers }) as unknown as Parameters<typeof servedDocument>[1];
    expect(servedDocument(doc, event("abc123.execute-api.eu-west-1.amazonaws.com")).servers.map((s) => s.url)).toEqual([
      "https://abc123.execute-api.eu-west-1.amazonaws.com",
      "/",
      LOCAL_SERVER_URL,
    ]);
    expect(servedDocument(doc, event("127.0.0.1:41234")).servers[0]?.url).toBe("http://127.0.0.1:41234");
    expect(servedDocument(doc, event("api.example.org", { "x-forwarded-proto": "http" })).servers[0]?.url).toBe("http://api.example.org");
    expect(servedDocument(doc, event("127.0.0.1:3000")).servers.map((s) => s.url)).toEqual(["http://127.0.0.1:3000", "/"]);
  });

  it("keeps the built servers when the event names no origin, or one that is not a host", () => {
    const event = (domainName: string | undefined) => ({ requestContext: { domainName }, headers: {} }) as unknown as Parameters<typeof servedDocument>[1];
    expect(requestOrigin(event(undefined))).toBeUndefined();
    expect(requestOrigin(event("evil.example/<script>"))).toBeUndefined();
    expect(servedDocument(doc, event("a b")).servers).toEqual(doc.servers);
  });
});

describe("parameters: the schemas the handlers validate path and query with", () => {
  const params = (path: string, method: "get" | "post") => (doc.paths[path]?.[method]?.parameters ?? []).filter((p): p is OpenApiParameter => !("$ref" in p));

  it("the config diff's from and to are required integers; the history's limit has its bounds and default", () => {
    const diff = params("/v1/configs/{kind}/{id}/diff", "get");
    expect(diff.find((p) => p.name === "from")).toMatchObject({ in: "query", required: true, schema: { type: "integer", minimum: 0 } });
    expect(diff.find((p) => p.name === "to")).toMatchObject({ in: "query", required: true, schema: { type: "integer", minimum: 0 } });
    expect(diff.find((p) => p.name === "kind")).toMatchObject({ in: "path", required: true, schema: { enum: ["route", "streamto"] } });
    const list = params("/v1/configs/{kind}/{id}/versions", "get");
    expect(list.find((p) => p.name === "limit")).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
    });
  });

  it("the fleet's and commands' status filters are enums, cursors optional strings", () => {
    expect(params("/v1/fleet/agents", "get").find((p) => p.name === "status")?.schema).toMatchObject({ enum: expect.arrayContaining(["alive", "suspect"]) });
    const commands = params("/v1/commands", "get");
    expect(commands.find((p) => p.name === "status")?.schema).toMatchObject({ enum: expect.arrayContaining(["RUNNING", "CANCELLED"]) });
    expect(commands.find((p) => p.name === "cursor")).toMatchObject({ required: false, schema: { type: "string" } });
  });

  it("every path parameter of every route is documented, required, and every parameter has a schema", () => {
    for (const route of ROUTES) {
      const path = openApiPath(route.path);
      const ps = params(path, route.method.toLowerCase() as "get" | "post");
      const named = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        ps.filter((p) => p.in === "path").map((p) => p.name),
        `${route.method} ${path}`,
      ).toEqual(named);
      for (const p of ps) {
        expect(p.schema, `${route.method} ${path} ${p.name}`).toBeTypeOf("object");
        if (p.in === "path") expect(p.required).toBe(true);
      }
    }
  });
});

describe("statuses: what each route can answer", () => {
  const statuses = (path: string, method: string) => Object.keys((doc.paths[path] as Record<string, { responses: object }>)[method]?.responses ?? {});

  it("lists 400 for validated query parameters and 404 for an unknown object on GETs", () => {
    expect(statuses("/v1/configs/{kind}/{id}/diff", "get")).toEqual(["200", "400", "401", "403", "404", "500", "504"]);
    expect(statuses("/v1/commands/{message_id}", "get")).toEqual(["200", "400", "401", "403", "404", "500", "504"]);
    expect(statuses("/v1/fleet", "get")).toEqual(["200", "401", "403", "500", "504"]);
  });

  it("lists 409 where a conflict is possible, 413 wherever a body is read, GSE's failures where GSE is called", () => {
    expect(statuses("/v1/commands/{message_id}/cancel", "post")).toEqual(["200", "400", "401", "403", "404", "409", "413", "500", "504"]);
    expect(statuses("/v1/configs/{kind}/{id}/rollback", "post")).toEqual(["200", "400", "401", "403", "404", "409", "413", "429", "500", "502", "504"]);
    for (const route of ROUTES) {
      const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase() as "post"];
      if (op?.requestBody) expect(op.responses, `${route.method} ${route.path}`).toHaveProperty("413");
    }
  });

  it("lists 504 on every route: any function can run out of time (REQUEST_TIMEOUT, outcome unknown)", () => {
    for (const route of ROUTES) {
      const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase() as "post"];
      expect(op?.responses["504"], `${route.method} ${route.path}`).toEqual({ $ref: "#/components/responses/GatewayTimeout" });
    }
    expect(doc.components.responses?.GatewayTimeout?.description).toContain("REQUEST_TIMEOUT");
  });

  it("documents the template routes: PUT takes the template body and answers 201 or 200, GET one version takes ?version", () => {
    const put = doc.paths["/v1/templates/{name}"]?.put;
    expect(put?.requestBody?.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/template_put_request" });
    expect(Object.keys(put?.responses ?? {})).toEqual(expect.arrayContaining(["200", "201", "400", "403", "409", "413"]));
    expect(
      accepts("template_put_request", { content: '{"v": "{{version}}"}', parameters: [{ name: "version", required: true }], strategy: { kind: "all" } }),
    ).toBe(true);
    expect(accepts("template_put_request", { content: "x", bogus: 1 })).toBe(false);
    expect(doc.paths["/v1/templates/{name}"]?.get?.parameters).toContainEqual(expect.objectContaining({ name: "version", in: "query", required: false }));
    expect(doc.paths["/v1/templates"]?.get?.operationId).toBe("template_list");
  });

  it("APM's start/stop answers 502 DATASOURCE_APPLY_FAILED with its failure as data", () => {
    const op = doc.paths["/v1/apm/apps/{bk_biz_id}/{app_name}/datasources/{datasource}/start"]?.post;
    const failed = op?.responses["502"] as { content: Record<string, { schema: { $ref: string } }> };
    const name = failed.content["application/json"]?.schema.$ref.split("/").pop() as string;
    expect(doc.components.schemas[name]).toMatchObject({ properties: { code: { const: 1650203 }, code_name: { const: "DATASOURCE_APPLY_FAILED" } } });
    expect(accepts(name, failure(1650200, "BAD_GATEWAY", "GSE down", null, "r"))).toBe(false);
  });

  it("a record keyed by an enum is an object with each key a property (the fleet's by_status), no required key left undefined", () => {
    const undefinedRequired: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (node === null || typeof node !== "object") return;
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${at}/${i}`);
        return;
      }
      const o = node as { required?: unknown; properties?: Record<string, unknown> };
      if (Array.isArray(o.required)) for (const key of o.required) if (!o.properties || !(key in o.properties)) undefinedRequired.push(`${at} ${key}`);
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(doc.components, "#/components");
    expect(undefinedRequired).toEqual([]);
    expect(accepts("fleet_summary_response", ok(null, "r"))).toBe(true);
  });
});

describe("the documented schemas are the ones the handlers use", () => {
  it("dispatch_message: GSE's body with slot_id/token optional, message_id at most 64 chars; GSE's answer plus the command", () => {
    const { slot_id: _slot, token: _token, ...withoutSlot } = examples.dispatchMessageRequestExample;
    expect(accepts("dispatch_message_request", examples.dispatchMessageRequestExample)).toBe(true);
    expect(accepts("dispatch_message_request", withoutSlot)).toBe(true);
    expect(accepts("dispatch_message_request", { ...withoutSlot, message_id: "x".repeat(65) })).toBe(false);
    expect(accepts("dispatch_message_request", { ...withoutSlot, agent_id_list: [] })).toBe(false);
    const gseAnswer = examples.dispatchOneUndeliveredResponseExample;
    expect(accepts("dispatch_message_response", gseAnswer)).toBe(false);
    const command = {
      message_id: "m",
      status: "RUNNING",
      targets: 1,
      counts: { PENDING: 0, SENT: 0, FAILED: 1, RETRYING: 0, REPLIED: 0, TIMED_OUT: 0, SKIPPED: 0 },
      batches: { total: 1, sent: 1, size: 1, parallel: 1 },
      rollout: { max_concurrency: 1, max_errors: null, errors: 1, in_flight: 0, paused: false },
      reply_timeout_seconds: null,
      reply_rule: { kind: "json_code" },
      max_attempts: 5,
      created_by: "bk_monitorv3",
      created_at: "2026-11-25T00:00:00.000Z",
      updated_at: "2026-11-25T00:00:00.000Z",
    };
    expect(accepts("dispatch_message_response", { ...gseAnswer, data: { ...gseAnswer.data, command } })).toBe(true);
  });

  it("stream_to: accepts bk-monitor's add body (with bk_username) and refuses an unknown report_mode", () => {
    expect(accepts("add_streamto_request", { ...examples.addStreamToRequestExample, bk_username: "admin" })).toBe(true);
    expect(
      accepts("add_streamto_request", {
        ...examples.addStreamToRequestExample,
        stream_to: { ...examples.addStreamToRequestExample.stream_to, report_mode: "kafka2" },
      }),
    ).toBe(false);
    expect(accepts("add_streamto_response", examples.addStreamToResponseExample)).toBe(true);
    for (const data of [examples.queryStreamToNestedDataExample, examples.queryStreamToFlatDataExample]) {
      expect(accepts("query_streamto_response", ok(data, "r-1"))).toBe(true);
    }
  });

  it("routes: the §7 examples fit, a channel id out of range does not", () => {
    expect(accepts("add_route_request", examples.addRouteWithChannelRequestExample)).toBe(true);
    expect(accepts("add_route_request", examples.addRouteAllocateRequestExample)).toBe(true);
    expect(accepts("add_route_request", { ...examples.addRouteAllocateRequestExample, metadata: { plat_name: "bkmonitor", channel_id: 2097152 } })).toBe(false);
    expect(accepts("update_route_request", examples.updateRouteRequestExample)).toBe(true);
    expect(accepts("delete_route_request", examples.deleteRouteSpecificationRequestExample)).toBe(true);
    expect(accepts("add_route_response", examples.addRouteWithChannelResponseExample)).toBe(true);
    expect(accepts("add_route_response", ok({ proofing_id: 1 }, "r-2"))).toBe(false);
    expect(accepts("query_route_response", ok(examples.queryRouteDataExample, "r-3"))).toBe(true);
  });

  it("the error envelope is what the error middleware answers", () => {
    expect(
      accepts("ErrorEnvelope", failure(1640001, "INVALID_ARGS", "invalid request", { errors: [{ path: "message_id", message: "too long" }] }, "r-4")),
    ).toBe(true);
    expect(accepts("ErrorEnvelope", failure(1014505, "GSE_ERROR", "channel_id(1) not found", null, "r-5"))).toBe(true);
    expect(accepts("ErrorEnvelope", ok(null, "r-6"))).toBe(false);
    expect(accepts("query_route_response", failure(1014505, "GSE_ERROR", "not found", null, "r-7"))).toBe(false);
  });
});
