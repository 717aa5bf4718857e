/**
 * Rollouts on the status page: which the data picks (not ended first, then those ended in the last
 * day) and how it shapes one (its current wave's progress, gate, error budget, the actions its
 * status allows); and, in Debian's Chromium with /v1/console/data answered by the test, the row an
 * operator sees with pause/abort buttons that POST to the page's own route, and a read-only caller
 * sees without them.
 */
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRollout, recentRollouts, rolloutActions } from "../../../lib/console/data.ts";
import { consolePage, PAGE_HEADERS } from "../../../lib/console/page.ts";
import type { ConsoleData, ConsoleRollout } from "../../../lib/console/schemas.ts";
import { launchChromium } from "../../helpers/chromium.ts";
import { consoleData } from "../../helpers/console-page.ts";
import { rolloutView, waveView } from "../../helpers/rollout-view.ts";

const NOW = Date.parse("2026-12-03T11:00:00.000Z");
const HOUR = 3_600_000;
const at = (ms: number): string => new Date(ms).toISOString();

describe("the rollouts the status page shows", () => {
  it("shows the current wave's progress, the gate and the error budget", () => {
    expect(consoleRollout(rolloutView())).toEqual({
      rollout_id: "r1",
      status: "RUNNING",
      reason: null,
      targets: 30,
      errors: 1,
      max_errors: 3,
      current_wave: 2,
      waves: 2,
      wave: { index: 2, size: 10, status: "RUNNING", sent: 6, settled: 4, failed: 0, bake_until: null },
      gate: { state: "ok", gate: null, touched: 16, unhealthy: 1, threshold: 3 },
      undo: null,
      created_at: "2026-12-03T10:00:00.000Z",
      created_by: "ops",
      updated_at: "2026-12-03T10:01:00.000Z",
      actions: ["pause", "abort"],
    });
    expect(consoleRollout(rolloutView({ waves: [], current_wave: 0, status: "SCHEDULED" })).wave).toBeNull();
  });

  it("offers pause to a live rollout, resume to a paused one, abort to both, and nothing once it ended", () => {
    expect(["SCHEDULED", "RUNNING", "BAKING", "PAUSED", "SUCCEEDED", "ABORTED", "CANCELLED"].map((s) => rolloutActions(s as never))).toEqual([
      ["pause", "abort"],
      ["pause", "abort"],
      ["pause", "abort"],
      ["resume", "abort"],
      [],
      [],
      [],
    ]);
  });

  it("lists the rollouts not ended (an aborted one whose undo runs included) first, then those ended in the last day, newest first", () => {
    const views = [
      rolloutView({ rollout_id: "old-done", status: "SUCCEEDED", created_at: at(NOW - 30 * HOUR), finished_at: at(NOW - 25 * HOUR) }),
      rolloutView({ rollout_id: "done", status: "SUCCEEDED", created_at: at(NOW - 3 * HOUR), finished_at: at(NOW - 2 * HOUR) }),
      rolloutView({ rollout_id: "running-old", created_at: at(NOW - 48 * HOUR) }),
      rolloutView({
        rollout_id: "undoing",
        status: "ABORTED",
        created_at: at(NOW - 5 * HOUR),
        undo: { message_id: "undoing.undo", status: "RUNNING", counts: null },
      }),
      rolloutView({ rollout_id: "paused", status: "PAUSED", created_at: at(NOW - HOUR) }),
    ];
    expect(recentRollouts(views, NOW).map((r) => r.rollout_id)).toEqual(["paused", "undoing", "running-old", "done"]);
    expect(recentRollouts(views, NOW, 24, 2).map((r) => r.rollout_id)).toEqual(["paused", "undoing"]);
  });
});

const data = (rollouts: ConsoleRollout[], readOnly: boolean): ConsoleData =>
  consoleData(NOW, { rollouts, viewer: { app_code: "ops", scopes: readOnly ? ["gse:read"] : ["operator"], read_only: readOnly } });

const ORIGIN = "http://console.test";
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** The page after its first refresh; the actions it POSTs are answered 200 with a PAUSED view and collected. */
async function shown(value: ConsoleData, run: (page: Page, posts: Request[], errors: string[]) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const posts: Request[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("dialog", (dialog) => void dialog.accept());
  try {
    await page.clock.install({ time: NOW });
    await page.route(`${ORIGIN}/**`, (route) => {
      const request = route.request();
      const path = new URL(request.url()).pathname;
      if (path === "/v1/console")
        return route.fulfill({ status: 200, headers: { ...PAGE_HEADERS }, contentType: "text/html; charset=utf-8", body: consolePage() });
      const body = (data: unknown): string => JSON.stringify({ result: true, code: 0, message: "", data, request_id: "r" });
      if (path === "/v1/console/data") return route.fulfill({ status: 200, contentType: "application/json; charset=utf-8", body: body(value) });
      if (request.method() === "POST" && path.startsWith("/v1/console/rollouts/")) {
        posts.push(request);
        return route.fulfill({ status: 200, contentType: "application/json; charset=utf-8", body: body(rolloutView({ status: "PAUSED" })) });
      }
      return route.fulfill({ status: 404, body: "" });
    });
    await page.goto(`${ORIGIN}/v1/console`);
    await page.waitForSelector("#rollouts tr[data-rollout], #rollouts .empty");
    await run(page, posts, errors);
  } finally {
    await context.close();
  }
}

describe("the status page's rollouts", () => {
  const tripped = consoleRollout(
    rolloutView({
      rollout_id: "r2",
      status: "ABORTED",
      reason: "gate health tripped: 5 of 16 touched unhealthy",
      gate: { state: "tripped", gate: "health", touched: 16, unhealthy: 5, threshold: 3 },
      undo: { message_id: "r2.undo", status: "RUNNING", counts: null },
      waves: [waveView(1, 10, "SUCCEEDED", { REPLIED: 10 }, { bake_until: "2026-12-03T10:05:00.000Z" })],
      current_wave: 1,
    }),
  );

  it("shows an operator each rollout's wave, gate and errors, with the actions its status allows; pause POSTs JSON to the page's own route", async () => {
    await shown(data([consoleRollout(rolloutView()), tripped], false), async (page, posts, errors) => {
      expect(await page.textContent("#rollouts-count")).toBe("2");
      const row = page.locator('#rollouts tr[data-rollout="r1"]');
      const text = await row.textContent();
      expect(text).toContain("wave 2 of 2 started · 10 agents · RUNNING");
      expect(text).toContain("sent 6 · settled 4 · failed 0");
      expect(text).toContain("1 unhealthy of 16 touched · trips above 3");
      expect(text).toContain("1 / 3");
      expect(await row.locator(".gate .badge").textContent()).toBe("ok");
      expect(await row.locator("button").allTextContents()).toEqual(["pause", "abort"]);

      const other = page.locator('#rollouts tr[data-rollout="r2"]');
      expect(await other.getAttribute("class")).toBe("hl");
      expect(await other.locator(".gate .badge").textContent()).toBe("tripped (health)");
      expect(await other.textContent()).toContain("undo RUNNING");
      expect(await other.textContent()).toContain("bake until 2026-12-03 10:05Z");
      expect(await other.locator("button").count()).toBe(0);

      await row.locator('button[data-action="pause"]').click();
      await expect.poll(() => posts.length).toBe(1);
      const post = posts[0]!;
      expect(new URL(post.url()).pathname).toBe("/v1/console/rollouts/r1/pause");
      expect(post.headers()["content-type"]).toBe("application/json");
      expect(post.postData()).toBe("{}");
      await expect.poll(() => page.textContent("#status")).toContain("pause r1: PAUSED");
      expect(errors).toEqual([]);
    });
  });

  it("shows a read-only caller the same rollouts without any action", async () => {
    await shown(data([consoleRollout(rolloutView()), tripped], true), async (page, _posts, errors) => {
      expect(await page.locator("#rollouts tr[data-rollout]").count()).toBe(2);
      expect(await page.locator("#rollouts button").count()).toBe(0);
      expect(await page.locator("#rollouts th").count()).toBe(6);
      expect(errors).toEqual([]);
    });
  });

  it("says so when no rollout is running or ended in the last day", async () => {
    await shown(data([], false), async (page) => {
      expect(await page.textContent("#rollouts")).toBe("No rollout is running or ended in the last day.");
    });
  });
});
