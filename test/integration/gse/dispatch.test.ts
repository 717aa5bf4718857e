/**
 * dispatch_message through the local gateway against the stack's GSE simulator (docs/gse-contract.md §5.2).
 * Other files share the simulator: every agent and message id here is this file's own, and every
 * fault is scoped with `match` to a message id nobody else sends.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_COMMAND_TARGETS } from "../../../lib/commands/schemas.ts";
import { OPERATIONS, pathVariants } from "../../../lib/gse/operations.ts";
import { MAX_ROUTE_BODY_BYTES } from "../../../lib/http/handler.ts";
import { MESSAGE_ID_MAX_LENGTH } from "../../../lib/gse/schemas.ts";
import { callApi, eventually, logLines, simulatorControl, uniqueSimIp, useStack, withFaults, type ApiResponse } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const slot = { slot_id: info.credentials.gse.slotId, token: info.credentials.gse.slotToken };
const DISPATCH = "/api/bk-gse/prod/api/v2/cluster/dispatch_message";

const run = randomUUID().slice(0, 8);
const agents = { running: `dispatch-${run}-up`, initial: `dispatch-${run}-init`, unknown: `dispatch-${run}-nobody` };

const messageId = (label: string): string => `test.${label}.${randomUUID()}`;
const message = (label: string, agentIds: readonly string[] = [agents.running]) => ({
  message_id: messageId(label),
  agent_id_list: agentIds,
  content: JSON.stringify({ code: 0, data: [{ task: "basereport", dataid: 1001 }] }),
});

const dispatch = (body: unknown, path = DISPATCH): Promise<ApiResponse> => callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });

function expectEnvelope(res: ApiResponse): void {
  expect(Object.keys(res.body)).toEqual(expect.arrayContaining(["result", "code", "message", "data", "request_id"]));
  expect(typeof res.body.request_id).toBe("string");
}

/** Whether the fault matching `match` is still there with its one hit unused (i.e. GSE never got the call). */
async function faultUnused(match: string): Promise<boolean> {
  const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { spec: { match?: string }; remaining: number | null }[] };
  return faults.some((f) => f.spec.match === match && f.remaining === 1);
}

/** Runs `call` with a fault that would fail any dispatch carrying `match`, and reports whether GSE was reached. */
async function gseReached(match: string, call: () => Promise<ApiResponse>): Promise<{ res: ApiResponse; reached: boolean }> {
  return withFaults(info, [{ kind: "http_error", status: 502, operation: "dispatch_message", match, count: 1 }], async () => {
    const res = await call();
    return { res, reached: !(await faultUnused(match)) };
  });
}

beforeAll(async () => {
  // Addresses in 10.251/16, reserved for this run; the simulator's generated fleet starts at 10.0.0.1.
  await simulatorControl(info, "POST", "agents", {
    agents: [
      { bk_agent_id: agents.running, ip: uniqueSimIp("10.251"), status_code: 2, churn: false },
      { bk_agent_id: agents.initial, ip: uniqueSimIp("10.251"), status_code: 0, churn: false },
    ],
  });
});

describe("dispatch_message", () => {
  it("sends a message without slot_id/token (the configured slot is injected) and lists nobody as undelivered", async () => {
    const res = await dispatch(message("no-slot"));
    expect(res.status).toBe(200);
    expectEnvelope(res);
    expect(res.body).toMatchObject({ result: true, code: 0, message: "", data: { results: [] } });
  });

  it("accepts the configured slot_id and token when the caller sends them, as bk-monitor does", async () => {
    const res = await dispatch({ ...slot, bk_username: "admin", ...message("with-slot") });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, code: 0, data: { results: [] } });
  });

  it("accepts a caller that sends only slot_id, matching ours", async () => {
    const res = await dispatch({ slot_id: slot.slot_id, ...message("slot-id-only") });
    expect(res.body).toMatchObject({ result: true, data: { results: [] } });
  });

  it("lists the agents the message could not be delivered to, and only those", async () => {
    const res = await dispatch(message("partial", [agents.running, agents.initial, agents.unknown]));
    expect(res.status).toBe(200);
    expect(res.body.result).toBe(true);
    const results = (res.body.data as { results: { bk_agent_id: string; code: number; message: string }[] }).results;
    expect(results.map((r) => r.bk_agent_id).sort()).toEqual([agents.initial, agents.unknown].sort());
    for (const r of results) {
      expect(r.code).not.toBe(0);
      expect(typeof r.message).toBe("string");
    }
  });

  it.each(pathVariants(OPERATIONS.dispatch_message).map((path) => [path]))("answers on %s", async (path) => {
    const res = await dispatch(message("variant"), path);
    expect(res.status).toBe(200);
    expectEnvelope(res);
    expect(res.body).toMatchObject({ result: true, code: 0, data: { results: [] } });
  });

  it("ignores extra top-level keys real clients add", async () => {
    const res = await dispatch({ ...message("extra-keys"), bk_username: "admin", bk_app_code: "bk_monitorv3", bk_app_secret: "ignored" });
    expect(res.body).toMatchObject({ result: true, code: 0 });
  });

  describe("slot check", () => {
    it.each<[string, { slot_id?: number; token?: string }]>([
      ["a wrong token", { slot_id: slot.slot_id, token: `${slot.token}-wrong` }],
      ["a wrong slot_id", { slot_id: slot.slot_id + 1, token: slot.token }],
      ["a wrong token without slot_id", { token: "not-our-token" }],
      ["a wrong slot_id without token", { slot_id: slot.slot_id + 1 }],
    ])("refuses %s with 403 and never calls GSE", async (_label, callerSlot) => {
      const body = { ...message("bad-slot"), ...callerSlot };
      const { res, reached } = await gseReached(body.message_id, () => dispatch(body));
      expect(res.status).toBe(403);
      expectEnvelope(res);
      expect(res.body).toMatchObject({ result: false, code: 1640301, code_name: "APP_NO_PERMISSION", data: null });
      expect(reached).toBe(false);
      expect(res.text).not.toContain(slot.token);
      if (callerSlot.token !== undefined) expect(res.text).not.toContain(callerSlot.token);
    });
  });

  it("never puts the slot token in a response or a log line", async () => {
    const ok = await dispatch({ ...slot, ...message("token-leak") });
    const refused = await dispatch({ ...message("token-leak-refused"), slot_id: slot.slot_id, token: "x" });
    expect(ok.text).not.toContain(slot.token);
    expect(refused.text).not.toContain(slot.token);
    const lines = logLines(info, "runtime");
    expect(lines.some((l) => l.includes("dispatch_message"))).toBe(true);
    expect(lines.filter((l) => l.includes(slot.token))).toEqual([]);
  });

  describe("bad input answers 400 naming the field, without calling GSE", () => {
    const cases: [string, (m: ReturnType<typeof message>) => Record<string, unknown>, string][] = [
      ["message_id longer than 64 chars", (m) => ({ ...m, message_id: `${m.message_id}.${"x".repeat(MESSAGE_ID_MAX_LENGTH)}` }), "message_id"],
      ["an empty agent list", (m) => ({ ...m, agent_id_list: [] }), "agent_id_list"],
      ["an agent id that is not a string", (m) => ({ ...m, agent_id_list: [agents.running, 42] }), "agent_id_list.1"],
      ["content that is not a string", (m) => ({ ...m, content: { text: m.message_id } }), "content"],
      ["slot_id that is not an integer", (m) => ({ ...m, slot_id: String(slot.slot_id) }), "slot_id"],
      ["an empty token", (m) => ({ ...m, token: "" }), "token"],
      // The fault's match text (the message id) travels in the content instead.
      ["no message_id", ({ message_id, ...rest }) => ({ ...rest, content: message_id }), "message_id"],
    ];
    it.each(cases)("%s", async (_label, mutate, field) => {
      const base = message("bad-input");
      const { res, reached } = await gseReached(base.message_id, () => dispatch(mutate(base)));
      expect(res.status).toBe(400);
      expectEnvelope(res);
      expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
      const errors = (res.body.data as { errors: { path: string }[] }).errors;
      expect(errors.map((e) => e.path)).toContain(field);
      expect(reached).toBe(false);
    });
  });

  describe("payload limits (Lambda takes at most 6 MB per synchronous invocation, the whole event)", () => {
    /** A dispatch body of exactly `bytes` bytes with `count` targets of this file's own (GSE 2.0 ids of equal length, ± 1). */
    function sizedDispatch(base: ReturnType<typeof message>, count: number, bytes: number): string {
      const skeleton = (ids: string[]) => JSON.stringify({ ...base, agent_id_list: ids });
      const room = bytes - Buffer.byteLength(skeleton(Array.from({ length: count }, () => "")), "utf8");
      const length = (i: number) => Math.floor(room / count) + (i < room % count ? 1 : 0);
      const body = skeleton(Array.from({ length: count }, (_, i) => `d${run}${i}`.padEnd(length(i), "x")));
      expect(Buffer.byteLength(body, "utf8")).toBe(bytes);
      return body;
    }

    async function expectNoCommand(messageId: string): Promise<void> {
      const page = await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(messageId)}`, { headers: authHeader });
      expect(page.status).toBe(404);
    }

    it("refuses a 7,000,085-byte dispatch with API Gateway's 413, as AWS would, and records nothing", async () => {
      const base = message("lambda-limit");
      const body = sizedDispatch(base, 250_000, 7_000_085);
      const { res, reached } = await gseReached(base.message_id, () => dispatch(body));
      expect(res.status).toBe(413);
      expect(res.text).toBe('{"message":"Request Entity Too Large"}');
      expect(reached).toBe(false);
      await expectNoCommand(base.message_id);
    });

    it(`refuses a body over dispatch's ${MAX_ROUTE_BODY_BYTES}-byte limit with 413 in GSE's envelope, naming the limit and what to do instead`, async () => {
      const base = message("route-limit");
      const { res, reached } = await gseReached(base.message_id, () => dispatch(sizedDispatch(base, 190_000, MAX_ROUTE_BODY_BYTES + 1)));
      expect(res.status).toBe(413);
      expectEnvelope(res);
      expect(res.body).toMatchObject({ result: false, code: 1641301, code_name: "BODY_SIZE_LIMIT_EXCEED" });
      expect(res.body.message).toContain(`the limit is ${MAX_ROUTE_BODY_BYTES} bytes (5 MiB)`);
      expect(res.body.message).toContain("several dispatch_message calls");
      expect(reached).toBe(false);
      await expectNoCommand(base.message_id);
    });

    it("takes a body just under the limit to validation: refused for its 200,001 targets, not its size", async () => {
      const base = message("under-limit");
      const { res, reached } = await gseReached(base.message_id, () => dispatch(sizedDispatch(base, MAX_COMMAND_TARGETS + 1, MAX_ROUTE_BODY_BYTES - 1)));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ result: false, code: 1640001, code_name: "INVALID_ARGS" });
      expect((res.body.data as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["agent_id_list"]);
      expect(reached).toBe(false);
      await expectNoCommand(base.message_id);
    });
  });

  it("passes GSE's 502 through when GSE fails the whole dispatch, then delivers it once by retrying with backoff", async () => {
    const body = message("gse-down");
    await withFaults(info, [{ kind: "http_error", status: 502, operation: "dispatch_message", match: body.message_id, count: 2 }], async () => {
      const res = await dispatch(body);
      expect(res.status).toBe(502);
      expectEnvelope(res);
      expect(res.body).toMatchObject({ result: false, code: 1650200 });
      // The batch goes again, whole: the first retry meets the second failure, the next one gets through.
      const done = await eventually(
        "the command to end",
        async () => {
          const page = await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(body.message_id)}`, { headers: authHeader });
          const command = (page.body.data as { command: { status: string } } | undefined)?.command;
          return command && command.status !== "RUNNING" ? (page.body.data as { command: { status: string }; agents: { attempts: number }[] }) : undefined;
        },
        30_000,
      );
      expect(done.command.status).toBe("SUCCEEDED");
      const delivered = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(body.message_id)}`)) as {
        agents: Record<string, number>;
      };
      expect(delivered.agents).toEqual({ [agents.running]: 1 });
    });
  });
});
