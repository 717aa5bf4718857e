import { FUNCTIONS, type FunctionKey, type Link } from "../lib/wiring";
import { alerts } from "./alerts";
import { queues } from "./queue";
import { secrets } from "./secrets";
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

/** Plain settings (no secrets) read from the deploying shell; see README "Configuration". */
const PLAIN_SETTINGS = [
  "GSE_BASE_URL",
  "GSE_APIGW_BASE_URL",
  "GSE_API_FLAVOUR",
  "USE_GSE_AGENT_STATUS_NEW_API",
  "GSE_APP_CODE",
  "GSE_USERNAME",
  "GSE_TENANT_ID",
  "GSE_SLOT_ID",
  "GSE_TIMEOUT_MS",
  "GSE_MAX_ATTEMPTS",
  "GSE_AGENT_CHUNK_SIZE",
  "GSE_CONCURRENCY",
  "AGENT_CACHE_TTL_SECONDS",
  "DISPATCH_BATCH_SIZE",
  "HEARTBEAT_LOST_AFTER_POLLS",
  "HEARTBEAT_BUDGET_SECONDS",
  "HEARTBEAT_EVICT_AFTER_DAYS",
  "HEARTBEAT_ALERT_SAMPLE",
  "HEARTBEAT_ALERT_DEDUP_MINUTES",
  "HEARTBEAT_TRANSITIONAL_GRACE_MINUTES",
  "FLEET_MIN_VERSION",
  "CONFIG_PENDING_TIMEOUT_SECONDS",
  "CONFIG_IDEMPOTENCY_TTL_SECONDS",
  "CONFIG_DEDUPE_WINDOW_SECONDS",
  "CONFIG_DRIFT_REPAIR",
  "CONFIG_LOCK_WAIT_MS",
  "GSE_SLOT_FORWARD_URL",
  "GSE_SLOT_FORWARD_TIMEOUT_MS",
  "GSE_SLOT_FORWARD_RETRY_BASE_SECONDS",
  "GSE_SLOT_FORWARD_RETRY_MAX_SECONDS",
  "LOG_LEVEL",
] as const;

const environment = Object.fromEntries(
  [["STAGE", $app.stage], ...PLAIN_SETTINGS.map((name) => [name, process.env[name]])].filter(([, v]) => v !== undefined),
) as Record<string, string>;

export function functionArgs(key: FunctionKey) {
  const fn = FUNCTIONS[key];
  return {
    handler: fn.file.replace(/\.ts$/, ".handler"),
    description: fn.description,
    runtime: "nodejs24.x" as const,
    architecture: "arm64" as const,
    timeout: `${fn.timeoutSeconds} seconds` as const,
    memory: `${fn.memoryMb} MB` as const,
    link: fn.links.map((link) => linkable[link]),
    environment,
    // minify: SST's build minifies only when asked (about half the size). Source maps are left to
    // SST's default: built, and kept out of the zip that Lambda loads.
    nodejs: { format: "esm" as const, minify: true },
  };
}

const created = new Map<FunctionKey, sst.aws.Function>();

/** One Lambda per function, however many routes or triggers lead to it. */
export function lambda(key: FunctionKey): sst.aws.Function {
  let fn = created.get(key);
  if (!fn) {
    fn = new sst.aws.Function(
      key.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase()),
      functionArgs(key),
    );
    created.set(key, fn);
  }
  return fn;
}
