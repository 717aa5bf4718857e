/**
 * The process around `run`: what the bundle (dist/cli/gse-control.mjs, the published package) starts
 * from, and what bin/gse-control.mjs runs through tsx when there is no fresh bundle.
 */
import { run } from "./main.ts";

process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
});
