/**
 * A rollout through the whole stack (POST /v1/rollouts, the queue's rollout and command ticks, the
 * commands table's stream, the alerts topic): an abort is one alert, the rollout's, naming its gate;
 * the wave command it stopped raises none of its own.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutView } from "../../../lib/rollouts/schemas.ts";
import { alertInbox, type AlertInbox } from "../../helpers/configs.ts";
import { callApi, eventually, simulatorControl, uniqueSimIp, useStack } from "../../helpers/stack.ts";

const { info, authHeader, sqs, sns, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
let inbox: AlertInbox;

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
});

afterAll(() => {
  sqs.destroy();
  sns.destroy();
  dynamo.destroy();
});

async function silentAgents(n: number): Promise<string[]> {
  const agents = Array.from({ length: n }, (_, i) => ({ bk_agent_id: `ra-${run}-${i}`, ip: uniqueSimIp("10.239"), status_code: 2, churn: false }));
  await simulatorControl(info, "POST", "agents", { agents });
  const ids = agents.map((a) => a.bk_agent_id);
  await simulatorControl(info, "POST", "agents/silent", { ids, silent: true });
  return ids;
}

const deliveredTo = async (messageId: string): Promise<string[]> =>
  Object.keys(((await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(messageId)}`)) as { agents: Record<string, number> }).agents);

describe("a rollout's abort alert", () => {
  it("3 silent agents, max_concurrency 1, max_errors 0: one agent ever sent, ABORTED by the errors gate, the undo to that agent, one alert (the rollout's)", async () => {
    const agents = await silentAgents(3);
    const id = `ra.${run}`;
    const res = await callApi(info.gatewayUrl, "/v1/rollouts", {
      method: "POST",
      headers: authHeader,
      body: {
        rollout_id: id,
        targets: { agent_id_list: agents },
        content: "probe",
        max_concurrency: 1,
        max_errors: 0,
        reply_timeout_seconds: 2,
        undo: { content: "rollback" },
      },
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);

    const done = await eventually(
      "the rollout aborted and its undo ended",
      async () => {
        const v = (await callApi(info.gatewayUrl, `/v1/rollouts/${id}`, { headers: authHeader })).body.data as RolloutView;
        return v.status === "ABORTED" && v.undo !== null && !["PENDING", "RUNNING"].includes(v.undo.status) ? v : undefined;
      },
      60_000,
    );
    expect(done.gate).toMatchObject({ state: "tripped", gate: "errors" });
    const wave = done.waves[0]!;
    expect(wave).toMatchObject({ status: "ABORTED", counts: expect.objectContaining({ TIMED_OUT: 1, SKIPPED: 2 }) });
    const touched = await deliveredTo(wave.message_id);
    expect(touched).toHaveLength(1);
    expect(await deliveredTo(`${id}.undo`)).toEqual(touched);

    const [alert] = await eventually(
      "the rollout's alert",
      async () => {
        const found = await inbox.about(`rollout#${id}`);
        return found.length > 0 ? found : undefined;
      },
      30_000,
    );
    expect(alert).toMatchObject({ type: "rollout.aborted", gate: "errors" });
    // Long enough for the stream to have raised the wave command's own alert, had it one.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await inbox.about(`rollout#${id}`)).toHaveLength(1);
    expect(await inbox.about(`command#${wave.message_id}`)).toEqual([]);
  }, 120_000);
});
