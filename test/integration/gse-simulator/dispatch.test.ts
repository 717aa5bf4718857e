import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX } from "../../../lib/gse/operations.ts";
import { dispatchMessageDataSchema, slotCallbackSchema } from "../../../lib/gse/schemas.ts";
import {
  SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE,
  SIM_DISPATCH_AGENT_NOT_FOUND_CODE,
  SIM_SLOT_AUTH_ERROR_CODE,
  SIM_VALIDATION_ERROR_CODE,
  type GseSimulator,
} from "../../../local/gse-simulator/index.ts";
import * as examples from "../../helpers/gse-api-examples.ts";
import { call, control, envelopeOf, startReceiver, startTestSimulator, waitFor, type Receiver } from "./client.ts";

const DISPATCH = `${GATEWAY_PREFIX}/api/v2/cluster/dispatch_message`;
const DISPATCH_MULTI = `${GATEWAY_PREFIX}/api/v2/cluster/dispatch_multi_message`;
const EXAMPLE_AGENT = "02000000005254003dd2ea1700473962076n";

let sim: GseSimulator;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await startTestSimulator({ agents: 0, slot: { slot_id: 37, token: "c2xvdC10b2tlbg" } });
});
afterAll(async () => {
  await sim.stop();
  await receiver.close();
});
beforeEach(() => {
  sim.reset();
  sim.setCallbackUrl(receiver.url);
  receiver.bodies.length = 0;
  receiver.status = 200;
  sim.addAgents([
    { bk_agent_id: EXAMPLE_AGENT, ip: "10.0.0.2" },
    { bk_agent_id: "agent-down", ip: "10.0.0.3", status_code: 3 },
  ]);
});

describe("dispatch_message (§5.2)", () => {
  it("delivers the §5.2 example: empty results, then the plugin's reply reaches the callback URL", async () => {
    const envelope = envelopeOf(await call(sim, DISPATCH, examples.dispatchMessageRequestExample));
    expect(envelope).toMatchObject({ result: true, code: 0, data: examples.dispatchAllDeliveredResponseExample.data });
    await waitFor(() => receiver.bodies.length === 1);
    const reply = slotCallbackSchema.parse(receiver.bodies[0]);
    expect(reply).toMatchObject({ message_id: examples.dispatchMessageRequestExample.message_id, bk_agent_id: EXAMPLE_AGENT });
    expect(JSON.parse(reply.content)).toMatchObject({ ack: true, message_id: examples.dispatchMessageRequestExample.message_id });
    // The receiver has the body before the simulator has read the receiver's answer and counted it.
    await sim.idle();
    expect(sim.counters()).toMatchObject({ applied: { dispatch_message: 1 }, callbacks: { sent: 1, failed: 0, pending: 0 } });
  });

  it("lists only undelivered agents in results (not connected, unknown) and calls back only for the delivered one", async () => {
    const body = { ...examples.dispatchMessageRequestExample, agent_id_list: [EXAMPLE_AGENT, "agent-down", "0:10.0.0.9"] };
    const envelope = envelopeOf(await call(sim, DISPATCH, body));
    expect(dispatchMessageDataSchema.parse(envelope.data)).toEqual({
      results: [
        { bk_agent_id: "agent-down", code: SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE, message: "agent not connected" },
        { bk_agent_id: "0:10.0.0.9", code: SIM_DISPATCH_AGENT_NOT_FOUND_CODE, message: "agent not found" },
      ],
    });
    await sim.idle();
    expect(receiver.bodies).toMatchObject([{ bk_agent_id: EXAMPLE_AGENT }]);
  });

  it.each([
    ["a wrong token", { token: "wrong" }],
    ["a wrong slot_id", { slot_id: 38 }],
  ])("refuses %s with result false and code 1000002, sending nothing", async (_name, patch) => {
    const envelope = envelopeOf(await call(sim, DISPATCH, { ...examples.dispatchMessageRequestExample, ...patch }));
    expect(envelope).toMatchObject({ result: false, code: SIM_SLOT_AUTH_ERROR_CODE });
    await sim.idle();
    expect(receiver.bodies).toEqual([]);
  });

  it("refuses a message_id longer than 64 characters as a validation error", async () => {
    const envelope = envelopeOf(await call(sim, DISPATCH, { ...examples.dispatchMessageRequestExample, message_id: "x".repeat(65) }));
    expect(envelope).toMatchObject({ result: false, code: SIM_VALIDATION_ERROR_CODE });
    expect(envelope.message).toContain("message_id");
  });

  it("counts callbacks the receiver refuses as failed, without failing the dispatch", async () => {
    receiver.status = 500;
    const envelope = envelopeOf(await call(sim, DISPATCH, examples.dispatchMessageRequestExample));
    expect(envelope.result).toBe(true);
    await sim.idle();
    expect(sim.counters().callbacks).toMatchObject({ sent: 0, failed: 1 });
  });

  it("counts callbacks to an unreachable URL as failed", async () => {
    const closed = await startReceiver();
    await closed.close();
    await control(sim, "POST", "/_sim/callback-url", { url: closed.url });
    await call(sim, DISPATCH, examples.dispatchMessageRequestExample);
    await sim.idle();
    expect(sim.counters().callbacks).toMatchObject({ sent: 0, failed: 1 });
  });

  it("sends no callback and counts it skipped when no callback URL is set", async () => {
    const answer = await control(sim, "POST", "/_sim/callback-url", { url: null });
    expect(answer.json).toEqual({ url: null });
    await call(sim, DISPATCH, examples.dispatchMessageRequestExample);
    await sim.idle();
    expect(sim.counters().callbacks).toMatchObject({ sent: 0, failed: 0, skipped: 1 });
  });

  it("waits replyDelayMs before the plugin replies", async () => {
    const slow = await startTestSimulator({ agents: 0, replyDelayMs: 150, callbackUrl: receiver.url });
    try {
      slow.addAgents([{ bk_agent_id: EXAMPLE_AGENT, ip: "10.0.0.2" }]);
      await call(slow, DISPATCH, examples.dispatchMessageRequestExample);
      expect(slow.counters().callbacks.pending).toBe(1);
      expect(receiver.bodies).toEqual([]);
      await waitFor(() => receiver.bodies.length === 1);
    } finally {
      await slow.stop();
    }
  });
});

describe("dispatch_multi_message (§5.3)", () => {
  it("delivers one content per agent and calls back once per delivered agent", async () => {
    const body = {
      slot_id: 37,
      token: "c2xvdC10b2tlbg",
      message_id: "multi-1",
      agent_message_list: [
        { bk_agent_id: EXAMPLE_AGENT, content: "a" },
        { bk_agent_id: "0:10.0.0.2", content: "b" },
        { bk_agent_id: "agent-down", content: "c" },
      ],
      front_content: "",
      back_content: "",
    };
    const envelope = envelopeOf(await call(sim, DISPATCH_MULTI, body));
    expect(envelope.data).toEqual({ results: [{ bk_agent_id: "agent-down", code: SIM_DISPATCH_AGENT_NOT_CONNECTED_CODE, message: "agent not connected" }] });
    await waitFor(() => receiver.bodies.length === 2);
    expect(receiver.bodies.map((b) => slotCallbackSchema.parse(b).bk_agent_id).sort()).toEqual([EXAMPLE_AGENT, "0:10.0.0.2"].sort());
  });
});

describe("upgrade messages", () => {
  const upgrade = (agents: string[], version: string) => ({
    ...examples.dispatchMessageRequestExample,
    message_id: `upgrade-${version}`,
    agent_id_list: agents,
    content: JSON.stringify({ action: "upgrade", version, package: "gse_agent" }),
  });

  it("a delivered upgrade sets the agent's version and still acks; an agent marked keep-version keeps its own", async () => {
    sim.addAgents([{ bk_agent_id: "agent-keeps", ip: "10.0.0.4", version: "2.0.0" }]);
    const marked = await control(sim, "POST", "/_sim/agents/keep-version", { ids: ["agent-keeps", "no-such-agent"], keep: true });
    expect(marked.json).toEqual({ updated: 1, unknown: 1 });
    const before = sim.getAgent(EXAMPLE_AGENT)?.version;
    expect(before).not.toBe("9.9.9");

    envelopeOf(await call(sim, DISPATCH, upgrade([EXAMPLE_AGENT, "agent-keeps", "agent-down"], "9.9.9")));
    expect(sim.getAgent(EXAMPLE_AGENT)?.version).toBe("9.9.9");
    expect(sim.getAgent("agent-keeps")?.version).toBe("2.0.0");
    // Not delivered (not connected): not upgraded either.
    expect(sim.getAgent("agent-down")?.version).not.toBe("9.9.9");
    await waitFor(() => receiver.bodies.length === 2);

    // Unmarked, the next upgrade takes; any other content changes no version.
    await control(sim, "POST", "/_sim/agents/keep-version", { ids: ["agent-keeps"], keep: false });
    envelopeOf(await call(sim, DISPATCH, upgrade(["agent-keeps"], "9.9.9")));
    expect(sim.getAgent("agent-keeps")?.version).toBe("9.9.9");
    envelopeOf(await call(sim, DISPATCH, { ...upgrade(["agent-keeps"], "1.0.0"), content: '{"action":"restart","version":"1.0.0"}' }));
    expect(sim.getAgent("agent-keeps")?.version).toBe("9.9.9");
    // Its acks still on their way would land in the next test's receiver.
    await sim.idle();
  });
});

describe("reply content and the delivery timeline (outcome-gating tests)", () => {
  const failing = JSON.stringify({ code: 1, message: "failed" });

  it("makes an agent's plugin reply the content set by POST /_sim/agents/replies, and the ack again after null", async () => {
    expect((await control(sim, "POST", "/_sim/agents/replies", { ids: [EXAMPLE_AGENT], content: failing })).json).toEqual({ updated: 1 });
    await call(sim, DISPATCH, { ...examples.dispatchMessageRequestExample, message_id: "fails-1" });
    await waitFor(() => receiver.bodies.length === 1);
    expect(slotCallbackSchema.parse(receiver.bodies[0]).content).toBe(failing);

    await control(sim, "POST", "/_sim/agents/replies", { ids: [EXAMPLE_AGENT], content: null });
    await call(sim, DISPATCH, { ...examples.dispatchMessageRequestExample, message_id: "acks-1" });
    await waitFor(() => receiver.bodies.length === 2);
    expect(JSON.parse(slotCallbackSchema.parse(receiver.bodies[1]).content)).toMatchObject({ ack: true, message_id: "acks-1" });
  });

  it("refuses a replies body without ids, naming the field", async () => {
    const answer = await control(sim, "POST", "/_sim/agents/replies", { content: failing });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("ids");
  });

  it("answers each delivery with when its reply started being posted (null for a silent agent), and the calls that carried the message", async () => {
    sim.addAgents([{ bk_agent_id: "agent-quiet", ip: "10.0.0.4" }]);
    sim.setSilent(["agent-quiet"], true);
    const body = { ...examples.dispatchMessageRequestExample, message_id: "timeline-1", agent_id_list: [EXAMPLE_AGENT, "agent-quiet", "agent-down"] };
    await call(sim, DISPATCH, body);
    await call(sim, DISPATCH, { ...body, agent_id_list: ["agent-down"] });
    await sim.idle();
    const answer = (await control(sim, "GET", "/_sim/deliveries?message_id=timeline-1")).json as {
      calls: number;
      agents: Record<string, number>;
      timeline: { bk_agent_id: string; delivered_at: number; reply_issued_at: number | null }[];
    };
    expect(answer.calls).toBe(2);
    expect(answer.agents).toEqual({ [EXAMPLE_AGENT]: 1, "agent-quiet": 1 });
    expect(answer.timeline.map((e) => e.bk_agent_id)).toEqual([EXAMPLE_AGENT, "agent-quiet"]);
    const [replied, quiet] = answer.timeline;
    expect(replied?.reply_issued_at).toEqual(expect.any(Number));
    expect(replied?.reply_issued_at).toBeGreaterThanOrEqual(replied?.delivered_at ?? Infinity);
    expect(quiet?.reply_issued_at).toBeNull();
    expect((await control(sim, "GET", "/_sim/deliveries?message_id=never-sent")).json).toMatchObject({ calls: 0, timeline: [] });
  });
});
