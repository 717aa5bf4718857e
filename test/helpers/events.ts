import type { APIGatewayProxyEventV2, Context, SQSRecord } from "aws-lambda";

/** An API Gateway HTTP API (payload 2.0) event, as the local gateway and AWS build it. */
export function httpEvent(input: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}): APIGatewayProxyEventV2 {
  const method = input.method ?? "POST";
  const path = input.path ?? "/test";
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: input.headers ?? {},
    requestContext: {
      accountId: "000000000000",
      apiId: "test",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
      requestId: "gateway-request-id",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: new Date(0).toUTCString(),
      timeEpoch: 0,
    },
    ...(input.body !== undefined ? { body: input.body } : {}),
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
}

export function lambdaContext(): Context {
  const fail = (): never => {
    throw new Error("not supported");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:test",
    memoryLimitInMB: "256",
    awsRequestId: "aws-request-id",
    logGroupName: "/aws/lambda/test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 10_000,
    done: fail,
    fail,
    succeed: fail,
  };
}

export const authHeader = (code: string, secret: string): Record<string, string> => ({
  "X-Bkapi-Authorization": JSON.stringify({ bk_app_code: code, bk_app_secret: secret, bk_username: "admin" }),
});

/** An SQS record as Lambda delivers it, with `body` as sent. */
export function sqsRecord(body: string, messageId = "00000000-0000-4000-8000-000000000001"): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "local", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:automation",
    awsRegion: "us-east-1",
  };
}
