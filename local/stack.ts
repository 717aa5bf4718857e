/**
 * The whole system on one machine: DynamoDB Local (Java), the SNS/SQS emulator, the GSE
 * simulator, and the runtime process that serves the API and runs the pollers and scheduler.
 * `npm start` and the test suite both start it through this module.
 */
import { LOCAL_SECRETS, type StackCredentials } from "./credentials.ts";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { QUEUES, queueDefinition, TABLES, TOPICS, type QueueKey, type TableKey } from "../lib/resources.ts";
import { startGseSimulator, type GseSimulator } from "./gse-simulator/index.ts";
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, localClientConfig } from "./aws.ts";
import { createTables, startDynamoDbLocal, stopChild, type DynamoDbLocal } from "./dynamodb.ts";
import { assertPortFree, createLogSink, StartupError, type LogSink } from "./process.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A local-only queue subscribed to the alerts topic; the stack prints what arrives on it. */
export const ALERTS_CONSOLE_QUEUE = "alerts-console";

export interface StackPorts {
  gateway: number;
  dynamodb: number;
  sqs: number;
  gse: number;
}

export const DEFAULT_PORTS: StackPorts = { gateway: 3000, dynamodb: 8000, sqs: 4566, gse: 9100 };

export const PORT_FLAGS: Record<keyof StackPorts, { part: string; flag: string }> = {
  gateway: { part: "the API gateway", flag: "--port" },
  dynamodb: { part: "DynamoDB Local", flag: "--dynamodb-port" },
  sqs: { part: "the SNS/SQS emulator", flag: "--sqs-port" },
  gse: { part: "the GSE simulator", flag: "--gse-port" },
};

export interface StackOptions {
  /** Fixed ports, or "auto" for free ones (the tests). */
  ports: StackPorts | "auto";
  /** Holds dynamodb/, logs/ and stream checkpoints. */
  dataDir: string;
  /** Keep DynamoDB in memory (nothing survives a stop). */
  inMemory: boolean;
  agents: number;
  /** Fresh random credentials instead of the documented local ones. */
  randomSecrets: boolean;
  stage: string;
  logLevel: string;
  /** Called with each alert that reaches the console subscriber. */
  onAlert?: (alert: { subject: string | undefined; message: string }) => void;
}

export type { StackCredentials };

export interface StackInfo {
  stage: string;
  dataDir: string;
  logsDir: string;
  inMemory: boolean;
  gatewayUrl: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  gseUrl: string;
  /** The message slot's callback URL (it holds the callback key). */
  callbackUrl: string;
  region: string;
  tables: Record<TableKey, string>;
  alertsTopicArn: string;
  queues: Record<QueueKey | "alertsConsole", string>;
  credentials: StackCredentials;
  agents: number;
  pids: { runtime: number | undefined; dynamodb: number | undefined };
}

export interface Stack {
  readonly info: StackInfo;
  stop(): Promise<void>;
}

function randomSecrets(): StackCredentials {
  const token = (): string => randomBytes(18).toString("base64url");
  return {
    caller: { bk_app_code: "test-caller", bk_app_secret: token() },
    scoped: {
      monitor: { ...LOCAL_SECRETS.scoped.monitor, bk_app_code: "test-monitor", bk_app_secret: token() },
      reader: { ...LOCAL_SECRETS.scoped.reader, bk_app_code: "test-reader", bk_app_secret: token() },
      dispatcher: { ...LOCAL_SECRETS.scoped.dispatcher, bk_app_code: "test-dispatcher", bk_app_secret: token() },
    },
    gse: { appCode: "bk_monitorv3", appSecret: token(), slotId: 37, slotToken: token(), username: "admin" },
    simulatorControlToken: token(),
    callbackKey: token(),
  };
}

async function resolvePorts(ports: StackPorts | "auto"): Promise<StackPorts> {
  if (ports === "auto") {
    const taken = new Set<number>();
    const pick = async (): Promise<number> => {
      const port = await getPort({ exclude: [...taken] });
      taken.add(port);
      return port;
    };
    return { gateway: await pick(), dynamodb: await pick(), sqs: await pick(), gse: await pick() };
  }
  for (const key of Object.keys(ports) as (keyof StackPorts)[]) {
    await assertPortFree(ports[key], PORT_FLAGS[key].part, PORT_FLAGS[key].flag);
  }
  return ports;
}

function startRuntime(env: NodeJS.ProcessEnv, log: LogSink): Promise<{ child: ChildProcess; gateway: string }> {
  const child = fork(join(root, "local", "runtime.ts"), [], {
    cwd: root,
    env,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  log.attach(child);
  return new Promise((resolvePromise, reject) => {
    const onExit = (code: number | null): void => reject(new StartupError(`the runtime exited during start (code ${code}); see ${log.path}`));
    child.once("exit", onExit);
    child.on("message", (message: { type?: string; gateway?: string; error?: string }) => {
      if (message.type === "ready" && message.gateway) {
        child.off("exit", onExit);
        resolvePromise({ child, gateway: message.gateway });
      } else if (message.type === "failed") {
        reject(new StartupError(`the runtime failed to start: ${message.error ?? "unknown error"}`));
      }
    });
  });
}

/** Prints alerts as they arrive, the way an operator's e-mail subscription would get them. */
function startAlertSubscriber(sqs: SQSClient, queueUrl: string, log: LogSink, onAlert: StackOptions["onAlert"]): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const message of Messages) {
          let alert: { subject: string | undefined; message: string };
          try {
            const envelope = JSON.parse(message.Body ?? "{}") as { Subject?: string; Message?: string };
            alert = { subject: envelope.Subject, message: envelope.Message ?? "" };
          } catch {
            alert = { subject: undefined, message: message.Body ?? "" };
          }
          log.write(JSON.stringify({ time: new Date().toISOString(), ...alert }));
          onAlert?.(alert);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      } catch (error) {
        if (running) log.write(`alert subscriber: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const ports = await resolvePorts(options.ports);
  const dataDir = resolve(options.dataDir);
  const logsDir = join(dataDir, "logs");
  mkdirSync(logsDir, { recursive: true });
  const logs = {
    dynamodb: createLogSink(join(logsDir, "dynamodb.log")),
    runtime: createLogSink(join(logsDir, "runtime.log")),
    simulator: createLogSink(join(logsDir, "gse-simulator.log")),
    alerts: createLogSink(join(logsDir, "alerts.log")),
  };
  const credentials = options.randomSecrets ? randomSecrets() : LOCAL_SECRETS;
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    stoppers.length = 0;
    await Promise.all(Object.values(logs).map((l) => l.close()));
  };

  /** A part that has started is stopped with the stack, even if another part fails to start. */
  const stopsWithStack = <P extends { stop(): Promise<void> }>(part: P): P => {
    stoppers.push(() => part.stop());
    return part;
  };

  try {
    const [dynamodb, fauxqs, simulator] = await Promise.all([
      startDynamoDbLocal({ port: ports.dynamodb, log: logs.dynamodb, ...(options.inMemory ? {} : { dataDir: join(dataDir, "dynamodb") }) }).then(
        (d: DynamoDbLocal) => stopsWithStack(d),
      ),
      startFauxqs({ port: ports.sqs, logger: false }).then((f: FauxqsServer) => stopsWithStack(f)),
      startGseSimulator({
        port: ports.gse,
        agents: options.agents,
        credentials: [{ bk_app_code: credentials.gse.appCode, bk_app_secret: credentials.gse.appSecret }],
        slot: { slot_id: credentials.gse.slotId, token: credentials.gse.slotToken },
        controlToken: credentials.simulatorControlToken,
        log: (line: string) => logs.simulator.write(line),
        // GSE keeps its configuration; with data on disk, so does the simulator (for restarts and crash tests).
        ...(options.inMemory ? {} : { stateFile: join(dataDir, "gse-simulator-config.json") }),
      }).then((s: GseSimulator) => stopsWithStack(s)),
    ]);

    const tables = Object.fromEntries(Object.keys(TABLES).map((k) => [k, `${options.stage}-${k}`])) as Record<TableKey, string>;
    const dynamoClient = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
    await createTables(dynamoClient, tables);
    dynamoClient.destroy();

    const sqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;
    const queueName = (key: QueueKey): string => `${options.stage}-${QUEUES[key].name}`;
    const queueArn = (name: string): string => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
    const queues = {} as Record<QueueKey | "alertsConsole", string>;
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const def = QUEUES[key];
      const attributes: Record<string, string> = { VisibilityTimeout: String(def.visibilityTimeoutSeconds) };
      if ("deadLetter" in def) {
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: queueArn(queueName(def.deadLetter.queue)),
          maxReceiveCount: def.deadLetter.maxReceiveCount,
        });
      }
      queues[key] = fauxqs.createQueue(queueName(key), { region: LOCAL_REGION, attributes }).queueUrl;
    }
    const alertsTopic = `${options.stage}-${TOPICS.alerts.name}`;
    const { topicArn } = fauxqs.createTopic(alertsTopic, { region: LOCAL_REGION });
    const consoleQueue = `${options.stage}-${ALERTS_CONSOLE_QUEUE}`;
    queues.alertsConsole = fauxqs.createQueue(consoleQueue, { region: LOCAL_REGION }).queueUrl;
    fauxqs.subscribe({ topic: alertsTopic, queue: consoleQueue, region: LOCAL_REGION });
    // Queues that take a topic's messages (the alert log), as infra/queue.ts subscribes them.
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      if (queueDefinition(key).subscribesTo === "alerts") fauxqs.subscribe({ topic: alertsTopic, queue: queueName(key), region: LOCAL_REGION });
    }

    const sqs = new SQSClient(localClientConfig(sqsEndpoint));
    const stopSubscriber = startAlertSubscriber(sqs, queues.alertsConsole, logs.alerts, options.onAlert);
    stoppers.push(async () => {
      await stopSubscriber();
      sqs.destroy();
    });

    const resource = (type: string, fields: Record<string, string>): string => JSON.stringify({ type, ...fields });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STAGE: options.stage,
      LOG_LEVEL: options.logLevel,
      NODE_ENV: "development",
      GSE_BASE_URL: simulator.url,
      GSE_APP_CODE: credentials.gse.appCode,
      GSE_USERNAME: credentials.gse.username,
      GSE_SLOT_ID: String(credentials.gse.slotId),
      // Linked exactly as `sst deploy` links them, so config reads the same path as in AWS.
      SST_RESOURCE_App: JSON.stringify({ name: "gse-control", stage: options.stage }),
      ...Object.fromEntries(
        (Object.keys(TABLES) as TableKey[]).map((k) => [`SST_RESOURCE_${TABLES[k].link}`, resource("sst.aws.Dynamo", { name: tables[k] })]),
      ),
      [`SST_RESOURCE_${TOPICS.alerts.link}`]: resource("sst.aws.SnsTopic", { arn: topicArn }),
      [`SST_RESOURCE_${QUEUES.automation.link}`]: resource("sst.aws.Queue", { url: queues.automation }),
      [`SST_RESOURCE_${QUEUES.automationDlq.link}`]: resource("sst.aws.Queue", { url: queues.automationDlq }),
      [`SST_RESOURCE_${QUEUES.alertLog.link}`]: resource("sst.aws.Queue", { url: queues.alertLog }),
      [`SST_RESOURCE_${QUEUES.alertLogDlq.link}`]: resource("sst.aws.Queue", { url: queues.alertLogDlq }),
      [`SST_RESOURCE_${QUEUES.slotForward.link}`]: resource("sst.aws.Queue", { url: queues.slotForward }),
      [`SST_RESOURCE_${QUEUES.slotForwardDlq.link}`]: resource("sst.aws.Queue", { url: queues.slotForwardDlq }),
      SST_RESOURCE_GseAppSecret: resource("sst.sst.Secret", { value: credentials.gse.appSecret }),
      SST_RESOURCE_GseSlotToken: resource("sst.sst.Secret", { value: credentials.gse.slotToken }),
      SST_RESOURCE_ApiCallers: resource("sst.sst.Secret", {
        value: JSON.stringify([credentials.caller, ...Object.values(credentials.scoped)]),
      }),
      SST_RESOURCE_GseCallbackKey: resource("sst.sst.Secret", { value: credentials.callbackKey }),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SNS: sqsEndpoint,
      // The same host fauxqs puts in queue URLs, so the SDK has no two endpoints to choose from.
      AWS_ENDPOINT_URL_SQS: new URL(queues.automation).origin,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      LOCAL_GATEWAY_PORT: String(ports.gateway),
      ...(options.inMemory ? {} : { LOCAL_CHECKPOINT_FILE: join(dataDir, "stream-checkpoints.json") }),
    };
    const runtime = await startRuntime(env, logs.runtime);
    stoppers.push(() => stopChild(runtime.child));
    // The slot's registered callback: what GSE posts plugin replies to (docs/gse-contract.md §5.4).
    const callbackUrl = `${runtime.gateway}/v1/gse/callback?key=${encodeURIComponent(credentials.callbackKey)}`;
    simulator.setCallbackUrl(callbackUrl);

    return {
      info: {
        stage: options.stage,
        dataDir,
        logsDir,
        inMemory: options.inMemory,
        gatewayUrl: runtime.gateway,
        dynamodbEndpoint: dynamodb.endpoint,
        sqsEndpoint,
        gseUrl: simulator.url,
        callbackUrl,
        region: LOCAL_REGION,
        tables,
        alertsTopicArn: topicArn,
        queues,
        credentials,
        agents: options.agents,
        pids: { runtime: runtime.child.pid, dynamodb: dynamodb.process.pid },
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
