/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The app only; every resource is built in infra/* from the definitions in lib/resources.ts and
 * lib/wiring.ts, the same ones the local stack uses.
 */
export default $config({
  async app(input) {
    // Every stage keeps its data except a personal or development one (lib/stages.ts).
    const { stagePolicy } = await import("./lib/stages");
    const { protect, removal } = stagePolicy(input?.stage ?? "");
    return {
      name: "gse-control",
      home: "aws",
      removal,
      protect,
      providers: { aws: { region: process.env.AWS_REGION ?? "ap-southeast-1" } },
    };
  },
  async run() {
    // First: a deploy without the settings the functions need fails here, before any resource.
    await import("./infra/settings");
    // Order matters only for readability: each module builds what it names from lib/ definitions.
    await import("./infra/secrets");
    await import("./infra/storage");
    await import("./infra/alerts");
    await import("./infra/queue");
    const { api } = await import("./infra/api");
    await import("./infra/recovery");
    await import("./infra/schedule");
    await import("./infra/alarms");
    await import("./infra/dashboard");
    return { api: api.url };
  },
});
