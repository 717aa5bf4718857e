/**
 * The undici dispatchers we use, taken from undici's own files instead of its index. The index
 * builds everything undici has (fetch, WebSocket, EventSource, the cache and mock agents, every
 * interceptor, the SQLite cache store): about 400 kB of each bundle that no function runs (issue
 * 23). Pool and Agent are subclasses of the very classes `import { Pool } from "undici"` gives (one
 * module per file, the index only re-exports them), so `instanceof` and undici's own mocks keep
 * working in tests.
 *
 * The request API (`dispatcher.request(…)`) lives on Dispatcher.prototype only once undici's index
 * has put it there; this module puts `request` there, the one method we call (stream, pipeline,
 * upgrade and connect stay out of the bundles), so import Pool and Agent from here, never from the
 * files directly. Types stay `import type { Dispatcher } from "undici"` (erased, costs nothing).
 */
import type { Agent as UndiciAgentType, Pool as UndiciPoolType } from "undici";
import request from "undici/lib/api/api-request.js";
import UndiciAgent from "undici/lib/dispatcher/agent.js";
import DispatcherBase from "undici/lib/dispatcher/dispatcher.js";
import UndiciPool from "undici/lib/dispatcher/pool.js";

Object.assign(DispatcherBase.prototype, { request });

/**
 * HTTP/1.1 only. undici 8 offers HTTP/2 in TLS's ALPN by default, so an HTTPS GSE (or slot forward
 * target) that prefers h2 would be spoken to over a transport the local stack and the tests never
 * run (the simulator is plain HTTP), with one multiplexed connection where the pool sizes
 * connections for HTTP/1.1. Pinned here, undici's HTTP/2 client also stays out of the Lambda bundles
 * (lib/bundling.ts).
 */
export class Pool extends UndiciPool {
  constructor(origin: string | URL, options: UndiciPoolType.Options = {}) {
    super(origin, { ...options, allowH2: false });
  }
}

/** HTTP/1.1 only, as {@link Pool}. */
export class Agent extends UndiciAgent {
  constructor(options: UndiciAgentType.Options = {}) {
    super({ ...options, allowH2: false });
  }
}
