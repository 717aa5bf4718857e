import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../../../lib/core/logger.ts";
import { httpHandler } from "../../../lib/http/handler.ts";
import { jsonLimitProblems, MAX_JSON_DEPTH } from "../../../lib/http/json-limits.ts";
import { authHeader, httpEvent, lambdaContext } from "../../helpers/events.ts";

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

describe("jsonLimitProblems", () => {
  it("accepts an ordinary GSE body, credential fields and the keys clients add", () => {
    const body = {
      bk_username: "admin",
      bk_app_code: "bk_monitorv3",
      metadata: { plat_name: "bkmonitor", label: { bk_biz_id: 2, odm: "x" } },
      stream_to: {
        name: "k",
        report_mode: "kafka",
        kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }], ssl_key_pass: "p", sasl_jaas_config: 'x password="y";', partition: -1, ratio: 0.25 },
      },
    };
    expect(jsonLimitProblems(body)).toEqual([]);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses one more, naming where`, () => {
    expect(jsonLimitProblems(nested(MAX_JSON_DEPTH))).toEqual([]);
    const problems = jsonLimitProblems({ route: [{ extra: nested(MAX_JSON_DEPTH) }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toMatch(/^route\.0\.extra(\.a)+$/);
    expect(problems[0]?.message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });

  it("walks a body nested far deeper than the stack would allow without overflowing", () => {
    const body = JSON.parse(`${"[".repeat(200_000)}${"]".repeat(200_000)}`) as unknown;
    expect(jsonLimitProblems(body)).toHaveLength(1);
  });

  it("refuses numbers that cannot be stored exactly: 1e400, a 40-digit id, 2^53, 5e-324", () => {
    const body = JSON.parse(
      '{"a":1e400,"b":1234567890123456789012345678901234567890,"c":9007199254740992,"d":5e-324,"ok":[9007199254740991,-9007199254740991,0,-0.5]}',
    );
    expect(jsonLimitProblems(body).map((p) => p.path)).toEqual(["a", "b", "c", "d"]);
  });

  it("refuses an empty key, a key over 255 characters and a key with a lone surrogate, naming the object holding it", () => {
    const body = JSON.parse(`{"label":{"":1},"x":{"${"k".repeat(256)}":1},"y":[{"\\ud800":1}]}`);
    const problems = jsonLimitProblems(body);
    expect(problems.map((p) => p.path)).toEqual(["label", "x", "y.0"]);
    expect(problems.map((p) => p.message)).toEqual(["has an empty key", "has a key of 256 characters; at most 255", expect.stringContaining("lone surrogate")]);
  });

  it("refuses a string with a lone surrogate and accepts a well-formed pair", () => {
    const body = JSON.parse('{"route":[{"name":"ok \\ud83d\\ude00"},{"name":"bad \\udc00"}]}');
    expect(jsonLimitProblems(body)).toEqual([{ path: "route.1.name", message: "is not valid Unicode (a lone surrogate)" }]);
  });

  it("names at most ten problems", () => {
    const body = Array.from({ length: 50 }, () => Number.POSITIVE_INFINITY);
    expect(jsonLimitProblems(body)).toHaveLength(10);
  });
});

describe("httpHandler with a loose schema", () => {
  const handler = httpHandler(
    { name: "test", logger: createLogger("test"), callers: [{ bk_app_code: "tester", bk_app_secret: "json-limits-secret" }], body: z.looseObject({}) },
    async ({ body }) => ({ data: body }),
  );
  const call = async (text: string) => {
    const result = (await handler(
      httpEvent({ headers: authHeader("tester", "json-limits-secret"), body: text }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { status: result.statusCode, body: JSON.parse(result.body ?? "null") as Record<string, unknown> };
  };

  it("answers 400 INVALID_ARGS naming the field for what a loose schema lets through, and runs nothing", async () => {
    const res = await call('{"route":[{"name":"r","stream_to":{"kafka":{"extra":1e400}}}]}');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ result: false, code_name: "INVALID_ARGS", data: { errors: [{ path: "route.0.stream_to.kafka.extra" }] } });
  });

  it("still answers a body within the limits", async () => {
    const res = await call('{"bk_username":"admin","a":{"b":[1,2,3]}}');
    expect(res.status).toBe(200);
  });
});
