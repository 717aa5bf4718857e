/**
 * Tracked commands: a dispatch_message becomes a record first, then batches sent under the
 * command's rollout limits, per-agent outcomes, retries (retry.ts) and one final status. Every
 * step is a conditional write, so any number of senders (the request, the queue's watchdog, a
 * redelivered job) can work on one command and each thing happens once.
 *
 * The engine is these steps, one module each; this file gathers them for the modules outside
 * the feature (the cold-start deps, the console, APM, the automation function):
 *
 *   settings.ts  settings, dependencies, the queue jobs' names
 *   rollout.ts   batch size, parallelism, tolerated errors, backoff, the body's hash
 *   submit.ts    record the command and its batches; queue its watchdog tick
 *   send.ts      claim, send and complete batches within a time budget
 *   settle.ts    end a command when nothing is left to wait for, or stop it
 *   close.ts     bring an ended command to its final outcomes and counts
 *   outcomes.ts  an agent's outcome as told, and the counts
 *   views.ts     a command and its agents as the API shows them
 *   in-flight.ts the in-flight window's recount (the sweep mends the counter from it)
 *   reply-count.ts replies (and reply timeouts) counted per batch onto the command's counters
 *   reply-rule.ts what makes a reply a failure (judged in reply.ts)
 */
export * from "./settings.ts";
export * from "./rollout.ts";
export * from "./submit.ts";
export * from "./send.ts";
export * from "./settle.ts";
export * from "./close.ts";
export * from "./outcomes.ts";
export * from "./views.ts";
