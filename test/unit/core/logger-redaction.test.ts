import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger, REDACTED, redactingReplacer, registerSecrets } from "../../../lib/core/logger.ts";

describe("redactingReplacer", () => {
  it("masks values under secret-looking keys at any depth", () => {
    const text = JSON.stringify(
      { bk_app_secret: "a", nested: { token: "b", sasl_passwd: "c", Authorization: "d", list: [{ password: "e" }] }, name: "visible" },
      redactingReplacer,
    );
    expect(JSON.parse(text)).toEqual({
      bk_app_secret: REDACTED,
      nested: { token: REDACTED, sasl_passwd: REDACTED, Authorization: REDACTED, list: [{ password: REDACTED }] },
      name: "visible",
    });
  });

  it("masks a registered secret value wherever it appears in a string", () => {
    registerSecrets(["s3cr3t-slot-token"]);
    const text = JSON.stringify({ message: "GSE said: bad token s3cr3t-slot-token for slot 37" }, redactingReplacer);
    expect(text).not.toContain("s3cr3t-slot-token");
    expect(text).toContain(`bad token ${REDACTED} for slot 37`);
  });
});

describe("createLogger", () => {
  let output = "";
  let restore: () => void;
  beforeEach(() => {
    output = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      output += String(chunk);
      return true;
    });
    restore = () => spy.mockRestore();
  });
  afterEach(() => restore());

  it("writes JSON lines in which neither secret keys nor registered values survive", () => {
    registerSecrets(["logger-secret-value"]);
    createLogger("t").info("calling GSE", { headers: { "x-bkapi-authorization": "{...}" }, note: "with logger-secret-value" });
    const line = JSON.parse(output.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ message: "calling GSE", service: "t", headers: { "x-bkapi-authorization": REDACTED }, note: `with ${REDACTED}` });
  });
});
