/**
 * `<data-dir>/stack.json`: where a running local stack (`npm start`) says it listens and as whom to
 * call it, so the CLI run beside it talks to this stack, not to whatever else holds port 3000 on a
 * shared machine. Written 0600 (it holds the caller's secret), removed on a clean shutdown; `pid`
 * lets a reader tell a file left by a crash.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const STACK_FILE_NAME = "stack.json";

export const stackFileSchema = z.object({
  url: z.url(),
  caller: z.object({ bk_app_code: z.string().min(1), bk_app_secret: z.string().min(1) }),
  pid: z.number().int().positive(),
  stage: z.string(),
  started_at: z.string(),
});
export type StackFile = z.infer<typeof stackFileSchema>;

export const stackFilePath = (dataDir: string): string => join(dataDir, STACK_FILE_NAME);

/** Written under another name and renamed, so a reader never sees half a file and the mode is 0600 even over an old one. */
export function writeStackFile(dataDir: string, content: StackFile): string {
  const path = stackFilePath(dataDir);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(stackFileSchema.parse(content), null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
  return path;
}

export function removeStackFile(dataDir: string): void {
  rmSync(stackFilePath(dataDir), { force: true });
}
