import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GATEWAY_PREFIX } from "../../../lib/gse/operations.ts";
import { call, envelopeOf, startTestSimulator } from "./client.ts";

const GW = `${GATEWAY_PREFIX}/api/v2/data`;
const dir = mkdtempSync(join(tmpdir(), "gse-sim-durable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a simulator with a state file", () => {
  it("keeps stream_tos, routes and its id counters across a restart, as GSE does", async () => {
    const stateFile = join(dir, "config.json");
    const first = await startTestSimulator({ stateFile });
    const added = envelopeOf(
      await call(first, `${GW}/add_streamto`, {
        metadata: { plat_name: "bkmonitor" },
        operation: { operator_name: "admin" },
        stream_to: { name: "durable", report_mode: "kafka", data_log_path: "/tmp", kafka: { storage_address: [{ ip: "10.0.0.1", port: 9092 }] } },
      }),
    );
    expect(added).toMatchObject({ result: true });
    const streamToId = (added.data as { stream_to_id: number }).stream_to_id;
    const channel = envelopeOf(await call(first, `${GW}/add_route`, { metadata: { plat_name: "bkmonitor" }, operation: { operator_name: "admin" } }));
    const channelId = (channel.data as { channel_id: number }).channel_id;
    await first.stop();

    const second = await startTestSimulator({ stateFile });
    try {
      const streamTos = envelopeOf(
        await call(second, `${GW}/query_streamto`, { condition: { plat_name: "bkmonitor", stream_to_id: streamToId }, operation: { operator_name: "admin" } }),
      );
      expect(streamTos).toMatchObject({ result: true });
      expect(JSON.stringify(streamTos.data)).toContain('"durable"');
      const route = envelopeOf(await call(second, `${GW}/query_route`, { condition: { channel_id: channelId }, operation: { operator_name: "admin" } }));
      expect(route).toMatchObject({ result: true });
      // Allocation goes on after the ids already handed out, never reusing one.
      const next = envelopeOf(await call(second, `${GW}/add_route`, { metadata: { plat_name: "bkmonitor" }, operation: { operator_name: "admin" } }));
      expect((next.data as { channel_id: number }).channel_id).toBe(channelId + 1);
    } finally {
      await second.stop();
    }
  });

  it("starts empty without one", async () => {
    const sim = await startTestSimulator({ stateFile: join(dir, "never-written.json") });
    try {
      const route = envelopeOf(await call(sim, `${GW}/query_route`, { condition: { channel_id: 1 }, operation: { operator_name: "admin" } }));
      expect(route).toMatchObject({ result: false });
    } finally {
      await sim.stop();
    }
  });
});
