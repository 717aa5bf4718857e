import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { diffDocuments } from "../../../lib/config-versions/mask.ts";
import { createLogger } from "../../../lib/core/logger.ts";
import { httpHandler } from "../../../lib/http/handler.ts";
import { authHeader, captureOutput, httpEvent, lambdaContext } from "../../helpers/events.ts";
import { jsonErrorPosition, malformedJsonMessage } from "../../../lib/http/json-error.ts";
import { isSecretName, learnSecret, learntSecretCount, MAX_LEARNT_SECRETS, maskSecrets, maskText, REDACTED } from "../../../lib/core/secrets.ts";

/**
 * GSE's real credential fields (docs/gse-contract.md, bk-monitor's stream_to and data-link
 * configs): Kafka SASL and SSL, Redis and its sentinel, Pulsar, and the gateway's own.
 */
const CREDENTIAL_FIELDS = [
  "sasl_passwd",
  "sasl_password",
  "sasl_jaas_config",
  "ssl_key_pass",
  "ssl_keystore_password",
  "ssl_truststore_password",
  "ssl_key",
  "ssl_key_password",
  "passwd",
  "password",
  "pwd",
  "redis_pwd",
  "sentinel_passwd",
  "sentinel_password",
  "token",
  "auth_token",
  "bk_app_secret",
  "bk_token",
  "secret_key",
  "access_key",
  "api_key",
  "private_key",
  "key",
  "sslKeyPass",
  "Authorization",
] as const;

/** Names that look like one but hold ids, counts or cursors: shown as they are. */
const NOT_CREDENTIALS = [
  "keys",
  "key_id",
  "key_ids",
  "idempotency_key",
  "KeyConditionExpression",
  "ExclusiveStartKey",
  "sort_key",
  "sasl_username",
  "sasl_mechanisms",
  "security_protocol",
  "master_name",
  "passes",
  "storage_address",
  "operator_name",
] as const;

describe("isSecretName", () => {
  it.each(CREDENTIAL_FIELDS)("holds %s to be a credential", (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(NOT_CREDENTIALS)("shows %s: an id, a cursor or a plain setting", (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe("maskSecrets", () => {
  it("does not learn a value that reads as a field name, so a body cannot hide field names from later errors", () => {
    const masked = maskSecrets({ password: "agent_id_list", token: "12345678", key: "route.name" });
    expect(masked).toEqual({ password: REDACTED, token: REDACTED, key: REDACTED });
    expect(maskText("agent_id_list: Too small")).toBe("agent_id_list: Too small");
    expect(maskText("route 12345678 and route.name")).toBe("route 12345678 and route.name");
    learnSecret("Kafka-pw-9K");
    expect(maskText("login Kafka-pw-9K")).toBe(`login ${REDACTED}`);
  });

  it("hides the value of every real GSE credential field, at any depth, and keeps the rest", () => {
    const values = Object.fromEntries(CREDENTIAL_FIELDS.map((name, i) => [name, `value-of-${name}-${i}`]));
    const masked = maskSecrets({ stream_to: { kafka: { ...values, sasl_username: "monitor", storage_address: [{ ip: "k1", port: 9092 }] } } });
    const text = JSON.stringify(masked);
    for (const value of Object.values(values)) expect(text).not.toContain(value);
    expect(masked.stream_to.kafka).toMatchObject({ sasl_passwd: REDACTED, pwd: REDACTED, ssl_key_pass: REDACTED, sasl_username: "monitor" });
    expect(masked.stream_to.kafka.storage_address).toEqual([{ ip: "k1", port: 9092 }]);
  });

  it("hides the password inside a JAAS line under any name", () => {
    const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="monitor" password="J4as-Pa55word";';
    const masked = maskSecrets({ kafka: { extra_config: jaas } });
    expect(masked.kafka.extra_config).toBe(`org.apache.kafka.common.security.plain.PlainLoginModule required username="monitor" password="${REDACTED}";`);
  });

  it("hides a secret's value where it appears again under another name, even earlier in the document", () => {
    const masked = maskSecrets({ a_note: "uses R3disPass-77 for redis", redis: { pwd: "R3disPass-77" } });
    expect(JSON.stringify(masked)).not.toContain("R3disPass-77");
    expect(masked.a_note).toBe(`uses ${REDACTED} for redis`);
  });

  it("keeps ids under names like keys and key_id", () => {
    expect(maskSecrets({ keys: ["a1", "b2"], key_id: "k-123456", idempotency_key: "idem-1" })).toEqual({
      keys: ["a1", "b2"],
      key_id: "k-123456",
      idempotency_key: "idem-1",
    });
  });
});

describe("maskText", () => {
  it.each([
    ["a JSON fragment a parser quoted", '{"passwd":REDISpw-9K', `{"passwd":${REDACTED}`],
    ["a URL's callback key", "/v1/gse/callback?key=cb-key-0001&x=1", `/v1/gse/callback?key=${REDACTED}&x=1`],
    ["a quoted value after a colon", 'ssl_key_pass: "K3yPass!"', `ssl_key_pass: "${REDACTED}"`],
    ["a JSON pair", '{"sasl_password":"Sasl-Pw-1","user":"u"}', `{"sasl_password":"${REDACTED}","user":"u"}`],
  ])("hides the value in %s", (_what, text, expected) => {
    expect(maskText(text)).toBe(expected);
  });

  it("leaves a validation message about a secret field readable", () => {
    expect(maskText("invalid request: token: Invalid input: expected string")).toBe("invalid request: token: Invalid input: expected string");
  });

  it("does not mask an already masked value twice", () => {
    expect(maskText(`password=${REDACTED}; token="${REDACTED}"`)).toBe(`password=${REDACTED}; token="${REDACTED}"`);
  });

  it("masks a value learnt from one text in every later text", () => {
    maskText("password=Learnt-0nce-42");
    expect(maskText("GSE said: auth failed for Learnt-0nce-42")).toBe(`GSE said: auth failed for ${REDACTED}`);
  });

  it(`keeps at most ${MAX_LEARNT_SECRETS} learnt values, dropping the oldest`, () => {
    learnSecret("oldest-learnt-value");
    for (let i = 0; i < MAX_LEARNT_SECRETS + 10; i++) learnSecret(`bulk-learnt-${i}`);
    expect(learntSecretCount()).toBe(MAX_LEARNT_SECRETS);
    expect(maskText("oldest-learnt-value")).toBe("oldest-learnt-value");
    expect(maskText(`bulk-learnt-${MAX_LEARNT_SECRETS + 9}`)).toBe(REDACTED);
  });
});

describe("diffDocuments", () => {
  it("says that pwd, ssl_key_pass and sasl_jaas_config changed, never their values", () => {
    const doc = (n: number) => ({ redis: { pwd: `pwd-value-${n}` }, kafka: { ssl_key_pass: `keypass-${n}`, sasl_jaas_config: `x password="jaas-${n}";` } });
    const changes = diffDocuments(doc(1), doc(2));
    expect(JSON.stringify(changes)).not.toMatch(/pwd-value|keypass-|jaas-\d/);
    expect(changes).toEqual([
      { path: "kafka.sasl_jaas_config", change: "changed", secret: true },
      { path: "kafka.ssl_key_pass", change: "changed", secret: true },
      { path: "redis.pwd", change: "changed", secret: true },
    ]);
  });
});

describe("malformedJsonMessage", () => {
  it("names the position of the fault and never quotes the body", () => {
    const body = '{"passwd":REDISpw-9K';
    const message = malformedJsonMessage(body);
    expect(message).toBe("request body is not valid JSON at character 11");
    expect(message).not.toContain("REDISpw");
  });

  it.each([
    ['{"a":1} x', 8],
    ['{"a":"b"}}', 9],
    ['{"x":"\\q"}', 7],
  ])("finds the fault in %s at index %i", (text, index) => {
    expect(jsonErrorPosition(text)).toBe(index);
  });

  it("says a body that ends early ends early", () => {
    expect(malformedJsonMessage('{"agent_id_list": [')).toBe("request body is not valid JSON: it ends early (19 characters)");
  });
});

describe("a refused body", () => {
  const captured = captureOutput();
  const handler = httpHandler(
    {
      name: "secrets-test",
      logger: createLogger("secrets-test"),
      callers: [{ bk_app_code: "tester", bk_app_secret: "secrets-test-caller-1" }],
      body: z.unknown(),
    },
    async () => ({ data: null }),
  );

  it("answers 400 INVALID_JSON with the position, and neither the answer nor the log line quotes the body", async () => {
    const event = httpEvent({ headers: authHeader("tester", "secrets-test-caller-1"), body: '{"passwd":REDISpw-9K}' });
    const result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? "{}")).toMatchObject({ code_name: "INVALID_JSON", message: "request body is not valid JSON at character 11" });
    expect(captured.text()).toContain("request refused");
    expect(`${result.body}${captured.text()}`).not.toContain("REDISpw");
  });
});
