// The GSE client's transport: undici's Pool as lib/core/undici.ts gives it, one pool built at load.
// Its llhttp parser is the WebAssembly SIMD build alone (lib/bundling.ts leaves the other out).
import { Pool } from "../../lib/core/undici.ts";

const pool = new Pool("http://127.0.0.1:9", { connections: 32, keepAliveTimeout: 30_000, pipelining: 1 });
export const handler = async () => pool.stats.connected;
