import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { OnResolveArgs, OnResolveResult, PluginBuild } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import {
  esbuildDefine,
  LAMBDA_MODULE_SWAPS,
  LAMBDA_PLUGINS_FILE,
  lambdaPluginsFile,
  RELATIVE_SWAP_PACKAGES,
  ZOD_JSON_SCHEMA_SWAPS,
} from "../../../lib/bundling.ts";
import { functionRouteScopes, scopeTable } from "../../../lib/routes.ts";
import { FUNCTIONS, runtimeWiring } from "../../../lib/wiring.ts";
import { bundleEntry, ROOT } from "../../../local/bundle.ts";

/**
 * Lambda bundles take the SDK's credentials from the environment only (lib/bundling.ts swaps the
 * default chain for lib/lambda-swaps/credentials.ts), while code run from source keeps the chain.
 * A local DynamoDB stand-in answers every call and keeps the access key each request was signed with.
 */
const FIXTURE = join(ROOT, "test/unit/build/fixtures/table-read.ts");
const scratch = mkdtempSync(join(tmpdir(), "gse-lambda-swaps-"));
const signedWith: string[] = [];
let server: Server;
let endpoint: string;
let bundled: string;

/** A shared credentials file with a default profile: what the full chain reads and the swap must not. */
const credentialsFile = join(scratch, "credentials");
writeFileSync(credentialsFile, "[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = file-secret\n");

beforeAll(async () => {
  server = createServer((req, res) => {
    signedWith.push(/Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "(unsigned)");
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  bundled = (await bundleEntry("table-read", FIXTURE, scratch)).outfile;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Imports `file` in a fresh `node` with only the settings given (no HOME, so no ~/.aws of the
 * machine), reads the table once, and says how it went. Asynchronously: the stand-in answers from
 * this process.
 */
async function readIn(file: string, env: Record<string, string>): Promise<{ ok: boolean; output: string; nodeUndici: boolean }> {
  const script = `const { readOnce } = await import(${JSON.stringify(pathToFileURL(file).href)});
const nodeUndici = process.moduleLoadList.includes("NativeModule internal/deps/undici/undici");
try { await readOnce(); process.stdout.write("READ"); } catch (error) { process.stdout.write(\`FAILED \${error.name}: \${error.message}\`); }
process.stderr.write(nodeUndici ? "\\nNODE-UNDICI" : "");`;
  const result = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_CONFIG_FILE: join(scratch, "no-config"),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...env,
    },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { ok: result.stdout === "READ", output: `${result.stdout}${result.stderr}`, nodeUndici: result.stderr.includes("NODE-UNDICI") };
}

const ENV_CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIDFROMENV", AWS_SECRET_ACCESS_KEY: "env-secret", AWS_SESSION_TOKEN: "env-session" };

describe("credentials in a Lambda bundle", () => {
  it("a bundled client signs its calls with the credentials Lambda puts in the environment", async () => {
    signedWith.length = 0;
    const { ok, output } = await readIn(bundled, ENV_CREDENTIALS);
    expect(ok, output).toBe(true);
    expect(signedWith).toEqual(["AKIDFROMENV"]);
  });

  it("a bundled client never falls back to a credentials file: without the variables its call fails and nothing is sent", async () => {
    signedWith.length = 0;
    const { ok, output } = await readIn(bundled, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile });
    expect(ok).toBe(false);
    expect(output).toContain("CredentialsProviderError: Unable to find environment variable credentials");
    expect(signedWith).toEqual([]);
  });

  it("the same code run from source (tests, scripts, the CLI) keeps the SDK's full chain and reads the file", async () => {
    signedWith.length = 0;
    const { ok, output } = await readIn(FIXTURE, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile });
    expect(ok, output).toBe(true);
    expect(signedWith).toEqual(["AKIDFROMFILE"]);
  });
});

describe("DynamoDB endpoint discovery in a Lambda bundle (left out: no command we send uses it, and it is off)", () => {
  const entry = join(ROOT, "test/unit/build/fixtures/endpoint-discovery.ts");
  const DISCOVERY_LEFT_OUT = "DynamoDB endpoint discovery is left out of the Lambda bundles";

  it("a bundled client carries neither the discovery middleware nor its endpoint cache, and still sends its DynamoDB calls", async () => {
    const inputs = Object.keys((await bundleEntry("endpoint-discovery", entry, scratch)).metafile.inputs);
    expect(inputs.filter((input) => /endpoint-cache|mnemonist|middleware-endpoint-discovery\/dist-es\/(?!configurations)/.test(input))).toEqual([]);
    signedWith.length = 0;
    const { ok, output } = await readIn(bundled, { ...ENV_CREDENTIALS, AWS_ENABLE_ENDPOINT_DISCOVERY: "false" });
    expect(ok, output).toBe(true);
    expect(signedWith).toEqual(["AKIDFROMENV"]);
  });

  it("a bundled client built with endpointDiscoveryEnabled fails at once and says why; with discovery unset it says it is off", async () => {
    const swapped = await import(pathToFileURL((await bundleEntry("endpoint-discovery", entry, scratch)).outfile).href);
    const fromSource = await import(pathToFileURL(entry).href);
    expect(() => swapped.discoveringClient()).toThrow(DISCOVERY_LEFT_OUT);
    expect(() => fromSource.discoveringClient()).not.toThrow();
    await expect(swapped.discoveryEnabled()).resolves.toBeUndefined();
    await expect(fromSource.discoveryEnabled()).resolves.toBeUndefined();
  });

  it("with discovery turned on in the environment, asking the bundled client whether it is on fails and says why", async () => {
    const swapped = await import(pathToFileURL((await bundleEntry("endpoint-discovery-env", entry, scratch)).outfile).href);
    const fromSource = await import(pathToFileURL(entry).href);
    process.env.AWS_ENABLE_ENDPOINT_DISCOVERY = "true";
    try {
      await expect(swapped.discoveryEnabled()).rejects.toThrow(DISCOVERY_LEFT_OUT);
      await expect(fromSource.discoveryEnabled()).resolves.toBe(true);
    } finally {
      delete process.env.AWS_ENABLE_ENDPOINT_DISCOVERY;
    }
  });
});

describe("a route's scope in a Lambda bundle (the function's own routes, given at build time)", () => {
  const entry = join(ROOT, "test/unit/build/fixtures/route-scope.ts");

  it("a function's bundle answers its own routes' scopes as the route table does, and admin for any other, without the route table", async () => {
    const bundle = await bundleEntry(
      "route-scope",
      entry,
      scratch,
      true,
      true,
      false,
      esbuildDefine(functionRouteScopes("apm_probes"), runtimeWiring("apm_probes")),
    );
    expect(Object.keys(bundle.metafile.inputs).filter((input) => /^lib\/(routes|gse\/paths)\.ts$/.test(input))).toEqual([]);
    const swapped = await import(pathToFileURL(bundle.outfile).href);
    const own = Object.entries(functionRouteScopes("apm_probes"));
    expect(new Set(own.map(([, scope]) => scope))).toEqual(new Set(["gse:read", "gse:write", "gse:dispatch"]));
    for (const [route, scope] of own) expect(await swapped.requiredScope(route), route).toBe(scope);
    for (const route of ["POST /v1/fleet/agents/register", "GET /health", "POST /v1/not-a-route"])
      expect(await swapped.requiredScope(route), route).toBe("admin");
    expect(await swapped.requiredScope(undefined)).toBe("admin");
  });

  it("bundled without a function's defines, it keeps the whole route table, as run from source", async () => {
    const bundle = await bundleEntry("route-scope-table", entry, scratch);
    expect(Object.keys(bundle.metafile.inputs)).toContain("lib/routes.ts");
    const kept = await import(pathToFileURL(bundle.outfile).href);
    for (const [route, scope] of scopeTable()) expect(await kept.requiredScope(route), route).toBe(scope);
  });
});

describe("a function's own wiring in a Lambda bundle (its links and timeout, given at build time)", () => {
  const entry = join(ROOT, "test/unit/build/fixtures/function-wiring.ts");

  it("a function's bundle reads its links and timeout as lib/wiring.ts has them, without lib/wiring.ts, and fails for another function's", async () => {
    const bundle = await bundleEntry("function-wiring", entry, scratch, true, true, false, esbuildDefine({}, runtimeWiring("heartbeat")));
    expect(Object.keys(bundle.metafile.inputs).filter((input) => /^lib\/(wiring|resources)\.ts$/.test(input))).toEqual([]);
    const swapped = await import(pathToFileURL(bundle.outfile).href);
    expect(await swapped.wiringOf("heartbeat")).toEqual({ links: FUNCTIONS.heartbeat.links, timeoutSeconds: FUNCTIONS.heartbeat.timeoutSeconds });
    await expect(swapped.wiringOf("automation")).rejects.toThrow("the heartbeat bundle carries its own wiring only, not automation's");
  });

  it("run from source, it reads every function's links and timeout from lib/wiring.ts", async () => {
    const { wiringOf } = await import("../../../lib/core/function-wiring.ts");
    for (const key of Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]) {
      expect(await wiringOf(key), key).toMatchObject({ links: FUNCTIONS[key].links, timeoutSeconds: FUNCTIONS[key].timeoutSeconds });
    }
  });
});

/** The part of esbuild's plugin API SST's plugin bridge gives (`onResolve`, `onLoad`, `onEnd`), recording the resolvers. */
function resolversOf(plugins: readonly { setup: (build: PluginBuild) => void }[]) {
  const resolvers: { filter: RegExp; callback: (args: OnResolveArgs) => OnResolveResult | undefined }[] = [];
  const build = { onResolve: (options: { filter: RegExp }, callback: never) => resolvers.push({ filter: options.filter, callback }), onLoad() {}, onEnd() {} };
  for (const plugin of plugins) plugin.setup(build as unknown as PluginBuild);
  return (path: string, importer?: string): string | undefined => {
    for (const { filter, callback } of resolvers) {
      if (!new RegExp(filter).test(path)) continue;
      const result = callback({ path, importer: importer ?? "" } as OnResolveArgs);
      if (result) return result.path;
    }
    return undefined;
  };
}

describe("Node.js's own modules in a Lambda bundle", () => {
  it("loading a bundle that imports node:http (the Tracer does) does not load Node's internal undici; from source it does", async () => {
    expect((await readIn(bundled, ENV_CREDENTIALS)).nodeUndici).toBe(false);
    expect((await readIn(FIXTURE, ENV_CREDENTIALS)).nodeUndici).toBe(true);
  });
});

describe("semver in a Lambda bundle", () => {
  it("the functions taken from semver's own files answer as semver's index does", async () => {
    const entry = join(scratch, "semver-entry.ts");
    writeFileSync(entry, 'export { coerce, gte, lt, satisfies, valid, validRange } from "semver";\n');
    const swapped: typeof import("semver") = await import(pathToFileURL((await bundleEntry("semver", entry, scratch)).outfile).href);
    const semver = await import("semver");
    for (const version of ["2.1.5", "v2.1", "2.1.5.1", "x", "3.0.0-rc.1"]) {
      expect(swapped.valid(version), version).toBe(semver.valid(version));
      expect(swapped.coerce(version)?.version, version).toBe(semver.coerce(version)?.version);
    }
    for (const range of [">=2.0.0 <3", "^1.2", "~2.1.0 || 3.x", "not a range"]) {
      expect(swapped.validRange(range), range).toBe(semver.validRange(range));
      expect(swapped.satisfies("2.1.5", range), range).toBe(semver.satisfies("2.1.5", range));
    }
    expect([swapped.lt("2.1.0", "2.1.5"), swapped.gte("2.1.0", "2.1.5")]).toEqual([true, false]);
  });
});

describe("the plugins file sst deploy bundles with", () => {
  it("loads in plain node, as SST imports it, and swaps every module of LAMBDA_MODULE_SWAPS for our file", async () => {
    const file = join(ROOT, LAMBDA_PLUGINS_FILE);
    const loaded = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(m.default.length));`],
      {
        encoding: "utf8",
      },
    );
    expect(loaded.stdout, loaded.stderr).toBe("1");
    const resolve = resolversOf((await import(pathToFileURL(file).href)).default);
    expect(resolve("@aws-sdk/credential-provider-node")).toBe(join(ROOT, "lib/lambda-swaps/credentials.ts"));
    for (const [from, to] of Object.entries(LAMBDA_MODULE_SWAPS)) {
      // SST's bridge passes the importer as esbuild does; a relative path is swapped only inside its package.
      const inside = RELATIVE_SWAP_PACKAGES[from] ?? "undici";
      expect(resolve(from, join(ROOT, `node_modules/${inside}/lib/x/y.js`)), from).toBe(join(ROOT, to));
      if (from.startsWith(".")) expect(resolve(from, join(ROOT, "node_modules/other/lib/x/y.js")), from).toBeUndefined();
    }
    expect(resolve("@aws-sdk/credential-provider-env")).toBeUndefined();
    // zod's JSON Schema generator is swapped in every function but openapi, which gets the other file.
    for (const [from, to] of Object.entries(ZOD_JSON_SCHEMA_SWAPS))
      expect(resolve(from, join(ROOT, "node_modules/zod/v4/classic/schemas.js")), from).toBe(join(ROOT, to));
    const jsonSchemaFile = join(ROOT, lambdaPluginsFile("openapi"));
    expect(jsonSchemaFile).not.toBe(file);
    const resolveKeeping = resolversOf((await import(pathToFileURL(jsonSchemaFile).href)).default);
    for (const from of Object.keys(ZOD_JSON_SCHEMA_SWAPS))
      expect(resolveKeeping(from, join(ROOT, "node_modules/zod/v4/classic/schemas.js")), from).toBeUndefined();
    expect(resolveKeeping("@aws-sdk/credential-provider-node")).toBe(join(ROOT, "lib/lambda-swaps/credentials.ts"));
  });
});

/** The X-Ray daemon's stand-in: every UDP datagram the bundle sends, as JSON documents. */
async function daemon(): Promise<{ socket: Socket; address: string; documents: Record<string, unknown>[] }> {
  const socket = createSocket("udp4");
  const documents: Record<string, unknown>[] = [];
  // A datagram is a header line ({"format":"json","version":1}) and one segment document.
  socket.on("message", (message) => documents.push(JSON.parse(message.toString("utf8").split("\n")[1] ?? "{}")));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}`, documents };
}

describe("the X-Ray SDK in a Lambda bundle (its samplers, v2 patcher, host plugins and other services' whitelist left out)", () => {
  it("a DynamoDB call in a Lambda still sends its traced subsegment, with its operation and table name", async () => {
    const { socket, address, documents } = await daemon();
    try {
      const { ok, output } = await readIn(bundled, {
        ...ENV_CREDENTIALS,
        // What Lambda sets for a function with active tracing, sampled.
        AWS_LAMBDA_FUNCTION_NAME: "fleet_agents",
        LAMBDA_TASK_ROOT: scratch,
        _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS: address,
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
      });
      expect(ok, output).toBe(true);
      expect(output).not.toContain("left out of the Lambda bundles");
      await new Promise((resolve) => setTimeout(resolve, 200));
      const dynamo = documents.find((d) => d.name === "DynamoDB");
      expect(dynamo, `${JSON.stringify(documents)} ${output}`).toBeDefined();
      expect(dynamo?.trace_id).toBe("1-5759e988-bd862e3fe1be46a994272793");
      expect(dynamo?.parent_id).toBe("53995c3f42cd8ad8");
      expect(dynamo?.aws).toMatchObject({ operation: "GetItem", table_name: "t" });
    } finally {
      socket.close();
    }
  });

  it("the whitelist a bundle carries is the package's own entries for DynamoDB, SQS and SNS, the only clients a function has", async () => {
    const packaged = JSON.parse(readFileSync(join(ROOT, "node_modules/aws-xray-sdk-core/dist/lib/resources/aws_whitelist.json"), "utf8"));
    const { services }: { services: Record<string, unknown> } = await import("../../../lib/lambda-swaps/xray-aws-whitelist.ts");
    expect(Object.keys(services).sort()).toEqual(["dynamodb", "sns", "sqs"]);
    for (const name of Object.keys(services)) expect(services[name], name).toEqual(packaged.services[name]);
  });
});

describe("zod's JSON Schema generator in a Lambda bundle (kept only in JSON_SCHEMA_FUNCTIONS)", () => {
  const entry = join(ROOT, "test/unit/build/fixtures/zod-json-schema.ts");

  it("a function without it still parses and reads its schemas' limits; only generating JSON Schema fails, and says why", async () => {
    const swapped = await import(pathToFileURL((await bundleEntry("zod-swapped", entry, scratch)).outfile).href);
    expect([swapped.parses({ name: "ab" }), swapped.parses({ name: "a" }), swapped.parses({ name: "ab", count: 1.5 })]).toEqual([true, false, false]);
    expect(swapped.limits()).toEqual([2, 8, true]);
    expect(swapped.standardKeys()).toEqual(["jsonSchema", "validate", "vendor", "version"]);
    expect(() => swapped.jsonSchema()).toThrow("zod's JSON Schema generation is left out of this Lambda bundle");
  });

  it("a JSON_SCHEMA_FUNCTIONS bundle (openapi's) generates JSON Schema as zod run from source does", async () => {
    const kept = await import(pathToFileURL((await bundleEntry("zod-kept", entry, scratch, true, true, true)).outfile).href);
    const fromSource = await import(pathToFileURL(entry).href);
    expect(kept.jsonSchema()).toEqual(fromSource.jsonSchema());
    expect(kept.jsonSchema().properties.name).toMatchObject({ type: "string", minLength: 2, maxLength: 8 });
  });
});
