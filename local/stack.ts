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
import { createTables, startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb.ts";
import { acquireDataDirLock } from "./lock.ts";
import { dynamoDbPidFilePath, endOrphanDynamoDb } from "./pid-file.ts";
import { assertPortFree, createLogSink, StartupError, type LogSink } from "./process.ts";
import { exitDescription, restartBudget, RUNTIME_RESTARTS, superviseRuntime } from "./supervisor.ts";

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
  /**
   * Called once the stack has stopped itself because a part died for good (DynamoDB Local, or a
   * runtime that kept crashing); `npm start` prints it and exits 1.
   */
  onFatal?: (error: Error) => void;
  /** Something an operator should see while the stack keeps running (a runtime restarted). */
  onNotice?: (message: string) => void;
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
  /** The runtime's pid changes when the supervisor restarts it; this object is kept up to date in the supervisor's process. */
  pids: { supervisor: number; runtime: number | undefined; dynamodb: number | undefined };
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
  const dataDir = resolve(options.dataDir);
  const logsDir = join(dataDir, "logs");
  mkdirSync(logsDir, { recursive: true });
  // Before anything else: a second stack on this directory is told so at once, not by a busy port.
  const lock = acquireDataDirLock(dataDir);
  const supervisorLog = createLogSink(join(logsDir, "supervisor.log"));
  const note = (event: string, fields: Record<string, unknown> = {}): void =>
    supervisorLog.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  note("starting", { pid: process.pid, dataDir });
  const dynamoDbPidFile = dynamoDbPidFilePath(dataDir);
  let ports: StackPorts;
  try {
    const orphan = await endOrphanDynamoDb(dynamoDbPidFile);
    if (orphan !== undefined) note("ended DynamoDB Local left running by an earlier stack", { pid: orphan });
    ports = await resolvePorts(options.ports);
  } catch (error) {
    note("failed to start", { error: error instanceof Error ? error.message : String(error) });
    await supervisorLog.close();
    lock.release();
    throw error;
  }
  const logs = {
    dynamodb: createLogSink(join(logsDir, "dynamodb.log")),
    runtime: createLogSink(join(logsDir, "runtime.log")),
    simulator: createLogSink(join(logsDir, "gse-simulator.log")),
    alerts: createLogSink(join(logsDir, "alerts.log")),
  };
  const credentials = options.randomSecrets ? randomSecrets() : LOCAL_SECRETS;
  const stoppers: (() => Promise<void>)[] = [];
  /** Children that must not outlive this process, killed at once if it exits without stopping them (an uncaught error). */
  const children = new Set<ChildProcess>();
  const killChildren = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killChildren);
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopped ??= (async () => {
      note("stopping");
      for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
      stoppers.length = 0;
      process.off("exit", killChildren);
      note("stopped");
      await Promise.all([...Object.values(logs), supervisorLog].map((l) => l.close()));
      lock.release();
    })();
    return stopped;
  };
  /** A part died for good: everything stops, and the caller hears why (never half-alive). */
  let fatal = false;
  const stopFatally = (error: Error): void => {
    if (fatal || stopped) return;
    fatal = true;
    note("fatal", { error: error.message });
    void stopAll().then(() => options.onFatal?.(error));
  };

  /** A part that has started is stopped with the stack, even if another part fails to start. */
  const stopsWithStack = <P extends { stop(): Promise<void> }>(part: P): P => {
    stoppers.push(() => part.stop());
    return part;
  };

  // Every part being started: on a failure, each is waited for, so one still starting is stopped too.
  let starting: Promise<unknown>[] = [];
  try {
    const parts = [
      startDynamoDbLocal({
        port: ports.dynamodb,
        log: logs.dynamodb,
        pidFile: dynamoDbPidFile,
        ...(options.inMemory ? {} : { dataDir: join(dataDir, "dynamodb") }),
      }).then((d: DynamoDbLocal) => {
        children.add(d.process);
        return stopsWithStack(d);
      }),
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
    ] as const;
    starting = [...parts];
    const [dynamodb, fauxqs, simulator] = await Promise.all(parts);

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
    // Everything runs on DynamoDB: without it the stack is no stack, and a restart would not help.
    dynamodb.process.once("exit", (code, signal) =>
      stopFatally(new StartupError(`DynamoDB Local exited unexpectedly (${exitDescription(code, signal)}); stopping the stack. See ${logs.dynamodb.path}`)),
    );
    let gateway = "";
    const pids: StackInfo["pids"] = { supervisor: process.pid, runtime: undefined, dynamodb: dynamodb.process.pid };
    const runtime = await superviseRuntime({
      start: async () => {
        const started = await startRuntime(env, logs.runtime);
        children.add(started.child);
        started.child.once("exit", () => children.delete(started.child));
        gateway = started.gateway;
        return started;
      },
      budget: restartBudget(RUNTIME_RESTARTS),
      log: note,
      onGiveUp: stopFatally,
      onRestarted: (pid, reason) => {
        pids.runtime = pid;
        options.onNotice?.(`the runtime ${reason}; restarted it (pid ${pid})`);
      },
    });
    pids.runtime = runtime.pid();
    stoppers.push(() => runtime.stop());
    note("ready", { pids });
    // The slot's registered callback: what GSE posts plugin replies to (docs/gse-contract.md §5.4).
    const callbackUrl = `${gateway}/v1/gse/callback?key=${encodeURIComponent(credentials.callbackKey)}`;
    simulator.setCallbackUrl(callbackUrl);

    return {
      info: {
        stage: options.stage,
        dataDir,
        logsDir,
        inMemory: options.inMemory,
        gatewayUrl: gateway,
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
        pids,
      },
      stop: stopAll,
    };
  } catch (error) {
    await Promise.allSettled(starting);
    await stopAll();
    throw error;
  }
}
