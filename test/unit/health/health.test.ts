/**
 * GET /health's answer (lib/health.ts checkHealth + healthAnswer through the shared HTTP stack):
 * 200 in the success envelope when every dependency answers; 503 with `result: false`, code
 * 1650301 DEPENDENCY_UNAVAILABLE, a message naming what is down and the whole report as `data`
 * otherwise. DynamoDB and SNS are real SDK clients aimed at a port where nothing listens; GSE is
 * undici's MockAgent answering as GSE's gateway does when its backend is down.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { MockAgent } from "undici";
import { describe, expect, it } from "vitest";
import { checkHealth, healthAnswer, type HealthReport } from "../../../lib/health.ts";
import { httpHandler } from "../../../lib/http/handler.ts";
import { createLogger } from "../../../lib/core/logger.ts";
import { authHeader, captureOutput, httpEvent, lambdaContext } from "../../helpers/events.ts";

const CALLER_SECRET = "health-test-caller-secret-31c";
const GSE_SECRET = "health-test-gse-secret-8d2";
const callers = [{ bk_app_code: "tester", bk_app_secret: CALLER_SECRET }];
const GSE_ORIGIN = "http://gse.health.test";
const NOWHERE = "http://127.0.0.1:9";

// Powertools writes errors to stderr and everything else to stdout: both are kept.
const captured = captureOutput();

const report = (gseOk: boolean): HealthReport => ({
  status: gseOk ? "ok" : "degraded",
  dependencies: {
    dynamodb: { ok: true, latency_ms: 4, detail: "5 tables active" },
    sns: { ok: true, latency_ms: 3, detail: "alerts topic reachable" },
    gse: gseOk ? { ok: true, latency_ms: 9, detail: "answered code 0" } : { ok: false, latency_ms: 9, detail: "HTTP 502, code 1650200" },
  },
});

async function answer(fn: () => Promise<HealthReport>) {
  const handler = httpHandler({ name: "health", logger: createLogger("health"), callers }, async () => healthAnswer(await fn()));
  const result = (await handler(
    httpEvent({ method: "GET", path: "/health", headers: authHeader("tester", CALLER_SECRET) }),
    lambdaContext(),
  )) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, text: result.body ?? "", body: JSON.parse(result.body ?? "null") as Record<string, unknown> };
}

describe("GET /health's answer", () => {
  it("is 200, result true, code 0, with the report when every dependency answers", async () => {
    const res = await answer(async () => report(true));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: true, code: 0, message: "", data: report(true), request_id: "gateway-request-id" });
  });

  it("is 503, result false, code 1650301 DEPENDENCY_UNAVAILABLE, naming what is down, with the whole report as data", async () => {
    const res = await answer(async () => report(false));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      result: false,
      code: 1650301,
      code_name: "DEPENDENCY_UNAVAILABLE",
      message: "dependencies down: gse (HTTP 502, code 1650200)",
      data: report(false),
      request_id: "gateway-request-id",
    });
  });

  it("reports every dependency down from real clients, with details built from codes: no secret in the answer or the logs", async () => {
    const gse = new MockAgent();
    gse.disableNetConnect();
    gse
      .get(GSE_ORIGIN)
      .intercept({ path: "/api/v2/cluster/list_agent_state", method: "POST" })
      .reply(502, { result: false, code: 1650200, message: `backend down, app secret ${GSE_SECRET}`, data: null });
    const offline = { endpoint: NOWHERE, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    try {
      const res = await answer(() =>
        checkHealth({
          dynamo: new DynamoDBClient(offline),
          sns: new SNSClient(offline),
          tables: ["agents", "fleet"],
          topicArn: "arn:aws:sns:us-east-1:000000000000:alerts",
          gse: {
            dispatcher: gse,
            url: new URL(`${GSE_ORIGIN}/api/v2/cluster/list_agent_state`),
            body: { agent_id_list: ["0:127.0.0.255"] },
            headers: { "x-bkapi-authorization": JSON.stringify({ bk_app_code: "gse-control", bk_app_secret: GSE_SECRET }) },
          },
          timeoutMs: 2000,
          now: Date.now,
        }),
      );
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        result: false,
        code: 1650301,
        code_name: "DEPENDENCY_UNAVAILABLE",
        data: {
          status: "degraded",
          dependencies: {
            dynamodb: { ok: false, latency_ms: expect.any(Number), detail: expect.any(String) },
            sns: { ok: false, latency_ms: expect.any(Number), detail: expect.any(String) },
            gse: { ok: false, latency_ms: expect.any(Number), detail: "HTTP 502, code 1650200" },
          },
        },
      });
      expect(res.body.message).toMatch(/^dependencies down: dynamodb \(.+\); sns \(.+\); gse \(HTTP 502, code 1650200\)$/);
      for (const secret of [GSE_SECRET, CALLER_SECRET]) {
        expect(res.text).not.toContain(secret);
        expect(captured.text()).not.toContain(secret);
      }
    } finally {
      await gse.close();
    }
  });
});
