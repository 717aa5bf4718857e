/**
 * Query and path numbers on the commands, fleet and APM routes, through the local gateway: only
 * plain decimal is a number (no 0x10, 1e3 or " 1"), and `date` is a day that exists. Each refusal
 * is a 400 naming the parameter. Read-only: nothing here changes the stack.
 */
import { describe, expect, it } from "vitest";
import { callApi, useStack, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();

const get = (path: string): Promise<ApiResponse> => callApi(info.gatewayUrl, path, { headers: authHeader });
const errorPaths = (res: ApiResponse): string[] => ((res.body.data as { errors?: { path: string }[] } | null)?.errors ?? []).map((e) => e.path);

describe("limit= is a decimal number", () => {
  it.each([
    ["/v1/commands", "limit=0x10"],
    ["/v1/commands", "limit=1e1"],
    ["/v1/commands", "limit=%2010"],
    ["/v1/upstream-messages", "limit=0x10"],
    ["/v1/fleet/agents", "limit=0x10"],
    ["/v1/fleet/agents/0:10.0.0.1/history", "limit=1e1"],
    ["/v1/commands/no-such-command", "limit=0x10"],
  ])("GET %s?%s answers 400 naming limit", async (path, query) => {
    const res = await get(`${path}?${query}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ result: false, code_name: "INVALID_ARGS" });
    expect(errorPaths(res).map((p) => p.replace(/^queryStringParameters\./, ""))).toEqual(["limit"]);
  });

  it("GET /v1/commands?limit=16 is still taken", async () => {
    const res = await get("/v1/commands?limit=16");
    expect(res.status, res.text).toBe(200);
  });
});

describe("date= is a real calendar day", () => {
  it.each(["2026-13-45", "2026-02-30", "2026-00-10"])("GET /v1/upstream-messages?date=%s answers 400 naming date", async (date) => {
    const res = await get(`/v1/upstream-messages?date=${date}`);
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res)).toEqual(["date"]);
  });

  it("a day that exists (2024-02-29) is taken", async () => {
    const res = await get("/v1/upstream-messages?date=2024-02-29");
    expect(res.status, res.text).toBe(200);
  });
});

describe("bk_biz_id in an APM path is a decimal number", () => {
  it.each(["0x2", "2e0", "%202"])("GET /v1/apm/apps/%s/app answers 400 naming bk_biz_id", async (biz) => {
    const res = await get(`/v1/apm/apps/${biz}/app`);
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res).map((p) => p.replace(/^pathParameters\./, ""))).toEqual(["bk_biz_id"]);
  });

  it("GET /v1/apm/apps?bk_biz_id=0x2 answers 400 naming bk_biz_id", async () => {
    const res = await get("/v1/apm/apps?bk_biz_id=0x2");
    expect(res.status, res.text).toBe(400);
    expect(errorPaths(res)).toEqual(["bk_biz_id"]);
  });
});
