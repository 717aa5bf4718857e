import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleAll, bytesByPackage, sizeBudget, type Bundle } from "../local/bundle.ts";
import { QUEUES, SECRETS, TABLES, TOPICS } from "../lib/resources.ts";
import { fmt, summarize } from "./stats.ts";
import type { Benchmark } from "./stats.ts";

const SAMPLES = 5;
const REGION = "us-east-1";

/**
 * Every setting of every function, as local/stack.ts gives them to the runtime: linked resources
 * as SST_RESOURCE_* JSON, plain GSE_* settings. A function reads the ones it links and ignores the
 * rest. Nothing listens at these addresses: loading a function only builds its clients.
 */
export function functionEnvironment(): NodeJS.ProcessEnv {
  const resource = (type: string, fields: Record<string, string>): string => JSON.stringify({ type, ...fields });
  const queueUrl = (name: string): string => `https://sqs.${REGION}.amazonaws.com/000000000000/bench-${name}`;
  const secrets: Record<string, string> = {
    [SECRETS.gseAppSecret.link]: "bench-gse-app-secret",
    [SECRETS.gseSlotToken.link]: "bench-slot-token",
    [SECRETS.apiCallers.link]: JSON.stringify([{ bk_app_code: "bench", bk_app_secret: "bench-caller-secret" }]),
  };
  return {
    PATH: process.env.PATH,
    STAGE: "bench",
    LOG_LEVEL: "INFO",
    GSE_BASE_URL: "http://127.0.0.1:9",
    GSE_APP_CODE: "bk_monitorv3",
    GSE_USERNAME: "admin",
    GSE_SLOT_ID: "37",
    SST_RESOURCE_App: JSON.stringify({ name: "gse-control", stage: "bench" }),
    ...Object.fromEntries(Object.values(TABLES).map((t) => [`SST_RESOURCE_${t.link}`, resource("sst.aws.Dynamo", { name: `bench-${t.link}` })])),
    ...Object.fromEntries(
      Object.values(TOPICS).map((t) => [`SST_RESOURCE_${t.link}`, resource("sst.aws.SnsTopic", { arn: `arn:aws:sns:${REGION}:000000000000:bench-${t.name}` })]),
    ),
    ...Object.fromEntries(Object.values(QUEUES).map((q) => [`SST_RESOURCE_${q.link}`, resource("sst.aws.Queue", { url: queueUrl(q.name) })])),
    ...Object.fromEntries(
      Object.values(SECRETS).map((s) => [`SST_RESOURCE_${s.link}`, resource("sst.sst.Secret", { value: secrets[s.link] ?? "bench-secret-value" })]),
    ),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/**
 * One fresh `node` that imports the bundle (or nothing) and prints performance.now(), whose
 * origin is the process start: Node's own start plus loading and evaluating the module,
 * including its top-level await of the config.
 */
function importOnce(file: string | undefined, env: NodeJS.ProcessEnv): number {
  const script = file
    ? `await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write("\\nIMPORTED " + performance.now()); process.exit(0);`
    : `process.stdout.write("\\nIMPORTED " + performance.now());`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8", timeout: 30_000 });
  const match = /IMPORTED ([\d.]+)/.exec(result.stdout);
  if (result.status !== 0 || !match) throw new Error(`importing ${file ?? "nothing"} failed (${result.status}): ${result.stderr || result.stdout}`);
  return Number(match[1]);
}

function measure(file: string | undefined, env: NodeJS.ProcessEnv): { p50: number; max: number } {
  importOnce(file, env); // warm the file cache; not counted
  const samples = Array.from({ length: SAMPLES }, () => importOnce(file, env));
  return summarize(samples);
}

const kb = (bytes: number): string => fmt(bytes / 1024, 1);

export const bundlesBenchmark: Benchmark = {
  name: "bundles",
  async run() {
    const bundles = await bundleAll();
    const plainDir = mkdtempSync(join(tmpdir(), "gse-bundles-plain-"));
    let plain: Bundle[];
    try {
      plain = await bundleAll({ outDir: plainDir, minify: false });
    } finally {
      rmSync(plainDir, { recursive: true, force: true });
    }
    const env = functionEnvironment();
    const baseline = measure(undefined, env);
    const rows = bundles.map((b, i) => {
      const t = measure(b.outfile, env);
      const top = bytesByPackage(b.metafile)
        .slice(0, 3)
        .map(([name, bytes]) => `${name} ${kb(bytes)}`)
        .join(", ");
      return `| ${b.key} | ${kb(b.bytes)} | ${kb(b.gzipBytes)} | ${kb(b.mapBytes)} | ${kb(plain[i]?.bytes ?? NaN)} | ${kb(sizeBudget(b.key))} | ${fmt(t.p50, 0)} | ${fmt(t.max, 0)} | ${top} |`;
    });
    return [
      "Each function bundled as `sst deploy` bundles it (`npm run build`, local/bundle.ts: esbuild, esm, es2024, minified,",
      "keepNames, AWS SDK bundled, SST's ESM banner). Sizes in kB of `index.mjs`; gzip = gzip -6 of it; the source map",
      "(`sourcemap: true` keeps it in the function zip) and the same bundle unminified are for comparison.",
      `Import = median and max of ${SAMPLES} fresh \`node\` processes (after one unrecorded) from process start to the end of`,
      "`await import(bundle)`, with every setting given (as local/stack.ts gives them): Node's own start, parsing and",
      "evaluating the bundle, the config loaded at top level, clients built. No service is called. Lambda's own init",
      "(runtime bootstrap, code download) is not in it.",
      "",
      "| function | bundle kB | gzip kB | map kB | unminified kB | budget kB | import median ms | import max ms | largest parts (kB) |",
      "|---|---|---|---|---|---|---|---|---|",
      `| (node, no import) | – | – | – | – | – | ${fmt(baseline.p50, 0)} | ${fmt(baseline.max, 0)} | – |`,
      ...rows,
    ].join("\n");
  },
};
