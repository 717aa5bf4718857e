import { describe, expect, it } from "vitest";
import { ALERT_CATALOG } from "../../../lib/core/alert-catalog.ts";
import {
  ALERT_KINDS,
  ALERT_OF_TRANSITION,
  alertFingerprint,
  alertSubject,
  heartbeatAlert,
  heartbeatAlertSchema,
  type HeartbeatAlert,
} from "../../../lib/heartbeat/alerts.ts";
import { TRANSITION_KINDS } from "../../../lib/fleet/items.ts";

const lost = (lastSeen: string, ids = ["0:10.0.0.2", "0:10.0.0.1"]): HeartbeatAlert =>
  heartbeatAlert("lost", {
    source: "gse-control/heartbeat",
    poll_id: "2026-11-25T12:03:00.000Z",
    at: "2026-11-25T12:03:00.000Z",
    count: ids.length,
    sample: ids.map((agent_id) => ({
      agent_id,
      status: "lost",
      last_seen: lastSeen,
      version: "2.1.5",
      status_code: 3,
      status_class: "degraded" as const,
      status_name: "lossy",
      record: { status_code: 3 },
    })),
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

  it("never takes a second stuck stay of the same agents for the first", () => {
    const stuck = (since: string): HeartbeatAlert => ({
      ...lost("2026-11-25T12:00:00.000Z"),
      kind: "stuck",
      sample: lost("2026-11-25T12:00:00.000Z").sample.map((s) => ({
        ...s,
        status: "alive",
        status_code: 5,
        status_class: "transitional" as const,
        status_name: "upgrading",
        transitional_since: since,
      })),
    });
    expect(alertFingerprint(stuck("2026-11-25T12:01:00.000Z"))).toBe(alertFingerprint(stuck("2026-11-25T12:01:00.000Z")));
    expect(alertFingerprint(stuck("2026-11-25T12:01:00.000Z"))).not.toBe(alertFingerprint(stuck("2026-11-25T14:01:00.000Z")));
  });

  it("gives every alert its catalogue type and severity: the all-clears are info", () => {
    for (const kind of ALERT_KINDS) {
      const alert = heartbeatAlert(kind, {
        source: "gse-control/heartbeat",
        poll_id: "p",
        at: "2026-11-25T12:03:00.000Z",
        count: 1,
        sample: [],
        truncated: false,
      });
      expect(alert.type).toBe(`heartbeat.${kind}`);
      expect(ALERT_CATALOG[alert.type].severities).toContain(alert.severity);
      expect(heartbeatAlertSchema.parse(alert)).toEqual(alert);
    }
    expect(heartbeatAlert("recovered", lost("t")).severity).toBe("info");
    expect(heartbeatAlert("gse_reachable", lost("t")).severity).toBe("info");
    expect(heartbeatAlert("gse_unreachable", lost("t")).severity).toBe("critical");
    expect(heartbeatAlert("stuck", lost("t")).severity).toBe("warning");
  });

  it("says what it is about and sums it up in a line: how many, the first agents by id, and the poll's detail", () => {
    expect(lost("2026-11-25T12:00:00.000Z")).toMatchObject({ object: "fleet", summary: "2 agents lost: 0:10.0.0.2, 0:10.0.0.1" });
    const many = heartbeatAlert("stuck", { ...lost("t", ["a", "b", "c", "d", "e", "f"]), count: 9, detail: "upgrading ×9" });
    expect(many.summary).toBe("9 agents stuck in a transitional state: a, b, c, d, e and 4 more; upgrading ×9");
    const outage = heartbeatAlert("gse_unreachable", { ...lost("t", []), count: 3, detail: "3 of 3 GSE calls failed (HTTP 502)" });
    expect(outage).toMatchObject({ object: "gse", summary: "GSE unreachable: agent state not polled; 3 of 3 GSE calls failed (HTTP 502)" });
  });

  it("publishes lost, stuck, unknown and recovered transitions, and keeps newly_seen and version_changed as news", () => {
    expect(TRANSITION_KINDS.filter((kind) => ALERT_OF_TRANSITION[kind] !== null)).toEqual(["lost", "recovered", "unknown", "stuck"]);
    expect(ALERT_OF_TRANSITION.newly_seen).toBeNull();
    expect(ALERT_OF_TRANSITION.version_changed).toBeNull();
    expect(heartbeatAlertSchema.safeParse({ ...lost("t"), kind: "newly_seen", type: "heartbeat.newly_seen" }).success).toBe(false);
  });

  it("keeps subjects within SNS's 100 characters and says how many", () => {
    expect(alertSubject({ kind: "lost", count: 5 })).toBe("gse-control: 5 agents lost");
    expect(alertSubject({ kind: "unknown", count: 1 })).toBe("gse-control: 1 agent id unknown to GSE");
    expect(alertSubject({ kind: "stuck", count: 2 })).toBe("gse-control: 2 agents stuck in a transitional state");
    expect(alertSubject({ kind: "gse_unreachable", count: 10 ** 12 }).length).toBeLessThanOrEqual(100);
  });
});
