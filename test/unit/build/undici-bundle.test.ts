import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleEntry, ROOT } from "../../../local/bundle.ts";

/**
 * lib/core/undici.ts takes undici's dispatchers from its files, not its index, and the bundles define
 * `esbuildDetection` and leave out undici's HTTP/2 client and FormData code (lib/bundling.ts):
 * bundled exactly so, Pool and Agent must still carry the request API and parse HTTP/1 answers
 * (llhttp), as the GSE client and the slot forward use them, and speak HTTP/1.1 to a TLS server
 * that would rather speak HTTP/2.
 */
const outDir = mkdtempSync(join(tmpdir(), "gse-undici-bundle-"));
let server: Server;
let origin: string;
let bundled: typeof import("../../../lib/core/undici.ts");
/** A TLS server that offers h2 before http/1.1 (Node picks the server's order): answers with the HTTP version it was asked in. */
let tlsServer: Http2SecureServer;
let tlsOrigin: string;
const fixture = (name: string): Buffer => readFileSync(join(import.meta.dirname, "fixtures", "tls", name));

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
  tlsServer = createSecureServer({ key: fixture("localhost.key"), cert: fixture("localhost.crt"), allowHTTP1: true }, (req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(req.httpVersion);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  tlsOrigin = `https://localhost:${(tlsServer.address() as AddressInfo).port}`;
  const entry = join(outDir, "entry.ts");
  writeFileSync(entry, `export { Agent, Pool } from ${JSON.stringify(join(ROOT, "lib/core/undici.ts"))};\n`);
  const bundle = await bundleEntry("undici", entry, outDir);
  bundled = await import(pathToFileURL(bundle.outfile).href);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
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

  it("a bundled Pool and Agent speak HTTP/1.1 to a TLS server that offers HTTP/2 first", async () => {
    const connect = { ca: fixture("localhost.crt") };
    const pool = new bundled.Pool(tlsOrigin, { connect });
    const agent = new bundled.Agent({ connect });
    try {
      for (const dispatcher of [pool, agent]) {
        const response = await dispatcher.request({ origin: tlsOrigin, path: "/", method: "GET" });
        expect(await response.body.text()).toBe("1.1");
      }
    } finally {
      await Promise.all([pool.close(), agent.close()]);
    }
  });

  it("a FormData body, whose code the bundles leave out, fails the request and says why", async () => {
    const pool = new bundled.Pool(origin);
    try {
      const form = new FormData();
      form.set("a", "1");
      await expect(pool.request({ origin, path: "/", method: "POST", body: form as never })).rejects.toThrow(/FormData support is left out/);
    } finally {
      await pool.close();
    }
  });
});
