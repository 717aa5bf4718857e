/**
 * Which function runs on which trigger, and which resources it may touch. `infra/` turns this
 * into Lambda functions, routes, subscriptions and links; `local/` into the local gateway,
 * pollers and scheduler. A function file that is not listed here runs nowhere. The HTTP routes
 * are in lib/routes.ts, apart, so that reading this file does not bring the GSE schemas along; the
 * descriptions in lib/function-descriptions.ts. No function's bundle carries this file: a function
 * reads only its own links and timeout, given to its bundle at build time (runtimeWiring,
 * lib/core/function-wiring.ts).
 */
import { GSE_OPERATION_TIMEOUT_SECONDS } from "./function-timeouts.ts";
import { QUEUES, SECRETS, TABLES, TOPICS, type QueueKey, type TableKey } from "./resources.ts";

export type Link =
  | (typeof TABLES)[TableKey]["link"]
  | (typeof TOPICS)["alerts"]["link"]
  | (typeof QUEUES)[QueueKey]["link"]
  | (typeof SECRETS)[keyof typeof SECRETS]["link"];

export interface FunctionDefinition {
  /** Source file, relative to the project root; it exports `handler`. */
  readonly file: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Resources the function uses: it gets these permissions and nothing else. */
  readonly links: readonly Link[];
}

/** What a function reads of its own wiring at run time (lib/core/function-wiring.ts). */
export type RuntimeWiring = Pick<FunctionDefinition, "links" | "timeoutSeconds">;

const ALL_TABLES: readonly Link[] = Object.values(TABLES).map((t) => t.link);
/** What every function that calls GSE on behalf of an API caller reads: our GSE secret, the callers. */
const GSE_CALLER: readonly Link[] = [SECRETS.gseAppSecret.link, SECRETS.apiCallers.link];

/** Everything a heartbeat poll touches: GSE (our secret), the fleet table, the alerts topic, the queue for shards. */
const HEARTBEAT_LINKS: readonly Link[] = [SECRETS.gseAppSecret.link, TABLES.fleet.link, TOPICS.alerts.link, QUEUES.automation.link];

/** A fleet API route's function, reading/writing the fleet table. */
const fleetRoute = (file: `functions/fleet/${string}.ts`) =>
  ({
    file,
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [SECRETS.apiCallers.link, TABLES.fleet.link],
  }) as const;

/** Where configuration versions live, and the queue their config.decide jobs go on (a request that timed out). */
const CONFIG_VERSIONS: readonly Link[] = [TABLES.configs.link, QUEUES.automation.link];

/** What works on commands: the table, the slot (retries send), the queue (ticks and retries), GSE. */
const COMMANDS: readonly Link[] = [TABLES.commands.link, SECRETS.gseSlotToken.link, QUEUES.automation.link];

/** A command route's function. */
const commandRoute = (file: `functions/commands/${string}.ts`) =>
  ({
    file,
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...GSE_CALLER, ...COMMANDS],
  }) as const;

/**
 * A command route's function that reads, settles or marks commands and never sends: neither GSE's
 * secret nor the slot token; one that only lists needs not even the queue.
 */
const commandViewRoute = (file: `functions/commands/${string}.ts`, uses: "queue" | "table only" = "queue") =>
  ({
    file,
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [SECRETS.apiCallers.link, TABLES.commands.link, ...(uses === "queue" ? [QUEUES.automation.link] : [])],
  }) as const;

/** A template route's function: templates live in the commands table (lib/templates/items.ts). */
const templateRoute = (file: `functions/templates/${string}.ts`) =>
  ({
    file,
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [SECRETS.apiCallers.link, TABLES.commands.link],
  }) as const;

/** A rollout route's function: the commands (waves), the fleet table (gate), the alerts topic (abort). */
const rolloutRoute = (file: `functions/rollouts/${string}.ts`) =>
  ({
    file,
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...GSE_CALLER, ...COMMANDS, TABLES.fleet.link, TOPICS.alerts.link],
  }) as const;

/**
 * What APM works with: its apps table; datasource routes through the versioned config flow; the
 * probes told by commands; the datasource-apply alert.
 */
const APM: readonly Link[] = [...new Set([...GSE_CALLER, TABLES.apps.link, ...CONFIG_VERSIONS, ...COMMANDS, TOPICS.alerts.link])];

/** An APM route's function. */
const apmRoute = (file: `functions/apm/${string}.ts`, extraLinks: readonly Link[] = []) =>
  ({
    file,
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...APM, ...extraLinks],
  }) as const;

/** A GSE operation's function; its file is named after the operation, written in kebab case so grep finds it. */
const gseOperation = (file: `functions/gse/${string}.ts`, extraLinks: readonly Link[] = []) =>
  ({
    file,
    timeoutSeconds: GSE_OPERATION_TIMEOUT_SECONDS,
    memoryMb: 512,
    links: [...GSE_CALLER, ...extraLinks],
  }) as const;

export const FUNCTIONS = {
  // Config changes are versioned in the configs table (lib/config-versions).
  add_streamto: gseOperation("functions/gse/add-streamto.ts", CONFIG_VERSIONS),
  update_streamto: gseOperation("functions/gse/update-streamto.ts", CONFIG_VERSIONS),
  delete_streamto: gseOperation("functions/gse/delete-streamto.ts", CONFIG_VERSIONS),
  query_streamto: gseOperation("functions/gse/query-streamto.ts"),
  add_route: gseOperation("functions/gse/add-route.ts", CONFIG_VERSIONS),
  update_route: gseOperation("functions/gse/update-route.ts", CONFIG_VERSIONS),
  delete_route: gseOperation("functions/gse/delete-route.ts", CONFIG_VERSIONS),
  query_route: gseOperation("functions/gse/query-route.ts"),
  // The automation queue takes the cache's write-back, so the answer need not wait for it.
  // The fleet table (read only): watched agents are answered from the heartbeat's state.
  list_agent_state: gseOperation("functions/gse/list-agent-state.ts", [TABLES.agents.link, TABLES.fleet.link, QUEUES.automation.link]),
  get_agent_status: gseOperation("functions/gse/get-agent-status.ts", [TABLES.agents.link, TABLES.fleet.link, QUEUES.automation.link]),
  // A tracked command (lib/commands): recorded, sent in batches, its rest and retries on the queue.
  dispatch_message: gseOperation(
    "functions/gse/dispatch-message.ts",
    // The fleet table: a target_query is resolved over the watched agents.
    [...COMMANDS, TABLES.fleet.link],
  ),
  health: {
    file: "functions/health.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    // DescribeTable on every table, the alerts topic, and a GSE read: what /health reports on.
    links: [...ALL_TABLES, TOPICS.alerts.link, ...GSE_CALLER],
  },
  openapi: {
    file: "functions/openapi.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [SECRETS.apiCallers.link],
  },
  config_history: {
    file: "functions/configs/history.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [TABLES.configs.link, SECRETS.apiCallers.link],
  },
  config_rollback: {
    file: "functions/configs/rollback.ts",
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...CONFIG_VERSIONS, ...GSE_CALLER],
  },
  config_drift: {
    file: "functions/configs/drift.ts",
    timeoutSeconds: 29,
    memoryMb: 256,
    links: [TABLES.configs.link, ...GSE_CALLER],
  },
  config_reconcile: {
    file: "functions/configs/reconcile.ts",
    timeoutSeconds: 300,
    memoryMb: 512,
    // The automation queue: an interrupted desired-state apply's undo goes through the versioned flow (its decide jobs), and a bake's lost tick is queued again.
    links: [TABLES.configs.link, TOPICS.alerts.link, SECRETS.gseAppSecret.link, QUEUES.automation.link],
  },
  command_get: commandViewRoute("functions/commands/get.ts"),
  command_list: commandViewRoute("functions/commands/list.ts", "table only"),
  command_cancel: commandRoute("functions/commands/cancel.ts"),
  command_pause: commandViewRoute("functions/commands/pause.ts"),
  command_resume: commandViewRoute("functions/commands/resume.ts"),
  upstream_messages: commandViewRoute("functions/commands/upstream.ts", "table only"),
  template_put: templateRoute("functions/templates/put.ts"),
  template_get: templateRoute("functions/templates/get.ts"),
  template_list: templateRoute("functions/templates/list.ts"),
  gse_callback: {
    file: "functions/commands/callback.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    // GSE sends no credentials: the URL's key (GseCallbackKey) is the check.
    // The apps table: replies to an APM discovery command are probe instances.
    // The slot-forward queue: unsolicited upstream messages for bk-monitor (when GSE_SLOT_FORWARD_URL is set).
    // The automation queue: a reply that frees room in a command's window wakes its tick.
    links: [TABLES.commands.link, SECRETS.gseCallbackKey.link, TABLES.apps.link, QUEUES.slotForward.link, QUEUES.automation.link],
  },
  gse_slot_forward: {
    file: "functions/commands/slot-forward.ts",
    timeoutSeconds: 30,
    memoryMb: 256,
    // The commands table records each delivery (the message id is the idempotency key); the queue
    // is its trigger and where it stretches a failed message's visibility (the retry's backoff).
    links: [TABLES.commands.link, QUEUES.slotForward.link],
  },
  // Rollouts (lib/rollouts): waves of tracked commands, their gate reading the fleet table, the abort alert.
  rollout_start: rolloutRoute("functions/rollouts/start.ts"),
  rollout_list: rolloutRoute("functions/rollouts/list.ts"),
  rollout_get: rolloutRoute("functions/rollouts/get.ts"),
  rollout_action: rolloutRoute("functions/rollouts/action.ts"),
  // Desired state (lib/desired): plans read GSE and store in the configs table; an apply writes
  // through the versioned flow (configs table, automation queue), reads the fleet for its bake gate,
  // alerts on the topic and queues its bake ticks: what lib/desired/deps.ts applyDeps reads.
  plan_create: {
    file: "functions/desired/plan-create.ts",
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...GSE_CALLER, TABLES.configs.link],
  },
  plan_get: {
    file: "functions/desired/plan-get.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [SECRETS.apiCallers.link, TABLES.configs.link],
  },
  plan_apply: {
    file: "functions/desired/plan-apply.ts",
    timeoutSeconds: 29,
    memoryMb: 512,
    links: [...GSE_CALLER, ...CONFIG_VERSIONS, TABLES.fleet.link, TOPICS.alerts.link],
  },
  apply_history: {
    file: "functions/desired/applies.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [SECRETS.apiCallers.link, TABLES.configs.link],
  },
  console_rollout_action: {
    file: "functions/console/rollout-action.ts",
    timeoutSeconds: 29,
    memoryMb: 512,
    // As rollout_action: resume ticks and abort sends the undo (GSE, commands), the gate reads the fleet.
    links: [...GSE_CALLER, ...COMMANDS, TABLES.fleet.link, TOPICS.alerts.link],
  },
  command_sweep: {
    file: "functions/commands/sweep.ts",
    timeoutSeconds: 60,
    memoryMb: 256,
    // The outbox tables (lib/resources.ts OUTBOX_TABLES) and the topic: the outbox sweep runs here.
    links: [SECRETS.gseAppSecret.link, ...COMMANDS, TABLES.fleet.link, TABLES.configs.link, TOPICS.alerts.link],
  },
  recovery: {
    file: "functions/recovery.ts",
    timeoutSeconds: 120,
    memoryMb: 512,
    // Reads their names to tell which stream a record came from; the stream itself is the subscription.
    // Rolling back a config version calls GSE and alerts on the topic.
    // An APM datasource's command that ends FAILED or ABORTED rolls its route back (the apps table).
    links: [TABLES.configs.link, TOPICS.alerts.link, SECRETS.gseAppSecret.link, ...COMMANDS, TABLES.apps.link],
  },
  automation: {
    file: "functions/automation.ts",
    timeoutSeconds: 120,
    memoryMb: 512,
    // Moves a job that can never run to the dead-letter queue itself; writes the agent cache behind
    // lookups. Heartbeat shards (lib/heartbeat) poll GSE, write the fleet table, hand leftovers back
    // to the queue and publish the poll's alerts.
    // Command retries, ticks and queue jobs (dispatch, apply_config, rollback_config, probe_*) use
    // the commands and configs tables and the slot.
    // APM jobs (probe_start/probe_stop of an app's datasource, probe_upgrade) use the apps table.
    // Desired-state bake ticks (desired.bake) read the configs and fleet tables, undo through the
    // versioned flow, alert on the topic and queue their next tick: all linked above.
    links: [...new Set([QUEUES.automationDlq.link, TABLES.agents.link, ...HEARTBEAT_LINKS, ...COMMANDS, TABLES.configs.link, TABLES.apps.link])],
  },
  heartbeat: {
    file: "functions/heartbeat.ts",
    // Below the one-minute schedule, so a poll never overlaps the next; HEARTBEAT_BUDGET_SECONDS stays below it.
    timeoutSeconds: 60,
    memoryMb: 1024,
    links: HEARTBEAT_LINKS,
  },
  apm_apps: apmRoute("functions/apm/apps.ts"),
  // The fleet table: a start or stop told by a rollout watches its probes' agents through the health gate.
  apm_datasource: apmRoute("functions/apm/datasource.ts", [TABLES.fleet.link]),
  // The fleet table: an upgrade run as a rollout watches its agents through the health gate.
  apm_probes: apmRoute("functions/apm/probes.ts", [TABLES.fleet.link]),
  console_page: {
    file: "functions/console/page.ts",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: [SECRETS.apiCallers.link],
  },
  console_data: {
    file: "functions/console/data.ts",
    timeoutSeconds: 29,
    memoryMb: 512,
    // Reads only: the fleet table (view, snapshots, alert log), running commands, config heads and
    // versions, desired-state applies (configs table); and the alerts topic's attributes, for the page's SNS health (as /health reads them).
    links: [SECRETS.apiCallers.link, TABLES.fleet.link, TABLES.commands.link, TABLES.configs.link, TOPICS.alerts.link],
  },
  alert_log: {
    file: "functions/alert-log.ts",
    timeoutSeconds: 20,
    memoryMb: 256,
    // The queue is its trigger, not something it reads.
    links: [TABLES.fleet.link],
  },
  fleet_summary: fleetRoute("functions/fleet/summary.ts"),
  fleet_agents: fleetRoute("functions/fleet/agents.ts"),
  fleet_register: fleetRoute("functions/fleet/register.ts"),
  fleet_unregister: fleetRoute("functions/fleet/unregister.ts"),
  fleet_history: fleetRoute("functions/fleet/history.ts"),
  fleet_labels_put: fleetRoute("functions/fleet/labels-put.ts"),
  fleet_labels_patch: fleetRoute("functions/fleet/labels-patch.ts"),
  // One pass over every partition of a 100k-agent fleet: more memory is more CPU for the filtering.
  fleet_resolve: { ...fleetRoute("functions/fleet/resolve.ts"), memoryMb: 1024 },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionKey = keyof typeof FUNCTIONS;

/** The wiring a function's bundle is given (lib/bundling.ts's esbuildDefine): its key, links and timeout. */
export const runtimeWiring = (key: FunctionKey): RuntimeWiring & { readonly key: FunctionKey } => ({
  key,
  links: FUNCTIONS[key].links,
  timeoutSeconds: FUNCTIONS[key].timeoutSeconds,
});

export interface StreamSubscription {
  readonly table: TableKey;
  readonly function: FunctionKey;
  readonly batchSize: number;
  /** How often a failing batch is retried before it is set aside. */
  readonly maxRetryAttempts: number;
  readonly bisectBatchOnError: boolean;
  /**
   * Lambda event filter patterns: a record is delivered when it matches any of them. Only the
   * subset the local poller also applies: nested keys ending in lists of exact values.
   */
  readonly filters: readonly FilterPattern[];
}

export type FilterPattern = { readonly [key: string]: FilterPattern | readonly (string | number | boolean)[] };

/** Expired items (TTL) and deletes leave nothing to recover. */
const CHANGES_ONLY: readonly FilterPattern[] = [{ eventName: ["INSERT", "MODIFY"] }];

/**
 * Of the commands table, recovery needs only agents that just FAILED (retries), commands that
 * just ended badly (alerts), and ended rollouts an APM datasource action started (their end is
 * handed to the datasource: lib/rollouts/recovery.ts): every agent of every dispatch passes through
 * the table, and the rest of those records would only cost invocations.
 */
export const COMMAND_EVENTS: readonly FilterPattern[] = [
  { eventName: ["INSERT", "MODIFY"], dynamodb: { NewImage: { outcome: { S: ["FAILED"] } } } },
  { eventName: ["MODIFY"], dynamodb: { NewImage: { sk: { S: ["meta"] }, status: { S: ["PARTIAL", "FAILED", "ABORTED"] } } } },
  {
    eventName: ["MODIFY"],
    dynamodb: { NewImage: { sk: { S: ["meta"] }, status: { S: ["SUCCEEDED", "ABORTED", "CANCELLED"] }, origin: { M: { kind: { S: ["apm.datasource"] } } } } },
  },
];

export const STREAM_SUBSCRIPTIONS: readonly StreamSubscription[] = [
  { table: "configs", function: "recovery", batchSize: 25, maxRetryAttempts: 5, bisectBatchOnError: true, filters: CHANGES_ONLY },
  { table: "commands", function: "recovery", batchSize: 25, maxRetryAttempts: 5, bisectBatchOnError: true, filters: COMMAND_EVENTS },
];

export interface QueueSubscription {
  readonly queue: QueueKey;
  readonly function: FunctionKey;
  readonly batchSize: number;
}

export const QUEUE_SUBSCRIPTIONS: readonly QueueSubscription[] = [
  { queue: "automation", function: "automation", batchSize: 10 },
  { queue: "alertLog", function: "alert_log", batchSize: 10 },
  { queue: "slotForward", function: "gse_slot_forward", batchSize: 10 },
];

export interface Schedule {
  readonly name: string;
  readonly function: FunctionKey;
  /** Minutes between runs (EventBridge `rate(N minutes)`), unless `setting` overrides it. */
  readonly everyMinutes: number;
  /** Environment variable that may override `everyMinutes` (read where the schedule is built). */
  readonly setting?: string;
}

export const SCHEDULES: readonly Schedule[] = [
  { name: "Heartbeat", function: "heartbeat", everyMinutes: 1, setting: "HEARTBEAT_EVERY_MINUTES" },
  // Stuck PENDING config versions and drift (lib/config-versions/reconcile.ts).
  { name: "ConfigReconcile", function: "config_reconcile", everyMinutes: 5 },
  // Running commands whose agents are all final, or whose watchdog tick went missing (lib/commands/sweep.ts sweepCommands).
  { name: "CommandSweep", function: "command_sweep", everyMinutes: 5 },
];

/** A schedule's period in minutes: its setting when set (1–1440), else its default. A bad value throws, naming it. */
export function scheduleMinutes(schedule: Schedule, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const text = schedule.setting === undefined ? undefined : env[schedule.setting];
  if (text === undefined || text === "") return schedule.everyMinutes;
  const minutes = Number(text);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new Error(`${schedule.setting}: must be a whole number of minutes from 1 to 1440, got "${text}"`);
  }
  return minutes;
}
