import { describe, expect, it } from "vitest";
import { matchRoute } from "../../../local/gateway.ts";
import type { RouteDefinition } from "../../../lib/routes.ts";

const routes: RouteDefinition[] = [
  { method: "GET", path: "/health", function: "health" },
  { method: "GET", path: "/configs/{kind}/{id}", function: "health" },
  { method: "POST", path: "/files/{path+}", function: "health" },
];

describe("matchRoute", () => {
  it("matches literal paths by method, ignoring a trailing slash as API Gateway does", () => {
    expect(matchRoute(routes, "GET", "/health")?.route.path).toBe("/health");
    expect(matchRoute(routes, "POST", "/health")).toBeUndefined();
    expect(matchRoute(routes, "GET", "/health/")?.route.path).toBe("/health");
    expect(matchRoute(routes, "GET", "/healthz")).toBeUndefined();
  });

  it("binds {name} to one decoded segment", () => {
    expect(matchRoute(routes, "GET", "/configs/route/1500%20123")?.pathParameters).toEqual({ kind: "route", id: "1500 123" });
    expect(matchRoute(routes, "GET", "/configs/route")).toBeUndefined();
    expect(matchRoute(routes, "GET", "/configs/route/1/extra")).toBeUndefined();
  });

  it("binds {name+} to the rest of the path", () => {
    expect(matchRoute(routes, "POST", "/files/a/b/c")?.pathParameters).toEqual({ path: "a/b/c" });
    expect(matchRoute(routes, "POST", "/files/")).toBeUndefined();
  });
});
