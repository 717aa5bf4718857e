import { describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../../../lib/errors.ts";
import { authenticate, constantTimeEqual, credentialsFromBody } from "../../../lib/http/auth.ts";

const callers = [
  { bk_app_code: "bk_monitorv3", bk_app_secret: "monitor-secret" },
  { bk_app_code: "ops", bk_app_secret: "ops-secret-value" },
];
const header = (value: unknown): string => JSON.stringify(value);

describe("authenticate", () => {
  it("accepts a configured app code and secret, and keeps the username", () => {
    expect(authenticate(header({ bk_app_code: "ops", bk_app_secret: "ops-secret-value", bk_username: "alice" }), callers)).toEqual({
      appCode: "ops",
      username: "alice",
    });
  });

  it.each([
    ["no header", undefined],
    ["an empty header", ""],
    ["a header that is not JSON", "bk_app_code=ops"],
    ["JSON that is not an object", header(["ops"])],
    ["a missing secret", header({ bk_app_code: "ops" })],
    ["a secret of the wrong type", header({ bk_app_code: "ops", bk_app_secret: 42 })],
    ["a wrong secret", header({ bk_app_code: "ops", bk_app_secret: "monitor-secret" })],
    ["an unknown app code", header({ bk_app_code: "nobody", bk_app_secret: "ops-secret-value" })],
  ])("refuses %s with UnauthenticatedError (401)", (_label, value) => {
    expect(() => authenticate(value, callers)).toThrow(UnauthenticatedError);
  });

  it("never puts the offered secret into the error message", () => {
    try {
      authenticate(header({ bk_app_code: "ops", bk_app_secret: "guessed-secret-xyz" }), callers);
    } catch (error) {
      expect((error as Error).message).not.toContain("guessed-secret-xyz");
      return;
    }
    throw new Error("accepted a wrong secret");
  });
});

describe("constantTimeEqual", () => {
  it("compares strings of different lengths without throwing", () => {
    expect(constantTimeEqual("a", "a")).toBe(true);
    expect(constantTimeEqual("a", "ab")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("ü", "u")).toBe(false);
  });
});

describe("credentialsFromBody", () => {
  it("reads bk_app_code and bk_app_secret from a JSON body, and nothing from anything else", () => {
    expect(JSON.parse(credentialsFromBody('{"bk_app_code":"ops","bk_app_secret":"s","hosts":[]}') ?? "{}")).toEqual({ bk_app_code: "ops", bk_app_secret: "s" });
    expect(credentialsFromBody('{"hosts":[]}')).toBeUndefined();
    expect(credentialsFromBody("not json")).toBeUndefined();
    expect(credentialsFromBody(undefined)).toBeUndefined();
  });
});

