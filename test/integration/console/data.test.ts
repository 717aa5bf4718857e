/**
 * The status page's routes through the stack's local gateway, on the stack's own tables, with
 * what the page shows produced by the parts that really produce it: heartbeat polls of the
 * simulator, the recovery function rolling a failed config change back, a dispatch_message, and
 * alerts travelling from the topic through the alert-log queue and its consumer. Every object,
 * agent and message id is this file's own; other files' data may be listed beside it.
 */
import { PublishCommand } from "@aws-sdk/client-sns";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consoleDataSchema, type ConsoleData } from "../../../lib/console/schemas.ts";
import { addConsoleAgents, basicAuth, setAgentStatus, stackPoller } from "../../helpers/console.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, withFaults } from "../../helpers/stack.ts";

const { info, authHeader, sns } = useStack();
const { bk_app_code: code, bk_app_secret: secret } = info.credentials.caller;
const run = randomUUID().slice(0, 8);

async function consoleData(): Promise<ConsoleData> {
  const res = await callApi(info.gatewayUrl, "/v1/console/data", { headers: basicAuth(code, secret) });
  expect(res.status, res.text).toBe(200);
  expect(res.headers["cache-control"]).toBe("no-store");
  return consoleDataSchema.parse(res.body.data);
}

/** Polls /v1/console/data until `pick` finds something in it. */
const eventuallyShown = <T>(what: string, pick: (data: ConsoleData) => T | undefined): Promise<T> =>
  eventually(what, async () => pick(await consoleData()), 20_000);

describe("GET /v1/console and /v1/console/data", () => {
  it("answer 401 with a Basic challenge to missing or wrong credentials, and the page or its data to Basic or the header", async () => {
    for (const path of ["/v1/console", "/v1/console/data"]) {
      for (const headers of [{}, basicAuth(code, "wrong-secret"), basicAuth("intruder", secret), { authorization: "Bearer x" }]) {
        const res = await callApi(info.gatewayUrl, path, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers["www-authenticate"]).toBe('Basic realm="gse-control", charset="UTF-8"');
        expect(res.body).toMatchObject({ result: false, code: 1640101 });
        expect(res.text).not.toContain(secret);
      }
    }
    const page = await callApi(info.gatewayUrl, "/v1/console", { headers: basicAuth(code, secret) });
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.text).toContain("<title>gse-control · status</title>");
    expect(page.text).not.toContain(secret);
    const data = await callApi(info.gatewayUrl, "/v1/console/data", { headers: authHeader });
    expect(data.status).toBe(200);
    expect(consoleDataSchema.safeParse(data.body.data).success).toBe(true);
    expect(data.text).not.toContain(secret);
  });

  it("logs every alert published on the alerts topic, newest first", async () => {
    const first = `console test alert ${run} one`;
    const second = {
      type: "command.failed",
      severity: "critical",
      object: `console-${run}`,
      summary: `console test alert ${run} two`,
      at: new Date().toISOString(),
    };
    await sns.send(new PublishCommand({ TopicArn: info.alertsTopicArn, Subject: "by hand", Message: first }));
    await sns.send(new PublishCommand({ TopicArn: info.alertsTopicArn, Subject: "[critical] gse-control command.failed", Message: JSON.stringify(second) }));
    const mine = await eventuallyShown("both alerts in the log", (data) => {
      const found = data.alerts.filter((a) => a.message.includes(`console test alert ${run}`));
      return found.length === 2 ? found : undefined;
    });
    expect(mine).toHaveLength(2);
    expect(mine).toEqual(
      expect.arrayContaining([
        {
          at: expect.any(String),
          kind: "command.failed",
          severity: "critical",
          subject: "[critical] gse-control command.failed",
          message: second.summary,
          object: `console-${run}`,
        },
        { at: expect.any(String), kind: "message", severity: "info", subject: "by hand", message: first },
      ]),
    );
    // Newest first (the second was published after the first, possibly within the same millisecond).
    expect(Date.parse(mine[0]!.at)).toBeGreaterThanOrEqual(Date.parse(mine[1]!.at));
  });

  it("shows an agent the simulator took down as lost after K polls, most recently lost first, and the last 24 hours of counts", async () => {
    const poller = await stackPoller(info);
    const ids = await addConsoleAgents(info, 2);
    await poller.watch(ids);
    await poller.poll();
    const before = await consoleData();
    expect(before.fleet?.agents).toBeGreaterThanOrEqual(2);
    expect(before.fleet?.by_version.some((v) => v.version === "2.1.5")).toBe(true);
    expect(before.lost.agents.map((a) => a.agent_id)).not.toContain(ids[0]);

    await setAgentStatus(info, [ids[0]!], 3);
    for (let i = 0; i < 3; i++) await poller.poll();
    const after = await consoleData();
    const lost = after.lost.agents.find((a) => a.agent_id === ids[0]);
    expect(lost).toMatchObject({ agent_id: ids[0], version: "2.1.5", status_code: 3, status_class: "degraded" });
    expect(lost?.last_seen).not.toBeNull();
    expect(after.lost.agents.map((a) => a.agent_id)).not.toContain(ids[1]);
    expect(after.lost.total).toBeGreaterThanOrEqual(1);
    const since = after.lost.agents.map((a) => Date.parse(a.since));
    expect(since).toEqual([...since].sort((a, b) => b - a));

    // A snapshot for this 5-minute period exists (this file's poll or the stack's scheduled one).
    const points = after.history.points.map((p) => Date.parse(p.at));
    expect(after.history).toMatchObject({ hours: 24, every_minutes: 5 });
    expect(points.length).toBeGreaterThan(0);
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(Math.max(...points)).toBeGreaterThan(Date.now() - 5 * 60_000 - 5_000);
    expect(Math.min(...points)).toBeGreaterThan(Date.now() - 24 * 3_600_000 - 60_000);
  });

  it("shows a running command with its progress", async () => {
    const ids = await addConsoleAgents(info, 3);
    // Their plugins never answer: the command waits for replies, RUNNING.
    await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
    const messageId = `test.console.${run}`;
    const dispatched = await callApi(info.gatewayUrl, "/api/v2/cluster/dispatch_message", {
      method: "POST",
      headers: authHeader,
      // Three in flight at once: a silent agent holds its place in the window until its reply is due.
      body: { message_id: messageId, agent_id_list: ids, content: "{}", max_concurrency: 3, reply_timeout_seconds: 600 },
    });
    expect(dispatched.body, dispatched.text).toMatchObject({ result: true });
    const shown = await eventuallyShown("the command sent to all its agents", (data) => {
      const command = data.commands.find((c) => c.message_id === messageId);
      return command?.batches.sent === 1 ? command : undefined;
    });
    expect(shown).toMatchObject({
      status: "RUNNING",
      targets: 3,
      batches: { total: 1, sent: 1 },
      counts: { SENT: 3, FAILED: 0, PENDING: 0 },
      progress: 1,
      created_by: code,
    });
    await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(messageId)}/cancel`, { method: "POST", headers: authHeader, body: {} });
    await eventuallyShown("the cancelled command gone from the running ones", (data) =>
      data.commands.some((c) => c.message_id === messageId) ? undefined : true,
    );
  });

  it("highlights a config version that was rolled back, with why, and logs the rollback's alert", async () => {
    const channelId = uniqueBuiltInChannelId();
    const plat = `console_${run}`;
    const kafka = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0console_${name}` } } });
    const post = (path: string, body: unknown) => callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });
    const added = await post("/api/v2/data/add_route", {
      metadata: { channel_id: channelId, plat_name: plat },
      operation: { operator_name: "admin" },
      route: [kafka(`keep_${run}`, 501)],
    });
    expect(added.body, added.text).toMatchObject({ result: true });
    // Two 502s: whether GSE took the update is unknown (FAILED), so recovery undoes it and alerts.
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "update_route", match: `"channel_id":${channelId}`, count: 2 }], () =>
      post("/api/v2/data/update_route", {
        condition: { channel_id: channelId, plat_name: plat },
        operation: { operator_name: "admin" },
        specification: { route: [kafka(`bad_${run}`, 777)] },
      }),
    );
    const object = `route#${channelId}`;
    const versions = await eventuallyShown("the rolled-back version", (data) => {
      const mine = data.configs.filter((v) => v.object === object);
      return mine.some((v) => v.status === "ROLLED_BACK") ? mine : undefined;
    });
    expect(versions).toEqual([
      {
        object,
        version: 2,
        status: "ROLLED_BACK",
        operation: "update_route",
        author: "admin",
        at: expect.any(String),
        highlight: true,
        error: expect.stringContaining("HTTP 502"),
      },
      { object, version: 1, status: "APPLIED", operation: "add_route", author: "admin", at: expect.any(String), highlight: false },
    ]);
    const alert = await eventuallyShown("the rollback's alert", (data) => data.alerts.find((a) => a.object === object && a.kind === "config.rolled_back"));
    expect(alert).toMatchObject({ severity: "warning", subject: expect.stringContaining(object) });
  });

  it("shows a change GSE refused as REJECTED with GSE's reason, not highlighted: nothing changed, nothing to look at", async () => {
    const channelId = uniqueBuiltInChannelId();
    const plat = `console_${run}`;
    const kafka = (name: string, streamToId: number) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0console_${name}` } } });
    const post = (path: string, body: unknown) => callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });
    expect(
      (
        await post("/api/v2/data/add_route", {
          metadata: { channel_id: channelId, plat_name: plat },
          operation: { operator_name: "admin" },
          route: [kafka(`r_${run}`, 501)],
        })
      ).body,
    ).toMatchObject({ result: true });
    const refused = await withFaults(
      info,
      [{ kind: "business_error", code: 1012001, message: "route rejected", operation: "update_route", match: `"channel_id":${channelId}`, count: 1 }],
      () =>
        post("/api/v2/data/update_route", {
          condition: { channel_id: channelId, plat_name: plat },
          operation: { operator_name: "admin" },
          specification: { route: [kafka(`no_${run}`, 777)] },
        }),
    );
    expect(refused.body).toMatchObject({ result: false, code: 1012001 });
    const object = `route#${channelId}`;
    const versions = await eventuallyShown("the refused version", (data) => {
      const mine = data.configs.filter((v) => v.object === object);
      return mine.some((v) => v.status === "REJECTED") ? mine : undefined;
    });
    expect(versions[0]).toEqual({
      object,
      version: 2,
      status: "REJECTED",
      operation: "update_route",
      author: "admin",
      at: expect.any(String),
      highlight: false,
      error: expect.stringContaining("route rejected"),
    });
  });
});
