/**
 * What our bundles need from esbuild beyond SST's own options, given to `sst deploy` through the
 * functions' `nodejs.esbuild` and `nodejs.plugins` (infra/functions.ts, infra/lambda-plugins.ts) and
 * to `npm run build` (local/bundle.ts) alike, so the bundle measured is the bundle deployed.
 *
 * This file is also loaded by plain `node` (SST runs infra/lambda-plugins.ts in a Node.js process
 * of its own), so it keeps to erasable TypeScript and imports only Node's modules and types.
 */
import { join } from "node:path";
import type { Plugin } from "esbuild";

export const ESBUILD_DEFINE: Readonly<Record<string, string>> = {
  // undici's HTTP/1 client loads its experimental Milo parser (two WebAssembly builds, ~170 kB)
  // unless `esbuildDetection` is defined, which is how Node.js bundles undici for its own fetch.
  // We never enable Milo (undici's default is llhttp), so the parser undici uses is unchanged.
  esbuildDetection: "true",
};

/**
 * The defines of one function's bundle: ESBUILD_DEFINE; GSE_ROUTE_SCOPES, the scopes of the routes
 * the function serves (lib/routes.ts's functionRouteScopes), which its request handler looks its
 * caller's scope up in (lib/http/route-scopes.ts) instead of bundling the whole route table; and
 * GSE_FUNCTION_WIRING, its key, links and timeout (lib/wiring.ts's runtimeWiring), which
 * functionContext reads (lib/core/function-wiring.ts) instead of bundling every function's wiring.
 */
export const esbuildDefine = (
  routeScopes: Readonly<Record<string, string>>,
  wiring: { readonly key: string; readonly links: readonly string[]; readonly timeoutSeconds: number },
): Record<string, string> => ({
  ...ESBUILD_DEFINE,
  GSE_ROUTE_SCOPES: JSON.stringify(JSON.stringify(routeScopes)),
  GSE_FUNCTION_WIRING: JSON.stringify(JSON.stringify(wiring)),
});

/** The file whose default export `sst deploy` bundles with (`nodejs.plugins`), relative to sst.config.ts. */
export const LAMBDA_PLUGINS_FILE = "./infra/lambda-plugins.ts";

/** The functions that generate JSON Schema from zod at run time (the OpenAPI document): they keep zod's generator. */
export const JSON_SCHEMA_FUNCTIONS: ReadonlySet<string> = new Set(["openapi"]);

/** The same plugins without ZOD_JSON_SCHEMA_SWAPS, for JSON_SCHEMA_FUNCTIONS. */
export const JSON_SCHEMA_PLUGINS_FILE = "./infra/lambda-plugins-json-schema.ts";

/** The plugins file a function is bundled with (infra/functions.ts, local/bundle.ts). */
export const lambdaPluginsFile = (key: string): string => (JSON_SCHEMA_FUNCTIONS.has(key) ? JSON_SCHEMA_PLUGINS_FILE : LAMBDA_PLUGINS_FILE);

/**
 * Modules a Lambda bundle takes from our own files instead of from the package, keyed by the import
 * path as written in the importing package, each to a file relative to the project root. Each file
 * says why a Lambda never needs what it replaces. Tests, scripts and the CLI run from source and
 * keep the packages' own modules.
 */
export const LAMBDA_MODULE_SWAPS: Readonly<Record<string, string>> = {
  // The SDK's default credential chain (ini, SSO, STS, process, ECS/IMDS and the nested STS/SSO
  // clients): every client's node runtimeConfig imports it. Lambda gives credentials in env vars.
  "@aws-sdk/credential-provider-node": "lib/lambda-swaps/credentials.ts",
  // undici's fallback llhttp build for runtimes without WebAssembly SIMD (client-h1.js requires it).
  "../llhttp/llhttp-wasm.js": "lib/lambda-swaps/llhttp-without-simd.ts",
  // undici's HTTP/2 client: lib/core/undici.ts's dispatchers speak HTTP/1.1 only (allowH2: false).
  "./client-h2.js": "lib/lambda-swaps/undici-h2.cts",
  // undici's fetch body, FormData and WebIDL code, required lazily for a FormData body only.
  "../web/fetch/body.js": "lib/lambda-swaps/undici-form-data.cts",
  "../web/fetch/formdata": "lib/lambda-swaps/undici-form-data.cts",
  "../web/webidl": "lib/lambda-swaps/undici-form-data.cts",
  // The SDK's event-stream codec, imported lazily by its HTTP protocols: no operation we call streams.
  "@smithy/core/event-streams": "lib/lambda-swaps/event-streams.ts",
  // DynamoDB's endpoint discovery and its endpoint cache: no command we send uses it, and it is off.
  "@aws-sdk/middleware-endpoint-discovery": "lib/lambda-swaps/dynamodb-endpoint-discovery.ts",
  // semver's functions from their own files, not its index (every function and range helper).
  semver: "lib/lambda-swaps/semver.ts",
  // node:http taken the CommonJS way: an ESM import of it loads Node's internal undici (WebSocket).
  "node:http": "lib/lambda-swaps/node-http.cts",
  http: "lib/lambda-swaps/node-http.cts",
  // The X-Ray SDK's parts a Lambda never runs (the Tracer keeps its v3 client capture, subsegments,
  // HTTP patcher and the Lambda facade): its samplers (Lambda samples through _X_AMZN_TRACE_ID), its
  // AWS SDK v2 patcher, its EC2/ECS/Beanstalk plugins, and the whitelist's entries for services we
  // have no client for.
  "./sampling/default_sampler": "lib/lambda-swaps/xray-sampler.cts",
  "./sampling/local_sampler": "lib/lambda-swaps/xray-sampler.cts",
  "./patchers/aws_p": "lib/lambda-swaps/xray-aws-sdk-v2.cts",
  "./segments/plugins/ec2_plugin": "lib/lambda-swaps/xray-plugins.cts",
  "./segments/plugins/ecs_plugin": "lib/lambda-swaps/xray-plugins.cts",
  "./segments/plugins/elastic_beanstalk_plugin": "lib/lambda-swaps/xray-plugins.cts",
  "../resources/aws_whitelist.json": "lib/lambda-swaps/xray-aws-whitelist.ts",
};

/**
 * zod's JSON Schema generator (≈19 kB), swapped in every function but JSON_SCHEMA_FUNCTIONS: the
 * classic schemas import it for `toJSONSchema` and `~standard.jsonSchema`, which no other function calls.
 */
export const ZOD_JSON_SCHEMA_SWAPS: Readonly<Record<string, string>> = {
  "../core/json-schema-processors.js": "lib/lambda-swaps/zod-json-schema-processors.ts",
  "../core/to-json-schema.js": "lib/lambda-swaps/zod-to-json-schema.ts",
};

/**
 * The package each relative path of LAMBDA_MODULE_SWAPS is swapped inside: the plugin checks the
 * importer against it when esbuild gives one, so no other package's file of that name is swapped.
 */
export const RELATIVE_SWAP_PACKAGES: Readonly<Record<string, string>> = {
  "../llhttp/llhttp-wasm.js": "undici",
  "./client-h2.js": "undici",
  "../web/fetch/body.js": "undici",
  "../web/fetch/formdata": "undici",
  "../web/webidl": "undici",
  "./sampling/default_sampler": "aws-xray-sdk-core",
  "./sampling/local_sampler": "aws-xray-sdk-core",
  "./patchers/aws_p": "aws-xray-sdk-core",
  "./segments/plugins/ec2_plugin": "aws-xray-sdk-core",
  "./segments/plugins/ecs_plugin": "aws-xray-sdk-core",
  "./segments/plugins/elastic_beanstalk_plugin": "aws-xray-sdk-core",
  "../resources/aws_whitelist.json": "aws-xray-sdk-core",
  "../core/json-schema-processors.js": "zod",
  "../core/to-json-schema.js": "zod",
};

const exactly = (path: string): RegExp => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);

/**
 * The esbuild plugin that makes LAMBDA_MODULE_SWAPS. Only `args.path` is relied on (SST's plugin
 * bridge matches on it); a relative path is also checked against its importer when esbuild gives one
 * (RELATIVE_SWAP_PACKAGES).
 */
export function lambdaSwapsPlugin(root: string, options: { readonly jsonSchema?: boolean } = {}): Plugin {
  const swaps = options.jsonSchema ? LAMBDA_MODULE_SWAPS : { ...LAMBDA_MODULE_SWAPS, ...ZOD_JSON_SCHEMA_SWAPS };
  return {
    name: "gse-control-lambda-swaps",
    setup(build) {
      for (const [from, to] of Object.entries(swaps)) {
        const inside = from.startsWith(".") ? RELATIVE_SWAP_PACKAGES[from] : undefined;
        if (from.startsWith(".") && !inside) throw new Error(`the relative swap ${from} names no package in RELATIVE_SWAP_PACKAGES`);
        build.onResolve({ filter: exactly(from) }, (args) => {
          if (inside && args.importer && !args.importer.includes(`/node_modules/${inside}/`)) return undefined;
          return { path: join(root, to) };
        });
      }
    },
  };
}
