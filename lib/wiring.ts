/**
 * Which function runs on which trigger, and which resources it may touch. `infra/` turns this
 * into Lambda functions, routes, subscriptions and links; `local/` into the local gateway,
 * pollers and scheduler. A function file that is not listed here runs nowhere.
 */
import { QUEUES, SECRETS, TABLES, TOPICS, type QueueKey, type TableKey } from "./resources.ts";

export type Link =
  | (typeof TABLES)[TableKey]["link"]
  | (typeof TOPICS)["alerts"]["link"]
  | (typeof QUEUES)[QueueKey]["link"]
  | (typeof SECRETS)[keyof typeof SECRETS]["link"];

export interface FunctionDefinition {
  /** Source file, relative to the project root; it exports `handler`. */
  readonly file: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Resources the function uses: it gets these permissions and nothing else. */
  readonly links: readonly Link[];
}

const ALL_TABLES = Object.values(TABLES).map((t) => t.link);
/** Every function loads the whole config at cold start, so each reads these. */
const CONFIG_SECRETS = [SECRETS.gseAppSecret.link, SECRETS.gseSlotToken.link, SECRETS.apiCallers.link] as const;
const CONFIG_RESOURCES: readonly Link[] = [
  ...ALL_TABLES,
  TOPICS.alerts.link,
  QUEUES.automation.link,
  QUEUES.automationDlq.link,
  ...CONFIG_SECRETS,
];

export const FUNCTIONS = {
  health: {
    file: "functions/health.ts",
    description: "GET /health: reachability of DynamoDB, SNS and GSE",
    timeoutSeconds: 10,
    memoryMb: 256,
    links: CONFIG_RESOURCES,
  },
  recovery: {
    file: "functions/recovery.ts",
    description: "DynamoDB stream consumer of configs and commands",
    timeoutSeconds: 120,
    memoryMb: 512,
    links: CONFIG_RESOURCES,
  },
  automation: {
    file: "functions/automation.ts",
    description: "SQS consumer of automation jobs and delayed retries",
    timeoutSeconds: 120,
    memoryMb: 512,
    links: CONFIG_RESOURCES,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionKey = keyof typeof FUNCTIONS;

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly path: string;
  readonly function: FunctionKey;
}

/** Every HTTP route. All of them require caller credentials (lib/http/auth.ts). */
export const ROUTES: readonly RouteDefinition[] = [{ method: "GET", path: "/health", function: "health" }];

export interface StreamSubscription {
  readonly table: TableKey;
  readonly function: FunctionKey;
  readonly batchSize: number;
  /** How often a failing batch is retried before it is set aside. */
  readonly maxRetryAttempts: number;
  readonly bisectBatchOnError: boolean;
}

export const STREAM_SUBSCRIPTIONS: readonly StreamSubscription[] = [
  { table: "configs", function: "recovery", batchSize: 25, maxRetryAttempts: 5, bisectBatchOnError: true },
  { table: "commands", function: "recovery", batchSize: 25, maxRetryAttempts: 5, bisectBatchOnError: true },
];

export interface QueueSubscription {
  readonly queue: QueueKey;
  readonly function: FunctionKey;
  readonly batchSize: number;
}

export const QUEUE_SUBSCRIPTIONS: readonly QueueSubscription[] = [
  { queue: "automation", function: "automation", batchSize: 10 },
];

export interface Schedule {
  readonly name: string;
  readonly function: FunctionKey;
  /** Minutes between runs (EventBridge `rate(N minutes)`). */
  readonly everyMinutes: number;
}

/** The heartbeat poller joins this list when it lands (issue 11). */
export const SCHEDULES: readonly Schedule[] = [];
