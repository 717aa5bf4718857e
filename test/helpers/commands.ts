/**
 * Reading tracked commands as the commands and APM tests do: through the local gateway, and, for
 * what the API does not show (an agent being final, the retry jobs), from the table and the runtime log.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import type { CommandPage, CommandView } from "../../lib/commands/schemas.ts";
import { CommandStore } from "../../lib/commands/store.ts";
import type { AgentCommandItem } from "../../lib/commands/store/items.ts";
import type { StackInfo } from "../../local/stack.ts";
import { callApi, eventually, logLines } from "./stack.ts";

/** GET /v1/commands/{message_id}[?query]: the command and a page of its agents. */
export async function commandPage(info: StackInfo, authHeader: Record<string, string>, id: string, query = ""): Promise<CommandPage> {
  const res = await callApi(info.gatewayUrl, `/v1/commands/${encodeURIComponent(id)}${query}`, { headers: authHeader });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.body.data as CommandPage;
}

/**
 * The command once it is no longer RUNNING. One that does not end in time fails with what it was
 * waiting for: its last view (batches, counts) and the stack's last log lines about it.
 */
export async function commandFinished(info: StackInfo, authHeader: Record<string, string>, id: string, timeoutMs = 60_000): Promise<CommandView> {
  let last: CommandView | undefined;
  try {
    return await eventually(
      `command ${id} to end`,
      async () => {
        const { command } = await commandPage(info, authHeader, id);
        last = command;
        return command.status === "RUNNING" ? undefined : command;
      },
      timeoutMs,
    );
  } catch (error) {
    const lines = logLines(info, "runtime")
      .filter((l) => l.includes(id))
      .slice(-15);
    throw new Error(
      `${(error as Error).message}\nlast view: ${JSON.stringify(last)}\nlast log lines about it:\n${lines.map((l) => l.slice(0, 400)).join("\n")}`,
      { cause: error },
    );
  }
}

/** The commands table through the functions' own store, for what a test does behind their back. */
export const commandStore = (info: StackInfo, dynamo: DynamoDBClient): CommandStore =>
  new CommandStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.commands });

/** A command's agent items as stored (read from the table, not through the API): whether each is final shows only here. */
export async function storedCommandAgents(info: StackInfo, dynamo: DynamoDBClient, id: string): Promise<AgentCommandItem[]> {
  const items: AgentCommandItem[] = [];
  const store = commandStore(info, dynamo);
  const command = await store.getCommand(id);
  if (!command) return items;
  for await (const page of store.agentItems(command)) items.push(...page);
  return items;
}

interface RetryLogLine {
  readonly message?: string;
  readonly message_id?: string;
  readonly due?: number;
  readonly more?: boolean;
  readonly covered?: boolean;
}

/**
 * The retry rounds queued for a command (lib/commands/retry.ts logs each, by due time) that have
 * not run yet, by the runtime log: a round has run when it logged its last slice (`more: false`),
 * was dropped (the command had ended), or left its agents to the round holding the command (busy).
 */
export function retryJobsNotRun(info: StackInfo, id: string): number[] {
  const lines: RetryLogLine[] = [];
  for (const line of logLines(info, "runtime")) {
    if (!line.includes(id)) continue;
    try {
      const parsed = JSON.parse(line) as RetryLogLine;
      if (parsed.message_id === id) lines.push(parsed);
    } catch {
      // Not a JSON log line: not one of ours.
    }
  }
  const ran = new Set<number | undefined>();
  for (const l of lines) {
    const handedOver = l.message === "command retry busy";
    if (l.message === "command retry dropped" || handedOver || (l.message === "command retry round" && l.more === false)) ran.add(l.due);
  }
  return lines
    .filter((l) => l.message === "command retry queued" && l.due !== undefined)
    .map((l) => l.due as number)
    .filter((due) => !ran.has(due));
}
