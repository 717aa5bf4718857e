/**
 * The slot forward end to end: GSE's callback on a stack of this file's own, started with
 * GSE_SLOT_FORWARD_URL naming an HTTP server the test runs (bk-monitor's slot handler), its
 * backoff shortened to 1 s so the retries are seen within the test. The shared stack (no URL
 * set) shows that nothing is queued without one.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClientConfig } from "../../../local/aws.ts";
import { QUEUES } from "../../../lib/resources.ts";
import { spawnStack, type SpawnedStack } from "../../helpers/spawn-stack.ts";
import { addSimulatorAgents, callApi, eventually, logLines, useStack, type ApiResponse } from "../../helpers/stack.ts";

const run = randomUUID().slice(0, 8);
const messageId = (label: string): string => `bkmonitorbeat.fetch/host/dataid.${run}${label}.1`;
const request = (agent: string) => JSON.stringify({ type: "fetch/host/dataid", bk_agent_id: agent, params: { tasks: ["basereport"] } });

interface Received {
  readonly body: string;
  readonly contentType: string | undefined;
  readonly headers: Record<string, unknown>;
  readonly status: number;
}

/** bk-monitor's slot handler, played by the test: each message id answered by its own script of statuses (then 200). */
const received: Received[] = [];
const scripts = new Map<string, number[]>();
let target: Server;
let stack: SpawnedStack;
let sqs: SQSClient;

const postCallback = (callbackUrl: string, body: unknown): Promise<ApiResponse> =>
  callApi(callbackUrl.replace(/\/v1\/.*$/, ""), callbackUrl.slice(callbackUrl.indexOf("/v1/")), { method: "POST", body });
const postsOf = (id: string): Received[] => received.filter((r) => r.body.includes(JSON.stringify(id).slice(1, -1)));

beforeAll(async () => {
  target = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const id = (JSON.parse(body) as { message_id: string }).message_id;
      const status = scripts.get(id)?.shift() ?? 200;
      received.push({ body, contentType: req.headers["content-type"], headers: req.headers, status });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ result: status === 200 }));
    });
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/api/v4/bk_gse_slot/`;
  stack = await spawnStack(["--ports", "auto", "--in-memory", "--random-secrets", "--agents", "10", "--json"], {
    env: { GSE_SLOT_FORWARD_URL: url, GSE_SLOT_FORWARD_RETRY_BASE_SECONDS: "1", GSE_SLOT_FORWARD_RETRY_MAX_SECONDS: "1" },
    timeoutMs: 120_000,
  });
  sqs = new SQSClient(localClientConfig(new URL(stack.info.queues.slotForward).origin));
}, 150_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
  await new Promise<void>((resolve) => target.close(() => resolve()));
});

describe("the slot forward", () => {
  it("POSTs an unsolicited upstream message on to bk-monitor exactly once, as GSE posted it, even when SQS delivers it again", async () => {
    const id = messageId("once");
    const callback = { message_id: id, bk_agent_id: "0:10.0.0.1", content: request("0:10.0.0.1") };
    expect((await postCallback(stack.info.callbackUrl, callback)).body.data).toEqual({ accepted: "upstream" });
    const [post] = await eventually("the message at bk-monitor", () => (postsOf(id).length > 0 ? postsOf(id) : undefined), 30_000);
    expect(JSON.parse(post?.body ?? "{}")).toEqual(callback);
    expect(post?.contentType).toBe("application/json");
    expect(post?.headers).not.toHaveProperty("authorization");

    // The target sees the POST before the consumer records it forwarded: a copy sent in between would
    // be POSTed again (at least once, see lib/commands/forward.ts). Wait for the record, as a real
    // redelivery (after the visibility timeout) does.
    await eventually("the forward recorded", () =>
      logLines(stack.info, "runtime").some((l) => l.includes('"message":"slot message forwarded"') && l.includes(id)) ? true : undefined,
    );
    // The same message delivered again (SQS is at least once): recorded as forwarded, not POSTed again.
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.info.queues.slotForward, MessageBody: JSON.stringify(callback) }));
    await eventually("the repeat to be consumed", async () => {
      const { Attributes: a } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.info.queues.slotForward,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return a?.ApproximateNumberOfMessages === "0" && a.ApproximateNumberOfMessagesNotVisible === "0" ? true : undefined;
    });
    expect(postsOf(id)).toHaveLength(1);
  }, 60_000);

  it("tries again while bk-monitor answers 5xx or 429, and delivers once it answers 200", async () => {
    const id = messageId("retry");
    scripts.set(id, [503, 429, 500]);
    await postCallback(stack.info.callbackUrl, { message_id: id, bk_agent_id: "0:10.0.0.2", content: request("0:10.0.0.2") });
    await eventually("the 200", () => (postsOf(id).some((p) => p.status === 200) ? true : undefined), 45_000);
    expect(postsOf(id).map((p) => p.status)).toEqual([503, 429, 500, 200]);
  }, 60_000);

  it("does not retry a message bk-monitor refuses with a 4xx", async () => {
    const id = messageId("refused");
    scripts.set(id, [400, 400]);
    await postCallback(stack.info.callbackUrl, { message_id: id, bk_agent_id: "0:10.0.0.3", content: "not what bk-monitor expects" });
    await eventually("the 400", () => (postsOf(id).length > 0 ? true : undefined), 30_000);
    // Long enough for two backoffs of 1 s had it been retried.
    await eventually("the queue to be empty", async () => {
      const { Attributes: a } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.info.queues.slotForward,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return a?.ApproximateNumberOfMessages === "0" && a.ApproximateNumberOfMessagesNotVisible === "0" ? true : undefined;
    });
    expect(postsOf(id).map((p) => p.status)).toEqual([400]);
  }, 60_000);

  it("moves a message bk-monitor never takes to the dead-letter queue after the queue's last receive", async () => {
    const id = messageId("dead");
    const receives = QUEUES.slotForward.deadLetter.maxReceiveCount;
    scripts.set(
      id,
      Array.from({ length: receives + 5 }, () => 502),
    );
    await postCallback(stack.info.callbackUrl, { message_id: id, bk_agent_id: "0:10.0.0.4", content: request("0:10.0.0.4") });
    const dead = await eventually(
      "the message on the dead-letter queue",
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.info.queues.slotForwardDlq, WaitTimeSeconds: 1 }))).Messages?.[0],
      60_000,
    );
    expect(JSON.parse(dead.Body ?? "{}")).toMatchObject({ message_id: id });
    expect(postsOf(id)).toHaveLength(receives);
  }, 90_000);

  it("does not forward a reply to one of our own commands", async () => {
    const [agent] = await addSimulatorAgents(stack.info, () => [
      { bk_agent_id: `fwd-${run}`, ip: `10.77.${run.charCodeAt(0)}.1`, status_code: 2, churn: false },
    ]);
    const auth = { "x-bkapi-authorization": JSON.stringify(stack.info.credentials.caller) };
    const id = `test.fwd.${run}`;
    const dispatched = await callApi(stack.info.gatewayUrl, "/api/v2/cluster/dispatch_message", {
      method: "POST",
      headers: auth,
      body: { message_id: id, agent_id_list: [agent?.bk_agent_id], content: "q" },
    });
    expect(dispatched.status).toBe(200);
    await eventually(
      "the plugin's reply recorded",
      async () => {
        const page = await callApi(stack.info.gatewayUrl, `/v1/commands/${encodeURIComponent(id)}`, { headers: auth });
        return JSON.stringify(page.body).includes('"REPLIED"') ? true : undefined;
      },
      30_000,
    );
    // An unsolicited message posted after it is forwarded: the forward is running, and the reply was not sent through it.
    const after = messageId("after-reply");
    await postCallback(stack.info.callbackUrl, { message_id: after, bk_agent_id: "0:10.0.0.5", content: request("0:10.0.0.5") });
    await eventually("the later message at bk-monitor", () => (postsOf(after).length > 0 ? true : undefined), 30_000);
    expect(postsOf(id)).toEqual([]);
  }, 60_000);
});

describe("without GSE_SLOT_FORWARD_URL (the shared stack)", () => {
  const { info, sqs: sharedSqs } = useStack();

  it("keeps an unsolicited message and queues nothing", async () => {
    const id = messageId("unset");
    expect((await postCallback(info.callbackUrl, { message_id: id, bk_agent_id: "0:10.0.0.6", content: request("0:10.0.0.6") })).body.data).toEqual({
      accepted: "upstream",
    });
    const { Attributes: a } = await sharedSqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: info.queues.slotForward,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
      }),
    );
    expect(a).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0", ApproximateNumberOfMessagesDelayed: "0" });
  });
});
