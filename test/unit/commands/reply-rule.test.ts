import { describe, expect, it } from "vitest";
import { DEFAULT_REPLY_RULE, judgeReply, replyRuleSchema } from "../../../lib/commands/reply-rule.ts";
import { commandHash } from "../../../lib/commands/rollout.ts";
import { dispatchCommandSchema } from "../../../lib/commands/schemas.ts";

describe("judgeReply", () => {
  it("json_code (the default): a JSON object with a non-zero numeric code fails, with that code and its message", () => {
    expect(DEFAULT_REPLY_RULE).toEqual({ kind: "json_code" });
    expect(judgeReply(DEFAULT_REPLY_RULE, JSON.stringify({ code: 1, message: "failed" }))).toEqual({ failed: true, code: 1, message: "failed" });
    expect(judgeReply(DEFAULT_REPLY_RULE, JSON.stringify({ code: 3.7 }))).toEqual({ failed: true, code: 3, message: "reply code 3.7" });
  });

  it("json_code: code 0, no code, a string code, an array, and text that is not JSON are successes", () => {
    for (const reply of ['{"code":0,"message":"ok"}', '{"ack":true}', '{"code":"1"}', "[1]", "null", "done", ""]) {
      expect(judgeReply(DEFAULT_REPLY_RULE, reply), reply).toEqual({ failed: false });
    }
  });

  it("json_code keeps at most 500 characters of the reply's message", () => {
    const verdict = judgeReply(DEFAULT_REPLY_RULE, JSON.stringify({ code: 2, message: "x".repeat(600) }));
    expect(verdict.message).toHaveLength(500);
  });

  it("regex: a reply matching the pattern (with its flags) fails; one that does not succeeds", () => {
    const rule = replyRuleSchema.parse({ kind: "regex", pattern: "^error", flags: "i" });
    expect(judgeReply(rule, "ERROR: disk full")).toEqual({ failed: true, message: "reply matches ^error" });
    expect(judgeReply(rule, "all good, no error")).toEqual({ failed: false });
    expect(judgeReply({ kind: "regex", pattern: "^error" }, "ERROR: disk full")).toEqual({ failed: false });
  });

  it("none: every reply succeeds, a failing JSON code included", () => {
    expect(judgeReply({ kind: "none" }, JSON.stringify({ code: 1 }))).toEqual({ failed: false });
  });
});

describe("replyRuleSchema in the dispatch body", () => {
  const base = { message_id: "m", agent_id_list: ["0:10.0.0.1"], content: "x" };
  const issuePath = (body: unknown): string[] => {
    const parsed = dispatchCommandSchema.safeParse(body);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
  };

  it("refuses a pattern that is no regular expression, one over 200 characters, and unknown or repeated flags, naming the field", () => {
    expect(issuePath({ ...base, reply_rule: { kind: "regex", pattern: "(" } })).toEqual(["reply_rule.pattern"]);
    expect(issuePath({ ...base, reply_rule: { kind: "regex", pattern: "a".repeat(201) } })).toEqual(["reply_rule.pattern"]);
    expect(issuePath({ ...base, reply_rule: { kind: "regex", pattern: "a", flags: "g" } })).toEqual(["reply_rule.flags"]);
    expect(issuePath({ ...base, reply_rule: { kind: "regex", pattern: "a", flags: "ii" } })).toEqual(["reply_rule.flags"]);
  });

  it("refuses an unknown kind and fields a kind does not take", () => {
    expect(issuePath({ ...base, reply_rule: { kind: "exit_code" } })).toEqual(["reply_rule.kind"]);
    expect(issuePath({ ...base, reply_rule: { kind: "none", pattern: "x" } })).toEqual(["reply_rule"]);
  });

  it("takes each kind, and leaves it out when not given", () => {
    for (const rule of [{ kind: "json_code" }, { kind: "none" }, { kind: "regex", pattern: "fail", flags: "im" }])
      expect(issuePath({ ...base, reply_rule: rule })).toEqual([]);
    expect(dispatchCommandSchema.parse(base)).not.toHaveProperty("reply_rule");
  });

  it("makes two bodies different commands when only their rule differs, and keeps the hash of a body without one", () => {
    const request = dispatchCommandSchema.parse(base);
    const plain = commandHash(request);
    expect(commandHash({ ...request, reply_rule: { kind: "none" } })).not.toBe(plain);
    expect(commandHash({ ...request, reply_rule: { kind: "none" } })).not.toBe(commandHash({ ...request, reply_rule: { kind: "json_code" } }));
    // The hash before reply rules existed: a resubmission across the upgrade is still the same command.
    expect(plain).toBe(commandHash({ ...request }));
  });
});
