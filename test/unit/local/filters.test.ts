import { describe, expect, it } from "vitest";
import { COMMAND_EVENTS } from "../../../lib/wiring.ts";
import { matchesPattern, passesFilters } from "../../../local/pollers/filters.ts";

describe("event filters", () => {
  const record = { eventName: "MODIFY", dynamodb: { NewImage: { status: { S: "FAILED" } } } };
  it("matches a leaf against its list of values", () => {
    expect(matchesPattern(record, { eventName: ["INSERT", "MODIFY"] })).toBe(true);
    expect(matchesPattern(record, { eventName: ["REMOVE"] })).toBe(false);
  });
  it("recurses into nested keys and needs every key present", () => {
    expect(matchesPattern(record, { dynamodb: { NewImage: { status: { S: ["FAILED"] } } } })).toBe(true);
    expect(matchesPattern(record, { dynamodb: { OldImage: { status: { S: ["FAILED"] } } } })).toBe(false);
  });
  it("lets everything through without patterns, and a record through when any pattern matches", () => {
    expect(passesFilters(record, [])).toBe(true);
    expect(passesFilters(record, [{ eventName: ["REMOVE"] }, { eventName: ["MODIFY"] }])).toBe(true);
    expect(passesFilters(record, [{ eventName: ["REMOVE"] }])).toBe(false);
  });
});

describe("the commands table's filters (lib/wiring.ts)", () => {
  const meta = (image: Record<string, unknown>) => ({ eventName: "MODIFY", dynamodb: { NewImage: { sk: { S: "meta" }, ...image } } });
  const datasource = { M: { kind: { S: "apm.datasource" }, owner_alerts: { BOOL: true } } };
  it("deliver a rollout an APM datasource action started once it ended, SUCCEEDED included", () => {
    expect(passesFilters(meta({ status: { S: "SUCCEEDED" }, origin: datasource }), COMMAND_EVENTS)).toBe(true);
    expect(passesFilters(meta({ status: { S: "ABORTED" }, origin: datasource }), COMMAND_EVENTS)).toBe(true);
  });
  it("leave out running rollouts, and commands and rollouts without such an owner that succeeded", () => {
    expect(passesFilters(meta({ status: { S: "BAKING" }, origin: datasource }), COMMAND_EVENTS)).toBe(false);
    expect(passesFilters(meta({ status: { S: "SUCCEEDED" } }), COMMAND_EVENTS)).toBe(false);
    expect(passesFilters(meta({ status: { S: "SUCCEEDED" }, origin: { M: { rollout_id: { S: "r" }, owner_alerts: { BOOL: true } } } }), COMMAND_EVENTS)).toBe(
      false,
    );
  });
});
