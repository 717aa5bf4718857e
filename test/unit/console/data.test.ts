import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroCounts } from "../../../lib/commands/engine.ts";
import {
  consoleRollout,
  checkedHealth,
  commandProgress,
  consoleData,
  fleetAtAGlance,
  gseAnsweredAt,
  gseHealth,
  lostAgents,
  recentHeads,
  recentVersions,
  statusPoints,
  type ConsoleDeps,
} from "../../../lib/console/data.ts";
import { consoleDataSchema, consoleUnavailableDataSchema } from "../../../lib/console/schemas.ts";
import { DependencyUnavailableError } from "../../../lib/core/errors.ts";
import type { DependencyHealth } from "../../../lib/health.ts";
import { CommandStore } from "../../../lib/commands/store.ts";
import { ConfigStore } from "../../../lib/config-versions/store.ts";
import { FLEET_PARTITIONS, FleetStore } from "../../../lib/fleet/store.ts";
import { FleetLog } from "../../../lib/fleet/log.ts";
import type { AgentView } from "../../../lib/fleet/schemas.ts";
import { registerSecrets } from "../../../lib/core/logger.ts";
import type { CommandItem } from "../../../lib/commands/store.ts";
import type { HeadItem, VersionItem } from "../../../lib/config-versions/items.ts";
import type { FleetSummary } from "../../../lib/fleet/items.ts";
import { FLEET_STATS_EVERY_MINUTES, fleetStatsItem, type FleetStatsItem } from "../../../lib/fleet/log-items.ts";
import { rolloutView } from "../../helpers/rollout-view.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;

function summary(fields: Partial<FleetSummary> = {}): FleetSummary {
  return {
    poll_id: new Date(T0).toISOString(),
    as_of: new Date(T0).toISOString(),
    duration_ms: 120,
    shards: 1,
    agents: 10,
    by_status: { pending: 1, alive: 6, lost: 2, unknown: 1 },
    suspect: 1,
    by_version: [],
    outdated: 0,
    min_version: null,
    gse_calls: 1,
    gse_failed_chunks: 0,
    ...fields,
  };
}

function agent(id: string, fields: Partial<AgentView> = {}): AgentView {
  return {
    agent_id: id,
    status: "lost",
    misses: 3,
    sources: ["api"],
    registered_at: new Date(T0).toISOString(),
    first_seen_at: new Date(T0).toISOString(),
    last_seen: new Date(T0 + MINUTE).toISOString(),
    changed_at: new Date(T0 + 4 * MINUTE).toISOString(),
    outdated: false,
    record: null,
    ...fields,
  };
}

function version(object: string, n: number, fields: Partial<VersionItem> = {}): VersionItem {
  return {
    pk: `cfg#${object}`,
    sk: `v#${String(n).padStart(9, "0")}`,
    object,
    version: n,
    operation: "update_route",
    document: null,
    author: "admin",
    created_at: T0 + n * MINUTE,
    status: "APPLIED",
    applied_at: T0 + n * MINUTE + 1000,
    ...fields,
  };
}

function command(fields: Partial<CommandItem> = {}): CommandItem {
  return {
    pk: "cmd#reload.1",
    sk: "meta",
    message_id: "reload.1",
    body_hash: "h",
    content: "{}",
    target_count: 4000,
    batch_count: 4,
    batch_size: 1000,
    parallel: 1,
    max_concurrency: 1000,
    max_errors: null,
    reply_timeout_seconds: null,
    max_attempts: 5,
    status: "RUNNING",
    batches_done: 3,
    errors: 10,
    pending_retries: 0,
    created_by: "ops",
    created_at: T0,
    updated_at: T0,
    index_sk: `${T0}#reload.1`,
    expires_at: T0 / 1000 + 86_400,
    ...fields,
  };
}

describe("fleetAtAGlance", () => {
  it("is null before the first poll", () => {
    expect(fleetAtAGlance(null)).toBeNull();
  });

  it("lists the most common versions by name and sums up the rest", () => {
    const by_version = [
      { version: "2.1.5", count: 50, outdated: false },
      { version: "2.1.4", count: 20, outdated: false },
      { version: "2.0.9", count: 7, outdated: true },
      { version: "1.9.0", count: 2, outdated: true },
    ];
    const view = fleetAtAGlance(summary({ by_version, outdated: 9, min_version: "2.1.0" }), 2);
    expect(view?.by_version.map((v) => v.version)).toEqual(["2.1.5", "2.1.4"]);
    expect(view?.other_versions).toEqual({ versions: 2, agents: 9 });
    expect(view).toMatchObject({ agents: 10, by_status: { lost: 2 }, suspect: 1, outdated: 9, min_version: "2.1.0" });
  });

  it("says when GSE last answered for every agent: the poll when it answered in full, earlier when calls failed", () => {
    expect(fleetAtAGlance(summary({ gse_calls: 2 }))).toMatchObject({ gse_calls: 2, gse_failed_chunks: 0, gse_answered_at: new Date(T0).toISOString() });
    const failing = fleetAtAGlance(summary({ gse_calls: 2, gse_failed_chunks: 2 }), 12, polledMap(T0, { 3: T0 - 3 * MINUTE }));
    expect(failing).toMatchObject({ as_of: new Date(T0).toISOString(), gse_failed_chunks: 2, gse_answered_at: new Date(T0 - 3 * MINUTE).toISOString() });
  });
});

describe("fleetStatsItem and statusPoints (the 24-hour chart)", () => {
  it("keys a snapshot by the start of its period, so only the period's first poll writes one", () => {
    const first = fleetStatsItem(summary(), T0 + 1 * MINUTE + 500);
    const later = fleetStatsItem(summary(), T0 + (FLEET_STATS_EVERY_MINUTES - 1) * MINUTE);
    const next = fleetStatsItem(summary(), T0 + FLEET_STATS_EVERY_MINUTES * MINUTE);
    expect(first.sk).toBe("2026-11-25T12:00:00.000Z");
    expect(later.sk).toBe(first.sk);
    expect(next.sk).toBe("2026-11-25T12:05:00.000Z");
    expect(first.pk).toBe("fleetstats#2026-11-25");
    expect(first.at).toBe(T0 + MINUTE + 500);
    // Kept two days: the chart reads one.
    expect(first.expires_at - Math.floor(first.at / 1000)).toBe(2 * 86_400);
  });

  it("puts a snapshot just before midnight UTC into that day's partition", () => {
    expect(fleetStatsItem(summary(), Date.UTC(2026, 10, 25, 23, 59, 59)).pk).toBe("fleetstats#2026-11-25");
    expect(fleetStatsItem(summary(), Date.UTC(2026, 10, 26, 0, 0, 1)).pk).toBe("fleetstats#2026-11-26");
  });

  it("orders the points by time and counts each status, suspect apart", () => {
    const items: FleetStatsItem[] = [
      fleetStatsItem(summary({ by_status: { pending: 0, alive: 8, lost: 2, unknown: 0 }, suspect: 0 }), T0 + 10 * MINUTE),
      fleetStatsItem(summary({ by_status: { pending: 0, alive: 10, lost: 0, unknown: 0 }, suspect: 2 }), T0),
    ];
    expect(statusPoints(items)).toEqual([
      { at: "2026-11-25T12:00:00.000Z", agents: 10, pending: 0, alive: 10, lost: 0, unknown: 0, suspect: 2 },
      { at: "2026-11-25T12:10:00.000Z", agents: 10, pending: 0, alive: 8, lost: 2, unknown: 0, suspect: 0 },
    ]);
  });
});

describe("lostAgents", () => {
  it("shows the most recently lost first, at most the limit, with when they were last seen", () => {
    const views = [
      agent("0:10.0.0.1", { changed_at: new Date(T0 + MINUTE).toISOString() }),
      agent("0:10.0.0.2", { changed_at: new Date(T0 + 9 * MINUTE).toISOString(), version: "2.1.5", status_code: 3, status_class: "degraded" }),
      agent("0:10.0.0.3", { status: "alive" }),
      agent("0:10.0.0.4", { changed_at: new Date(T0 + 5 * MINUTE).toISOString(), last_seen: null }),
    ];
    expect(lostAgents(views, 2)).toEqual([
      {
        agent_id: "0:10.0.0.2",
        last_seen: new Date(T0 + MINUTE).toISOString(),
        since: new Date(T0 + 9 * MINUTE).toISOString(),
        version: "2.1.5",
        status_code: 3,
        status_class: "degraded",
      },
      { agent_id: "0:10.0.0.4", last_seen: null, since: new Date(T0 + 5 * MINUTE).toISOString() },
    ]);
  });
});

describe("commandProgress", () => {
  it("counts progress as the share of targets no longer waiting to be sent", () => {
    const counts = { ...zeroCounts(), SENT: 2990, FAILED: 10, PENDING: 1000 };
    const view = commandProgress(command(), counts);
    expect(view).toMatchObject({ message_id: "reload.1", status: "RUNNING", targets: 4000, batches: { total: 4, sent: 3 }, counts, created_by: "ops" });
    expect(view.progress).toBeCloseTo(0.75);
    expect(commandProgress(command({ target_count: 0 }), zeroCounts()).progress).toBe(1);
  });
});

describe("recentHeads and recentVersions (config versions)", () => {
  it("reads the objects changed most recently", () => {
    const heads: HeadItem[] = ["route#1", "route#2", "streamto#3"].map((object, i) => ({
      pk: `cfg#${object}`,
      sk: "head",
      object,
      current_version: 1,
      last_good_version: 1,
      latest_version: 1,
      updated_at: T0 + i * MINUTE,
    }));
    expect(recentHeads(heads, 2).map((h) => h.object)).toEqual(["streamto#3", "route#2"]);
  });

  it("lists the newest changes first by their last status change, flags FAILED, ROLLED_BACK and ROLLBACK_FAILED, and leaves out version 0", () => {
    const versions = [
      version("route#1", 0, { operation: "adopt" }),
      version("route#1", 1),
      version("route#1", 2, {
        status: "ROLLED_BACK",
        applied_at: undefined,
        failed_at: T0 + 3 * MINUTE,
        rolled_back_at: T0 + 20 * MINUTE,
        error: { message: "read-back mismatch" },
      }),
      version("streamto#7", 3, {
        status: "ROLLBACK_FAILED",
        applied_at: undefined,
        rolled_back_at: T0 + 30 * MINUTE,
        error: { message: "first" },
        rollback_error: { message: "stream_to 7 not found" },
      }),
      version("route#9", 4, { status: "PENDING", applied_at: undefined }),
    ];
    const rows = recentVersions(versions, 10);
    expect(rows.map((r) => [r.object, r.version, r.status, r.highlight])).toEqual([
      ["streamto#7", 3, "ROLLBACK_FAILED", true],
      ["route#1", 2, "ROLLED_BACK", true],
      ["route#9", 4, "PENDING", false],
      ["route#1", 1, "APPLIED", false],
    ]);
    expect(rows[0]).toMatchObject({ error: "stream_to 7 not found", at: new Date(T0 + 30 * MINUTE).toISOString() });
    expect(rows[1]).toMatchObject({ error: "read-back mismatch" });
    expect(rows[2]).not.toHaveProperty("error");
    expect(recentVersions(versions, 1)).toHaveLength(1);
  });

  it("masks a configured secret that a stored error quotes", () => {
    registerSecrets(["sasl-secret-value-42"]);
    const [row] = recentVersions([version("streamto#8", 1, { status: "FAILED", error: { message: "auth failed for sasl-secret-value-42" } })]);
    expect(row?.error).not.toContain("sasl-secret-value-42");
  });
});

/** meta/polled as the heartbeat leaves it: every partition at `at`, these at their own times. */
const polledMap = (at: number, others: Readonly<Record<number, number>> = {}): Map<number, number> =>
  new Map(Array.from({ length: FLEET_PARTITIONS }, (_, p) => [p, others[p] ?? at] as const));

describe("gseAnsweredAt (what the fleet's counts rest on)", () => {
  it("is the poll itself when GSE answered it in full", () => {
    expect(gseAnsweredAt(summary(), polledMap(T0 - 5 * MINUTE))).toBe(new Date(T0).toISOString());
  });

  it("is the oldest partition's last full answer when calls of the poll failed", () => {
    const failing = summary({ gse_calls: 3, gse_failed_chunks: 2 });
    expect(gseAnsweredAt(failing, polledMap(T0, { 7: T0 - 9 * MINUTE, 40: T0 - 4 * MINUTE }))).toBe(new Date(T0 - 9 * MINUTE).toISOString());
  });

  it("is null while a partition has never been answered in full", () => {
    const polled = polledMap(T0);
    polled.delete(12);
    expect(gseAnsweredAt(summary({ gse_failed_chunks: 1 }), polled)).toBeNull();
  });

  it("is never later than the poll, whatever a concurrent poll marked", () => {
    expect(gseAnsweredAt(summary({ gse_failed_chunks: 1 }), polledMap(T0 + MINUTE))).toBe(new Date(T0).toISOString());
  });
});

describe("gseHealth (the strip's GSE, from the last heartbeat poll)", () => {
  it("is unknown before the first poll and when the poll had nobody to ask", () => {
    expect(gseHealth(null, undefined)).toEqual({ state: "unknown", detail: "no heartbeat poll has finished yet", checked_at: null, since: null });
    expect(gseHealth(summary({ gse_calls: 0 }), undefined)).toMatchObject({ state: "unknown", checked_at: new Date(T0).toISOString() });
  });

  it("is ok when every call of the last poll was answered", () => {
    expect(gseHealth(summary({ gse_calls: 4 }), undefined)).toEqual({
      state: "ok",
      detail: "answered all 4 calls of the last heartbeat poll",
      checked_at: new Date(T0).toISOString(),
      since: null,
    });
  });

  it("is failing when calls failed, with why and since the outage's first poll, masked and on one line", () => {
    registerSecrets(["gse-secret-in-a-message-77"]);
    const outage = { since: T0 - 6 * MINUTE, detail: "unavailable: HTTP 502\n gse-secret-in-a-message-77" };
    const health = gseHealth(summary({ gse_calls: 3, gse_failed_chunks: 3 }), outage);
    expect(health).toMatchObject({ state: "failing", checked_at: new Date(T0).toISOString(), since: new Date(T0 - 6 * MINUTE).toISOString() });
    expect(health.detail).toMatch(/^3 of 3 calls failed in the last heartbeat poll \(unavailable: HTTP 502 /);
    expect(health.detail).not.toContain("gse-secret-in-a-message-77");
    expect(health.detail).not.toContain("\n");
    // The marker not written yet (the poll writes the summary first): since the poll.
    expect(gseHealth(summary({ gse_failed_chunks: 1 }), undefined).since).toBe(new Date(T0).toISOString());
  });

  it("shows a check of lib/health.ts as ok or failing, at the answer's time", () => {
    expect(checkedHealth({ ok: false, latency_ms: 2000, detail: "TimeoutError" }, T0)).toEqual({
      state: "failing",
      detail: "TimeoutError",
      checked_at: new Date(T0).toISOString(),
      since: null,
    });
  });
});

/** Stores on a DynamoDB endpoint at `endpoint` (nothing real there): each read fails or hangs. */
function deadDeps(endpoint: string, alertsTopic: DependencyHealth, readTimeoutMs: number): ConsoleDeps {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
  );
  const tableName = "console-unit";
  return {
    fleet: { store: new FleetStore({ client, tableName }), now: () => T0, settings: { evictAfterSeconds: 86_400 } },
    log: new FleetLog({ client, tableName }),
    commands: new CommandStore({ client, tableName, maxAttempts: 1 }),
    configs: new ConfigStore({ client, tableName }),
    alertsTopic: async () => alertsTopic,
    now: () => T0,
    readTimeoutMs,
  };
}

async function unavailableOf(deps: ConsoleDeps): Promise<DependencyUnavailableError> {
  const error = await consoleData(deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DependencyUnavailableError)) throw new Error(`expected a DependencyUnavailableError, got ${String(error)}`);
  return error;
}

describe("consoleData when DynamoDB cannot be read", () => {
  // Accepts connections and never answers: DynamoDB hanging.
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("answers 503 DEPENDENCY_UNAVAILABLE with the strip: DynamoDB failing with why, SNS as checked, GSE unknown", async () => {
    const error = await unavailableOf(deadDeps("http://127.0.0.1:9", { ok: true, latency_ms: 3, detail: "alerts topic reachable" }, 10_000));
    expect(error).toMatchObject({ status: 503, code: 1650301, codeName: "DEPENDENCY_UNAVAILABLE" });
    expect(error.message).toMatch(/^DynamoDB could not be read: /);
    const data = consoleUnavailableDataSchema.parse(error.data);
    expect(data.dependencies).toMatchObject({
      dynamodb: { state: "failing", detail: expect.stringMatching(/^the status page's reads failed: /), checked_at: new Date(T0).toISOString() },
      sns: { state: "ok", detail: "alerts topic reachable" },
      gse: { state: "unknown", checked_at: null },
    });
  });

  it("does not wait for a DynamoDB that never answers: the same 503 after the read timeout", async () => {
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("the silent server has no port");
    const error = await unavailableOf(deadDeps(`http://127.0.0.1:${address.port}`, { ok: false, latency_ms: 2000, detail: "TimeoutError" }, 300));
    expect(consoleUnavailableDataSchema.parse(error.data).dependencies).toMatchObject({
      dynamodb: { state: "failing", detail: "the status page's reads failed: no answer within 0.3 s" },
      sns: { state: "failing", detail: "TimeoutError" },
    });
  });
});

describe("consoleDataSchema", () => {
  it("accepts what the assembly builds (the OpenAPI document is generated from it)", () => {
    const data = {
      generated_at: new Date(T0).toISOString(),
      dependencies: {
        gse: gseHealth(summary({ gse_failed_chunks: 1 }), { since: T0 - MINUTE }),
        dynamodb: { state: "ok" as const, detail: "this answer's reads took 12 ms", checked_at: new Date(T0).toISOString(), since: null },
        sns: checkedHealth({ ok: true, latency_ms: 4, detail: "alerts topic reachable" }, T0),
      },
      refresh_seconds: 15,
      fleet: fleetAtAGlance(summary()),
      history: { hours: 24, every_minutes: FLEET_STATS_EVERY_MINUTES, points: statusPoints([fleetStatsItem(summary(), T0)]) },
      lost: { total: 2, agents: lostAgents([agent("0:10.0.0.1")]), complete: true },
      alerts: [{ at: new Date(T0).toISOString(), kind: "lost", severity: "warning" as const, subject: "2 agents lost", message: "2 agents lost: 0:10.0.0.1" }],
      commands: [commandProgress(command(), zeroCounts())],
      rollouts: [consoleRollout(rolloutView())],
      applies: [
        {
          apply_id: "apply-000001",
          plan_id: "plan-000001",
          plat_name: "bkmonitor",
          status: "APPLIED" as const,
          author: "ops",
          summary: { create: 2, update: 0, delete: 0, unchanged: 3 },
          started_at: new Date(T0).toISOString(),
          finished_at: new Date(T0).toISOString(),
        },
      ],
      configs: recentVersions([version("route#1", 1)]),
    };
    expect(consoleDataSchema.parse(data)).toEqual(data);
  });
});
