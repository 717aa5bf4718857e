import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { registerAgents, registerSeen } from "../../../lib/fleet/service.ts";
import { FleetStore, newFleetCalls } from "../../../lib/fleet/store.ts";
import { testHeartbeat } from "../../helpers/heartbeat.ts";
import { useStack } from "../../helpers/stack.ts";

const { dynamo } = useStack();
const settings = { evictAfterSeconds: 86_400 };

describe("fleet registry", () => {
  it("adds the agents another part of the system sees, keeping the state and adding the source of those watched already", async () => {
    const { store } = await testHeartbeat();
    const deps = { store, now: () => 1_000, settings };
    await registerAgents(deps, ["0:10.200.0.1"], "api");
    expect(await registerSeen(deps, ["0:10.200.0.1", "0:10.200.0.2", "0:10.200.0.2"], "command")).toBe(1);
    const [known, added] = await Promise.all(["0:10.200.0.1", "0:10.200.0.2"].map((id) => store.getAgent(id, newFleetCalls())));
    expect(known).toMatchObject({ sources: ["api", "command"], status: "pending", rev: 0 });
    expect(added).toMatchObject({ sources: ["command"], status: "pending", expires_at: 1 + 86_400 });
  });

  it("registers new agents 25 to a DynamoDB call, and never overwrites one that another writer added meanwhile", async () => {
    const { store } = await testHeartbeat();
    const deps = { store, now: () => 2_000, settings };
    const ids = Array.from({ length: 60 }, (_, i) => `0:10.201.0.${i}`);
    const calls = newFleetCalls();
    expect(await registerAgents(deps, ids, "route", calls)).toEqual({ registered: 60, already_watched: 0 });
    // 3 batches of 25, and one write moving their partitions' revisions (what a warm heartbeat re-reads by; was 3 before revisions).
    expect(calls.writes).toBe(4);
    expect(await store.getAgent("0:10.201.0.59", newFleetCalls())).toMatchObject({ sources: ["route"], status: "pending", registered_at: 2_000 });

    // A registration racing a poll that has just written the agent: the poll's item stays.
    const polled = await store.getAgent("0:10.201.0.7", newFleetCalls());
    if (!polled) throw new Error("not registered");
    const stale = { ...polled, status: "pending" as const, registered_at: 3_000 };
    expect(await store.addAgents([stale, { ...stale, agent_id: "0:10.201.1.1" }, { ...stale, agent_id: "0:10.201.1.1" }], newFleetCalls())).toBe(1);
    expect(await store.getAgent("0:10.201.0.7", newFleetCalls())).toMatchObject({ registered_at: 2_000 });
  });

  it("never fails its caller when the registry cannot be written", async () => {
    const broken = new FleetStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: "no-such-fleet-table", maxAttempts: 1 });
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => void warnings.push(args) } as never;
    await expect(registerSeen({ store: broken, now: () => 1_000, settings, logger }, ["0:10.200.0.3"], "apm")).resolves.toBe(0);
    expect(warnings).toHaveLength(1);
  });
});
