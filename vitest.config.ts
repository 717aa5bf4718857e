import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The soak tests run alone, on a stack of their own: `npm run test:soak`.
    exclude: [...configDefaults.exclude, "test/soak/**"],
    // One local stack (DynamoDB Local, SNS/SQS, GSE simulator, runtime) for the whole run.
    // GSE_CONTROL_NO_STACK=1 skips it for a quick run of tests that need no stack.
    globalSetup: process.env.GSE_CONTROL_NO_STACK ? [] : ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", ["json", { outputFile: process.env.VITEST_JSON_OUTPUT ?? "test-results/vitest.json" }], "./test/helpers/reliability-reporter.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
