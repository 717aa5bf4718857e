/**
 * Command templates through the local gateway (real sockets, DynamoDB Local): versions, the
 * identical-body rule, concurrent PUTs, the placeholder checks, reads and listing, scopes. Names
 * carry this run's id, so the stack's other templates never meet these.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { callApi, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const run = randomUUID().slice(0, 8);
let serial = 0;
const uniqueName = (what: string): string => `t-${run}-${what}-${serial++}`;

const asCaller = (caller: { bk_app_code: string; bk_app_secret: string }) => ({
  "x-bkapi-authorization": JSON.stringify({ bk_app_code: caller.bk_app_code, bk_app_secret: caller.bk_app_secret }),
});

const put = (name: string, body: unknown, headers: Record<string, string> = authHeader): Promise<ApiResponse> =>
  callApi(info.gatewayUrl, `/v1/templates/${encodeURIComponent(name)}`, { method: "PUT", headers, body });
const get = (path: string, headers: Record<string, string> = authHeader): Promise<ApiResponse> => callApi(info.gatewayUrl, path, { headers });

interface PutAnswer {
  created: boolean;
  template: { name: string; version: number; content: string; created_by: string };
}
const answerOf = (res: ApiResponse): PutAnswer => (res.body as { data: PutAnswer }).data;

const body = (n: number) => ({
  description: `reload ${n}`,
  content: `{"action": "reload", "generation": ${n}, "target": "{{target}}"}`,
  parameters: [{ name: "target", default: "all" }],
  max_concurrency: "10%",
  reply_rule: { kind: "json_code" },
});

describe("PUT /v1/templates/{name}", () => {
  it("stores version 1, then 2 for a changed body, each readable as it was written", async () => {
    const name = uniqueName("versions");
    const first = await put(name, body(1));
    expect(first.status, first.text).toBe(201);
    expect(answerOf(first)).toMatchObject({ created: true, template: { name, version: 1, content: body(1).content } });
    const second = await put(name, body(2));
    expect(second.status, second.text).toBe(201);
    expect(answerOf(second).template.version).toBe(2);
    expect((await get(`/v1/templates/${name}?version=1`)).body).toMatchObject({ data: { version: 1, content: body(1).content, description: "reload 1" } });
    expect((await get(`/v1/templates/${name}`)).body).toMatchObject({ data: { version: 2, content: body(2).content } });
  });

  it("makes no new version for a body equal to the latest, whatever its key order, and answers the latest with created: false", async () => {
    const name = uniqueName("same");
    expect((await put(name, body(1))).status).toBe(201);
    const { parameters, content, ...rest } = body(1);
    const again = await put(name, { parameters, ...rest, content });
    expect(again.status, again.text).toBe(200);
    expect(answerOf(again)).toMatchObject({ created: false, template: { version: 1 } });
    expect((await get(`/v1/templates/${name}?version=2`)).status).toBe(404);
  });

  it("gives concurrent PUTs of different bodies distinct versions 1..N, none lost", async () => {
    const name = uniqueName("race");
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => put(name, body(n))));
    for (const res of answers) expect(res.status, res.text).toBe(201);
    const versions = answers.map((res) => answerOf(res).template.version).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    // Each version holds the body of the PUT that was answered with it.
    for (const res of answers) {
      const { version, content } = answerOf(res).template;
      expect((await get(`/v1/templates/${name}?version=${version}`)).body).toMatchObject({ data: { content } });
    }
    expect((await get(`/v1/templates/${name}`)).body).toMatchObject({ data: { version: 6 } });
  });

  it("gives concurrent PUTs of one body one version: one created, the others answered it", async () => {
    const name = uniqueName("same-race");
    const answers = (await Promise.all([1, 2, 3, 4, 5].map(() => put(name, body(7))))).map(answerOf);
    expect(answers.filter((a) => a.created)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.template.version))).toEqual(new Set([1]));
  });

  it("refuses undeclared and unused placeholders with 400 naming the field, and stores nothing", async () => {
    const name = uniqueName("bad");
    const undeclared = await put(name, { content: "restart {{service}}", undo: { content: "stop {{other}}" } });
    expect(undeclared.status, undeclared.text).toBe(400);
    const paths = (undeclared.body as { data: { errors: { path: string }[] } }).data.errors.map((e) => e.path).sort();
    expect(paths).toEqual(["content", "undo.content"]);
    const unused = await put(name, { content: "restart", parameters: [{ name: "service" }] });
    expect(unused.status, unused.text).toBe(400);
    expect(unused.body).toMatchObject({ code_name: "INVALID_ARGS", data: { errors: [{ path: "parameters.0.name" }] } });
    expect((await get(`/v1/templates/${name}`)).status).toBe(404);
  });

  it("refuses a body too large for one version with 413 naming the field to shrink, and stores nothing", async () => {
    const name = uniqueName("large");
    const res = await put(name, { content: "x".repeat(160 * 1024), undo: { content: "y".repeat(250 * 1024) } });
    expect(res.status, res.text.slice(0, 300)).toBe(413);
    expect(res.body).toMatchObject({ code_name: "BODY_SIZE_LIMIT_EXCEED", data: { field: "undo.content" } });
    expect((await get(`/v1/templates/${name}`)).status).toBe(404);
  });

  it("refuses a name outside the pattern with 400 naming it", async () => {
    const res = await put("Not_Lower", body(1));
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ data: { errors: [{ path: "pathParameters.name" }] } });
  });

  it("refuses a caller without the operator scope with 403 naming it, and stores nothing", async () => {
    const name = uniqueName("scope");
    const { reader, monitor } = info.credentials.scoped;
    for (const caller of [reader, monitor]) {
      const res = await put(name, body(1), asCaller(caller));
      expect(res.status, res.text).toBe(403);
      expect(res.body).toMatchObject({ code_name: "APP_NO_PERMISSION", data: { required_scope: "operator" } });
    }
    expect((await get(`/v1/templates/${name}`)).status).toBe(404);
  });

  it("records who stored the version", async () => {
    const name = uniqueName("author");
    expect(answerOf(await put(name, body(1))).template.created_by).toBe(info.credentials.caller.bk_app_code);
  });
});

describe("GET /v1/templates/{name}", () => {
  it("answers 404 for an unknown template and for an unknown version, 400 for a version that is not a number", async () => {
    const name = uniqueName("get");
    expect((await get(`/v1/templates/${name}`)).status).toBe(404);
    expect((await put(name, body(1))).status).toBe(201);
    expect((await get(`/v1/templates/${name}?version=9`)).status).toBe(404);
    expect((await get(`/v1/templates/${name}?version=x`)).status).toBe(400);
  });

  it("is open to a gse:read caller", async () => {
    const name = uniqueName("read");
    expect((await put(name, body(1))).status).toBe(201);
    expect((await get(`/v1/templates/${name}`, asCaller(info.credentials.scoped.reader))).status).toBe(200);
  });
});

describe("GET /v1/templates", () => {
  it("lists templates by name with their latest version, a page at a time through the cursor", async () => {
    const names = [uniqueName("list-c"), uniqueName("list-a"), uniqueName("list-b")];
    for (const name of names) expect((await put(name, body(1))).status).toBe(201);
    expect((await put(names[0] as string, body(2))).status).toBe(201);

    const seen: { name: string; latest_version: number }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await get(`/v1/templates?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status, res.text).toBe(200);
      const data = (res.body as { data: { templates: { name: string; latest_version: number }[]; next_cursor?: string } }).data;
      expect(data.templates.length).toBeLessThanOrEqual(2);
      seen.push(...data.templates);
      cursor = data.next_cursor;
      pages++;
    } while (cursor && pages < 1_000);
    const mine = seen.filter((t) => names.includes(t.name));
    expect(mine.map((t) => t.name)).toEqual([...names].sort());
    expect(mine.find((t) => t.name === names[0])?.latest_version).toBe(2);
    expect(new Set(seen.map((t) => t.name)).size).toBe(seen.length);
  });

  it("refuses a cursor it did not give out, and a limit out of range", async () => {
    expect((await get("/v1/templates?cursor=bogus")).status).toBe(400);
    expect((await get("/v1/templates?limit=0")).status).toBe(400);
  });
});
