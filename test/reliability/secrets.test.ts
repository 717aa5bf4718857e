/**
 * Secrets never appear in logs or responses: this file sends the traffic that carries them (the
 * caller's credentials, our slot token in a dispatch body, our GSE app secret in the health probe
 * and every GSE call), then searches every log of the stack and every answer for their values.
 */
import { randomUUID } from "node:crypto";
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

  it("GSE's credential fields stay out of history, diffs, refusals and logs: by name, by value, inside a JAAS line", async () => {
    const run = randomUUID().slice(0, 8);
    const value = (field: string, n: number) => `${field.replace(/_/g, "")}-${run}-${n}`;
    // GSE's real credential fields, as bk-monitor and its data links send them.
    const kafka = (n: number) => ({
      storage_address: [{ ip: "k1", port: 9092 }],
      sasl_username: "monitor",
      sasl_passwd: value("sasl_passwd", n),
      sasl_password: value("sasl_password", n),
      ssl_key_pass: value("ssl_key_pass", n),
      ssl_keystore_password: value("ssl_keystore_password", n),
      ssl_truststore_password: value("ssl_truststore_password", n),
      sasl_jaas_config: `org.apache.kafka.common.security.plain.PlainLoginModule required username="monitor" password="${value("jaas", n)}";`,
      // The same password again under a name no rule knows: masked by its value.
      extra_note: `fallback ${value("ssl_key_pass", n)}`,
    });
    const redis = (n: number) => ({
      storage_address: [{ ip: "r1", port: 6379 }],
      pwd: value("pwd", n),
      passwd: value("passwd", n),
      sentinel_passwd: value("sentinel_passwd", n),
    });
    const pulsar = (n: number) => ({ storage_address: [{ ip: "p1", port: 6650 }], token: value("token", n) });
    const plat = `secrets_${run}`;
    const answers: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await callApi(info.gatewayUrl, path, { method, headers: authHeader, ...(body !== undefined ? { body } : {}) });
      answers.push(res.text);
      return res;
    };
    const ids: number[] = [];
    for (const [mode, doc] of [
      ["kafka", kafka],
      ["redis", redis],
      ["pulsar", pulsar],
    ] as const) {
      const added = await call("POST", "/api/v2/data/add_streamto", {
        metadata: { plat_name: plat },
        operation: { operator_name: "admin" },
        stream_to: { name: `st_${run}_${mode}`, report_mode: mode, [mode]: doc(1) },
      });
      expect(added.body, added.text).toMatchObject({ result: true });
      const id = (added.body.data as { stream_to_id: number }).stream_to_id;
      ids.push(id);
      const updated = await call("POST", "/api/v2/data/update_streamto", {
        condition: { stream_to_id: id, plat_name: plat },
        operation: { operator_name: "admin" },
        specification: { stream_to: { name: `st_${run}_${mode}`, report_mode: mode, [mode]: doc(2) } },
      });
      expect(updated.body, updated.text).toMatchObject({ result: true });
      expect((await call("GET", `/v1/configs/streamto/${id}/versions`)).status).toBe(200);
      expect((await call("GET", `/v1/configs/streamto/${id}/versions/2`)).status).toBe(200);
      expect((await call("GET", `/v1/configs/streamto/${id}/diff?from=1&to=2`)).status).toBe(200);
      expect((await call("GET", `/v1/configs/streamto/${id}/drift`)).status).toBe(200);
    }
    // A body the JSON parser refuses: the answer and the log line say where, never what.
    const marker = `refused-${run}`;
    const refused = await callApi(info.gatewayUrl, `/api/v2/data/add_streamto?m=${marker}`, {
      method: "POST",
      headers: { ...authHeader, "x-request-id": marker },
      body: `{"passwd":${value("refused", 1)}}`,
    });
    answers.push(refused.text);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code_name: "INVALID_JSON" });
    await eventually("the refusal in the runtime log", () => logLines(info, "runtime").find((l) => l.includes(marker) && l.includes("refused")));

    const logs = readdirSync(info.logsDir).map((file) => [file, readFileSync(join(info.logsDir, file), "utf8")] as const);
    const secretValues = [1, 2].flatMap((n) => [
      ...Object.values(kafka(n)).filter((v): v is string => typeof v === "string" && v.includes(run) && !v.startsWith("fallback")),
      value("jaas", n),
      value("pwd", n),
      value("passwd", n),
      value("sentinel_passwd", n),
      value("token", n),
    ]);
    secretValues.push(value("refused", 1));
    // The GSE simulator's own log holds what it was sent; it is GSE, not us.
    const ours = logs.filter(([file]) => !file.startsWith("gse-simulator"));
    for (const secret of secretValues) {
      for (const answer of answers) expect(answer.includes(secret), `${secret} in an answer`).toBe(false);
      for (const [file, text] of ours) expect(text.includes(secret), `${secret} in ${file}`).toBe(false);
    }
    expect(ids).toHaveLength(3);
  });
});
