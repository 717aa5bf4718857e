/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The app only; every resource is built in infra/* from the definitions in lib/resources.ts and
 * lib/wiring.ts, the same ones the local stack uses.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "gse-control",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: process.env.AWS_REGION ?? "ap-southeast-1" } },
    };
  },
  async run() {
    const { secrets } = await import("./infra/secrets");
    const { tables } = await import("./infra/storage");
    const { alerts } = await import("./infra/alerts");
    const { queues } = await import("./infra/queue");
    const { functionArgs } = await import("./infra/functions");
    const { api } = await import("./infra/api");
    await import("./infra/recovery");
    await import("./infra/schedule");
    void secrets;
    void tables;
    void alerts;
    void queues;
    void functionArgs;
    return { api: api.url };
  },
});
