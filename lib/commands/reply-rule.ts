/**
 * What makes a plugin's reply a failure (docs/rollouts.md §1): bk-monitor's plugins answer JSON
 * with a `code` (0 is success), other plugins answer text a pattern can judge, some answer
 * nothing worth judging. A failing reply is an error of the command, like a timeout.
 */
import * as z from "zod";

const validPattern = (pattern: string): boolean => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

export const replyRuleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("json_code") }),
  z.strictObject({
    kind: z.literal("regex"),
    /** A reply matching it is a failure. Short: it runs on every reply (up to 8 KB each). */
    pattern: z.string().min(1).max(200).refine(validPattern, "is not a valid regular expression"),
    flags: z
      .string()
      .regex(/^(?!.*(.).*\1)[imsu]*$/, "only the flags i, m, s, u, each once")
      .optional(),
  }),
  z.strictObject({ kind: z.literal("none") }),
]);
export type ReplyRule = z.infer<typeof replyRuleSchema>;

/** bk-monitor's plugins answer `{"code": 0, ...}`; a non-zero code is their failure. */
export const DEFAULT_REPLY_RULE: ReplyRule = { kind: "json_code" };

export interface ReplyVerdict {
  readonly failed: boolean;
  /** The reply's own code (json_code), kept as the agent's code. */
  readonly code?: number;
  readonly message?: string;
}

/** Judges one reply by the command's rule. */
export function judgeReply(rule: ReplyRule, reply: string): ReplyVerdict {
  if (rule.kind === "none") return { failed: false };
  if (rule.kind === "regex") {
    const failed = new RegExp(rule.pattern, rule.flags ?? "").test(reply);
    return failed ? { failed, message: `reply matches ${rule.pattern}` } : { failed };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply);
  } catch {
    return { failed: false };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { failed: false };
  const { code, message } = parsed as { code?: unknown; message?: unknown };
  if (typeof code !== "number" || !Number.isFinite(code) || code === 0) return { failed: false };
  return { failed: true, code: Math.trunc(code), message: typeof message === "string" ? message.slice(0, 500) : `reply code ${code}` };
}
