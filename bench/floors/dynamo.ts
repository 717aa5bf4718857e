// A DynamoDB document client as lib/core/aws.ts builds it (captured by the Tracer), built at load.
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../lib/core/aws.ts";

const client = documentClient();
export const handler = async () => client.send(new GetCommand({ TableName: "t", Key: { pk: "x" } }));
