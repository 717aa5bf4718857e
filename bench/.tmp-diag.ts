import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import getPort from "get-port";
import { localClientConfig } from "../local/aws.ts";
import { startDynamoDbLocal, tableSpec } from "../local/dynamodb.ts";
import { createLogSink } from "../local/process.ts";
import { TABLES } from "../lib/resources.ts";
import { CommandStore } from "../lib/store/commands.ts";
async function main() {
  const log = createLogSink("/tmp/cmdbench/ddb2.log");
  const d = await startDynamoDbLocal({ port: await getPort(), log });
  const c = new DynamoDBClient(localClientConfig(d.endpoint));
  const doc = DynamoDBDocumentClient.from(c);
  const name = "diag";
  await c.send(new CreateTableCommand({ ...tableSpec(TABLES.commands, name), StreamSpecification: undefined }));
  const store = new CommandStore({ client: doc, tableName: name });
  const N = Number(process.argv[2] ?? 50000);
  const ids = Array.from({ length: N }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
  let t = performance.now();
  for (let b = 0; b < N / 1000; b++) await store.prewriteAgents("m", b, ids.slice(b * 1000, (b + 1) * 1000), Date.now(), 2e9);
  console.log(`prewrite ${N}: ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  let pages = 0, items = 0, last = performance.now();
  const times: number[] = [];
  for await (const page of store.agentItems("m", true)) { pages++; items += page.length; times.push(Math.round(performance.now() - last)); last = performance.now(); }
  console.log(`agentItems: ${items} items, ${pages} pages, ${Math.round(performance.now() - t)} ms; page ms: ${times.join(",")}`);
  // raw query without zod
  t = performance.now(); let start: Record<string, unknown> | undefined; let raw = 0;
  do { const out = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)", ExpressionAttributeValues: { ":pk": "cmd#m", ":p": "agent#" }, ExclusiveStartKey: start })); raw += out.Items?.length ?? 0; start = out.LastEvaluatedKey; } while (start);
  console.log(`raw query no projection: ${raw} items ${Math.round(performance.now() - t)} ms`);
  c.destroy(); await d.stop(); await log.close();
}
main();
