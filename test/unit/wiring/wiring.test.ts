import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS, pathVariants } from "../../../lib/gse/operations.ts";
import { withoutTrailingSlash } from "../../../lib/gse/paths.ts";
import { GSE_FUNCTIONS, ROUTES } from "../../../lib/routes.ts";
import { FUNCTIONS, STREAM_SUBSCRIPTIONS, QUEUE_SUBSCRIPTIONS, SCHEDULES, scheduleMinutes } from "../../../lib/wiring.ts";
import { matchRoute } from "../../../local/gateway.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [relative(ROOT, join(ROOT, dir, entry.name))] : [],
  );
}

describe("wiring", () => {
  it("lists every file in functions/ exactly once, and only files that exist", () => {
    const wired = Object.values(FUNCTIONS).map((f) => f.file);
    expect(new Set(wired).size).toBe(wired.length);
    expect([...wired].sort()).toEqual(filesUnder("functions").sort());
    for (const file of wired) expect(existsSync(join(ROOT, file))).toBe(true);
  });

  it.each(Object.entries(FUNCTIONS))("%s builds its context once, under its own key: the only wiring its bundle carries", (key, { file }) => {
    const names = [...readFileSync(join(ROOT, file), "utf8").matchAll(/\b(?:gseFunction|functionContext)\("(\w+)"\)/g)].map((match) => match[1]);
    expect(names).toEqual([key]);
  });

  it("gives every function a trigger, and every trigger a function", () => {
    const triggered = new Set([
      ...ROUTES.map((r) => r.function),
      ...STREAM_SUBSCRIPTIONS.map((s) => s.function),
      ...QUEUE_SUBSCRIPTIONS.map((q) => q.function),
      ...SCHEDULES.map((s) => s.function),
    ]);
    expect([...triggered].sort()).toEqual(Object.keys(FUNCTIONS).sort());
  });

  it("has no two routes with the same method and path", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("puts every route of our own under /v1/, leaving at the root only /health, /openapi.json and GSE's own paths", () => {
    const gsePaths = new Set(GSE_FUNCTIONS.flatMap((name) => pathVariants(OPERATIONS[name]).map(withoutTrailingSlash)));
    const unversioned = ROUTES.filter((r) => !r.path.startsWith("/v1/") && !gsePaths.has(r.path)).map((r) => r.path);
    expect([...new Set(unversioned)].sort()).toEqual(["/health", "/openapi.json"]);
  });

  it.each([
    ["GET", "/fleet"],
    ["GET", "/fleet/agents"],
    ["POST", "/fleet/agents/register"],
    ["POST", "/fleet/agents/unregister"],
    ["GET", "/fleet/agents/0:10.0.0.1/history"],
    ["GET", "/console"],
    ["GET", "/console/data"],
  ])("no longer serves %s %s (the unversioned path before /v1/)", (method, path) => {
    expect(matchRoute(ROUTES, method, path)).toBeUndefined();
    expect(matchRoute(ROUTES, method, `/v1${path}`)).toBeDefined();
  });

  it.each(GSE_FUNCTIONS)("serves %s on every path a GSE client may use", (name) => {
    for (const path of pathVariants(OPERATIONS[name])) {
      expect(matchRoute(ROUTES, "POST", path)?.route.function, path).toBe(name);
    }
  });

  it("runs the heartbeat every minute unless HEARTBEAT_EVERY_MINUTES says otherwise, and names a bad value", () => {
    const heartbeat = SCHEDULES.find((s) => s.function === "heartbeat");
    expect(heartbeat).toBeDefined();
    if (!heartbeat) return;
    expect(scheduleMinutes(heartbeat, {})).toBe(1);
    expect(scheduleMinutes(heartbeat, { HEARTBEAT_EVERY_MINUTES: "5" })).toBe(5);
    for (const bad of ["0", "1.5", "often", "1441"]) {
      expect(() => scheduleMinutes(heartbeat, { HEARTBEAT_EVERY_MINUTES: bad })).toThrow(/HEARTBEAT_EVERY_MINUTES/);
    }
  });

  it.each([
    ["GET", "/v1/configs/route/1500123/versions", "config_history", { kind: "route", id: "1500123" }],
    ["GET", "/v1/configs/streamto/501/versions/2", "config_history", { kind: "streamto", id: "501", version: "2" }],
    ["GET", "/v1/configs/route/1500123/diff", "config_history", { kind: "route", id: "1500123" }],
    ["POST", "/v1/configs/route/1500123/rollback", "config_rollback", { kind: "route", id: "1500123" }],
    ["GET", "/v1/configs/route/1500123/drift", "config_drift", { kind: "route", id: "1500123" }],
  ])("serves %s %s by %s with its path parameters", (method, path, fn, params) => {
    const match = matchRoute(ROUTES, method, path);
    expect(match?.route.function).toBe(fn);
    expect(match?.pathParameters).toEqual(params);
  });
});
