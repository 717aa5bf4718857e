/**
 * `gse-control plan` and `apply` as operators run them: the built CLI against the test stack. A
 * plan of new objects exits 2 and prints the diff; applied through the API, the same document
 * plans with no changes and exits 0 (that half needs the apply engine, lib/desired/apply.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { callApi, uniqueBuiltInChannelId, useStack } from "../../helpers/stack.ts";
import { cliRunner } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-desired-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { cli } = cliRunner(info, dir);
const run = randomBytes(4).toString("hex");
const SLOW = { timeout: 120_000 };

function documentFile(tag: string): { file: string; doc: Record<string, unknown> } {
  const kafka = `kafka-cli-${tag}-${run}`;
  const channel = uniqueBuiltInChannelId();
  const doc = {
    plat_name: "bkmonitor",
    stream_tos: [
      { name: kafka, report_mode: "kafka", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }], sasl_username: "u", sasl_passwd: `cli-pw-${run}` } },
    ],
    routes: [{ channel_id: channel, route: [{ name: `r-${channel}`, stream_to: { name: kafka, kafka: { topic_name: `0bkmonitor_${channel}0` } } }] }],
  };
  const file = join(dir, `${tag}.yaml`);
  writeFileSync(file, stringify(doc));
  return { file, doc };
}

describe("gse-control plan", () => {
  it("prints the diff of new objects and exits 2; --json prints the plan", SLOW, async () => {
    const { file } = documentFile("new");
    const res = await cli(["plan", "-f", file]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toContain("+ create streamto kafka-cli-new-");
    expect(res.stdout).toContain("+ create route channel ");
    expect(res.stdout).toContain("kafka.sasl_passwd = (sensitive)");
    expect(res.stdout).toContain("Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged.");
    const json = await cli(["--json", "plan", "-f", file]);
    expect(json.code, json.stderr).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ has_changes: true, summary: { create: 2 } });
    expect(res.stdout + res.stderr + json.stdout + json.stderr).not.toContain(`cli-pw-${run}`);
  });

  it("prints a refused plan's problems and exits 1", SLOW, async () => {
    const file = join(dir, "refused.yaml");
    writeFileSync(
      file,
      stringify({
        plat_name: "bkmonitor",
        routes: [{ channel_id: uniqueBuiltInChannelId(), route: [{ name: "r", stream_to: { name: `nowhere-${run}`, kafka: { topic_name: "t" } } }] }],
      }),
    );
    const res = await cli(["plan", "-f", file]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain("the plan is refused");
    expect(res.stderr).toContain(`nowhere-${run}`);
  });

  it("exits 0 with no changes once the document was applied through the API (needs the apply engine)", SLOW, async () => {
    const { file, doc } = documentFile("applied");
    const plan = await callApi(info.gatewayUrl, "/v1/plans", { method: "POST", headers: authHeader, body: doc });
    expect(plan.status, plan.text).toBe(201);
    const planId = (plan.body.data as { plan_id: string }).plan_id;
    const applied = await callApi(info.gatewayUrl, `/v1/plans/${planId}/apply`, { method: "POST", headers: authHeader, body: {} });
    expect(applied.status, applied.text).toBe(200);
    const res = await cli(["plan", "-f", file]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("No changes.");
    expect(res.stdout).toContain("Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged.");
    const history = await cli(["applies", "--limit", "100"]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain((applied.body.data as { apply_id: string }).apply_id);
  });
});
