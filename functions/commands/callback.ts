import { recordDiscoveryReply } from "../../lib/apm/discovery.ts";
import { AppStore } from "../../lib/apm/store.ts";
import { commandWaker, receiveCallback, slotForwarder } from "../../lib/commands/reply.ts";
import { callbackKeyOf, queueUrlOf, tableOf } from "../../lib/core/config.ts";
import { sqsClient, sqsSender } from "../../lib/core/queue.ts";
import { functionContext } from "../../lib/core/function.ts";
import { documentClient } from "../../lib/core/aws.ts";
import { slotCallbackSchema, type SlotCallback } from "../../lib/gse/schemas.ts";
import { callbackKeyAuthenticator } from "../../lib/http/auth.ts";
import { httpHandler } from "../../lib/http/handler.ts";
import { CommandStore, type CommandItem } from "../../lib/commands/store.ts";

const { config, logger } = await functionContext("gse_callback");
const dynamo = documentClient();
const apps = { store: new AppStore({ client: dynamo, tableName: tableOf(config, "apps") }), now: Date.now, logger };
const deps = {
  store: new CommandStore({ client: dynamo, tableName: tableOf(config, "commands") }),
  now: Date.now,
  retentionMs: config.commands.retentionDays * 86_400_000,
  // Replies to an APM discovery command are that app's probe instances.
  onReply: (command: CommandItem, callback: SlotCallback) => recordDiscoveryReply(apps, command, callback),
  // Unsolicited upstream messages go on to bk-monitor's own slot handler, when one is set.
  ...(config.slotForward.url ? { forward: slotForwarder(sqsSender(sqsClient(), queueUrlOf(config, "slotForward"))) } : {}),
  // A reply that frees room in its command's window sends the command's tick now.
  wake: commandWaker(sqsSender(sqsClient(), queueUrlOf(config, "automation"))),
};

/** POST /v1/gse/callback?key=…: what GSE posts for the message slot; GSE has no credentials, the URL's key is checked. */
export const handler = httpHandler(
  { name: "gse_callback", logger, authenticate: callbackKeyAuthenticator(callbackKeyOf(config)), body: slotCallbackSchema },
  async ({ body }) => ({ data: { accepted: await receiveCallback(deps, body) } }),
);
