/**
 * Rollouts on the status page through the stack's local gateway: a rollout started by the API,
 * driven by the stack's automation queue and delivered by the simulator, shown by
 * /v1/console/data with its current wave and gate; and the page's buttons' route, which pauses
 * and aborts it for an operator signed in by HTTP Basic and changes nothing for anyone else.
 * The agents and the rollout are this file's own.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consoleDataSchema, type ConsoleData, type ConsoleRollout } from "../../../lib/console/schemas.ts";
import { addConsoleAgents, basicAuth } from "../../helpers/console.ts";
import { callApi, eventually, simulatorControl, useStack } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const { bk_app_code: code, bk_app_secret: secret } = info.credentials.caller;
const reader = info.credentials.scoped.reader;
const run = randomUUID().slice(0, 8);

async function consoleData(): Promise<ConsoleData> {
  const res = await callApi(info.gatewayUrl, "/v1/console/data", { headers: basicAuth(code, secret) });
  expect(res.status, res.text).toBe(200);
  return consoleDataSchema.parse(res.body.data);
}

const shownRollout = (what: string, id: string, pick: (r: ConsoleRollout) => boolean): Promise<ConsoleRollout> =>
  eventually(
    what,
    async () => {
      const found = (await consoleData()).rollouts.find((r) => r.rollout_id === id);
      return found && pick(found) ? found : undefined;
    },
    30_000,
  );

const statusOf = async (id: string): Promise<unknown> =>
  (await callApi(info.gatewayUrl, `/v1/rollouts/${encodeURIComponent(id)}`, { headers: authHeader })).body.data as unknown;

const action = (id: string, name: string, headers: Record<string, string>) =>
  callApi(info.gatewayUrl, `/v1/console/rollouts/${encodeURIComponent(id)}/${name}`, { method: "POST", headers, body: {} });

describe("rollouts on the status page", () => {
  it("shows a running rollout with its wave and gate; an operator pauses and aborts it by the page's route, a reader or a cross-site form changes nothing", {
    timeout: 120_000,
  }, async () => {
    const ids = await addConsoleAgents(info, 2);
    // Their plugins never answer: wave 1 stays RUNNING.
    await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
    const id = `console-ro-${run}`;
    const started = await callApi(info.gatewayUrl, "/v1/rollouts", {
      method: "POST",
      headers: authHeader,
      body: {
        rollout_id: id,
        targets: { agent_id_list: ids },
        content: '{"task":"console"}',
        reply_timeout_seconds: 600,
        max_errors: 1,
        strategy: { kind: "linear", wave_size: 1 },
        gate: { max_unhealthy: 1 },
      },
    });
    expect(started.body, started.text).toMatchObject({ result: true });

    const running = await shownRollout("wave 1 sent", id, (r) => r.wave?.sent === 1);
    expect(running).toMatchObject({
      status: "RUNNING",
      targets: 2,
      errors: 0,
      max_errors: 1,
      current_wave: 1,
      waves: 1,
      wave: { index: 1, size: 1, status: "RUNNING", sent: 1, settled: 0, failed: 0 },
      gate: { state: "ok", gate: null },
      actions: ["pause", "abort"],
      created_by: code,
    });

    // A form another site posts (text/plain) and a caller without `operator`: refused, nothing changes.
    const form = await callApi(info.gatewayUrl, `/v1/console/rollouts/${id}/pause`, {
      method: "POST",
      headers: { ...basicAuth(code, secret), "content-type": "text/plain" },
      body: "{}",
    });
    expect(form.status, form.text).toBe(400);
    expect(form.body).toMatchObject({ result: false, data: { errors: [{ path: "content-type" }] } });
    const refused = await action(id, "pause", basicAuth(reader.bk_app_code, reader.bk_app_secret));
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body).toMatchObject({ data: { required_scope: "operator" } });
    const anonymous = await action(id, "pause", {});
    expect(anonymous.status).toBe(401);
    expect(await statusOf(id)).toMatchObject({ status: "RUNNING" });

    const paused = await action(id, "pause", basicAuth(code, secret));
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({ result: true, data: { rollout_id: id, status: "PAUSED" } });
    expect(await shownRollout("paused", id, (r) => r.status === "PAUSED")).toMatchObject({ actions: ["resume", "abort"] });

    const aborted = await action(id, "abort", basicAuth(code, secret));
    expect(aborted.status, aborted.text).toBe(200);
    expect(aborted.body).toMatchObject({ data: { status: "ABORTED", reason: `aborted by ${code} on the status page` } });
    expect(await shownRollout("aborted", id, (r) => r.status === "ABORTED")).toMatchObject({ actions: [] });
    const again = await action(id, "abort", basicAuth(code, secret));
    expect(again.status).toBe(409);
    expect(aborted.text + again.text + refused.text).not.toContain(secret);
  });
});
