/**
 * Applies against the stack's GSE simulator and DynamoDB Local, through lib/desired: every change
 * a versioned config change, undone in reverse when one fails, refused when GSE moved since the
 * plan, and a bake whose gate (the alive ratio of a heartbeat of the test's own) rolls it back.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readObject } from "../../../lib/config-versions/documents.ts";
import { getApply } from "../../../lib/desired/applies.ts";
import { applyPlan, PlanStaleError } from "../../../lib/desired/apply.ts";
import { bakeTick, desiredBakeJob } from "../../../lib/desired/bake.ts";
import { createPlan } from "../../../lib/desired/plans.ts";
import { STALE_APPLY_MS, sweepApplies } from "../../../lib/desired/sweep.ts";
import { desiredDocumentSchema, type DesiredDocument } from "../../../lib/desired/schemas.ts";
import { registerAgents } from "../../../lib/fleet/service.ts";
import { queryStreamTos, readChannel } from "../../../lib/gse/objects.ts";
import { alertInbox, directGse } from "../../helpers/configs.ts";
import { applyHarness, pipeline } from "../../helpers/desired.ts";
import { captureOutput, sqsRecord } from "../../helpers/events.ts";
import { addSimAgents, setSimStatus } from "../../helpers/heartbeat.ts";
import { simulatorCounters, useStack, withFaults } from "../../helpers/stack.ts";

const { info, sqs, sns } = useStack();
const run = randomUUID().slice(0, 8);
const output = captureOutput();
const gse = directGse(info);
const SECRETS = [`pw-${run}`, `rpw-${run}`];

/** The pipeline on a platform of the test's own: nobody else's stream_tos in its dumps. */
const docOf = (tag: string): DesiredDocument => desiredDocumentSchema.parse(pipeline(tag, run, `plat-${run}-${tag}`));

/** What GSE holds for the document's platform and channels, in full (query_streamto and query_route as GSE answers them). */
async function dump(doc: DesiredDocument): Promise<unknown> {
  const streamTos = await queryStreamTos(gse, { platName: doc.plat_name, operator: "admin" });
  const channels = await Promise.all(doc.routes.map((r) => readChannel(gse, r.channel_id, "admin")));
  return { streamTos, channels };
}

/** A stream_to that was on the platform before the test's document: a dump of an empty platform would prove nothing. */
async function seedStreamTo(doc: DesiredDocument): Promise<void> {
  await gse.call("add_streamto", {
    metadata: { plat_name: doc.plat_name },
    operation: { operator_name: "admin" },
    stream_to: { name: `seed-${doc.plat_name}`, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.9", port: 9092 }] } },
  });
}

const expectNoSecret = (text: string): void => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe("applying a plan", () => {
  it("creates 2 stream_tos and 3 routes pointing at the created ids; a second plan is all unchanged and its apply writes nothing to GSE", async () => {
    const h = await applyHarness();
    const doc = docOf("fresh");
    const plan = await createPlan(h.deps, doc, "tester");
    const applied = await applyPlan(h.deps, plan.plan_id, {}, "tester");

    expect(applied.status).toBe("APPLIED");
    expect(applied.steps.map((s) => [s.order, s.kind, s.action, s.status])).toEqual([
      [1, "streamto", "create", "APPLIED"],
      [2, "streamto", "create", "APPLIED"],
      [3, "route", "create", "APPLIED"],
      [4, "route", "create", "APPLIED"],
      [5, "route", "create", "APPLIED"],
    ]);
    expect(applied.steps.every((s) => s.version !== null && s.id !== null)).toBe(true);
    // GSE holds the stream_tos by name, and each channel's route sends to the id GSE gave its stream_to.
    const held = await queryStreamTos(gse, { platName: doc.plat_name, operator: "admin" });
    const idOf = new Map(applied.steps.filter((s) => s.kind === "streamto").map((s) => [s.name, s.id]));
    expect(held.map((s) => JSON.stringify(s)).join()).toContain(doc.stream_tos[0]!.name);
    expect(held).toHaveLength(2);
    for (const channel of doc.routes) {
      const route = await readObject(gse, { kind: "route", id: channel.channel_id }, doc.plat_name, "admin");
      const want = channel.route[0]!;
      expect(route && "route" in route ? route.route.map((r) => [r.name, r.stream_to.stream_to_id]) : null).toEqual([
        [want.name, idOf.get(want.stream_to.name)],
      ]);
    }
    expect((await h.deps.store.getLastApplied(doc.plat_name))?.apply_id).toBe(applied.apply_id);

    const again = await createPlan(h.deps, doc, "tester");
    expect(again.summary).toEqual({ create: 0, update: 0, delete: 0, unchanged: 5 });
    const before = await simulatorCounters(info);
    const second = await applyPlan(h.deps, again.plan_id, {}, "tester");
    expect(second.status).toBe("APPLIED");
    expect(second.steps.every((s) => s.status === "UNCHANGED")).toBe(true);
    expect((await simulatorCounters(info)).applied).toEqual(before.applied);
    // A plan is applied once.
    await expect(applyPlan(h.deps, again.plan_id, {}, "tester")).rejects.toMatchObject({ status: 409, message: expect.stringContaining(second.apply_id) });
  });

  it("a GSE fault on the 4th change undoes the first 3 in reverse: GSE ends as before, ROLLED_BACK, one alert without a secret, no secret logged", async () => {
    const inbox = await alertInbox(info, sqs, sns);
    const h = await applyHarness({ logger: new Logger({ logLevel: "DEBUG" }) });
    const doc = docOf("fault");
    await seedStreamTo(doc);
    const before = await dump(doc);
    const plan = await createPlan(h.deps, doc, "tester");
    const second = doc.routes[1]!.channel_id;

    const view = await withFaults(info, [{ kind: "business_error", code: 1001, operation: "add_route", match: String(second) }], () =>
      applyPlan(h.deps, plan.plan_id, {}, "tester"),
    );

    expect(view.status).toBe("ROLLED_BACK");
    expect(view.steps.map((s) => [s.order, s.status])).toEqual([
      [1, "UNDONE"],
      [2, "UNDONE"],
      [3, "UNDONE"],
      [4, "FAILED"],
      [5, "PENDING"],
    ]);
    expect(view.steps.slice(0, 3).every((s) => s.undo_version !== null)).toBe(true);
    expect(view.error?.gse_code).toBe(1001);
    expect(await dump(doc)).toEqual(before);

    const object = `desired#${doc.plat_name}`;
    const alerts = await waitForAlerts(inbox, object);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: "config.desired_apply", severity: "warning", apply_id: view.apply_id, failed_step: `route#${second}` });
    expect((alerts[0] as unknown as { undone: string[] }).undone).toHaveLength(3);
    expectNoSecret(JSON.stringify(alerts));
    expectNoSecret(JSON.stringify(view));
    expect(output.text()).toContain(view.apply_id);
    expectNoSecret(output.text());
  });

  it("refuses with PLAN_STALE and a new plan when GSE changed since the plan, writing nothing and recording no apply", async () => {
    const h = await applyHarness();
    const doc = docOf("stale");
    const first = await applyPlan(h.deps, (await createPlan(h.deps, doc, "tester")).plan_id, {}, "tester");
    const kafkaId = first.steps[0]!.id as number;
    const moved = { ...doc, routes: doc.routes.map((r) => ({ ...r, route: r.route.map((e) => ({ ...e, name: `${e.name}-v2` })) })) };
    const plan = await createPlan(h.deps, moved, "tester");
    await gse.call("update_streamto", {
      condition: { stream_to_id: kafkaId, plat_name: doc.plat_name },
      operation: { operator_name: "admin" },
      specification: { stream_to: { name: doc.stream_tos[0]!.name, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.7", port: 9092 }] } } },
    });

    const counters = await simulatorCounters(info);
    const error = await applyPlan(h.deps, plan.plan_id, {}, "tester").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanStaleError);
    expect(error).toMatchObject({ status: 409, codeName: "PLAN_STALE" });
    const fresh = (error as PlanStaleError).data.plan;
    expect(fresh.plan_id).not.toBe(plan.plan_id);
    expect(fresh.changes.find((c) => c.kind === "streamto" && c.id === kafkaId)?.action).toBe("update");
    expect((await simulatorCounters(info)).applied).toEqual(counters.applied);
    expect((await h.deps.store.getPlan(plan.plan_id))?.apply_id).toBeUndefined();
  });
});

describe("the bake", () => {
  /** 10 agents of the harness's own, watched and seen alive by one poll. */
  async function watchedAgents(h: Awaited<ReturnType<typeof applyHarness>>): Promise<string[]> {
    const { ids } = await addSimAgents(info, 10);
    await registerAgents({ store: h.hb.store, now: () => h.clock.now, settings: { evictAfterSeconds: 86_400 } }, ids, "api");
    await h.poll();
    return ids;
  }

  it("2 of 10 gate agents lost during the bake trip the alive_ratio gate: the whole apply undone, GSE as before, one alert naming the gate", async () => {
    const inbox = await alertInbox(info, sqs, sns);
    const h = await applyHarness();
    const ids = await watchedAgents(h);
    const doc = docOf("bake-trip");
    await seedStreamTo(doc);
    const before = await dump(doc);
    const plan = await createPlan(h.deps, doc, "tester");

    const baking = await applyPlan(h.deps, plan.plan_id, { bake_seconds: 600, gate: { max_alive_drop_points: 10, agent_id_list: ids } }, "tester");
    expect(baking.status).toBe("BAKING");
    expect(baking.bake).toMatchObject({ seconds: 600, alive_before: 100, tripped: null });
    expect(h.jobs.map((j) => [j.job.type, j.job.apply_id, j.delaySeconds])).toEqual([["desired.bake", baking.apply_id, 15]]);
    expect(await bakeTick(h.deps, baking.apply_id)).toBe(15_000);

    await setSimStatus(info, ids.slice(0, 2), 3);
    h.clock.now += 60_000;
    await h.poll();
    expect(await bakeTick(h.deps, baking.apply_id)).toBeUndefined();

    const view = await getApply(h.deps.store, baking.apply_id);
    expect(view.status).toBe("ROLLED_BACK");
    expect(view.bake?.tripped?.gate).toBe("alive_ratio");
    expect(view.bake?.alive_now).toBe(80);
    expect(view.steps.every((s) => s.status === "UNDONE")).toBe(true);
    expect(await dump(doc)).toEqual(before);
    const alerts = await waitForAlerts(inbox, `desired#${doc.plat_name}`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: "config.desired_apply", gate: "alive_ratio", apply_id: baking.apply_id });
    expect(alerts[0]?.summary).toContain("alive_ratio");
    // A later tick finds nothing to do.
    expect(await bakeTick(h.deps, baking.apply_id)).toBeUndefined();
    expect(await waitForAlerts(inbox, `desired#${doc.plat_name}`)).toHaveLength(1);
  });

  it("a route changed by another client during the bake trips the drift gate: the apply undone, its objects gone again", async () => {
    const h = await applyHarness();
    const doc = docOf("bake-drift");
    const before = await dump(doc);
    const plan = await createPlan(h.deps, doc, "tester");
    const baking = await applyPlan(h.deps, plan.plan_id, { bake_seconds: 600 }, "tester");
    expect(baking.bake).toMatchObject({ gate: null, alive_before: null });
    expect(await bakeTick(h.deps, baking.apply_id)).toBe(15_000);

    const channel = doc.routes[2]!;
    await gse.call("update_route", {
      condition: { channel_id: channel.channel_id, plat_name: doc.plat_name },
      operation: { operator_name: "admin" },
      specification: {
        route: [{ name: channel.route[0]!.name, stream_to: { stream_to_id: baking.steps[1]!.id as number, redis: { channel_name: "moved" } } }],
      },
    });
    h.clock.now += 15_000;
    expect(await bakeTick(h.deps, baking.apply_id)).toBeUndefined();
    const view = await getApply(h.deps.store, baking.apply_id);
    expect(view.status).toBe("ROLLED_BACK");
    expect(view.bake?.tripped).toMatchObject({ gate: "drift", reason: expect.stringContaining(`route#${channel.channel_id}`) });
    expect(await dump(doc)).toEqual(before);
  });

  it("a bake whose gate holds ends APPLIED once the clock passes its end, and the platform's last applied document is stored; a lost tick is queued again by the sweep", async () => {
    const h = await applyHarness();
    const ids = await watchedAgents(h);
    const doc = docOf("bake-pass");
    const plan = await createPlan(h.deps, doc, "tester");
    const baking = await applyPlan(h.deps, plan.plan_id, { bake_seconds: 60, gate: { max_alive_drop_points: 10, agent_id_list: ids } }, "tester");
    expect(baking.status).toBe("BAKING");
    expect(await h.deps.store.getLastApplied(doc.plat_name)).toBeUndefined();

    // The queued job ticks and queues the next while the apply bakes.
    const job = h.jobs.shift()!.job;
    await desiredBakeJob(h.deps)(job as { type: string }, sqsRecord(JSON.stringify(job)));
    expect(h.jobs.map((j) => j.job.type)).toEqual(["desired.bake"]);
    // That tick is lost: the reconcile's sweep queues one once no tick looked for 4 periods, not before.
    h.jobs.length = 0;
    await sweepApplies(h.deps);
    expect(h.jobs.filter((j) => j.job.apply_id === baking.apply_id)).toEqual([]);
    h.clock.now += 4 * h.deps.settings.bakeTickMs + 1;
    await sweepApplies(h.deps);
    expect(h.jobs.filter((j) => j.job.apply_id === baking.apply_id)).toHaveLength(1);

    h.clock.now += 61_000 - 4 * h.deps.settings.bakeTickMs;
    await h.poll();
    expect(await bakeTick(h.deps, baking.apply_id)).toBeUndefined();
    const done = await h.deps.store.getApply(baking.apply_id);
    expect(done?.status).toBe("APPLIED");
    expect(done?.bake?.tripped).toBeNull();
    const last = await h.deps.store.getLastApplied(doc.plat_name);
    expect(last).toMatchObject({ apply_id: baking.apply_id, plan_id: plan.plan_id, document: doc });
  });
});

/** The alerts about `object` once the first has arrived (and a moment for a duplicate to follow). */
async function waitForAlerts(inbox: Awaited<ReturnType<typeof alertInbox>>, object: string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await inbox.about(object)).length > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  return inbox.about(object);
}

describe("an apply its process left mid-way", () => {
  it("is undone by the reconcile's sweep once stale: the step GSE took before the crash counts, GSE ends as before, one alert", async () => {
    const inbox = await alertInbox(info, sqs, sns);
    const h = await applyHarness();
    const doc = docOf("crash");
    await seedStreamTo(doc);
    const before = await dump(doc);
    const plan = await createPlan(h.deps, doc, "tester");
    // The process dies right after GSE took the 3rd change, before recording it.
    let saves = 0;
    const dying = Object.create(h.deps.store) as typeof h.deps.store;
    dying.updateApply = async (item, change) => {
      if (change.steps?.some((s) => s.order === 3 && s.status === "APPLIED") && saves++ === 0) throw new Error("the process died");
      return h.deps.store.updateApply(item, change);
    };
    await expect(applyPlan({ ...h.deps, store: dying }, plan.plan_id, {}, "tester")).rejects.toThrow("the process died");
    const left = await getApply(h.deps.store, (await h.deps.store.getPlan(plan.plan_id))?.apply_id ?? "");
    expect(left.status).toBe("APPLYING");
    expect(left.steps.map((s) => s.status)).toEqual(["APPLIED", "APPLIED", "PENDING", "PENDING", "PENDING"]);

    // Not stale yet: left alone (the request may still be running).
    expect((await sweepApplies(h.deps)).resumed).toBe(0);
    h.clock.now += STALE_APPLY_MS + 1;
    const swept = await sweepApplies(h.deps);
    expect(swept.resumed).toBeGreaterThanOrEqual(1);
    const undone = await getApply(h.deps.store, left.apply_id);
    expect(undone.status).toBe("ROLLED_BACK");
    expect(undone.steps.map((s) => s.status)).toEqual(["UNDONE", "UNDONE", "UNDONE", "PENDING", "PENDING"]);
    expect(undone.error?.kind).toBe("interrupted");
    expect(await dump(doc)).toEqual(before);
    expect(await waitForAlerts(inbox, `desired#${doc.plat_name}`)).toHaveLength(1);
  });
});
