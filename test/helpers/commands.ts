/** Reading tracked commands through the local gateway, as the commands and APM tests do. */
import { expect } from "vitest";
import type { CommandPage, CommandView } from "../../lib/commands/schemas.ts";
import type { StackInfo } from "../../local/stack.ts";
import { callApi, eventually } from "./stack.ts";

/** GET /v1/commands/{message_id}[?query]: the command and a page of its agents. */
export async function commandPage(info: StackInfo, authHeader: Record<string, string>, id: string, query = ""): Promise<CommandPage> {
  const res = await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(id)}${query}`, { headers: authHeader });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.body.data as CommandPage;
}

/** The command once it is no longer RUNNING. */
export const commandFinished = (info: StackInfo, authHeader: Record<string, string>, id: string, timeoutMs = 60_000): Promise<CommandView> =>
  eventually(`command ${id} to end`, async () => {
    const { command } = await commandPage(info, authHeader, id);
    return command.status === "RUNNING" ? undefined : command;
  }, timeoutMs);
