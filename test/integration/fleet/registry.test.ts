import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { registerAgents, registerSeen } from "../../../lib/fleet.ts";
import { FleetStore, newFleetCalls } from "../../../lib/store/fleet.ts";
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

  it("never fails its caller when the registry cannot be written", async () => {
    const broken = new FleetStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: "no-such-fleet-table", maxAttempts: 1 });
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => void warnings.push(args) } as never;
    await expect(registerSeen({ store: broken, now: () => 1_000, settings, logger }, ["0:10.200.0.3"], "apm")).resolves.toBe(0);
    expect(warnings).toHaveLength(1);
  });
});
