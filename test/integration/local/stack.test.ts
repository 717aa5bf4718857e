import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { PublishCommand } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { QUEUES, type QueueKey } from "../../../lib/resources.ts";
import { ROUTES } from "../../../lib/routes.ts";
import { callApi, eventually, logLines, useStack, withFaults } from "../../helpers/stack.ts";

const { info, dynamo, sns, sqs, authHeader } = useStack();

afterAll(() => {
  dynamo.destroy();
  sns.destroy();
  sqs.destroy();
});

/** A concrete path for a route pattern, with each {param} filled in. */
const concretePath = (path: string): string => path.replace(/\{(\w+)\+?\}/g, "x");

describe("local stack", () => {
  it("reports every dependency reachable on /health", async () => {
    const res = await callApi(info.gatewayUrl, "/health", { headers: authHeader });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      result: true,
      code: 0,
      data: { status: "ok", dependencies: { dynamodb: { ok: true }, sns: { ok: true }, gse: { ok: true } } },
    });
  });

  it("reports GSE down on /health (503, result false, DEPENDENCY_UNAVAILABLE naming it, the whole report as data) while GSE answers 5xx, and green again after", async () => {
    // Only the health probe's own call (its agent id), so tests running beside this one are untouched.
    await withFaults(info, [{ kind: "http_error", status: 502, match: "127.0.0.255" }], async () => {
      const res = await callApi(info.gatewayUrl, "/health", { headers: authHeader });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        result: false,
        code: 1650301,
        code_name: "DEPENDENCY_UNAVAILABLE",
        message: expect.stringMatching(/^dependencies down: gse \(HTTP 502, code \d+\)$/),
        data: {
          status: "degraded",
          dependencies: { gse: { ok: false, detail: expect.stringContaining("HTTP 502") }, dynamodb: { ok: true }, sns: { ok: true } },
        },
      });
      expect(res.text).not.toContain(info.credentials.gse.appSecret);
    });
    const healthy = await callApi(info.gatewayUrl, "/health", { headers: authHeader });
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ result: true, code: 0, data: { status: "ok" } });
  });

  describe.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("route %s", (_key, route) => {
    const path = concretePath(route.path);
    it.each([
      ["no credentials", {}],
      ["a malformed header", { "x-bkapi-authorization": "{bk_app_code:" }],
      ["a header without a secret", { "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.caller.bk_app_code }) }],
      ["a wrong secret", { "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.caller.bk_app_code, bk_app_secret: "wrong" }) }],
      ["an unknown app", { "x-bkapi-authorization": JSON.stringify({ bk_app_code: "intruder", bk_app_secret: info.credentials.caller.bk_app_secret }) }],
    ])("answers 401 to %s", async (_label, headers) => {
      const res = await callApi(info.gatewayUrl, path, { method: route.method, headers, ...(route.method === "GET" ? {} : { body: {} }) });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ result: false, code: 1640101 });
      expect(res.text).not.toContain(info.credentials.caller.bk_app_secret);
    });
  });

  it("answers an unknown path with 404 API_NOT_FOUND in the envelope", async () => {
    const res = await callApi(info.gatewayUrl, "/api/v2/nowhere", { method: "POST", headers: authHeader, body: {} });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ result: false, code: 1640401, code_name: "API_NOT_FOUND" });
  });

  it("answers 400 INVALID_ARGS naming the path for a path parameter that is not valid percent-encoding, without credentials, and keeps serving", async () => {
    // It used to throw URIError in the gateway and end the runtime, leaving the stack half-alive.
    const res = await callApi(info.gatewayUrl, "/v1/commands/%E0%A4%A");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS", data: { errors: [{ path: "path" }] } });
    const health = await callApi(info.gatewayUrl, "/health", { headers: authHeader });
    expect(health.status).toBe(200);
  });

  it("delivers a write to the configs table to recovery through the stream poller", async () => {
    const pk = `test#${randomUUID()}`;
    await dynamo.send(new PutItemCommand({ TableName: info.tables.configs, Item: { pk: { S: pk }, sk: { S: "v#1" }, status: { S: "PENDING" } } }));
    const line = await eventually("the stream poller to invoke recovery with the record", () =>
      logLines(info, "runtime")
        .map((l) => JSON.parse(l) as { component?: string; table?: string; keys?: string[]; failed?: number; function?: string })
        .find((l) => l.component === "stream-poller" && l.keys?.includes(`pk=${pk},sk=v#1`)),
    );
    expect(line).toMatchObject({ table: "configs", function: "recovery", failed: 0 });
  });

  it("delivers a message published on the alerts topic to the console subscriber", async () => {
    const marker = `test alert ${randomUUID()}`;
    await sns.send(new PublishCommand({ TopicArn: info.alertsTopicArn, Subject: "integration", Message: marker }));
    const line = await eventually("the alert in alerts.log", () => logLines(info, "alerts").find((l) => l.includes(marker)));
    expect(JSON.parse(line)).toMatchObject({ subject: "integration", message: marker });
  });

  it("gives each queue with a dead-letter queue in lib/resources.ts the same redrive locally as infra/queue.ts does", async () => {
    const withDlq = (Object.keys(QUEUES) as QueueKey[]).flatMap((key) => {
      const def = QUEUES[key];
      return "deadLetter" in def ? [[key, def.deadLetter] as const] : [];
    });
    expect(withDlq.map(([key]) => key).sort()).toEqual(["alertLog", "automation", "slotForward"]);
    for (const [key, deadLetter] of withDlq) {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: info.queues[key], AttributeNames: ["RedrivePolicy", "QueueArn"] }));
      const policy = JSON.parse(Attributes.RedrivePolicy ?? "{}") as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
      const target = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: info.queues[deadLetter.queue], AttributeNames: ["QueueArn"] }));
      expect(policy.deadLetterTargetArn).toBe(target.Attributes?.QueueArn);
      expect(Number(policy.maxReceiveCount)).toBe(deadLetter.maxReceiveCount);
    }
  });

  it("moves a job nobody can run from the automation queue to its dead-letter queue, with the reason", async () => {
    const marker = randomUUID();
    await sqs.send(new SendMessageCommand({ QueueUrl: info.queues.automation, MessageBody: JSON.stringify({ type: "no_such_job", marker }) }));
    const message = await eventually("the job on the dead-letter queue", async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: info.queues.automationDlq, WaitTimeSeconds: 1, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
      );
      const mine = Messages.find((m) => m.Body?.includes(marker));
      for (const m of Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: info.queues.automationDlq, ReceiptHandle: m.ReceiptHandle }));
      return mine;
    });
    expect(message.MessageAttributes?.reason?.StringValue).toContain('unknown job type "no_such_job"');
  });
});
