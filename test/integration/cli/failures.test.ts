/**
 * How the real binary fails: within `--timeout` against a server that never answers, as one JSON
 * object on stdout with `--json`, and with exit 2 for a config that drifted from GSE.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { callApi, uniqueBuiltInChannelId, useStack } from "../../helpers/stack.ts";
import { cliRunner } from "./run-cli.ts";

const { info, authHeader } = useStack();
const dir = mkdtempSync(join(tmpdir(), "gse-cli-fail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { cli, env } = cliRunner(info, dir);

interface ErrorOut {
  error: { message: string; status: number | null; code: number | string; data?: unknown };
}

/** A server that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("the CLI's failures", () => {
  it("gives up after --timeout on a server that accepts and never answers, naming the URL and the timeout", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const res = await cli(["--timeout", "1", "fleet"], { ...env, GSE_CONTROL_URL: silent.url });
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`GET ${silent.url}/v1/fleet: no answer within 1 s (--timeout)`);

      const json = await cli(["--json", "--timeout", "0.5", "fleet"], { ...env, GSE_CONTROL_URL: silent.url });
      expect(json.code).toBe(1);
      expect((JSON.parse(json.stdout) as ErrorOut).error).toMatchObject({ status: null, code: "timeout", message: expect.stringContaining(silent.url) });
    } finally {
      await silent.close();
    }
  });

  it("with --json prints every failure as one {error} object on stdout: the API's refusal (1), a wrong use (2), an unreachable API (1)", async () => {
    const secret = "wrong-secret-never-to-be-printed";
    const denied = await cli(["--json", "fleet"], { ...env, GSE_CONTROL_APP_SECRET: secret });
    expect(denied.code).toBe(1);
    expect((JSON.parse(denied.stdout) as ErrorOut).error).toMatchObject({ status: 401, message: expect.stringContaining("HTTP 401") });
    expect(denied.stdout + denied.stderr).not.toContain(secret);

    const unknown = await cli(["--json", "nope"]);
    expect(unknown.code).toBe(2);
    expect((JSON.parse(unknown.stdout) as ErrorOut).error).toMatchObject({ status: null, code: "commander.unknownCommand" });

    const badKind = await cli(["config", "history", "channel", "1", "--json"]);
    expect(badKind.code).toBe(2);
    expect((JSON.parse(badKind.stdout) as ErrorOut).error).toMatchObject({ code: "usage", message: expect.stringContaining("kind must be route or streamto") });

    const badTimeout = await cli(["--json", "--timeout", "soon", "fleet"]);
    expect(badTimeout.code).toBe(2);
    expect((JSON.parse(badTimeout.stdout) as ErrorOut).error.message).toMatch(/^--timeout is seconds/);

    const unreachable = await cli(["--json", "fleet"], { ...env, GSE_CONTROL_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(1);
    expect((JSON.parse(unreachable.stdout) as ErrorOut).error).toMatchObject({ status: null, code: "unreachable" });
  });

  it("config drift exits 0 in sync and 2 once GSE was changed behind our back, printing the changes", async () => {
    const channelId = uniqueBuiltInChannelId();
    const op = { operator_name: "admin" };
    const routeTo = (streamTo: number) => [{ name: "d", stream_to: { stream_to_id: streamTo, kafka: { topic_name: `cli_drift_${channelId}` } } }];
    const added = await callApi(info.gatewayUrl, "/api/v2/data/add_route", {
      method: "POST",
      headers: authHeader,
      body: { metadata: { channel_id: channelId, plat_name: "bkmonitor" }, operation: op, route: routeTo(501) },
    });
    expect(added.body).toMatchObject({ result: true });
    const inSync = await cli(["config", "drift", "route", String(channelId)]);
    expect(inSync.code, inSync.stderr).toBe(0);

    // Straight to the simulator, as another tool talking to GSE would.
    const direct = await request(`${info.gseUrl}/api/v2/data/update_route`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-bkapi-authorization": JSON.stringify({ bk_app_code: info.credentials.gse.appCode, bk_app_secret: info.credentials.gse.appSecret }),
      },
      body: JSON.stringify({ condition: { channel_id: channelId, plat_name: "bkmonitor" }, operation: op, specification: { route: routeTo(599) } }),
    });
    expect(((await direct.body.json()) as { code: number }).code).toBe(0);

    const drifted = await cli(["config", "drift", "route", String(channelId)]);
    expect(drifted.code).toBe(2);
    expect(drifted.stdout).toContain("drifted");
    const json = await cli(["--json", "config", "drift", "route", String(channelId)]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ in_sync: false, changes: [{ path: "route[name=d].stream_to.stream_to_id", from: 501, to: 599 }] });
  });
});
