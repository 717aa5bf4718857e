import { describe, expect, it } from "vitest";
import type { RolloutItem } from "../../../lib/rollouts/items.ts";
import { rolloutEndRule } from "../../../lib/rollouts/recovery.ts";
import { streamRecord } from "../../helpers/events.ts";

const meta = (fields: Partial<RolloutItem> = {}): RolloutItem => ({
  pk: "rollout#r1",
  sk: "meta",
  rollout_id: "r1",
  body_hash: "h",
  status: "RUNNING",
  rev: 1,
  content: "start",
  settings: {},
  target_count: 2,
  chunk_count: 1,
  max_errors: null,
  errors: 0,
  current_wave: 1,
  created_by: "tester",
  created_at: 1,
  updated_at: 1,
  expires_at: 2,
  origin: { kind: "apm.datasource", owner_alerts: true },
  ...fields,
});

async function handed(newImage: object | undefined, oldImage?: object): Promise<RolloutItem[]> {
  const seen: RolloutItem[] = [];
  await rolloutEndRule(async (r) => void seen.push(r))(streamRecord("MODIFY", newImage, oldImage));
  return seen;
}

describe("rolloutEndRule", () => {
  it("hands a rollout with an owner to it once, on the change that ended it", async () => {
    expect((await handed(meta({ status: "ABORTED" }), meta({ status: "BAKING" }))).map((r) => r.status)).toEqual(["ABORTED"]);
    expect((await handed(meta({ status: "SUCCEEDED" }), meta({ status: "RUNNING" }))).map((r) => r.status)).toEqual(["SUCCEEDED"]);
  });

  it("ignores later writes of an ended rollout (the undo's progress), running rollouts, rollouts without an owner and other items", async () => {
    expect(await handed(meta({ status: "ABORTED", undo: { message_id: "r1.undo", status: "SUCCEEDED" } }), meta({ status: "ABORTED" }))).toEqual([]);
    expect(await handed(meta({ status: "BAKING" }), meta({ status: "RUNNING" }))).toEqual([]);
    expect(await handed(meta({ status: "ABORTED", origin: undefined }), meta({ status: "RUNNING" }))).toEqual([]);
    expect(await handed({ ...meta({ status: "ABORTED" }), sk: "wave#001" }, meta())).toEqual([]);
    expect(await handed({ pk: "cmd#x", sk: "meta", status: "ABORTED", origin: {} }, { status: "RUNNING" })).toEqual([]);
    expect(await handed(undefined, meta())).toEqual([]);
  });
});
