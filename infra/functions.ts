import { esbuildDefine, lambdaPluginsFile } from "../lib/bundling";
import { FUNCTION_DESCRIPTIONS } from "../lib/function-descriptions";
import { functionRouteScopes } from "../lib/routes";
import { FUNCTIONS, type FunctionKey, type Link, runtimeWiring } from "../lib/wiring";
import { alerts } from "./alerts";
import { queues } from "./queue";
import { secrets } from "./secrets";
import { environment } from "./settings";
import { tables } from "./storage";

/** Every linkable resource by its link name, so lib/wiring.ts decides what each function gets. */
const linkable: Record<Link, unknown> = {
  Agents: tables.agents,
  Configs: tables.configs,
  Commands: tables.commands,
  Apps: tables.apps,
  Fleet: tables.fleet,
  Alerts: alerts,
  Automation: queues.automation,
  AutomationDlq: queues.automationDlq,
  AlertLog: queues.alertLog,
  AlertLogDlq: queues.alertLogDlq,
  SlotForward: queues.slotForward,
  SlotForwardDlq: queues.slotForwardDlq,
  GseAppSecret: secrets.gseAppSecret,
  GseSlotToken: secrets.gseSlotToken,
  ApiCallers: secrets.apiCallers,
  GseCallbackKey: secrets.gseCallbackKey,
};

export function functionArgs(key: FunctionKey) {
  const fn = FUNCTIONS[key];
  return {
    handler: fn.file.replace(/\.ts$/, ".handler"),
    description: FUNCTION_DESCRIPTIONS[key],
    runtime: "nodejs24.x" as const,
    architecture: "arm64" as const,
    timeout: `${fn.timeoutSeconds} seconds` as const,
    memory: `${fn.memoryMb} MB` as const,
    link: fn.links.map((link) => linkable[link]),
    // Plain settings from the deploying shell, checked at deploy (infra/settings.ts); secrets are linked.
    environment,
    // minify: SST's build minifies only when asked (about half the size). Source maps are left to
    // SST's default: built, and kept out of the zip that Lambda loads. esbuild.define and plugins:
    // what local/bundle.ts builds with too (lib/bundling.ts), so `npm run build` measures what
    // deploys. The plugins swap the SDK's default credential chain for env-only credentials, which
    // is what Lambda gives; the path is relative to sst.config.ts and SST imports it with `node`.
    // openapi's keeps zod's JSON Schema generator, which the others leave out. The define gives the
    // function the scopes of its own routes, so its bundle carries no route table.
    nodejs: {
      format: "esm" as const,
      minify: true,
      esbuild: { define: esbuildDefine(functionRouteScopes(key), runtimeWiring(key)) },
      plugins: lambdaPluginsFile(key),
    },
    // X-Ray, active (lib/core/tracing.ts): SST's Function has no tracing option, so the Lambda's own.
    transform: { function: { tracingConfig: { mode: "Active" } } },
    permissions: [{ actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] }],
  };
}

/** A function's logical name in the stack (list_agent_state → ListAgentState); its alarms are named after it. */
export const logicalName = (key: FunctionKey): string => key.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase());

const created = new Map<FunctionKey, sst.aws.Function>();

/** One Lambda per function, however many routes or triggers lead to it. */
export function lambda(key: FunctionKey): sst.aws.Function {
  let fn = created.get(key);
  if (!fn) {
    fn = new sst.aws.Function(logicalName(key), functionArgs(key));
    created.set(key, fn);
  }
  return fn;
}
