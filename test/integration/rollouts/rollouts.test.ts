/**
 * Rollouts against the shared stack's real parts, driven through lib/ (test/helpers/rollouts.ts: a
 * commands table, a heartbeat and a queue of the test's own, one test clock for all of them): the
 * GSE simulator delivers the waves and the heartbeat polls it, so bake times and "seen after the
 * reply" are exact.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CommandStore } from "../../../lib/commands/store.ts";
import { ConflictError } from "../../../lib/core/errors.ts";
import { registerAgents } from "../../../lib/fleet/service.ts";
import { abortRolloutByOperator, getRollout, pauseRollout, resumeRollout, startRollout, sweepRollouts } from "../../../lib/rollouts/api.ts";
import { isTemplatedDispatch, rolloutJobs } from "../../../lib/rollouts/jobs.ts";
import type { RolloutDeps } from "../../../lib/rollouts/deps.ts";
import { tickRollout } from "../../../lib/rollouts/engine.ts";
import type { RolloutSpec, RolloutView } from "../../../lib/rollouts/schemas.ts";
import type { RolloutSettings } from "../../../lib/rollouts/spec.ts";
import { putLabels } from "../../../lib/fleet/labels.ts";
import { rolloutSpecOf } from "../../../lib/rollouts/api.ts";
import { putTemplate } from "../../../lib/templates/api.ts";
import { sqsRecord } from "../../helpers/events.ts";
import { addSimAgents, setSimStatus } from "../../helpers/heartbeat.ts";
import { rolloutHarness } from "../../helpers/rollouts.ts";
import { callApi, simulatorControl, useStack } from "../../helpers/stack.ts";

const { info, authHeader } = useStack();
const run = randomUUID().slice(0, 8);

const spec = (label: string, agentIds: readonly string[], settings: RolloutSettings, content = "reload"): RolloutSpec => ({
  rollout_id: `test.ro.${label}.${run}`,
  content,
  settings,
  agent_ids: agentIds,
});

async function deliveredTo(messageId: string): Promise<string[]> {
  const answer = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(messageId)}`)) as { agents: Record<string, number> };
  return Object.keys(answer.agents).sort();
}

const ended = (view: RolloutView): boolean => ["SUCCEEDED", "ABORTED", "CANCELLED"].includes(view.status);

describe("rollout waves", () => {
  it("exponential start 1 factor 2 over 15 agents sends waves of 1, 2, 4, 8, each after the previous one's bake", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 15);
    const started = await startRollout(h.deps, spec("exp", ids, { strategy: { kind: "exponential", start: 1, factor: 2 }, bake_seconds: 2 }), "tester");
    // Wave 1 went out in the request (one agent: it may have ended and be baking already).
    expect(["RUNNING", "BAKING"]).toContain(started.status);
    expect(started.waves.map((w) => w.size)).toEqual([1]);

    const view = await h.driveUntil(started.rollout_id, ended);
    expect(view.status).toBe("SUCCEEDED");
    expect(view.waves.map((w) => w.size)).toEqual([1, 2, 4, 8]);
    for (let k = 1; k < view.waves.length; k++) {
      const before = view.waves[k - 1]!;
      expect(Date.parse(view.waves[k]!.started_at)).toBeGreaterThanOrEqual(Date.parse(before.ended_at!) + 2_000);
      expect(before.bake_until).toBe(new Date(Date.parse(before.ended_at!) + 2_000).toISOString());
    }
    // Each wave's command reached exactly its slice of the snapshot, once.
    const all: string[] = [];
    for (const wave of view.waves) {
      const got = await deliveredTo(wave.message_id);
      expect(got).toEqual([...ids.slice(wave.offset, wave.offset + wave.size)].sort());
      all.push(...got);
      expect(wave.status).toBe("SUCCEEDED");
    }
    expect(all.sort()).toEqual([...ids].sort());
  });

  it("linear waves: pause holds the next wave, resume goes on, abort runs the undo on the agents of the waves sent", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 15);
    const s = spec("linear", ids, { strategy: { kind: "linear", wave_size: 5 }, bake_seconds: 2, undo: { content: "rollback" } });
    const started = await startRollout(h.deps, s, "tester");
    const baking = await h.driveUntil(started.rollout_id, (v) => v.status === "BAKING");
    expect(baking.waves.map((w) => w.size)).toEqual([5]);

    expect((await pauseRollout(h.deps, s.rollout_id)).status).toBe("PAUSED");
    h.clock.now += 10_000;
    expect(await tickRollout(h.deps, s.rollout_id)).toBeUndefined();
    const paused = await getRollout(h.deps, s.rollout_id);
    expect(paused.status).toBe("PAUSED");
    expect(paused.waves).toHaveLength(1);

    const resumed = await resumeRollout(h.deps, s.rollout_id);
    expect(["RUNNING", "BAKING"]).toContain(resumed.status);
    expect(resumed.waves.map((w) => w.size)).toEqual([5, 5]);

    const aborted = await abortRolloutByOperator(h.deps, s.rollout_id, "aborted by tester: enough");
    expect(aborted.status).toBe("ABORTED");
    expect(aborted.reason).toBe("aborted by tester: enough");
    const done = await h.driveUntil(s.rollout_id, (v) => v.undo !== null && v.undo.status !== "RUNNING" && v.undo.status !== "PENDING");
    expect(done.undo?.message_id).toBe(`${s.rollout_id}.undo`);
    expect(await deliveredTo(`${s.rollout_id}.undo`)).toEqual([...ids.slice(0, 10)].sort());
    // The third wave never started.
    expect(done.waves).toHaveLength(2);
    expect(await deliveredTo(`${s.rollout_id}.w3`)).toEqual([]);
  });

  it("pausing a rollout mid-wave pauses the wave's command: nothing new goes out until resume, and it carries the reply rule", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 6);
    // Replies go to the stack's own callback, not this file's table: every agent times out after 5 s and frees its place.
    const s = spec("pausewave", ids, { max_concurrency: 2, reply_timeout_seconds: 5, reply_rule: { kind: "none" } });
    const started = await startRollout(h.deps, s, "tester");
    const wave = started.waves[0]!.message_id;
    expect((await deliveredTo(wave)).length).toBe(2);
    expect((await pauseRollout(h.deps, s.rollout_id)).status).toBe("PAUSED");
    const command = await h.deps.commands.store.getCommand(wave);
    expect(command?.paused).toBe(true);
    expect(command?.reply_rule).toEqual({ kind: "none" });
    h.clock.now += 6_000;
    await h.drain(5);
    await tickRollout(h.deps, s.rollout_id);
    expect((await deliveredTo(wave)).length).toBe(2);

    await resumeRollout(h.deps, s.rollout_id);
    expect((await h.deps.commands.store.getCommand(wave))?.paused).toBe(false);
    await h.drain(5);
    expect((await deliveredTo(wave)).length).toBe(4);
  });

  it("an abort while a wave is sending stops it: agents never sent get neither the wave nor the undo", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 25);
    const s = spec("midwave", ids, { max_concurrency: 10, undo: { content: "rollback" } });
    const started = await startRollout(h.deps, s, "tester");
    // The request sent the first batch of 10; the rest waits for the command's tick.
    expect(started.waves[0]).toMatchObject({ size: 25, status: "RUNNING" });
    const sent = await deliveredTo(`${s.rollout_id}.w1`);
    expect(sent).toHaveLength(10);
    await abortRolloutByOperator(h.deps, s.rollout_id, "aborted by tester");
    const done = await h.driveUntil(s.rollout_id, (v) => v.undo !== null && !["PENDING", "RUNNING"].includes(v.undo.status));
    expect(done.waves[0]).toMatchObject({ status: "ABORTED", counts: expect.objectContaining({ SENT: 10, SKIPPED: 15 }) });
    expect(await deliveredTo(`${s.rollout_id}.w1`)).toEqual(sent);
    expect(await deliveredTo(`${s.rollout_id}.undo`)).toEqual(sent);
  });

  it("starting the same rollout again answers the same rollout; another body under its id is a conflict", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 3);
    const s = spec("idem", ids, { strategy: { kind: "all" } });
    const first = await startRollout(h.deps, s, "tester");
    const again = await startRollout(h.deps, s, "tester");
    expect(again.rollout_id).toBe(first.rollout_id);
    expect(again.created_at).toBe(first.created_at);
    expect(await deliveredTo(`${s.rollout_id}.w1`)).toHaveLength(3);
    await expect(startRollout(h.deps, { ...s, content: "other" }, "tester")).rejects.toBeInstanceOf(ConflictError);
  });
});

describe("rollout targets and templates", () => {
  it("a rollout by target query snapshots the watched agents the query picks at start, and shows the query", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 6);
    await registerAgents(h.deps.fleet, ids, "api");
    await h.poll();
    const zone = `z${run}`;
    const picked = ids.slice(0, 4);
    for (const id of picked) await putLabels(h.deps.fleet, id, { zone });
    const body = { rollout_id: `test.ro.query.${run}`, targets: { query: { labels: { zone } } }, content: "reload" };
    const started = await startRollout(h.deps, await rolloutSpecOf(h.deps, body), "tester");
    expect(started.targets).toBe(4);
    expect(started.target_query).toEqual({ labels: { zone } });
    // Labelled later: not in the snapshot.
    await putLabels(h.deps.fleet, ids[4]!, { zone });
    const view = await h.driveUntil(started.rollout_id, ended);
    expect(view.status).toBe("SUCCEEDED");
    expect(await deliveredTo(view.waves[0]!.message_id)).toEqual([...picked].sort());
    await expect(rolloutSpecOf(h.deps, { ...body, targets: { query: { labels: { zone: "nowhere" } } } })).rejects.toMatchObject({
      status: 400,
      problems: [expect.objectContaining({ path: "targets.query" })],
    });
  });

  it("a rollout by template fills in the parameters, takes the run's own settings over the template's and records the template version", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 4);
    const name = `tpl-${run}`;
    await putTemplate(
      { store: h.deps.templates, now: () => h.clock.now },
      name,
      {
        content: '{"action":"upgrade","version":"{{version}}"}',
        parameters: [{ name: "version", required: true }],
        strategy: { kind: "linear", wave_size: 2 },
        max_errors: 0,
      },
      "tester",
    );
    const body = { rollout_id: `test.ro.tpl.${run}`, targets: { agent_id_list: ids }, template: { name, parameters: { version: "2.1.0" } }, max_errors: 1 };
    const spec = await rolloutSpecOf(h.deps, body);
    expect(spec.content).toBe('{"action":"upgrade","version":"2.1.0"}');
    expect(spec.settings).toMatchObject({ strategy: { kind: "linear", wave_size: 2 }, max_errors: 1 });
    const view = await h.driveUntil((await startRollout(h.deps, spec, "tester")).rollout_id, ended);
    expect(view.template).toEqual({ name, version: 1 });
    expect(view.waves.map((w) => w.size)).toEqual([2, 2]);
    await expect(rolloutSpecOf(h.deps, { ...body, template: { name, parameters: {} } })).rejects.toMatchObject({ status: 400 });
    await expect(rolloutSpecOf(h.deps, { ...body, content: "x" })).rejects.toMatchObject({
      status: 400,
      problems: [expect.objectContaining({ path: "template" })],
    });
  });
});

describe("queue-driven template runs", () => {
  it("a command.dispatch job naming a template starts a rollout of it under its message_id, once however often it is delivered", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 3);
    const name = `tpljob-${run}`;
    await putTemplate(
      { store: h.deps.templates, now: () => h.clock.now },
      name,
      { content: "restart {{svc}}", parameters: [{ name: "svc", required: true }] },
      "tester",
    );
    const job = { type: "command.dispatch", message_id: `test.ro.tpljob.${run}`, agent_id_list: ids, template: { name, parameters: { svc: "beat" } } };
    const handler = rolloutJobs(h.deps).templatedDispatch;
    await handler(job, sqsRecord(JSON.stringify(job)));
    await handler(job, sqsRecord(JSON.stringify(job)));
    const view = await h.driveUntil(job.message_id, ended);
    expect(view).toMatchObject({ status: "SUCCEEDED", targets: 3, template: { name, version: 1 } });
    expect(await deliveredTo(view.waves[0]!.message_id)).toEqual([...ids].sort());
    expect(isTemplatedDispatch(job)).toBe(true);
    expect(isTemplatedDispatch({ type: "command.dispatch", message_id: "m", agent_id_list: ids, content: "x" })).toBe(false);
  });
});

describe("rollout convergence", () => {
  it("ticks running at once start each wave once: every agent gets each wave's message once", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 12);
    const s = spec("concurrent", ids, { strategy: { kind: "linear", wave_size: 4 }, bake_seconds: 1 });
    await startRollout(h.deps, s, "tester");
    for (let i = 0; i < 40; i++) {
      await h.drain();
      await Promise.all(Array.from({ length: 4 }, () => tickRollout(h.deps, s.rollout_id)));
      if ((await getRollout(h.deps, s.rollout_id)).status === "SUCCEEDED") break;
      h.clock.now += 500;
    }
    const view = await getRollout(h.deps, s.rollout_id);
    expect(view.status).toBe("SUCCEEDED");
    expect(view.waves.map((w) => w.size)).toEqual([4, 4, 4]);
    for (const wave of view.waves) {
      const answer = (await simulatorControl(info, "GET", `deliveries?message_id=${encodeURIComponent(wave.message_id)}`)) as {
        agents: Record<string, number>;
      };
      expect(Object.values(answer.agents)).toEqual([1, 1, 1, 1]);
    }
  });

  it("a crash after a wave was recorded and before its command was: the next tick sends it", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 6);
    const store = h.deps.commands.store;
    // Every write of a command fails while `down` (the process dies there), so the start's own tick cannot send the wave.
    let down = true;
    const crashing = Object.create(store) as CommandStore;
    crashing.createCommand = async (item) => {
      if (down) throw new Error("crash before the wave's command was written");
      return store.createCommand(item);
    };
    const deps: RolloutDeps = { ...h.deps, commands: { ...h.deps.commands, store: crashing } };
    const s = spec("crash", ids, { strategy: { kind: "linear", wave_size: 3 } });
    const started = await startRollout(deps, s, "tester");
    expect(started.waves.map((w) => [w.size, w.status])).toEqual([[3, "PENDING"]]);
    expect(await deliveredTo(`${s.rollout_id}.w1`)).toEqual([]);
    down = false;
    const view = await h.driveUntil(s.rollout_id, ended);
    expect(view.status).toBe("SUCCEEDED");
    expect(await deliveredTo(`${s.rollout_id}.w1`)).toEqual([...ids.slice(0, 3)].sort());
    expect(await deliveredTo(`${s.rollout_id}.w2`)).toEqual([...ids.slice(3)].sort());
  });
});

describe("rollout scheduling", () => {
  it("a rollout with start_at waits SCHEDULED until then, then sends its first wave", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 2);
    const s = { ...spec("scheduled", ids, {}), start_at: h.clock.now + 10_000 };
    const started = await startRollout(h.deps, s, "tester");
    expect(started).toMatchObject({ status: "SCHEDULED", waves: [], start_at: new Date(s.start_at).toISOString() });
    expect(h.jobs).toContainEqual(expect.objectContaining({ type: "rollout.tick", rollout_id: s.rollout_id }));
    h.clock.now += 9_000;
    expect(await tickRollout(h.deps, s.rollout_id)).toBe(1_000);
    h.clock.now += 1_000;
    const view = await h.driveUntil(s.rollout_id, ended);
    expect(view.status).toBe("SUCCEEDED");
    expect(await deliveredTo(`${s.rollout_id}.w1`)).toEqual([...ids].sort());
  });

  it("the sweep queues a tick for a rollout whose tick is overdue, and none for one that ended or is paused", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 4);
    const running = spec("sweep-running", ids.slice(0, 2), { bake_seconds: 600 });
    const paused = spec("sweep-paused", ids.slice(2), { bake_seconds: 600 });
    await startRollout(h.deps, running, "tester");
    await startRollout(h.deps, paused, "tester");
    await pauseRollout(h.deps, paused.rollout_id);
    h.jobs.length = 0;
    await sweepRollouts(h.deps);
    // Not overdue yet: nothing for either.
    expect(h.jobs.map((j) => j.rollout_id)).not.toContain(running.rollout_id);
    h.jobs.length = 0;
    h.clock.now += h.deps.settings.staleMs + 60_000;
    await sweepRollouts(h.deps);
    const ticked = h.jobs.filter((j) => j.type === "rollout.tick").map((j) => j.rollout_id);
    expect(ticked).toContain(running.rollout_id);
    expect(ticked).not.toContain(paused.rollout_id);
  });

  it("keeps one chain of ticks: a tick queued before a pause and resume is dropped when it comes, the newer one runs", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 2);
    const s = spec("chain", ids, { bake_seconds: 600 });
    await startRollout(h.deps, s, "tester");
    const ticks = () => h.jobs.filter((j) => j.type === "rollout.tick" && j.rollout_id === s.rollout_id);
    const old = ticks().at(-1) as { type: string; due: number };
    await pauseRollout(h.deps, s.rollout_id);
    h.clock.now += 1_000;
    await resumeRollout(h.deps, s.rollout_id);
    const newer = ticks().at(-1) as { type: string; due: number };
    expect(newer.due).toBeGreaterThan(old.due);
    const handler = rolloutJobs(h.deps)["rollout.tick"];
    const before = ticks().length;
    await handler(old, sqsRecord(JSON.stringify(old)));
    expect(ticks()).toHaveLength(before);
    await handler(newer, sqsRecord(JSON.stringify(newer)));
    expect(ticks()).toHaveLength(before + 1);
  });

  it("a rollout.start job starts the rollout of its body, once however often it is delivered", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 2);
    const id = `test.ro.job.${run}`;
    const job = { type: "rollout.start", rollout_id: id, targets: { agent_id_list: ids }, content: "reload" };
    const handler = rolloutJobs(h.deps)["rollout.start"];
    await handler(job, sqsRecord(JSON.stringify(job)));
    await handler(job, sqsRecord(JSON.stringify(job)));
    const view = await h.driveUntil(id, ended);
    expect(view).toMatchObject({ status: "SUCCEEDED", created_by: "automation", targets: 2 });
    expect(Object.values(((await simulatorControl(info, "GET", `deliveries?message_id=${id}.w1`)) as { agents: Record<string, number> }).agents)).toEqual([
      1, 1,
    ]);
  });
});

describe("rollout gates", () => {
  it("health gate: 30% of the touched agents going down after wave 1 aborts, the undo goes to exactly the touched agents, one alert names the gate", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 20);
    const s = spec("health", ids, {
      strategy: { kind: "linear", wave_size: 10 },
      bake_seconds: 600,
      gate: { max_unhealthy: "20%" },
      undo: { content: "rollback" },
    });
    await startRollout(h.deps, s, "tester");
    await h.poll();
    const baking = await h.driveUntil(s.rollout_id, (v) => v.status === "BAKING");
    expect(baking.gate).toMatchObject({ state: "ok", touched: 10, unhealthy: 0, threshold: 2 });

    const down = ids.slice(0, 3);
    await setSimStatus(info, down.slice(0, 2), 3);
    await setSimStatus(info, down.slice(2), 7);
    h.clock.now += 60_000;
    await h.poll();
    const aborted = await h.driveUntil(s.rollout_id, (v) => v.status === "ABORTED" && v.undo?.status !== "PENDING");
    expect(aborted.gate).toMatchObject({ state: "tripped", gate: "health", touched: 10, unhealthy: 3, threshold: 2 });
    expect(aborted.waves).toHaveLength(1);

    // The undo was sent to the 10 touched agents; the 3 down ones could not take it.
    const undo = await h.deps.commands.store.getCommand(`${s.rollout_id}.undo`);
    expect(undo?.target_count).toBe(10);
    expect(await deliveredTo(`${s.rollout_id}.undo`)).toEqual([...ids.slice(3, 10)].sort());
    expect(await deliveredTo(`${s.rollout_id}.w2`)).toEqual([]);

    const alerts = (await h.hb.takeMessages()).map((m) => m.body as Record<string, unknown>).filter((b) => b.type === "rollout.aborted");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rollout_id: s.rollout_id, gate: "health", touched: 10, unhealthy: 3, threshold: 2, undo: `${s.rollout_id}.undo` });
    expect((alerts[0]!.sample as { bk_agent_id: string }[]).map((a) => a.bk_agent_id).sort()).toEqual([...down].sort());

    // More ticks change nothing and send no second alert.
    await tickRollout(h.deps, s.rollout_id);
    expect((await h.hb.takeMessages()).filter((m) => (m.body as { type?: string }).type === "rollout.aborted")).toEqual([]);
  });

  for (const [maxErrors, status] of [
    [1, "ABORTED"],
    [2, "SUCCEEDED"],
  ] as const) {
    it(`upgrade with expect_version: the 2 of 10 agents that keep the old version are errors (max_errors ${maxErrors} → ${status})`, async () => {
      const h = await rolloutHarness();
      const { ids } = await addSimAgents(info, 10, { version: "2.0.0" });
      const kept = ids.slice(0, 2);
      await simulatorControl(info, "POST", "agents/keep-version", { ids: kept, keep: true });
      await registerAgents(h.deps.fleet, ids, "api");
      await h.poll();
      h.clock.now += 1_000;
      const s = spec(`upgrade${maxErrors}`, ids, { expect_version: "2.1.0", max_errors: maxErrors }, JSON.stringify({ action: "upgrade", version: "2.1.0" }));
      await startRollout(h.deps, s, "tester");
      await h.drain();
      // The wave's command ended, but the heartbeat has not seen the agents since: the wave waits.
      await tickRollout(h.deps, s.rollout_id);
      const waiting = await getRollout(h.deps, s.rollout_id);
      expect(waiting.status).toBe("RUNNING");
      expect(waiting.waves[0]?.status).toBe("SUCCEEDED");

      h.clock.now += 60_000;
      await h.poll();
      const view = await h.driveUntil(s.rollout_id, ended);
      expect(view.status).toBe(status);
      expect(view.errors).toBe(2);
      expect(view.waves[0]?.version_mismatch.sort()).toEqual([...kept].sort());
      if (status === "ABORTED") expect(view.gate).toMatchObject({ gate: "errors", state: "tripped" });
      const alerts = (await h.hb.takeMessages()).map((m) => m.body as Record<string, unknown>).filter((b) => b.type === "rollout.aborted");
      expect(alerts.map((a) => a.gate)).toEqual(status === "ABORTED" ? ["errors"] : []);
    });
  }
});

describe("the version check", () => {
  it("counts agents the heartbeat never saw after the upgrade as errors once silent_seconds passed", async () => {
    const h = await rolloutHarness();
    const { ids } = await addSimAgents(info, 4, { version: "2.0.0" });
    const s = spec(
      "unseen",
      ids,
      { expect_version: "2.1.0", max_errors: 10, gate: { max_unhealthy: 4, silent_seconds: 30 } },
      JSON.stringify({ action: "upgrade", version: "2.1.0" }),
    );
    await startRollout(h.deps, s, "tester");
    await h.drain();
    h.clock.now += 29_000;
    await tickRollout(h.deps, s.rollout_id);
    expect((await getRollout(h.deps, s.rollout_id)).status).toBe("RUNNING");
    h.clock.now += 2_000;
    const view = await h.driveUntil(s.rollout_id, ended);
    expect(view.status).toBe("SUCCEEDED");
    expect(view.errors).toBe(4);
    expect(view.waves[0]?.version_mismatch.sort()).toEqual([...ids].sort());
  });
});

describe("POST /v1/rollouts", () => {
  const post = (body: unknown) => callApi(info.gatewayUrl, "/v1/rollouts", { method: "POST", headers: authHeader, body });

  it.each([
    ["an empty target list", { targets: { agent_id_list: [] }, content: "x" }, "targets"],
    ["a zero linear wave", { targets: { agent_id_list: ["0:10.9.9.9"] }, content: "x", strategy: { kind: "linear", wave_size: 0 } }, "strategy.wave_size"],
    ["a bad expect_version", { targets: { agent_id_list: ["0:10.9.9.9"] }, content: "x", expect_version: "not a range" }, "expect_version"],
    ["an unknown field", { targets: { agent_id_list: ["0:10.9.9.9"] }, content: "x", speed: 3 }, ""],
    ["a target query no watched agent matches", { targets: { query: { labels: { nowhere: run } } }, content: "x" }, "targets.query"],
  ])("refuses %s with 400 naming the field", async (_what, body, field) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    const errors = (answer.body.data as { errors: { path: string }[] }).errors;
    expect(errors.some((e) => e.path.startsWith(field))).toBe(true);
  });

  it("starts a rollout that the stack's queue drives to its end (wave 2 after the bake, by a queued rollout.tick), and lists it", async () => {
    const { ids } = await addSimAgents(info, 3);
    const id = `test.ro.http.${run}`;
    const answer = await post({
      rollout_id: id,
      targets: { agent_id_list: ids },
      content: "reload",
      strategy: { kind: "linear", wave_size: 2 },
      bake_seconds: 1,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ rollout_id: id, targets: 3 });
    const deadline = Date.now() + 60_000;
    let view: RolloutView | undefined;
    while (Date.now() < deadline) {
      view = (await callApi(info.gatewayUrl, `/v1/rollouts/${id}`, { headers: authHeader })).body.data as RolloutView;
      if (view.status === "SUCCEEDED") break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(view?.status).toBe("SUCCEEDED");
    expect(view?.waves.map((w) => w.size)).toEqual([2, 1]);
    expect(Date.parse(view!.waves[1]!.started_at)).toBeGreaterThanOrEqual(Date.parse(view!.waves[0]!.ended_at!) + 1_000);
    const list = (await callApi(info.gatewayUrl, "/v1/rollouts?status=SUCCEEDED", { headers: authHeader })).body.data as { rollouts: { rollout_id: string }[] };
    expect(list.rollouts.map((r) => r.rollout_id)).toContain(id);
  });
});
