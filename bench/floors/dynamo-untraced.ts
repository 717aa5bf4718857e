// A DynamoDB document client without the Tracer's capture (no X-Ray SDK): how much of the traced floor is tracing.
// Credentials from the environment only, as in every function (lib/bundling.ts).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => client.send(new GetCommand({ TableName: "t", Key: { pk: "x" } }));
