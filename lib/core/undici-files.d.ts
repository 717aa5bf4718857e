/**
 * Types of the undici files lib/core/undici.ts imports: undici types its index only, and each of
 * these files' `module.exports` is the class or object its index re-exports under that name.
 */
declare module "undici/lib/dispatcher/pool.js" {
  import { Pool } from "undici";
  export = Pool;
}
declare module "undici/lib/dispatcher/agent.js" {
  import { Agent } from "undici";
  export = Agent;
}
declare module "undici/lib/dispatcher/dispatcher.js" {
  import { Dispatcher } from "undici";
  export = Dispatcher;
}
/** The request API: a function of `this` dispatcher, which undici's index assigns to Dispatcher.prototype. */
declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";
  const request: Dispatcher["request"];
  export = request;
}
