/**
 * The esbuild plugins `sst deploy` bundles every function with (infra/functions.ts names this file
 * in `nodejs.plugins`): SST imports its default export, a list of plugins, in a Node.js process of
 * its own, so this file and what it imports must run under plain `node` (erasable TypeScript, `.ts`
 * in relative imports). local/bundle.ts uses the same plugins.
 */
import { fileURLToPath } from "node:url";
import { lambdaSwapsPlugin } from "../lib/bundling.ts";

export default [lambdaSwapsPlugin(fileURLToPath(new URL("..", import.meta.url)))];
