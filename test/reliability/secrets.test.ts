/**
 * Secrets never appear in logs or responses: this file sends the traffic that carries them (the
 * caller's credentials, our slot token in a dispatch body, our GSE app secret in the health probe
 * and every GSE call), then searches every log of the stack and every answer for their values.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { callApi, eventually, logLines, useStack } from "../helpers/stack.ts";

const { info, authHeader } = useStack();
const secrets = {
  "caller secret": info.credentials.caller.bk_app_secret,
  "GSE app secret": info.credentials.gse.appSecret,
  "slot token": info.credentials.gse.slotToken,
  "callback key": info.credentials.callbackKey,
};

describe("secrets", () => {
  it("appear in no answer and in no log line, whatever the request", async () => {
    const answers: string[] = [];
    const call = async (path: string, body?: unknown, headers: Record<string, string> = authHeader) => {
      const res = await callApi(info.gatewayUrl, path, { method: body === undefined ? "GET" : "POST", headers, ...(body !== undefined ? { body } : {}) });
      answers.push(res.text, JSON.stringify(res.headers));
      return res;
    };
    const marker = `secret-scan-${Date.now()}`;
    await call("/health");
    await call(
      "/api/v2/cluster/list_agent_state",
      { agent_id_list: ["0:10.0.0.1"], bk_app_secret: secrets["caller secret"] },
      { ...authHeader, "cache-control": "no-cache" },
    );
    await call("/api/v2/cluster/dispatch_message", {
      slot_id: info.credentials.gse.slotId,
      token: secrets["slot token"],
      message_id: marker,
      agent_id_list: ["0:10.0.0.1"],
      content: "{}",
    });
    // A wrong token: refused, and the right one is not echoed to help a guesser.
    expect(
      (
        await call("/api/v2/cluster/dispatch_message", {
          slot_id: info.credentials.gse.slotId,
          token: "guess",
          message_id: marker,
          agent_id_list: ["0:10.0.0.1"],
          content: "{}",
        })
      ).status,
    ).toBe(403);
    await call("/api/v2/data/query_route", { condition: { channel_id: 1199999 }, operation: { operator_name: marker } });
    // Credentials in a malformed header, and the right secret under a wrong app code.
    await call("/health", undefined, { "x-bkapi-authorization": `{"bk_app_code": "x", "bk_app_secret": "${secrets["caller secret"]}"` });
    await call("/health", undefined, { "x-bkapi-authorization": JSON.stringify({ bk_app_code: "intruder", bk_app_secret: secrets["caller secret"] }) });
    // GSE's callback with the key (a reply), with a wrong key, and a key sent to a route that wants the header.
    const callbackPath = info.callbackUrl.slice(info.callbackUrl.indexOf("/v1/"));
    await call(callbackPath, { message_id: marker, bk_agent_id: "0:10.0.0.1", content: "{}" }, {});
    expect((await call(callbackPath.replace(/key=[^&]+/, "key=guess"), { message_id: marker, bk_agent_id: "0:10.0.0.1", content: "{}" }, {})).status).toBe(401);
    await call(`/health?key=${encodeURIComponent(secrets["callback key"])}`, undefined, {});
    // The status page by HTTP Basic: signed in, and the right secret under a wrong app code.
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
    await call("/v1/console", undefined, basic(info.credentials.caller.bk_app_code, secrets["caller secret"]));
    await call("/v1/console/data", undefined, basic(info.credentials.caller.bk_app_code, secrets["caller secret"]));
    expect((await call("/v1/console/data", undefined, basic("intruder", secrets["caller secret"]))).status).toBe(401);
    // The requests above are in the runtime log before it is read.
    await eventually("the dispatch in the runtime log", () => logLines(info, "runtime").find((l) => l.includes(marker)));

    const logs = readdirSync(info.logsDir).map((file) => [file, readFileSync(join(info.logsDir, file), "utf8")] as const);
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const [label, value] of Object.entries(secrets)) {
      for (const [file, text] of logs) expect(text.includes(value), `${label} in ${file}`).toBe(false);
      for (const answer of answers) expect(answer.includes(value), `${label} in an answer`).toBe(false);
    }
  });
});
