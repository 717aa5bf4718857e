/**
 * What a Lambda bundle gets in place of undici's HTTP/2 client (`undici/lib/dispatcher/client-h2.js`,
 * ≈20 kB with what it pulls in; lib/bundling.ts swaps it in at build time). undici's client calls it
 * only on a connection whose TLS ALPN chose h2, and our Pool and Agent offer only http/1.1
 * (lib/core/undici.ts). Should one ever be chosen, the connection fails with this message.
 */
export = function connectH2(): never {
  throw new Error("undici's HTTP/2 client is left out of the Lambda bundles (lib/bundling.ts); lib/core/undici.ts's Pool and Agent speak HTTP/1.1 only");
};
