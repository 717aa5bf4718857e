/**
 * Replies to an APM discovery command, as they reach the slot callback: each lists the instances
 * the agent's probes run. Apart from probes.ts so that the callback function, which only writes
 * them, does not load the command engine and the GSE client.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import * as z from "zod";
import type { SlotCallback } from "../gse/schemas.ts";
import type { AppStore } from "./store.ts";
import type { CommandItem } from "../commands/store.ts";
import { discoveryReplySchema, type AppView } from "./schemas.ts";
import { DAY_MS } from "./window.ts";

/** Probe records outlive their app's retention by a day, then DynamoDB's TTL takes them. */
export const keepSecondsOf = (app: Pick<AppView, "retention_days">): number => (app.retention_days + 1) * (DAY_MS / 1000);

/** What a discovery command's replies are matched by. */
export const discoveryOriginSchema = z.object({ kind: z.literal("apm.discover"), bk_biz_id: z.int(), app_name: z.string() });

/**
 * A reply to a discovery command: its content lists the agent's instances. A reply that is not
 * such a list is kept on the command (as every reply is) and otherwise ignored: an agent's bad
 * answer is not GSE's fault, and GSE would only send it again.
 */
export async function recordDiscoveryReply(
  deps: { store: AppStore; now: () => number; logger: Logger },
  command: CommandItem,
  callback: SlotCallback,
): Promise<number> {
  const origin = discoveryOriginSchema.safeParse(command.origin);
  if (!origin.success) return 0;
  let parsed: z.infer<typeof discoveryReplySchema>;
  try {
    parsed = discoveryReplySchema.parse(JSON.parse(callback.content));
  } catch (error) {
    deps.logger.warn("discovery reply is not a list of probe instances", {
      message_id: command.message_id,
      bk_agent_id: callback.bk_agent_id,
      error: error instanceof Error ? error.message : String(error),
    });
    return 0;
  }
  const app = await deps.store.getApp(origin.data.bk_biz_id, origin.data.app_name);
  if (!app || parsed.instances.length === 0) return 0;
  const now = deps.now();
  const reports = parsed.instances.map((i) => ({ ...i, agent_id: i.agent_id ?? callback.bk_agent_id, last_seen: Math.min(i.last_seen ?? now, now) }));
  return deps.store.putProbes(app.bk_biz_id, app.app_name, reports, keepSecondsOf(app));
}
