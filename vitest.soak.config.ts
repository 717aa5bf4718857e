import { defineConfig } from "vitest/config";

/** `npm run test:soak`: the long load test, on a stack of its own (test/helpers/soak-setup.ts). */
export default defineConfig({
  test: {
    include: ["test/soak/**/*.test.ts"],
    globalSetup: ["test/helpers/soak-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 90_000,
    pool: "forks",
    reporters: [
      "default",
      ["json", { outputFile: process.env.VITEST_JSON_OUTPUT ?? "test-results/vitest-soak.json" }],
      "./test/helpers/reliability-reporter.ts",
    ],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
