/**
 * Labels and targets by query from the CLI (docs/rollouts.md §2): `fleet label AGENT k=v … [--remove k]
 * [--replace]` and `fleet resolve --query '{…}'`, as subcommands of `fleet`. Bodies are checked with
 * the routes' own schemas first, so a bad label is a usage error (2) and nothing is sent.
 */
import { Command } from "commander";
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { callApi } from "./api.ts";
import type { CommandContext } from "./dispatch.ts";
import { UsageError } from "./errors.ts";
import { rt } from "./lazy.ts";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `k=v` arguments as a label map; the value may hold `=`, the key may not be empty. */
function labelPairs(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`a label is key=value, not "${pair}"`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

/** The body, or a usage error naming the first problem (its path and message) before anything is sent. */
function checked<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(`${issue?.path.join(".") || "labels"}: ${issue?.message ?? "is invalid"}`);
}

const labelsText = (labels: Readonly<Record<string, string>>): string =>
  Object.keys(labels).length === 0
    ? "(no labels)"
    : Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");

function queryFrom(options: { query?: string; queryFile?: string }): unknown {
  const text = options.query ?? (options.queryFile !== undefined ? readFileSync(options.queryFile, "utf8") : undefined);
  if (text === undefined) throw new UsageError("give the query with --query '{…}' or --query-file");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError("the query is not JSON");
  }
}

export function addFleetLabelCommands(program: Command, ctx: CommandContext): void {
  const { target, print } = ctx;
  const fleet = program.commands.find((c) => c.name() === "fleet") ?? program.command("fleet");

  fleet.addCommand(
    new Command("label")
      .description("set labels on a watched agent (key=value …), remove some (--remove key), or replace them all (--replace)")
      .argument("<agent_id>")
      .argument("[labels...]", "key=value pairs")
      .option("--remove <key>", "remove this label (repeatable)", collect, [])
      .option("--replace", "the agent's labels become exactly the ones given")
      .action(async (agentId: string, pairs: string[], options: { remove: string[]; replace?: boolean }) => {
        const set = labelPairs(pairs);
        const path = `/v1/fleet/agents/${encodeURIComponent(agentId)}/labels`;
        if (options.replace && options.remove.length > 0) throw new UsageError("--replace gives the labels the agent keeps: drop --remove");
        const result = options.replace
          ? await callApi(target(), "PUT", path, rt().labelsDataSchema, { body: checked(rt().putLabelsBodySchema, { labels: set }) })
          : await callApi(target(), "PATCH", path, rt().labelsDataSchema, {
              body: checked(rt().patchLabelsBodySchema, {
                ...(pairs.length > 0 ? { set } : {}),
                ...(options.remove.length > 0 ? { remove: options.remove } : {}),
              }),
            });
        print(result, () => `${result.agent_id}: ${labelsText(result.labels)}`);
      }),
  );

  fleet.addCommand(
    new Command("resolve")
      .description("which watched agents a target query picks (status_class, version range, bk_cloud_id, labels, limit)")
      .option("--query <json>", `the query, e.g. '{"labels":{"env":"prod"},"version":">=2.0.0 <3"}'`)
      .option("--query-file <path>", "the query, from a JSON file")
      .action(async (options: { query?: string; queryFile?: string }) => {
        const body = checked(rt().resolveBodySchema, { query: queryFrom(options) });
        const result = await callApi(target(), "POST", "/v1/fleet/resolve", rt().resolveDataSchema, { body });
        print(result, () =>
          [
            `${result.count} agent${result.count === 1 ? "" : "s"}${result.truncated ? ` (the first ${result.agent_ids.length} shown)` : ""}`,
            ...result.agent_ids,
          ].join("\n"),
        );
      }),
  );
}
