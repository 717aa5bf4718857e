/**
 * Plans against the stack's GSE simulator and DynamoDB Local, through lib/desired: what GSE holds
 * is read, names resolve to ids, links are checked, and nothing is written to GSE.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/core/errors.ts";
import { createPlan, type PlanDeps } from "../../../lib/desired/plans.ts";
import { desiredDocumentSchema, type DesiredDocumentInput } from "../../../lib/desired/schemas.ts";
import { DesiredStore } from "../../../lib/desired/store.ts";
import { directGse } from "../../helpers/configs.ts";
import { applyPlan } from "../../../lib/desired/apply.ts";
import { applyHarness, pipeline as desiredPipeline } from "../../helpers/desired.ts";
import { simulatorCounters, useStack } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const run = randomUUID().slice(0, 8);

const deps = (): PlanDeps => ({
  gse: directGse(info),
  store: new DesiredStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.configs }),
  operator: "admin",
  now: () => Date.now(),
});

/** 2 stream_tos and 3 routes of this test's own (names and channels unique to the run). */
const pipeline = (tag: string): DesiredDocumentInput => desiredPipeline(tag, run);

describe("plans", () => {
  it("a document with 2 stream_tos and 3 routes on a fresh GSE plans 5 creates, stream_tos first, secrets masked, and writes nothing to GSE", async () => {
    const before = await simulatorCounters(info);
    const plan = await createPlan(deps(), desiredDocumentSchema.parse(pipeline("fresh")), "tester");
    expect(plan.summary).toEqual({ create: 5, update: 0, delete: 0, unchanged: 0 });
    expect(plan.has_changes).toBe(true);
    expect(plan.changes.map((c) => [c.order, c.kind, c.action])).toEqual([
      [1, "streamto", "create"],
      [2, "streamto", "create"],
      [3, "route", "create"],
      [4, "route", "create"],
      [5, "route", "create"],
    ]);
    expect(JSON.stringify(plan)).not.toContain(`pw-${run}`);
    expect(plan.changes[0]?.changes.find((c) => c.path.endsWith("sasl_passwd"))).toMatchObject({ change: "added", secret: true });
    const after = await simulatorCounters(info);
    expect(after.applied).toEqual(before.applied);
  });

  it("once applied: changing one route's topic and deleting a stream_to a route still uses is refused, naming the dangling reference, and nothing is written", async () => {
    const h = await applyHarness();
    const doc = desiredDocumentSchema.parse(pipeline("dangling"));
    const applied = await applyPlan(h.deps, (await createPlan(h.deps, doc, "tester")).plan_id, {}, "tester");
    expect(applied.status).toBe("APPLIED");
    const [kafka, redis] = doc.stream_tos;
    const [first, second, third] = doc.routes;
    const changed = {
      ...doc,
      stream_tos: [{ name: kafka?.name, absent: true }, redis],
      routes: [{ ...first, route: [{ ...first?.route[0], stream_to: { name: kafka?.name, kafka: { topic_name: "moved" } } }] }, second, third],
    };
    const before = await simulatorCounters(info);
    const error = await createPlan(h.deps, desiredDocumentSchema.parse(changed), "tester").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems.map((p) => p.path)).toEqual(["routes.0.route.0.stream_to.name", "routes.1.route.0.stream_to.name"]);
    expect(problems[1]?.message).toBe(
      `route ${second?.route[0]?.name} of channel ${second?.channel_id} names stream_to ${kafka?.name}, which this plan deletes (a dangling reference)`,
    );
    expect((await simulatorCounters(info)).applied).toEqual(before.applied);
  });

  it("refuses a route that names a stream_to neither the document nor GSE has, and one whose report type does not match", async () => {
    const doc = pipeline("unknown");
    const routes = doc.routes ?? [];
    const broken = {
      ...doc,
      routes: [
        { ...routes[0], route: [{ name: "x", stream_to: { name: `missing-${run}`, kafka: { topic_name: "t" } } }] },
        { ...routes[1], route: [{ name: "y", stream_to: { name: doc.stream_tos?.[1]?.name, kafka: { topic_name: "t" } } }] },
      ],
    };
    const error = (await createPlan(deps(), desiredDocumentSchema.parse(broken), "tester").catch((e: unknown) => e)) as ValidationError;
    expect(error.problems.map((p) => p.path)).toEqual(["routes.0.route.0.stream_to.name", "routes.1.route.0.stream_to.kafka"]);
  });
});
