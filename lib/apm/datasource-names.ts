/** An APM application's datasources, apart from its schemas so the CLI's `--help` can offer them without loading zod. */
export const DATASOURCES = ["trace", "metric", "log", "profiling"] as const;
export type DatasourceName = (typeof DATASOURCES)[number];
