import { run } from "../../cli/main.ts";

/**
 * Runs the CLI in-process for a usage check. Its URL is one nothing listens on: a command that got
 * past its checks fails with 1 (unreachable), never 2, so exit 2 proves nothing was sent.
 */
export async function usage(argv: readonly string[]): Promise<{ code: number; err: string; out: string }> {
  let err = "";
  let out = "";
  const env = {
    GSE_CONTROL_URL: "http://127.0.0.1:9",
    GSE_CONTROL_APP_CODE: "unit",
    GSE_CONTROL_APP_SECRET: "unit-secret-0001",
    GSE_CONTROL_PROFILE: "/nonexistent/profile.json",
  };
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t), env, color: false, progress: null });
  return { code, err, out };
}
