import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createInvoker, FunctionTimeoutError, functionTimeouts } from "../../../local/invoke.ts";
import { FUNCTIONS } from "../../../lib/wiring.ts";

describe("functionTimeouts (GSE_CONTROL_FUNCTION_TIMEOUTS, test-only)", () => {
  it("reads name=seconds pairs, and nothing from an unset variable", () => {
    expect(functionTimeouts("update_route=3, dispatch_message=2.5")).toEqual({ update_route: 3, dispatch_message: 2.5 });
    expect(functionTimeouts(undefined)).toEqual({});
    expect(functionTimeouts("")).toEqual({});
  });

  it("refuses a name that is not a function and a timeout that is not a positive number, naming the variable", () => {
    expect(() => functionTimeouts("update_rout=3")).toThrow(/GSE_CONTROL_FUNCTION_TIMEOUTS: "update_rout" is not a function/);
    expect(() => functionTimeouts("update_route=0")).toThrow(/GSE_CONTROL_FUNCTION_TIMEOUTS: update_route's timeout "0"/);
    expect(() => functionTimeouts("update_route=soon")).toThrow(/not a positive number/);
  });
});

describe("createInvoker with a shorter timeout", () => {
  // A root whose health function reports the time Lambda's context says is left, then never ends.
  const root = mkdtempSync(join(tmpdir(), "gse-control-invoke-"));
  const file = join(root, FUNCTIONS.health.file);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, "export const handler = async (event, context) => event.hang ? new Promise(() => {}) : context.getRemainingTimeInMillis();\n");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const invoke = createInvoker(root, { health: 0.3 });

  it("gives the function a context with the shorter time left, and fails it after that time", async () => {
    const left = (await invoke("health", {})) as number;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(300);
    await expect(invoke("health", { hang: true })).rejects.toBeInstanceOf(FunctionTimeoutError);
  });
});
