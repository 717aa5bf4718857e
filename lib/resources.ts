/**
 * Every AWS resource the system uses, defined once. `infra/` builds them from these
 * definitions, `local/` creates the same ones in DynamoDB Local and the SNS/SQS emulator,
 * and `lib/` reads their deployed names through `lib/core/config.ts` by the same link names.
 */

export type AttributeType = "S" | "N";

export interface TableDefinition {
  /** SST link name: `Resource.<link>.name` in AWS. */
  readonly link: string;
  /** Environment variable that names the table outside SST. */
  readonly env: string;
  readonly hashKey: { readonly name: string; readonly type: AttributeType };
  readonly rangeKey?: { readonly name: string; readonly type: AttributeType };
  /** Recovery listens to these tables' streams, so they carry both images. */
  readonly stream?: "NEW_AND_OLD_IMAGES";
  readonly ttlAttribute?: string;
}

export const TABLES = {
  agents: {
    link: "Agents",
    env: "AGENTS_TABLE",
    hashKey: { name: "agent_id", type: "S" },
    ttlAttribute: "expires_at",
  },
  configs: {
    link: "Configs",
    env: "CONFIGS_TABLE",
    hashKey: { name: "pk", type: "S" },
    rangeKey: { name: "sk", type: "S" },
    stream: "NEW_AND_OLD_IMAGES",
    // Idempotency records and finished pending-add records expire; versions and heads never do.
    ttlAttribute: "expires_at",
  },
  commands: {
    link: "Commands",
    env: "COMMANDS_TABLE",
    hashKey: { name: "pk", type: "S" },
    rangeKey: { name: "sk", type: "S" },
    stream: "NEW_AND_OLD_IMAGES",
    ttlAttribute: "expires_at",
  },
  /** APM applications and their probe instances (lib/apm/store.ts); probes expire after their app's retention. */
  apps: {
    link: "Apps",
    env: "APPS_TABLE",
    hashKey: { name: "pk", type: "S" },
    rangeKey: { name: "sk", type: "S" },
    ttlAttribute: "expires_at",
  },
  /** Heartbeat: the watched fleet, each agent's polled state, its transitions, poll bookkeeping (lib/fleet/store.ts). */
  fleet: {
    link: "Fleet",
    env: "FLEET_TABLE",
    hashKey: { name: "pk", type: "S" },
    rangeKey: { name: "sk", type: "S" },
    ttlAttribute: "expires_at",
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

/**
 * The tables that hold alert outbox items (`pk = "outbox"`, lib/core/outbox.ts), each beside the
 * state its alerts report: the heartbeat's, the config versions', the commands'. The outbox
 * sweep reads these.
 */
export const OUTBOX_TABLES = ["fleet", "configs", "commands"] as const satisfies readonly TableKey[];

export const TABLE_KEYS = Object.keys(TABLES) as TableKey[];

export const TOPICS = {
  alerts: { link: "Alerts", env: "ALERTS_TOPIC_ARN", name: "alerts" },
} as const;

export interface QueueDefinition {
  readonly link: string;
  readonly env: string;
  readonly name: string;
  /** Seconds a received message stays invisible; above the consumer's timeout. */
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter?: { readonly queue: QueueKey; readonly maxReceiveCount: number };
  /** A topic the queue is subscribed to: each message arrives in SNS's envelope (raw delivery off). */
  readonly subscribesTo?: keyof typeof TOPICS;
}

export const QUEUES = {
  automationDlq: {
    link: "AutomationDlq",
    env: "AUTOMATION_DLQ_URL",
    name: "automation-dlq",
    visibilityTimeoutSeconds: 30,
  },
  automation: {
    link: "Automation",
    env: "AUTOMATION_QUEUE_URL",
    name: "automation",
    visibilityTimeoutSeconds: 180,
    deadLetter: { queue: "automationDlq", maxReceiveCount: 5 },
  },
  alertLogDlq: {
    link: "AlertLogDlq",
    env: "ALERT_LOG_DLQ_URL",
    name: "alert-log-dlq",
    visibilityTimeoutSeconds: 30,
  },
  /**
   * Every alert published on the alerts topic, for the status page's alert log
   * (lib/console/alert-log.ts). Only a lasting DynamoDB failure fails a message; after 5 receives
   * it waits on the dead-letter queue (with an alarm) instead of expiring unseen.
   */
  alertLog: {
    link: "AlertLog",
    env: "ALERT_LOG_QUEUE_URL",
    name: "alert-log",
    visibilityTimeoutSeconds: 60,
    subscribesTo: "alerts",
    deadLetter: { queue: "alertLogDlq", maxReceiveCount: 5 },
  },
  slotForwardDlq: {
    link: "SlotForwardDlq",
    env: "SLOT_FORWARD_DLQ_URL",
    name: "slot-forward-dlq",
    visibilityTimeoutSeconds: 30,
  },
  /**
   * Unsolicited upstream messages from GSE's slot callback, each to be POSTed on to bk-monitor's
   * own slot handler (GSE_SLOT_FORWARD_URL; lib/commands/forward.ts). A target that keeps failing
   * leaves the message on the dead-letter queue (with an alarm) after 8 receives.
   */
  slotForward: {
    link: "SlotForward",
    env: "SLOT_FORWARD_QUEUE_URL",
    name: "slot-forward",
    visibilityTimeoutSeconds: 60,
    deadLetter: { queue: "slotForwardDlq", maxReceiveCount: 8 },
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueKey = "automation" | "automationDlq" | "alertLog" | "alertLogDlq" | "slotForward" | "slotForwardDlq";

/** Secrets live in `sst.Secret` in AWS; locally they come from the environment. */
export const SECRETS = {
  gseAppSecret: { link: "GseAppSecret", env: "GSE_APP_SECRET" },
  gseSlotToken: { link: "GseSlotToken", env: "GSE_SLOT_TOKEN" },
  apiCallers: { link: "ApiCallers", env: "API_CALLERS" },
  /** The key in the callback URL registered with GSE's message slot: GSE sends no credentials of its own. */
  gseCallbackKey: { link: "GseCallbackKey", env: "GSE_CALLBACK_KEY" },
} as const;

/** A queue's definition widened to the interface, for code that treats all queues alike. */
export const queueDefinition = (key: QueueKey): QueueDefinition => QUEUES[key];

/** A table's definition widened to the interface, for code that treats all tables alike. */
export const tableDefinition = (key: TableKey): TableDefinition => TABLES[key];
