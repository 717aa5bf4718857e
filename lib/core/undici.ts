/**
 * The undici dispatchers we use, taken from undici's own files instead of its index. The index
 * builds everything undici has (fetch, WebSocket, EventSource, the cache and mock agents, every
 * interceptor, the SQLite cache store): about 400 kB of each bundle that no function runs (issue
 * 23). These are the very classes `import { Pool } from "undici"` gives (one module per file, the
 * index only re-exports them), so `instanceof` and undici's own mocks keep working in tests.
 *
 * The request API (`dispatcher.request(…)`) lives on Dispatcher.prototype only once undici's index
 * has put it there; this module does the same, so import Pool and Agent from here, never from the
 * files directly. Types stay `import type { Dispatcher } from "undici"` (erased, costs nothing).
 */
import api from "undici/lib/api/index.js";
import Agent from "undici/lib/dispatcher/agent.js";
import DispatcherBase from "undici/lib/dispatcher/dispatcher.js";
import Pool from "undici/lib/dispatcher/pool.js";

Object.assign(DispatcherBase.prototype, api);

export { Agent, Pool };
