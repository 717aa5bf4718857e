import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import getPort from "get-port";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localClientConfig } from "../../../local/aws.ts";
import { isAlive, spawnStack, startExpectingFailure } from "../../helpers/spawn-stack.ts";
import { callApi, eventually, logLines } from "../../helpers/stack.ts";

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "gse-control-start-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("npm start", () => {
  // Two stacks, one through npm, one after the other: under a loaded machine this outlasts the 30 s default.
  it("starts from nothing, keeps data across a restart, and Ctrl-C stops every child process", { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    const first = await spawnStack(["--ports", "auto", "--data-dir", dataDir], { viaNpm: true });
    const auth = { "x-bkapi-authorization": JSON.stringify(first.info.credentials.caller) };
    try {
      const health = await callApi(first.info.gatewayUrl, "/health", { headers: auth });
      expect(health.status).toBe(200);
      expect(health.body.data).toMatchObject({ status: "ok" });

      const dynamo = new DynamoDBClient(localClientConfig(first.info.dynamodbEndpoint));
      await dynamo.send(new PutItemCommand({ TableName: first.info.tables.configs, Item: { pk: { S: "kept" }, sk: { S: "v#1" } } }));
      dynamo.destroy();
      await eventually("the first write on the stream", () => logLines(first.info, "runtime").find((l) => l.includes("pk=kept,sk=v#1")));

      const sns = new SNSClient(localClientConfig(first.info.sqsEndpoint));
      await sns.send(new PublishCommand({ TopicArn: first.info.alertsTopicArn, Subject: "disk", Message: "almost full" }));
      sns.destroy();
      await eventually("the alert printed on the console", () => (first.output().includes("ALERT disk: almost full") ? true : undefined));
    } finally {
      const code = await first.stop("SIGINT");
      // npm passes Ctrl-C on and then ends by the same signal (a shell shows 130).
      expect([0, 130, "SIGINT"]).toContain(code);
    }
    expect(first.output()).toContain("stopping every part of the local stack");
    await eventually("every child process to exit", () => (isAlive(first.info.pids.runtime) || isAlive(first.info.pids.dynamodb) ? undefined : true), 10_000);

    const second = await spawnStack(["--ports", "auto", "--data-dir", dataDir]);
    try {
      const dynamo = new DynamoDBClient(localClientConfig(second.info.dynamodbEndpoint));
      const kept = await dynamo.send(new GetItemCommand({ TableName: second.info.tables.configs, Key: { pk: { S: "kept" }, sk: { S: "v#1" } } }));
      expect(kept.Item?.pk?.S).toBe("kept");
      // The stream resumes after its checkpoint: a new write arrives, the old one is not delivered again.
      await dynamo.send(new PutItemCommand({ TableName: second.info.tables.configs, Item: { pk: { S: "after-restart" }, sk: { S: "v#1" } } }));
      dynamo.destroy();
      await eventually("the write after the restart on the stream", () => logLines(second.info, "runtime").find((l) => l.includes("pk=after-restart")));
      expect(logLines(second.info, "runtime").filter((l) => l.includes("pk=kept,sk=v#1"))).toHaveLength(1);
    } finally {
      expect(await second.stop("SIGTERM")).toBe(0);
    }
  });

  it("refuses a busy port, naming the part and the flag to move it", async () => {
    const blocker = createServer();
    const busy = await getPort();
    await new Promise<void>((resolve) => blocker.listen(busy, "0.0.0.0", resolve));
    try {
      const [dynamodb, sqs, gse] = [await getPort(), await getPort(), await getPort()];
      const { code, output } = await startExpectingFailure([
        "--in-memory",
        "--data-dir",
        tempDir(),
        "--port",
        String(busy),
        "--dynamodb-port",
        String(dynamodb),
        "--sqs-port",
        String(sqs),
        "--gse-port",
        String(gse),
      ]);
      expect(code).toBe(1);
      expect(output).toContain(`port ${busy} for the API gateway is already in use`);
      expect(output).toContain("--port");
    } finally {
      blocker.close();
    }
  });

  it("says how to install Java when it is missing", async () => {
    // A PATH with node on it and nothing else.
    const bin = tempDir();
    symlinkSync(process.execPath, join(bin, "node"));
    const { code, output } = await startExpectingFailure(["--in-memory", "--ports", "auto", "--data-dir", tempDir()], { ...process.env, PATH: bin });
    expect(code).toBe(1);
    expect(output).toContain("DynamoDB Local needs Java 17 or newer");
    expect(output).toContain("apt-get install -y openjdk-17-jre-headless");
  });

  it("rejects a bad flag value with usage exit code 2", async () => {
    const { code, output } = await startExpectingFailure(["--agents", "lots"]);
    expect(code).toBe(2);
    expect(output).toContain("--agents must be a whole number");
  });
});
