/**
 * How the status page draws the dependency strip and labels the fleet while GSE fails: the real
 * document in Debian's Chromium (playwright-core), with GET /v1/console and /v1/console/data answered
 * by the test (Playwright's routing, on an origin of its own), so no stack is needed, and the
 * page's clock fixed. Chromium missing is a failure that says how to install it, never a skip.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.ts";
import { consoleData } from "../../helpers/console-page.ts";
import { checkedHealth, fleetAtAGlance, gseHealth } from "../../../lib/console/data.ts";
import { consolePage, PAGE_HEADERS } from "../../../lib/console/page.ts";
import type { ConsoleData, ConsoleDependencies } from "../../../lib/console/schemas.ts";
import { FLEET_PARTITIONS, type FleetSummary } from "../../../lib/fleet/items.ts";

const ORIGIN = "http://console.test";
const NOW = Date.UTC(2026, 10, 25, 12, 0, 30);
const MINUTE = 60_000;
const at = (ms: number): string => new Date(ms).toISOString();

function summary(fields: Partial<FleetSummary> = {}): FleetSummary {
  return {
    poll_id: at(NOW - 30_000),
    as_of: at(NOW - 30_000),
    duration_ms: 80,
    shards: 1,
    agents: 240,
    by_status: { pending: 0, alive: 235, lost: 5, unknown: 0 },
    suspect: 0,
    by_version: [{ version: "2.1.7", count: 240, outdated: false }],
    outdated: 0,
    min_version: null,
    gse_calls: 1,
    gse_failed_chunks: 0,
    ...fields,
  };
}

const healthy = (): ConsoleDependencies => ({
  gse: gseHealth(summary(), undefined),
  dynamodb: { state: "ok", detail: "this answer's reads took 14 ms", checked_at: at(NOW), since: null },
  sns: checkedHealth({ ok: true, latency_ms: 3, detail: "alerts topic reachable" }, NOW),
});

const data = (fleet: ConsoleData["fleet"], dependencies: ConsoleDependencies): ConsoleData =>
  consoleData(NOW, { fleet, dependencies, lost: { total: 0, agents: [], complete: true } });

interface Answer {
  readonly status: number;
  readonly body: string;
}

const envelope = (value: ConsoleData): Answer => ({ status: 200, body: JSON.stringify({ result: true, code: 0, message: "", data: value, request_id: "r" }) });

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The page after its first refresh, /v1/console/data answered with `answer`; page errors collected. */
async function shown(answer: Answer, run: (page: Page, errors: string[]) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.clock.install({ time: NOW });
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === "/v1/console")
        return route.fulfill({ status: 200, headers: { ...PAGE_HEADERS }, contentType: "text/html; charset=utf-8", body: consolePage() });
      if (path === "/v1/console/data") return route.fulfill({ status: answer.status, contentType: "application/json; charset=utf-8", body: answer.body });
      return route.fulfill({ status: 404, body: "" });
    });
    await page.goto(`${ORIGIN}/v1/console`);
    await page.waitForSelector("#dep-dynamodb");
    await run(page, errors);
  } finally {
    await context.close();
  }
}

const depState = (page: Page, key: string): Promise<string | null> => page.getAttribute(`#dep-${key}`, "data-state");

describe("the status page's dependency strip", () => {
  it("shows GSE, DynamoDB and SNS/SQS ok, and the fleet as of its poll, when all answer", async () => {
    await shown(envelope(data(fleetAtAGlance(summary()), healthy())), async (page, errors) => {
      expect(await page.locator("#deps .dep .name").allTextContents()).toEqual(["GSE", "DynamoDB", "SNS/SQS"]);
      for (const key of ["gse", "dynamodb", "sns"]) expect(await depState(page, key), key).toBe("ok");
      expect(await page.textContent("#dep-gse")).toContain("answered the one call of the last heartbeat poll · last poll 2026-11-25 12:00Z");
      expect(await page.getAttribute("#fleet", "data-as-of")).toBe(at(NOW - 30_000));
      expect(await page.locator("#fleet .tiles.stale").count()).toBe(0);
      expect(await page.textContent("#fleet")).not.toContain("as of 2026");
      expect(await page.textContent("#status")).toBe("updated 2026-11-25 12:00Z · every 15 s");
      expect(errors).toEqual([]);
    });
  });

  it("shows GSE failing at the top, since when, and labels the fleet's counts as of the last time GSE answered for every agent", async () => {
    const failing = summary({ gse_calls: 3, gse_failed_chunks: 3 });
    const polled = new Map(Array.from({ length: FLEET_PARTITIONS }, (_, p) => [p, p === 5 ? NOW - 6 * MINUTE : NOW - 30_000] as const));
    const deps = { ...healthy(), gse: gseHealth(failing, { since: NOW - 4 * MINUTE, detail: "unavailable: GSE answered HTTP 502" }) };
    await shown(envelope(data(fleetAtAGlance(failing, 12, polled), deps)), async (page, errors) => {
      expect(await depState(page, "gse")).toBe("failing");
      expect(await depState(page, "dynamodb")).toBe("ok");
      expect(await depState(page, "sns")).toBe("ok");
      const gse = await page.textContent("#dep-gse");
      expect(gse).toContain("GSEfailing");
      expect(gse).toContain("3 of 3 calls failed in the last heartbeat poll (unavailable: GSE answered HTTP 502)");
      expect(gse).toContain("failing since 2026-11-25 11:56Z (4 min ago)");
      // The tiles: the last full answer, not the failed poll.
      expect(await page.getAttribute("#fleet", "data-as-of")).toBe(at(NOW - 6 * MINUTE));
      expect(await page.textContent("#fleet .stale-label")).toBe(
        "GSE failing: counts as of 2026-11-25 11:54Z (6 min ago), when it last answered for every agent",
      );
      expect(await page.locator("#fleet .tiles.stale").count()).toBe(1);
      expect(await page.textContent("#fleet .note")).toContain("3 of 3 GSE calls failed");
      expect(await page.textContent("#status")).toBe("updated 2026-11-25 12:00Z · every 15 s · failing: GSE");
      expect(await page.getAttribute("#status", "class")).toBe("status bad");
      expect(errors).toEqual([]);
    });
  });

  it("says the counts are not current when GSE has never answered for every agent", async () => {
    const failing = summary({ gse_calls: 1, gse_failed_chunks: 1 });
    await shown(envelope(data(fleetAtAGlance(failing, 12, new Map()), { ...healthy(), gse: gseHealth(failing, undefined) })), async (page) => {
      expect(await page.getAttribute("#fleet", "data-as-of")).toBe("");
      expect(await page.textContent("#fleet .stale-label")).toBe("GSE failing: counts not current, it has not answered for every agent yet");
    });
  });

  it("shows the server's report when /v1/console/data answers 503 because DynamoDB cannot be read", async () => {
    const dependencies: ConsoleDependencies = {
      gse: { state: "unknown", detail: "the last heartbeat poll's outcome is in DynamoDB, which could not be read", checked_at: null, since: null },
      dynamodb: { state: "failing", detail: "the status page's reads failed: no answer within 10 s", checked_at: at(NOW), since: null },
      sns: checkedHealth({ ok: true, latency_ms: 3, detail: "alerts topic reachable" }, NOW),
    };
    const body = JSON.stringify({
      result: false,
      code: 1650301,
      code_name: "DEPENDENCY_UNAVAILABLE",
      message: "DynamoDB could not be read: no answer within 10 s",
      data: { dependencies },
      request_id: "r",
    });
    await shown({ status: 503, body }, async (page) => {
      expect(await depState(page, "dynamodb")).toBe("failing");
      expect(await depState(page, "sns")).toBe("ok");
      expect(await depState(page, "gse")).toBe("unknown");
      expect(await page.textContent("#dep-dynamodb")).toContain("the status page's reads failed: no answer within 10 s");
      // Since the page first saw it fail.
      expect(await page.textContent("#dep-dynamodb")).toContain("failing since 2026-11-25 12:00Z");
      expect(await page.textContent("#status")).toBe("refresh failed (DynamoDB could not be read: no answer within 10 s); showing the last answer");
    });
  });

  it("shows DynamoDB failing, the rest unknown, when /v1/console/data answers a server error without a report", async () => {
    const cases: [Answer, string][] = [
      [
        {
          status: 500,
          body: JSON.stringify({ result: false, code: 1650000, code_name: "INTERNAL_ERROR", message: "internal error", data: null, request_id: "r" }),
        },
        "/v1/console/data answered HTTP 500 (internal error)",
      ],
      [{ status: 504, body: "Gateway Timeout" }, "/v1/console/data answered HTTP 504: the status data, read from DynamoDB, is unavailable"],
    ];
    for (const [answer, detail] of cases) {
      await shown(answer, async (page) => {
        expect(await depState(page, "dynamodb"), detail).toBe("failing");
        expect(await depState(page, "gse")).toBe("unknown");
        expect(await depState(page, "sns")).toBe("unknown");
        expect(await page.textContent("#dep-dynamodb")).toContain(detail);
      });
    }
  });
});
