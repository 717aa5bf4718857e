/**
 * The status page in a real browser: Debian's Chromium driven by playwright-core against the
 * shared stack's gateway, signed in with HTTP Basic as an operator's browser would be. The page's
 * own auto-refresh is driven by Playwright's clock (no 15 s wait). A screenshot of the last state
 * goes to test-results/console.png (not in git). Chromium missing is a failure that says how to
 * install it, never a skip: scripts/ensure-chromium.sh (run by `npm test`'s pretest) installs it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleDataSchema } from "../../../lib/console/schemas.ts";
import { addConsoleAgents, basicAuth, setAgentStatus, stackPoller } from "../../helpers/console.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";
import { callApi, eventually, useStack } from "../../helpers/stack.ts";

const { info } = useStack();
const { bk_app_code: code, bk_app_secret: secret } = info.credentials.caller;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Without the background-networking flags Chromium's own connections are refused on these machines and it stalls. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOT = join(ROOT, "test-results", "console.png");
/** How long a refresh may take: /console/data reads several tables, slower while other files load the stack. */
const REFRESHED = { timeout: 15_000, interval: 100 };

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/ensure-chromium.sh (apt-get install chromium) or set CHROMIUM_PATH, then run this test again`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

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
      const response = await page.goto(`${info.gatewayUrl}/console`);
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
        const res = await callApi(info.gatewayUrl, "/console/data", { headers: basicAuth(code, secret) });
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

  it("refuses a browser without credentials or with wrong ones (401 with a Basic challenge) and shows it no data", async () => {
    for (const credentials of [undefined, { username: code, password: "wrong-secret" }, { username: "intruder", password: secret }]) {
      const { context, page } = await open(credentials);
      const who = credentials?.username ?? "anonymous";
      try {
        // Headless, nobody types into the browser's prompt: it shows the 401 or gives up on the challenge.
        const shown = await page.goto(`${info.gatewayUrl}/console`).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
        if (shown instanceof Error) expect(shown.message, who).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
        else expect(shown?.status(), who).toBe(401);
        expect(await page.locator("#fleet").count()).toBe(0);
        // What it was answered: 401 with the challenge, for the page and for its data.
        for (const path of ["/console", "/console/data"]) {
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
