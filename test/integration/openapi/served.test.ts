import { describe, expect, it } from "vitest";
import { buildOpenApiDocument, openApiPath } from "../../../lib/openapi/document.ts";
import type { OpenApiDocument } from "../../../lib/openapi/types.ts";
import { ROUTES } from "../../../lib/routes.ts";
import { callApi, useStack } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();

describe("GET /openapi.json", () => {
  it("serves the bare OpenAPI 3.1 document of every route (no envelope, so tools read it), and documents nothing else", async () => {
    const res = await callApi(info.gatewayUrl, "/openapi.json", { headers: authHeader });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty("result");
    const doc = res.body as unknown as OpenApiDocument;
    expect(doc.openapi).toBe("3.1.0");

    const served = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    const routed = new Set(ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`));
    expect(new Set(served)).toEqual(routed);
    expect(served).toHaveLength(routed.size);
  });

  it("is the document generated from the route table and schemas this code holds, with the origin it was fetched from as its first server", async () => {
    const res = await callApi(info.gatewayUrl, "/openapi.json", { headers: authHeader });
    const { servers: built, ...document } = JSON.parse(JSON.stringify(buildOpenApiDocument(ROUTES))) as OpenApiDocument;
    const { servers, ...served } = res.body as unknown as OpenApiDocument;
    expect(served).toEqual(document);
    // The local gateway listens on a free port, so its origin is not the default one and is listed as well.
    expect(servers.map((s) => s.url)).toEqual([new URL(info.gatewayUrl).origin, ...built.map((s) => s.url)]);
  });

  it("documents only paths the gateway answers: each one reaches its function, not a 404", async () => {
    const res = await callApi(info.gatewayUrl, "/openapi.json", { headers: authHeader });
    const doc = res.body as unknown as OpenApiDocument;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        // Without credentials every wired route answers 401; an unwired one would be 404.
        const probe = await callApi(info.gatewayUrl, path.replace(/\{\w+\}/g, "x"), {
          method: method.toUpperCase(),
          ...(method === "get" ? {} : { body: {} }),
        });
        expect(probe.status, `${method.toUpperCase()} ${path}`).toBe(401);
      }
    }
  });

  it("requires credentials like every route", async () => {
    const res = await callApi(info.gatewayUrl, "/openapi.json");
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ result: false, code: 1640101 });
    expect(res.text).not.toContain('"openapi"');
  });
});
