import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleEntry, ROOT } from "../../../local/bundle.ts";

/**
 * lib/core/undici.ts takes undici's dispatchers from its files, not its index, and the bundles define
 * `esbuildDetection` (lib/bundling.ts): bundled exactly so, Pool and Agent must still carry the
 * request API and parse HTTP/1 answers (llhttp), as the GSE client and the slot forward use them.
 */
const outDir = mkdtempSync(join(tmpdir(), "gse-undici-bundle-"));
let server: Server;
let origin: string;
let bundled: typeof import("../../../lib/core/undici.ts");

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json", "x-bkapi-request-id": "r-1" });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entry = join(outDir, "entry.ts");
  writeFileSync(entry, `export { Agent, Pool } from ${JSON.stringify(join(ROOT, "lib/core/undici.ts"))};\n`);
  const bundle = await bundleEntry("undici", entry, outDir);
  bundled = await import(pathToFileURL(bundle.outfile).href);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(outDir, { recursive: true, force: true });
});

describe("undici as the function bundles carry it", () => {
  it("a bundled Pool sends a POST and reads the status, headers and body of the answer", async () => {
    const pool = new bundled.Pool(origin, { connections: 2, keepAliveTimeout: 30_000, pipelining: 1 });
    try {
      const response = await pool.request({ origin, path: "/api/v2/x?y=1", method: "POST", body: '{"a":1}', headersTimeout: 5_000, bodyTimeout: 5_000 });
      expect(response.statusCode).toBe(201);
      expect(response.headers["x-bkapi-request-id"]).toBe("r-1");
      expect(JSON.parse(await response.body.text())).toEqual({ method: "POST", url: "/api/v2/x?y=1", body: '{"a":1}' });
    } finally {
      await pool.close();
    }
  });

  it("a bundled Agent sends to any origin with the same request API", async () => {
    const agent = new bundled.Agent({ connections: 1 });
    try {
      const response = await agent.request({ origin, path: "/forward", method: "POST", body: "{}" });
      expect(response.statusCode).toBe(201);
      await response.body.dump();
    } finally {
      await agent.close();
    }
  });
});
