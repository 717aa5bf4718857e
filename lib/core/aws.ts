import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { traced } from "./tracing.ts";

/*
 * Every AWS client a function uses is built by one factory, once at cold start, and shared by
 * warm invocations. The SQS client is built in lib/core/queue.ts and the SNS client in
 * lib/core/sns.ts, each beside its one use: a function's bundle carries every AWS client package
 * its imports name, used or not (test/unit/build checks each function bundles only its own).
 * Each is traced (lib/core/tracing.ts): a subsegment per AWS call where tracing is on.
 */

/** The low-level DynamoDB client, for the few calls the document client has no form for (health's DescribeTable). */
export function dynamoClient(): DynamoDBClient {
  return traced(new DynamoDBClient({}));
}

/**
 * The document client every table is read and written with. Undefined optional fields are left
 * out of an item rather than refused, so an item type's optional field needs no special case.
 */
export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } });
}
