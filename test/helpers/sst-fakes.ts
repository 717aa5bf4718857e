/**
 * Loads sst.config.ts with SST's globals replaced by recording fakes (AWS itself cannot run here),
 * so a test can check what a deploy would build without deploying.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { vi } from "vitest";
import { ROOT } from "./spawn-stack.ts";

export type Args = Record<string, unknown>;

export interface Built {
  readonly kind: string;
  readonly name: string;
  readonly args: Args;
  readonly calls: { method: string; args: unknown[] }[];
}

/** Fake SST globals that record every resource and call; each instance knows its logical name. */
export function installFakes(stage: string): Built[] {
  const built: Built[] = [];
  const resource = (kind: string, extra: (name: string) => Record<string, unknown> = () => ({})) =>
    class {
      readonly fake: Built;
      constructor(name: string, args: Args = {}) {
        this.fake = { kind, name, args, calls: [] };
        built.push(this.fake);
        Object.assign(
          this,
          { name, arn: `arn:fake:${kind}:${name}`, url: `https://fake/${name}`, nodes: { queue: { name }, function: { name }, api: { id: `id-${name}` } } },
          extra(name),
        );
        for (const method of ["subscribe", "subscribeQueue", "route"]) {
          Object.assign(this, { [method]: (...callArgs: unknown[]) => void this.fake.calls.push({ method, args: callArgs }) });
        }
      }
    };
  const g = globalThis as Record<string, unknown>;
  g.$app = { name: "gse-control", stage };
  g.$config = (config: unknown) => config;
  g.sst = {
    Secret: resource("Secret", () => ({ value: "fake-secret" })),
    aws: {
      Dynamo: resource("Dynamo"),
      SnsTopic: resource("SnsTopic"),
      Queue: resource("Queue"),
      ApiGatewayV2: resource("ApiGatewayV2"),
      Function: resource("Function"),
      Cron: resource("Cron"),
    },
  };
  g.aws = { cloudwatch: { MetricAlarm: resource("MetricAlarm"), Dashboard: resource("Dashboard") }, getRegionOutput: () => ({ region: "fake-region" }) };
  g.$jsonStringify = (value: unknown) => JSON.stringify(value);
  return built;
}

export interface SstConfig {
  app(input: { stage: string }): Promise<Record<string, unknown>> | Record<string, unknown>;
  run(): Promise<unknown>;
}

/** The plain settings a deploy needs (lib/core/config.ts's required ones), as a deploying shell would have them. */
export const DEPLOY_ENV = { GSE_BASE_URL: "https://gse.example", GSE_APP_CODE: "gse_control", GSE_SLOT_ID: "37" } as const;

/** Applies `env` to process.env (undefined deletes) for the duration of `work`. */
export async function withEnv<T>(env: Readonly<Record<string, string | undefined>>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Readonly<Record<string, string | undefined>>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(env);
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

/** Loads sst.config.ts afresh for `stage`, with fresh fakes; `built` fills as its run() builds. */
export async function loadSstConfig(stage: string): Promise<{ built: Built[]; config: SstConfig }> {
  vi.resetModules();
  const built = installFakes(stage);
  // Loaded by URL so the type checker does not follow it: its types are SST's (tsconfig.infra.json).
  const mod = (await import(/* @vite-ignore */ pathToFileURL(join(ROOT, "sst.config.ts")).href)) as { default: SstConfig };
  return { built, config: mod.default };
}

/** Loads sst.config.ts for `stage` and runs it, as `sst deploy` would. */
export async function runConfig(stage: string): Promise<{ built: Built[]; config: SstConfig }> {
  const loaded = await loadSstConfig(stage);
  await loaded.config.run();
  return loaded;
}
