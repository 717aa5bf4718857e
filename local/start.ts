/**
 * `npm start`: the whole system locally. Flags:
 *   --in-memory            keep DynamoDB in memory (default: files under --data-dir)
 *   --data-dir DIR         default .data
 *   --ports auto           free ports for everything (default: the fixed ports below)
 *   --port N --dynamodb-port N --sqs-port N --gse-port N
 *   --agents N             simulated GSE agents (default 1000)
 *   --random-secrets       fresh credentials instead of the documented local ones
 *   --json                 print one machine-readable ready line (used by the tests)
 */
import { parseArgs } from "node:util";
import { JavaMissingError } from "./dynamodb.ts";
import { StartupError } from "./process.ts";
import { DEFAULT_PORTS, startStack, type StackInfo, type StackPorts } from "./stack.ts";
import { FUNCTIONS, QUEUE_SUBSCRIPTIONS, SCHEDULES, scheduleMinutes, STREAM_SUBSCRIPTIONS } from "../lib/wiring.ts";
import { tableDefinition, type TableKey } from "../lib/resources.ts";
import { removeStackFile, writeStackFile } from "./stack-file.ts";

export const READY_PREFIX = "GSE_CONTROL_READY ";

const { values } = parseArgs({
  options: {
    "in-memory": { type: "boolean", default: false },
    "data-dir": { type: "string", default: ".data" },
    ports: { type: "string" },
    port: { type: "string" },
    "dynamodb-port": { type: "string" },
    "sqs-port": { type: "string" },
    "gse-port": { type: "string" },
    agents: { type: "string", default: "1000" },
    "random-secrets": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    "log-level": { type: "string", default: "INFO" },
  },
  strict: true,
});

function usage(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
}

function portOption(name: keyof typeof values, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`--${name} must be a port number (1-65535), got "${String(raw)}"`);
  return port;
}

const ports: StackPorts | "auto" =
  values.ports === "auto"
    ? "auto"
    : values.ports === undefined
      ? {
          gateway: portOption("port", DEFAULT_PORTS.gateway),
          dynamodb: portOption("dynamodb-port", DEFAULT_PORTS.dynamodb),
          sqs: portOption("sqs-port", DEFAULT_PORTS.sqs),
          gse: portOption("gse-port", DEFAULT_PORTS.gse),
        }
      : usage(`--ports takes only "auto"`);
const agents = Number(values.agents);
if (!Number.isInteger(agents) || agents < 1 || agents > 1_000_000) usage(`--agents must be a whole number from 1 to 1000000`);

function banner(info: StackInfo): string {
  const auth = JSON.stringify(info.credentials.caller);
  const tables = Object.entries(info.tables)
    .map(([key, name]) => `${name}${tableDefinition(key as TableKey).stream ? " (stream)" : ""}`)
    .join(", ");
  const streams = STREAM_SUBSCRIPTIONS.map((s) => `${s.table} → ${s.function}`).join(", ");
  const queues = QUEUE_SUBSCRIPTIONS.map((q) => `${q.queue} → ${q.function}`).join(", ");
  const schedules = SCHEDULES.length ? SCHEDULES.map((s) => `${s.name} every ${scheduleMinutes(s)} min → ${s.function}`).join(", ") : "none wired yet";
  return [
    "",
    `gse-control local stack is up (stage "${info.stage}", ${info.inMemory ? "DynamoDB in memory" : `data in ${info.dataDir}`})`,
    "",
    `  API gateway     ${info.gatewayUrl}   (${Object.keys(FUNCTIONS).length} functions)`,
    `  Status page     ${info.gatewayUrl}/v1/console   (a browser asks: user = bk_app_code, password = bk_app_secret below)`,
    `  OpenAPI         ${info.gatewayUrl}/openapi.json   (every route: ours under /v1/, GSE's on GSE's own paths)`,
    `  DynamoDB Local  ${info.dynamodbEndpoint}   tables: ${tables}`,
    `  SNS/SQS         ${info.sqsEndpoint}   topic: ${info.alertsTopicArn}`,
    `  GSE simulator   ${info.gseUrl}   ${info.agents} agents, control token: ${info.credentials.simulatorControlToken}`,
    `  Stream pollers  ${streams}`,
    `  Queue pollers   ${queues}`,
    `  Scheduler       ${schedules}`,
    "",
    "  Caller credentials (header X-Bkapi-Authorization):",
    `    ${auth}   (admin)`,
    ...Object.values(info.credentials.scoped).map(({ scopes, ...credentials }) => `    ${JSON.stringify(credentials)}   (${scopes.join(", ")})`),
    "",
    "  Try:",
    `    curl -s -H 'X-Bkapi-Authorization: ${auth}' ${info.gatewayUrl}/health`,
    "",
    `  Logs: ${info.logsDir}/   Alerts are printed below as they arrive. Ctrl-C stops everything.`,
    "",
  ].join("\n");
}

try {
  const stack = await startStack({
    ports,
    dataDir: values["data-dir"],
    inMemory: values["in-memory"],
    agents,
    randomSecrets: values["random-secrets"],
    stage: "local",
    logLevel: values["log-level"],
    onAlert: ({ subject, message }) => process.stdout.write(`ALERT ${subject ?? "(no subject)"}: ${message}\n`),
    onNotice: (message) => process.stderr.write(`npm start: ${message}\n`),
    // The stack has already stopped every part: say why and exit whole, never half-alive.
    onFatal: (error) => {
      removeStackFile(values["data-dir"]);
      process.stderr.write(`npm start: ${error.message}\n`);
      process.exit(1);
    },
  });
  // The CLI run from this directory finds this stack (and its caller) through the file, not port 3000.
  writeStackFile(values["data-dir"], {
    url: stack.info.gatewayUrl,
    caller: stack.info.credentials.caller,
    pid: process.pid,
    stage: stack.info.stage,
    started_at: new Date().toISOString(),
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    removeStackFile(values["data-dir"]);
    process.stdout.write(`\n${signal}: stopping every part of the local stack…\n`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // The terminal closed: stop as for Ctrl-C, rather than die and leave DynamoDB Local running.
  process.on("SIGHUP", () => shutdown("SIGHUP"));
  process.stdout.write(values.json ? `${READY_PREFIX}${JSON.stringify(stack.info)}\n` : banner(stack.info));
} catch (error) {
  if (error instanceof StartupError || error instanceof JavaMissingError) {
    process.stderr.write(`npm start: ${error.message}\n`);
  } else {
    process.stderr.write(`npm start: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}
