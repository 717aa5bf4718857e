/**
 * Desired-state applies on the status page: in Debian's Chromium with /v1/console/data answered by
 * the test, a row per apply (its id and plan, status, platform, changes, author) with a rolled-back
 * one flagged, and a line saying so when there is none.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolePage, PAGE_HEADERS } from "../../../lib/console/page.ts";
import type { ConsoleApply, ConsoleData } from "../../../lib/console/schemas.ts";
import { launchChromium } from "../../helpers/chromium.ts";
import { consoleData } from "../../helpers/console-page.ts";

const NOW = Date.parse("2026-12-03T11:00:00.000Z");
const at = (ms: number): string => new Date(ms).toISOString();
const ORIGIN = "http://console.test";

const data = (applies: ConsoleApply[]): ConsoleData => consoleData(NOW, { applies });

const apply = (id: string, status: ConsoleApply["status"]): ConsoleApply => ({
  apply_id: id,
  plan_id: `plan-${id.slice(6)}`,
  plat_name: "bkmonitor",
  status,
  author: "ops",
  summary: { create: 2, update: 1, delete: 0, unchanged: 3 },
  started_at: at(NOW - 60_000),
  finished_at: at(NOW - 50_000),
});

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function shown(value: ConsoleData, run: (page: Page) => Promise<void>): Promise<void> {
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
      if (path === "/v1/console/data")
        return route.fulfill({
          status: 200,
          contentType: "application/json",
          body: JSON.stringify({ result: true, code: 0, message: "", data: value, request_id: "r" }),
        });
      return route.fulfill({ status: 404, body: "" });
    });
    await page.goto(`${ORIGIN}/v1/console`);
    await page.waitForSelector("#applies tr[data-apply], #applies .empty");
    await run(page);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}

describe("the status page's recent applies", () => {
  it("shows each apply's id, plan, status, platform, changes and author, a rolled-back one flagged", async () => {
    await shown(data([apply("apply-000002", "ROLLED_BACK"), apply("apply-000001", "APPLIED")]), async (page) => {
      expect(await page.textContent("#applies-count")).toBe("2");
      const rolledBack = page.locator('#applies tr[data-apply="apply-000002"]');
      const text = await rolledBack.textContent();
      expect(text).toContain("plan-000002");
      expect(text).toContain("ROLLED_BACK");
      expect(text).toContain("bkmonitor");
      expect(text).toContain("+2 ~1 -0 (3 unchanged)");
      expect(text).toContain("ops");
      expect(await rolledBack.getAttribute("class")).toBe("warn");
      expect(await page.locator('#applies tr[data-apply="apply-000001"]').getAttribute("class")).not.toBe("warn");
    });
  });

  it("says so when there is no apply yet", async () => {
    await shown(data([]), async (page) => {
      expect(await page.textContent("#applies")).toContain("No desired-state apply yet.");
    });
  });
});
