import { describe, expect, it } from "vitest";
import { alertFingerprint, alertSubject, type HeartbeatAlert } from "../../../lib/heartbeat/alerts.ts";

const lost = (lastSeen: string, ids = ["0:10.0.0.2", "0:10.0.0.1"]): HeartbeatAlert => ({
  source: "gse-control/heartbeat",
  kind: "lost",
  poll_id: "2026-11-25T12:03:00.000Z",
  at: "2026-11-25T12:03:00.000Z",
  count: ids.length,
  sample: ids.map((agent_id) => ({ agent_id, status: "lost", last_seen: lastSeen, version: "2.1.5", record: { status_code: 3 } })),
  truncated: false,
});

describe("heartbeat alerts", () => {
  it("fingerprints the same event alike, whichever poll or order reports it", () => {
    const a = lost("2026-11-25T12:00:00.000Z");
    const b = { ...lost("2026-11-25T12:00:00.000Z", ["0:10.0.0.1", "0:10.0.0.2"]), poll_id: "2026-11-25T12:04:00.000Z" };
    expect(alertFingerprint(a)).toBe(alertFingerprint(b));
  });

  it("never takes the same agents lost again later for the first outage", () => {
    expect(alertFingerprint(lost("2026-11-25T12:00:00.000Z"))).not.toBe(alertFingerprint(lost("2026-11-25T13:30:00.000Z")));
    expect(alertFingerprint(lost("2026-11-25T12:00:00.000Z"))).not.toBe(alertFingerprint({ ...lost("2026-11-25T12:00:00.000Z"), kind: "recovered" }));
  });

  it("keeps subjects within SNS's 100 characters and says how many", () => {
    expect(alertSubject({ kind: "lost", count: 5 })).toBe("gse-control: 5 agents lost");
    expect(alertSubject({ kind: "unknown", count: 1 })).toBe("gse-control: 1 agent id unknown to GSE");
    expect(alertSubject({ kind: "gse_unreachable", count: 10 ** 12 }).length).toBeLessThanOrEqual(100);
  });
});
