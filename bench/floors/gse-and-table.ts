// The libraries of a function that calls GSE and keeps a table, and nothing of ours: zod, undici's
// Pool, the traced DynamoDB document client.
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { documentClient } from "../../lib/core/aws.ts";
import { Pool } from "../../lib/core/undici.ts";

const client = documentClient();
const pool = new Pool("http://127.0.0.1:9", { connections: 32, keepAliveTimeout: 30_000, pipelining: 1 });
const schema = z.object({ id: z.string() });
export const handler = async (event: unknown) => [
  schema.safeParse(event).success,
  pool.stats.connected,
  await client.send(new GetCommand({ TableName: "t", Key: { pk: "x" } })),
];
