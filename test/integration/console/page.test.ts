/**
 * The status page in a real browser: Debian's Chromium driven by playwright-core against the
 * shared stack's gateway, signed in with HTTP Basic as an operator's browser would be. The page's
 * own auto-refresh is driven by Playwright's clock (no 15 s wait). A screenshot of the last state
 * goes to test-results/console.png (not in git). Chromium missing is a failure that says how to
 * install it, never a skip: scripts/ensure-chromium.sh (run by `npm test`'s pretest) installs it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.ts";
import { consoleDataSchema } from "../../../lib/console/schemas.ts";
import { addConsoleAgents, basicAuth, setAgentStatus, stackPoller } from "../../helpers/console.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";
import { callApi, eventually, useStack, withFaults } from "../../helpers/stack.ts";

const { info } = useStack();
const { bk_app_code: code, bk_app_secret: secret } = info.credentials.caller;
const SCREENSHOT = join(ROOT, "test-results", "console.png");
/** How long a refresh may take: /v1/console/data reads several tables, slower while other files load the stack. */
const REFRESHED = { timeout: 15_000, interval: 100 };

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/**
 * Heartbeat polls of the stack's fleet table whose every GSE call asks about one agent, so a fault
 * matching one agent's call alone (`["<id>"]`) fails only that call of these polls: the stack's
 * scheduled heartbeat and other files' polls ask about many agents a call and are not hit.
 */
const onePerCallPoller = () => stackPoller(info, { chunkSize: 1, concurrency: 8 });

/** Clicks Refresh and waits for the page to draw a new answer. */
async function refreshed(page: Page): Promise<void> {
  const before = await page.getAttribute("body", "data-generated-at");
  await page.click("#refresh");
  await expect.poll(() => page.getAttribute("body", "data-generated-at"), REFRESHED).not.toBe(before);
}

/**
 * Polls and refreshes until the page's GSE shows `state`: a poll of the stack's table by someone
 * else (its scheduled heartbeat, another file) may land between this file's poll and the refresh.
 */
async function pollUntilGse(page: Page, poll: () => Promise<number>, state: string): Promise<number> {
  let polledAt = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    polledAt = await poll();
    await refreshed(page);
    if ((await page.getAttribute("#dep-gse", "data-state")) === state) return polledAt;
  }
  expect(await page.getAttribute("#dep-gse", "data-state")).toBe(state);
  return polledAt;
}

/** "2026-11-25 12:01Z", as the page writes a time. */
const utc = (iso: string): string => `${iso.slice(0, 16).replace("T", " ")}Z`;

/** A page in a context of its own, recording every console error and uncaught exception. */
async function open(credentials: { username: string; password: string } | undefined): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, ...(credentials ? { httpCredentials: credentials } : {}) });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
  return { context, page, errors };
}

describe("the status page in Chromium", () => {
  it("loads with the simulator's data, shows an agent as lost on its next auto-refresh after the simulator takes it down, without console errors", async () => {
    const poller = await stackPoller(info);
    const ids = await addConsoleAgents(info, 3, "2.1.7");
    await poller.watch(ids);
    await poller.poll();

    const { context, page, errors } = await open({ username: code, password: secret });
    try {
      await page.clock.install();
      const response = await page.goto(`${info.gatewayUrl}/v1/console`);
      expect(response?.status()).toBe(200);
      await page.waitForSelector("body[data-generated-at]");
      expect(await page.textContent("#status")).toMatch(/^updated /);
      expect(Number(await page.textContent("#fleet .tile.agents .n"))).toBeGreaterThanOrEqual(3);
      expect(await page.textContent("#versions")).toContain("2.1.7");
      expect(await page.locator("#chart svg polyline").count()).toBeGreaterThan(0);
      expect(await page.textContent("#lost")).not.toContain(ids[0]);

      await setAgentStatus(info, [ids[0]!], 3);
      for (let i = 0; i < 3; i++) await poller.poll();
      // Shown on the next refresh, without a reload: the page asks again every refresh_seconds.
      const shownAt = await page.getAttribute("body", "data-generated-at");
      await page.clock.fastForward(16_000);
      await expect.poll(() => page.getAttribute("body", "data-generated-at"), REFRESHED).not.toBe(shownAt);
      const lostRow = page.locator("#lost tr", { hasText: ids[0]! });
      await expect.poll(() => lostRow.count(), REFRESHED).toBe(1);
      expect(await lostRow.textContent()).toContain("2.1.7");
      expect(await page.textContent("#lost")).not.toContain(ids[1]);

      // The lost alert reaches the alert log (topic → queue → alert_log) and the page's next refresh.
      await eventually("the lost alert in the log", async () => {
        const res = await callApi(info.gatewayUrl, "/v1/console/data", { headers: basicAuth(code, secret) });
        return consoleDataSchema.parse(res.body.data).alerts.find((a) => a.kind === "lost" && a.message.includes(ids[0]!));
      });
      const before = await page.getAttribute("body", "data-generated-at");
      await page.click("#refresh");
      await expect.poll(() => page.getAttribute("body", "data-generated-at"), REFRESHED).not.toBe(before);
      expect(await page.locator("#alerts tr", { hasText: ids[0]! }).count()).toBeGreaterThan(0);

      mkdirSync(join(ROOT, "test-results"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows GSE failing at the top and the fleet's counts as of the last poll GSE answered, while GSE fails a call of the poll, and ok again after", async () => {
    const poller = await onePerCallPoller();
    const ids = await addConsoleAgents(info, 2, "2.1.7");
    await poller.watch(ids);
    const goodAt = await poller.poll();

    const { context, page, errors } = await open({ username: code, password: secret });
    try {
      await page.clock.install();
      await page.goto(`${info.gatewayUrl}/v1/console`);
      await page.waitForSelector("body[data-generated-at]");

      // GSE's gateway answers 502 to the call about this file's first agent, and to nothing else.
      const failedAt = await withFaults(info, [{ kind: "http_error", status: 502, operation: "list_agent_state", match: `["${ids[0]}"]` }], () =>
        pollUntilGse(page, () => poller.poll(), "failing"),
      );
      const gse = await page.textContent("#dep-gse");
      expect(gse).toMatch(/^GSEfailing[1-9]\d* of \d+ calls failed in the last heartbeat poll/);
      expect(gse).toContain("failing since ");
      expect(await page.getAttribute("#dep-dynamodb", "data-state")).toBe("ok");
      expect(await page.getAttribute("#dep-sns", "data-state")).toBe("ok");
      expect(await page.textContent("#status")).toMatch(/ · failing: GSE$/);
      // The tiles: as of the last poll that answered for the failed call's agent, not the failed poll.
      const asOf = (await page.getAttribute("#fleet", "data-as-of")) ?? "";
      expect(Date.parse(asOf)).toBeGreaterThanOrEqual(goodAt);
      expect(Date.parse(asOf)).toBeLessThan(failedAt);
      expect(await page.textContent("#fleet .stale-label")).toMatch(new RegExp(`^GSE failing: counts as of ${utc(asOf)} \\(`));
      expect(await page.locator("#fleet .tiles.stale").count()).toBe(1);
      mkdirSync(join(ROOT, "test-results"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "test-results", "console-gse-failing.png"), fullPage: true });

      // The fault is gone: the next poll is answered in full, and the page says so.
      await pollUntilGse(page, () => poller.poll(), "ok");
      expect(await page.locator("#fleet .stale-label").count()).toBe(0);
      expect(await page.locator("#fleet .tiles.stale").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("refuses a browser without credentials or with wrong ones (401 with a Basic challenge) and shows it no data", async () => {
    for (const credentials of [undefined, { username: code, password: "wrong-secret" }, { username: "intruder", password: secret }]) {
      const { context, page } = await open(credentials);
      const who = credentials?.username ?? "anonymous";
      try {
        // Headless, nobody types into the browser's prompt: it shows the 401 or gives up on the challenge.
        const shown = await page.goto(`${info.gatewayUrl}/v1/console`).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
        if (shown instanceof Error) expect(shown.message, who).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
        else expect(shown?.status(), who).toBe(401);
        expect(await page.locator("#fleet").count()).toBe(0);
        // What it was answered: 401 with the challenge, for the page and for its data.
        for (const path of ["/v1/console", "/v1/console/data"]) {
          const refused = await context.request.get(`${info.gatewayUrl}${path}`);
          expect(refused.status(), `${who} ${path}`).toBe(401);
          expect(refused.headers()["www-authenticate"]).toBe('Basic realm="gse-control", charset="UTF-8"');
          const text = await refused.text();
          expect(text).toContain("UNAUTHENTICATED");
          expect(text).not.toContain(secret);
        }
      } finally {
        await context.close();
      }
    }
  });
});
