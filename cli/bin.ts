/**
 * The process around `run`: what the bundle (dist/cli/gse-control.mjs, the published package) starts
 * from, and what bin/gse-control.mjs runs through tsx when there is no fresh bundle.
 */
import { createInterface } from "node:readline/promises";
import { run } from "./main.ts";

/** A question on the terminal (apply -f's confirmation); only when a person is at one. */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  ...(process.stdin.isTTY === true ? { ask } : {}),
});
