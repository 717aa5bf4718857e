import { ConfigError, ENV_SETTINGS, loadConfig } from "../lib/core/config";

/**
 * The plain settings every function gets, from the deploying shell, checked against the schema the
 * functions parse at cold start (lib/core/config.ts) before any resource is built. Without it a
 * deploy missing GSE_BASE_URL succeeds, and then every function fails its cold start.
 */
export function functionEnvironment(env: NodeJS.ProcessEnv, stage: string): Record<string, string> {
  const environment: Record<string, string> = { STAGE: stage };
  for (const name of ENV_SETTINGS) {
    const value = env[name];
    if (name !== "STAGE" && value !== undefined && value !== "") environment[name] = value;
  }
  try {
    // No links: linked settings (tables, queues, secrets) come from SST at run time, not the shell.
    loadConfig(environment, () => undefined, []);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new Error(
      [
        `Cannot deploy stage "${stage}": the functions would fail at cold start on these settings:`,
        ...error.problems.map((problem) => `  - ${problem}`),
        `Set them in the deploying shell or in .env / .env.${stage} beside sst.config.ts, e.g.`,
        `  GSE_BASE_URL=https://paas.example.com GSE_APP_CODE=gse_control GSE_SLOT_ID=37 npx sst deploy --stage ${stage}`,
        "Every setting, its default and bounds: docs/configuration.md. Secrets are not read from here: `npx sst secret set` (docs/deploying.md).",
      ].join("\n"),
    );
  }
  return environment;
}

export const environment = functionEnvironment(process.env, $app.stage);
