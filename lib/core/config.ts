import * as z from "zod";
import { registerSecrets } from "./logger.ts";
import { scopeSchema } from "./scopes.ts";
import { QUEUES, SECRETS, TABLES, TOPICS, type QueueKey } from "../resources.ts";

/**
 * All settings, read once from the environment or SST's linked `Resource`, validated here.
 * A setting that is missing or bad fails the cold start with its variable name in the message,
 * instead of failing the first request that happens to need it.
 */

const jsonString = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

const callerSchema = z.object({
  bk_app_code: z.string().min(1),
  bk_app_secret: z.string().min(8),
  /** What the caller may do (lib/core/scopes.ts); absent = admin, as every caller was before scopes. */
  scopes: z.array(scopeSchema).min(1).optional(),
});
export type Caller = z.infer<typeof callerSchema>;

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().positive().max(max).default(fallback);

/** HEARTBEAT_TRANSITIONAL_GRACE_MINUTES's default. */
const HEARTBEAT_TRANSITIONAL_GRACE_DEFAULT_MINUTES = 15;

export const configSchema = z.object({
  stage: z.string().min(1).default("local"),
  logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
  gse: z.object({
    /** BK_COMPONENT_API_URL: ESB calls go to `<base>/api/c/compapi/v2/gse/...`. */
    baseUrl: z.url({ protocol: /^https?$/ }),
    /** BKAPP_BKGSE_APIGW_BASE_URL; defaults to `<baseUrl>/api/bk-gse/prod`, as bk-monitor does. */
    apigwBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** v2 = API gateway (`/api/v2/...`), esb = legacy component API (`/api/c/compapi/v2/gse/...`). */
    flavour: z.enum(["v2", "esb"]).default("v2"),
    /** bk-monitor's USE_GSE_AGENT_STATUS_NEW_API: list_agent_state (true) or get_agent_status (false). */
    useNewAgentStatusApi: z.stringbool().default(true),
    appCode: z.string().min(1),
    /** Linked secret (GseAppSecret): present only in functions that link it. */
    appSecret: z.string().min(1).optional(),
    username: z.string().min(1).default("admin"),
    tenantId: z.string().min(1).optional(),
    slotId: z.coerce.number().int().nonnegative(),
    slotToken: z.string().min(1).optional(),
    timeoutMs: positiveInt(10_000, 120_000),
    maxAttempts: positiveInt(4, 10),
    /** GSE answers at most 1000 ids per list_agent_state call (docs/gse-contract.md §10b.3). */
    agentChunkSize: positiveInt(1000, 5000),
    concurrency: positiveInt(5, 64),
  }),
  // Each of these comes from a linked resource, and a function links only what it uses
  // (lib/wiring.ts): read them through the accessors below, which name a missing link.
  tables: z.object({
    agents: z.string().min(1).optional(),
    configs: z.string().min(1).optional(),
    commands: z.string().min(1).optional(),
    apps: z.string().min(1).optional(),
    fleet: z.string().min(1).optional(),
  }),
  alertsTopicArn: z.string().min(1).optional(),
  automationQueueUrl: z.url().optional(),
  automationDlqUrl: z.url().optional(),
  alertLogQueueUrl: z.url().optional(),
  alertLogDlqUrl: z.url().optional(),
  slotForwardQueueUrl: z.url().optional(),
  slotForwardDlqUrl: z.url().optional(),
  /** Unsolicited upstream messages of GSE's slot, POSTed on to bk-monitor (lib/commands/forward.ts). */
  slotForward: z.object({
    /** bk-monitor's own slot handler (`https://<bk-monitor>/api/v4/bk_gse_slot/`); unset: nothing is forwarded. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** One POST's time limit, headers and body. */
    timeoutMs: positiveInt(5_000, 60_000),
    /** Wait before the second try; doubled per receive up to retryMaxSeconds. */
    retryBaseSeconds: positiveInt(10, 900),
    retryMaxSeconds: positiveInt(600, 43_200),
  }),
  agentCacheTtlSeconds: positiveInt(300, 86_400),
  /** How long a function instance trusts its own copy of an agent item before reading the table again; 0 = never. */
  agentMemoSeconds: z.coerce.number().int().nonnegative().max(3_600).default(30),
  /** Agent items a function instance keeps copies of (about 0.5 KB each); 0 = none. */
  agentMemoMaxItems: z.coerce.number().int().nonnegative().max(2_000_000).default(100_000),
  dispatchBatchSize: positiveInt(1000, 5000),
  /** Tracked commands (lib/commands). */
  commands: z.object({
    /** Delivery attempts per agent, the first included, before it is FAILED for good. */
    maxAttempts: positiveInt(5, 20),
    /** First retry delay; doubled per attempt, with full jitter, up to retryMaxDelaySeconds. */
    retryBaseSeconds: z.coerce.number().nonnegative().max(3_600).default(30),
    retryMaxDelaySeconds: positiveInt(3_600, 86_400),
    /** Time a dispatch request spends sending before it hands the rest to the queue (API Gateway stops at 29 s). */
    sendBudgetSeconds: positiveInt(20, 25),
    /** A batch claimed this long ago whose sender never reported is taken over (the sender died). */
    leaseSeconds: positiveInt(120, 3_600),
    /** How often a running command's watchdog looks at it. */
    tickSeconds: positiveInt(60, 900),
    /** Commands, their results and unsolicited upstream messages expire after this many days. */
    retentionDays: positiveInt(30, 3_650),
  }),
  /** APM applications (lib/apm). */
  apm: z.object({
    /** Days an app keeps its probe instances when it names no retention of its own. */
    retentionDays: positiveInt(7, 3_650),
    /** The platform (GSE plat_name) datasource routes are registered under. */
    platName: z.string().min(1).default("bkmonitor"),
  }),
  /** Linked secret (GseCallbackKey): the key GSE's callback URL carries. */
  callbackKey: z.string().min(16).optional(),
  heartbeat: z.object({
    /** Polls in a row an agent must be seen down before it counts as lost (flap suppression). */
    lostAfterPolls: positiveInt(3, 100),
    /** Minutes an agent may stay transitional (starting, upgrading, stopping, ...) before it counts as stuck. */
    transitionalGraceMinutes: positiveInt(HEARTBEAT_TRANSITIONAL_GRACE_DEFAULT_MINUTES, 10_080),
    /** Time one invocation may spend asking GSE; kept below the function's timeout (lib/heartbeat/settings.ts). */
    budgetSeconds: positiveInt(40, 900),
    /** Agents (and their history) unseen this long are evicted by DynamoDB TTL. */
    evictAfterDays: positiveInt(30, 3650),
    /** Agents listed by name in one alert; the counts are always complete. */
    alertSample: positiveInt(20, 200),
    /** An alert identical to one published this recently is not published again. */
    alertDedupMinutes: positiveInt(60, 10_080),
    /** Agents below this version are flagged outdated in the fleet view (unset: none is). */
    minVersion: z.string().min(1).optional(),
  }),
  /** Config versions: seconds a version may stay PENDING before the reconciler decides it from GSE. */
  configPendingTimeoutSeconds: positiveInt(300, 86_400),
  /** Seconds after a change's request deadline that config.decide decides a version it left PENDING (lib/config-versions/decide.ts). */
  configPendingDecideSeconds: positiveInt(3, 900),
  /** How long an Idempotency-Key's first answer is kept and returned again. */
  configIdempotencyTtlSeconds: positiveInt(86_400, 7 * 86_400),
  /** The same caller, operation and body within this many seconds returns the first answer; 0 = off. */
  configDedupeWindowSeconds: z.coerce.number().int().nonnegative().max(3_600).default(60),
  /** Whether the drift check re-applies the head when GSE holds something else (it always alerts). */
  configDriftRepair: z.stringbool().default(false),
  /**
   * How long a change waits for another change of the same object (or its recovery) to finish
   * before answering 409; well under API Gateway's 30 s, with room for the change itself.
   */
  configLockWaitMs: z.coerce.number().int().nonnegative().max(20_000).default(5_000),
  /** Callers allowed to use this API: `[{"bk_app_code": "...", "bk_app_secret": "..."}]`. */
  callers: jsonString(z.array(callerSchema).min(1)).optional(),
});

export type Config = z.infer<typeof configSchema>;

interface Source {
  /** Dotted path in the config object. */
  readonly path: string;
  readonly env: string;
  /** SST link name and the property that holds the value. */
  readonly resource?: readonly [link: string, property: string];
  /** Never echo the value, even in a validation error. */
  readonly secret?: boolean;
}

const resourceSource = (path: string, def: { env: string; link: string }, property: string, secret = false): Source => ({
  path,
  env: def.env,
  resource: [def.link, property],
  secret,
});

export const SETTINGS: readonly Source[] = [
  { path: "stage", env: "STAGE" },
  { path: "logLevel", env: "LOG_LEVEL" },
  { path: "gse.baseUrl", env: "GSE_BASE_URL" },
  { path: "gse.apigwBaseUrl", env: "GSE_APIGW_BASE_URL" },
  { path: "gse.flavour", env: "GSE_API_FLAVOUR" },
  { path: "gse.useNewAgentStatusApi", env: "USE_GSE_AGENT_STATUS_NEW_API" },
  { path: "gse.appCode", env: "GSE_APP_CODE" },
  resourceSource("gse.appSecret", SECRETS.gseAppSecret, "value", true),
  { path: "gse.username", env: "GSE_USERNAME" },
  { path: "gse.tenantId", env: "GSE_TENANT_ID" },
  { path: "gse.slotId", env: "GSE_SLOT_ID" },
  resourceSource("gse.slotToken", SECRETS.gseSlotToken, "value", true),
  { path: "gse.timeoutMs", env: "GSE_TIMEOUT_MS" },
  { path: "gse.maxAttempts", env: "GSE_MAX_ATTEMPTS" },
  { path: "gse.agentChunkSize", env: "GSE_AGENT_CHUNK_SIZE" },
  { path: "gse.concurrency", env: "GSE_CONCURRENCY" },
  ...Object.entries(TABLES).map(([key, def]) => resourceSource(`tables.${key}`, def, "name")),
  resourceSource("alertsTopicArn", TOPICS.alerts, "arn"),
  resourceSource("automationQueueUrl", QUEUES.automation, "url"),
  resourceSource("automationDlqUrl", QUEUES.automationDlq, "url"),
  resourceSource("alertLogQueueUrl", QUEUES.alertLog, "url"),
  resourceSource("alertLogDlqUrl", QUEUES.alertLogDlq, "url"),
  resourceSource("slotForwardQueueUrl", QUEUES.slotForward, "url"),
  resourceSource("slotForwardDlqUrl", QUEUES.slotForwardDlq, "url"),
  { path: "slotForward.url", env: "GSE_SLOT_FORWARD_URL" },
  { path: "slotForward.timeoutMs", env: "GSE_SLOT_FORWARD_TIMEOUT_MS" },
  { path: "slotForward.retryBaseSeconds", env: "GSE_SLOT_FORWARD_RETRY_BASE_SECONDS" },
  { path: "slotForward.retryMaxSeconds", env: "GSE_SLOT_FORWARD_RETRY_MAX_SECONDS" },
  { path: "agentCacheTtlSeconds", env: "AGENT_CACHE_TTL_SECONDS" },
  { path: "agentMemoSeconds", env: "AGENT_MEMO_SECONDS" },
  { path: "agentMemoMaxItems", env: "AGENT_MEMO_MAX_ITEMS" },
  { path: "dispatchBatchSize", env: "DISPATCH_BATCH_SIZE" },
  { path: "commands.maxAttempts", env: "COMMAND_MAX_ATTEMPTS" },
  { path: "commands.retryBaseSeconds", env: "COMMAND_RETRY_BASE_SECONDS" },
  { path: "commands.retryMaxDelaySeconds", env: "COMMAND_RETRY_MAX_DELAY_SECONDS" },
  { path: "commands.sendBudgetSeconds", env: "COMMAND_SEND_BUDGET_SECONDS" },
  { path: "commands.leaseSeconds", env: "COMMAND_LEASE_SECONDS" },
  { path: "commands.tickSeconds", env: "COMMAND_TICK_SECONDS" },
  { path: "commands.retentionDays", env: "COMMAND_RETENTION_DAYS" },
  { path: "apm.retentionDays", env: "APM_RETENTION_DAYS" },
  { path: "apm.platName", env: "APM_PLAT_NAME" },
  resourceSource("callbackKey", SECRETS.gseCallbackKey, "value", true),
  { path: "heartbeat.lostAfterPolls", env: "HEARTBEAT_LOST_AFTER_POLLS" },
  { path: "heartbeat.transitionalGraceMinutes", env: "HEARTBEAT_TRANSITIONAL_GRACE_MINUTES" },
  { path: "heartbeat.budgetSeconds", env: "HEARTBEAT_BUDGET_SECONDS" },
  { path: "heartbeat.evictAfterDays", env: "HEARTBEAT_EVICT_AFTER_DAYS" },
  { path: "heartbeat.alertSample", env: "HEARTBEAT_ALERT_SAMPLE" },
  { path: "heartbeat.alertDedupMinutes", env: "HEARTBEAT_ALERT_DEDUP_MINUTES" },
  { path: "heartbeat.minVersion", env: "FLEET_MIN_VERSION" },
  { path: "configPendingTimeoutSeconds", env: "CONFIG_PENDING_TIMEOUT_SECONDS" },
  { path: "configPendingDecideSeconds", env: "CONFIG_PENDING_DECIDE_SECONDS" },
  { path: "configIdempotencyTtlSeconds", env: "CONFIG_IDEMPOTENCY_TTL_SECONDS" },
  { path: "configDedupeWindowSeconds", env: "CONFIG_DEDUPE_WINDOW_SECONDS" },
  { path: "configDriftRepair", env: "CONFIG_DRIFT_REPAIR" },
  { path: "configLockWaitMs", env: "CONFIG_LOCK_WAIT_MS" },
  resourceSource("callers", SECRETS.apiCallers, "value", true),
];

/**
 * The settings that come only from the environment (none has a linked resource): what a deploy
 * copies from the deploying shell into every function. Secrets are linked, so never among them.
 */
export const ENV_SETTINGS: readonly string[] = SETTINGS.filter((s) => !s.resource).map((s) => s.env);

/** Looks a linked resource's property up; undefined when the resource is not linked. */
export type ResourceLookup = (link: string, property: string) => string | undefined;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function readPath(target: Record<string, unknown>, path: string): unknown {
  let node: unknown = target;
  for (const part of path.split(".")) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  return node;
}

/** Every link a setting can come from: what a process that runs every function needs. */
export const ALL_LINKS: readonly string[] = SETTINGS.flatMap((s) => (s.resource ? [s.resource[0]] : []));

/**
 * Pure: builds and validates the config from the given sources. Settings of linked resources are
 * required for the `links` given (default: all of them) and ignored otherwise, so a function
 * needs, and is given, only the resources it uses. Throws ConfigError.
 */
export function loadConfig(env: NodeJS.ProcessEnv, lookup: ResourceLookup = () => undefined, links: readonly string[] = ALL_LINKS): Config {
  const linked = new Set(links);
  const raw: Record<string, unknown> = { gse: {}, tables: {}, heartbeat: {}, commands: {}, apm: {}, slotForward: {} };
  const missingLinks: string[] = [];
  for (const source of SETTINGS) {
    if (source.resource && !linked.has(source.resource[0])) continue;
    const fromResource = source.resource ? lookup(...source.resource) : undefined;
    const value = fromResource ?? env[source.env];
    // An empty variable means "not set", as a shell user expects from `FOO= cmd`.
    if (value !== undefined && value !== "") setPath(raw, source.path, value);
    else if (source.resource) missingLinks.push(`${source.env} (or linked ${source.resource[0]}.${source.resource[1]}): is required but not set`);
  }
  const parsed = configSchema.safeParse(raw);
  if (parsed.success && missingLinks.length === 0) return parsed.data;

  const problems = missingLinks.concat(
    (parsed.error?.issues ?? []).map((issue) => {
      const path = issue.path.join(".");
      const source = SETTINGS.find((s) => path === s.path || path.startsWith(`${s.path}.`));
      const name = source ? (source.resource ? `${source.env} (or linked ${source.resource[0]}.${source.resource[1]})` : source.env) : path;
      const missing = source !== undefined && readPath(raw, source.path) === undefined;
      // zod's messages for a secret can quote the input; keep only the generic part then.
      const detail = missing ? "is required but not set" : source?.secret ? `is invalid (${issue.code})` : issue.message;
      return `${name}: ${detail}${source && path !== source.path ? ` at ${path.slice(source.path.length + 1)}` : ""}`;
    }),
  );
  throw new ConfigError(problems);
}

/** By set of links: one per Lambda, several where one process runs many functions (local). */
const cached = new Map<string, Config>();

/**
 * The process-wide config, loaded on first use (cold start) and kept for warm invocations.
 * `links`: the resources this function links (FUNCTIONS[name].links); default all.
 */
export async function getConfig(links: readonly string[] = ALL_LINKS): Promise<Config> {
  const key = [...new Set(links)].sort().join(",");
  const hit = cached.get(key);
  if (hit) return hit;
  const { Resource } = await import("sst/resource");
  const resources = Resource as unknown as Record<string, Record<string, unknown> | undefined>;
  const lookup: ResourceLookup = (link, property) => {
    if (!(link in resources)) return undefined;
    const value = resources[link]?.[property];
    return typeof value === "string" ? value : undefined;
  };
  const config = loadConfig(process.env, lookup, links);
  registerSecrets([config.gse.appSecret, config.gse.slotToken, config.callbackKey, ...(config.callers ?? []).map((c) => c.bk_app_secret)]);
  cached.set(key, config);
  return config;
}

/** A setting of a resource the running function did not link: a wiring mistake, said plainly. */
export class NotLinkedError extends ConfigError {
  constructor(link: string) {
    super([`this function uses ${link} but does not link it: add "${link}" to its links in lib/wiring.ts`]);
    this.name = "NotLinkedError";
  }
}

function linked<T>(value: T | undefined, link: string): T {
  if (value === undefined) throw new NotLinkedError(link);
  return value;
}

/** The callers allowed to use the API (ApiCallers). */
export const callersOf = (config: Config): readonly Caller[] => linked(config.callers, SECRETS.apiCallers.link);

/** A table's name (its link, e.g. Agents). */
export const tableOf = (config: Config, key: keyof Config["tables"]): string => linked(config.tables[key], TABLES[key].link);

export type GseConfig = Config["gse"] & { readonly appSecret: string };

/** GSE settings with our app secret (GseAppSecret), as the GSE client needs them. */
export const gseOf = (config: Config): GseConfig => ({ ...config.gse, appSecret: linked(config.gse.appSecret, SECRETS.gseAppSecret.link) });

/** The key GSE's callback URL carries (GseCallbackKey). */
export const callbackKeyOf = (config: Config): string => linked(config.callbackKey, SECRETS.gseCallbackKey.link);

/** The message slot's token (GseSlotToken). */
export const slotTokenOf = (config: Config): string => linked(config.gse.slotToken, SECRETS.gseSlotToken.link);

export const alertsTopicOf = (config: Config): string => linked(config.alertsTopicArn, TOPICS.alerts.link);

const QUEUE_URL_SETTINGS = {
  automation: "automationQueueUrl",
  automationDlq: "automationDlqUrl",
  alertLog: "alertLogQueueUrl",
  alertLogDlq: "alertLogDlqUrl",
  slotForward: "slotForwardQueueUrl",
  slotForwardDlq: "slotForwardDlqUrl",
} as const satisfies Record<QueueKey, keyof Config>;

export const queueUrlOf = (config: Config, queue: QueueKey): string => linked(config[QUEUE_URL_SETTINGS[queue]], QUEUES[queue].link);
