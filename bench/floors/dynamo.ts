// A DynamoDB document client as lib/core/aws.ts builds it (captured by the Tracer), built at load.
// Bundled like a function, with lib/bundling.ts's swaps: credentials from the environment only,
// no default chain and none of its nested STS/SSO clients, and the X-Ray SDK without its samplers,
// SDK v2 patcher, host plugins and other services' whitelist entries (bench/bundles.ts also bundles
// it without the swaps).
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../lib/core/aws.ts";

const client = documentClient();
export const handler = async () => client.send(new GetCommand({ TableName: "t", Key: { pk: "x" } }));
