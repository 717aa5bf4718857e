import { describe, expect, it } from "vitest";
import { diffDocuments, maskSecrets } from "../../../lib/config-versions/mask.ts";

const streamTo = (passwd: string, host = "k1") => ({
  plat_name: "p",
  stream_to: { name: "s", report_mode: "kafka", kafka: { storage_address: [{ ip: host, port: 9092 }], sasl_username: "u", sasl_passwd: passwd } },
});

describe("maskSecrets", () => {
  it("hides sasl_passwd, redis passwd and pulsar token but keeps everything else", () => {
    const masked = maskSecrets({ ...streamTo("hunter22"), redis: { passwd: "r3dis-pass" }, pulsar: { token: "tok-123456" } });
    expect(JSON.stringify(masked)).not.toMatch(/hunter22|r3dis-pass|tok-123456/);
    expect(masked.stream_to.kafka.sasl_username).toBe("u");
    expect(masked.stream_to.kafka.storage_address).toEqual([{ ip: "k1", port: 9092 }]);
  });
});

describe("diffDocuments", () => {
  it("says a secret changed, never what it was or became", () => {
    const changes = diffDocuments(streamTo("old-secret-1"), streamTo("new-secret-2", "k2"));
    expect(JSON.stringify(changes)).not.toMatch(/old-secret-1|new-secret-2/);
    expect(changes).toContainEqual({ path: "stream_to.kafka.sasl_passwd", change: "changed", secret: true });
    expect(changes).toContainEqual({ path: "stream_to.kafka.storage_address[0].ip", change: "changed", from: "k1", to: "k2" });
  });

  it("names routes by their name, and shows added and removed ones", () => {
    const route = (name: string, id: number) => ({ name, stream_to: { stream_to_id: id } });
    const changes = diffDocuments({ route: [route("a", 1), route("b", 1)] }, { route: [route("a", 2), route("c", 3)] });
    expect(changes).toEqual([
      { path: "route[name=a].stream_to.stream_to_id", change: "changed", from: 1, to: 2 },
      { path: "route[name=b].name", change: "removed", from: "b" },
      { path: "route[name=b].stream_to.stream_to_id", change: "removed", from: 1 },
      { path: "route[name=c].name", change: "added", to: "c" },
      { path: "route[name=c].stream_to.stream_to_id", change: "added", to: 3 },
    ]);
  });

  it("shows a whole object appearing from nothing", () => {
    expect(diffDocuments(null, { plat_name: "p" })).toEqual([{ path: "plat_name", change: "added", to: "p" }]);
  });
});
