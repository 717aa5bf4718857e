/**
 * What a Lambda bundle gets for the X-Ray SDK's samplers (lib/bundling.ts swaps it in at build time for
 * `./sampling/default_sampler` and `./sampling/local_sampler`, ≈15 kB with the rule cache, pollers,
 * reservoirs, the X-Ray service connector and the default rules). In Lambda the service samples: the
 * decision arrives in _X_AMZN_TRACE_ID and the SDK's Lambda facade segment takes it from there. A
 * sampler is asked only by the SDK's incoming-request middleware (Express, Restify), which no function
 * runs; should one ever ask, it fails with this message instead of the bundle carrying the samplers.
 */
const leftOut = (): never => {
  throw new Error("the X-Ray SDK's samplers are left out of the Lambda bundles (lib/bundling.ts): Lambda samples through _X_AMZN_TRACE_ID");
};

export = { shouldSample: leftOut, setLocalRules: leftOut, start: leftOut };
