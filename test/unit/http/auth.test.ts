import { describe, expect, it } from "vitest";
import { BasicAuthRequiredError, UnauthenticatedError } from "../../../lib/core/errors.ts";
import { authenticate, browserAuthenticator, constantTimeEqual, credentialsFromBasic, credentialsFromBody } from "../../../lib/http/auth.ts";

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
      scopes: ["admin"],
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

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;

describe("credentialsFromBasic", () => {
  it("reads the app code as the user and the app secret as the password (which may hold colons)", () => {
    expect(JSON.parse(credentialsFromBasic(basic("ops", "ops:secret:value")) ?? "{}")).toEqual({ bk_app_code: "ops", bk_app_secret: "ops:secret:value" });
    expect(JSON.parse(credentialsFromBasic(`basic   ${Buffer.from("ops:s").toString("base64")}`) ?? "{}")).toEqual({ bk_app_code: "ops", bk_app_secret: "s" });
  });

  it.each([
    ["no header", undefined],
    ["another scheme", "Bearer abc"],
    ["no colon", `Basic ${Buffer.from("ops").toString("base64")}`],
    ["not base64", "Basic !!!"],
  ])("reads nothing from %s", (_label, value) => {
    expect(credentialsFromBasic(value)).toBeUndefined();
  });
});

describe("browserAuthenticator (the status page)", () => {
  const check = browserAuthenticator(callers);

  it("accepts the callers' header, or the same credentials by HTTP Basic", () => {
    expect(check({ headers: { "x-bkapi-authorization": header({ bk_app_code: "ops", bk_app_secret: "ops-secret-value" }) } })).toMatchObject({
      appCode: "ops",
    });
    expect(check({ headers: { authorization: basic("bk_monitorv3", "monitor-secret") } })).toMatchObject({ appCode: "bk_monitorv3" });
  });

  it.each([
    ["no credentials", {}],
    ["a wrong password", { authorization: basic("ops", "monitor-secret") }],
    ["an unknown user", { authorization: basic("nobody", "ops-secret-value") }],
    ["a wrong header", { "x-bkapi-authorization": header({ bk_app_code: "ops", bk_app_secret: "nope" }) }],
  ])("refuses %s with 401 and a Basic challenge, so a browser asks", (_label, headers: Record<string, string>) => {
    let refused: unknown;
    try {
      check({ headers });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(BasicAuthRequiredError);
    expect(refused).toBeInstanceOf(UnauthenticatedError);
    expect((refused as BasicAuthRequiredError).status).toBe(401);
    expect((refused as BasicAuthRequiredError).headers).toEqual({ "www-authenticate": 'Basic realm="gse-control", charset="UTF-8"' });
    expect((refused as Error).message).not.toMatch(/secret-value|monitor-secret|nope/);
  });
});
