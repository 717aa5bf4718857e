/**
 * Desired state from the CLI (docs/desired-state.md §CLI): `plan -f FILE` (exit 2 when the plan has
 * changes, 0 when none, 1 on error, as `terraform plan -detailed-exitcode`), `apply PLAN_ID`,
 * `apply -f FILE` (the plan shown, then a confirmation) and `applies` (the history).
 */
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { callApi } from "./api.ts";
import { appliesTable, applyText, planText } from "./desired-format.ts";
import type { CommandContext, ListOptions } from "./dispatch.ts";
import { listQuery } from "./dispatch.ts";
import { CliError, ReportedError, UsageError } from "./errors.ts";
import { wholeSeconds } from "./rollout.ts";
import { rt } from "./lazy.ts";
import type { ApplyView, PlanView } from "../lib/desired/schemas.ts";

/** What an action leaves besides a throw: `plan`'s exit code 2 for a plan with changes. */
export interface DesiredContext extends CommandContext {
  readonly setExitCode: (code: number) => void;
}

/** `plan`'s exit code for a plan with changes (terraform's -detailed-exitcode); 0 is no changes. */
export const PLAN_HAS_CHANGES_EXIT_CODE = 2;

/** The statuses after which `apply` exits 0: done, or done and baking (the bake may still undo it). */
const APPLY_OK = new Set(["APPLIED", "BAKING"]);

/**
 * The POST /v1/plans body for a document file: a `.json` file is the document itself; anything else
 * is sent as YAML text (YAML holds JSON, so either works; the server names a YAML field `yaml.…`).
 */
export function planBody(file: string | undefined): unknown {
  if (file === undefined) throw new UsageError("-f: give the desired-state document, a YAML or JSON file");
  if (!existsSync(file)) throw new UsageError(`-f: no such file ${file}`);
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") throw new UsageError(`-f: ${file} is empty`);
  if (extname(file).toLowerCase() !== ".json") return { yaml: text };
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`-f: ${file} is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** `--bake` and `--max-alive-drop` as the POST …/apply body, checked with the route's own schema. */
export function applyBody(options: { bake?: string; maxAliveDrop?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const bake = wholeSeconds("--bake", options.bake);
  if (bake !== undefined) body.bake_seconds = bake;
  if (options.maxAliveDrop !== undefined) {
    if (options.bake === undefined) throw new UsageError("--max-alive-drop is the bake's gate: give --bake too");
    const points = Number(options.maxAliveDrop);
    if (!/^\d+(\.\d+)?$/.test(options.maxAliveDrop) || points > 100)
      throw new UsageError(`--max-alive-drop is points of the alive share, 0 to 100, not "${options.maxAliveDrop}"`);
    body.gate = { max_alive_drop_points: points };
  }
  const parsed = rt().applyRequestSchema.safeParse(body);
  if (!parsed.success) throw new UsageError(`--bake: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return body;
}

/** A refused plan's problems, one a line, as the 400 names them. */
function refusal(error: CliError): CliError {
  const problems = rt().fieldErrorsSchema.safeParse(error.data);
  if (error.status !== 400 || !problems.success) return error;
  const lines = problems.data.errors.map((p) => `  ${p.path || "(document)"}: ${p.message}`);
  return new CliError(`the plan is refused:\n${lines.join("\n")}`, error.status, error.code, error.data);
}

async function makePlan(ctx: CommandContext, file: string | undefined): Promise<PlanView> {
  const body = planBody(file);
  try {
    return await callApi(ctx.target(), "POST", "/v1/plans", rt().planViewSchema, { body });
  } catch (error) {
    throw error instanceof CliError && !(error instanceof UsageError) ? refusal(error) : error;
  }
}

/** `plan` exits 1 on every error, usage too: 2 means "changes" there, as in terraform. */
function asPlanError(error: unknown): unknown {
  return error instanceof UsageError ? new CliError(error.message, undefined, "usage") : error;
}

async function plan(ctx: DesiredContext, options: { file?: string }): Promise<void> {
  let view: PlanView;
  try {
    view = await makePlan(ctx, options.file);
  } catch (error) {
    throw asPlanError(error);
  }
  ctx.print(view, () => planText(view, ctx.io.color));
  ctx.setExitCode(view.has_changes ? PLAN_HAS_CHANGES_EXIT_CODE : 0);
}

/** GSE moved since the plan: the new plan the API made, to look at and apply. */
function staleError(error: unknown): unknown {
  if (!(error instanceof CliError) || error.status !== 409) return error;
  const data = error.data as { plan?: { plan_id?: unknown } } | null | undefined;
  const newPlan = typeof data?.plan?.plan_id === "string" ? data.plan.plan_id : undefined;
  if (newPlan === undefined) return error;
  return new CliError(
    `GSE changed since the plan (PLAN_STALE); nothing was written. A new plan is ${newPlan}: gse-control plan shows it again, gse-control apply ${newPlan} applies it`,
    error.status,
    "PLAN_STALE",
    error.data,
  );
}

async function applyPlanId(ctx: CommandContext, planId: string, body: Record<string, unknown>): Promise<ApplyView> {
  if (!/^plan-[a-z0-9-]{6,64}$/.test(planId)) throw new UsageError(`PLAN_ID is a plan id (plan-…), not "${planId}"`);
  try {
    return await callApi(ctx.target(), "POST", `/v1/plans/${encodeURIComponent(planId)}/apply`, rt().applyViewSchema, { body });
  } catch (error) {
    throw staleError(error);
  }
}

/** Exit 1 unless the apply is APPLIED or BAKING; the view printed already says why. */
function judge(view: ApplyView): void {
  if (!APPLY_OK.has(view.status))
    throw new ReportedError(`the apply ended ${view.status}${view.error ? `: ${view.error.message}` : ""}`, undefined, "apply_failed");
}

interface ApplyOptions {
  readonly file?: string;
  readonly yes?: boolean;
  readonly bake?: string;
  readonly maxAliveDrop?: string;
}

/** Asks on the terminal; anything but "yes" is a no, as terraform takes it. */
async function confirmed(ctx: CommandContext): Promise<boolean> {
  const answer = await ctx.io.ask?.("Apply these changes? (yes/no) ");
  return answer?.trim() === "yes";
}

async function applyFile(ctx: CommandContext, file: string, options: ApplyOptions, body: Record<string, unknown>): Promise<void> {
  if (!options.yes && (ctx.io.ask === undefined || ctx.json()))
    throw new UsageError("apply -f asks before applying, and there is no terminal to ask on (or --json): pass --yes to apply without asking");
  const view = await makePlan(ctx, file);
  if (!view.has_changes) {
    ctx.print({ plan: view, apply: null }, () => planText(view, ctx.io.color));
    return;
  }
  if (!ctx.json()) ctx.io.out(`${planText(view, ctx.io.color)}\n\n`);
  if (!options.yes && !(await confirmed(ctx))) throw new CliError("Apply cancelled: nothing was applied.", undefined, "cancelled");
  const applied = await applyPlanId(ctx, view.plan_id, body);
  ctx.print({ plan: view, apply: applied }, () => applyText(applied, ctx.io.color));
  judge(applied);
}

async function apply(ctx: CommandContext, planId: string | undefined, options: ApplyOptions): Promise<void> {
  const body = applyBody(options);
  if ((planId === undefined) === (options.file === undefined)) throw new UsageError("give a PLAN_ID or -f FILE, one of them");
  if (options.file !== undefined) return applyFile(ctx, options.file, options, body);
  const view = await applyPlanId(ctx, planId as string, body);
  ctx.print(view, () => applyText(view, ctx.io.color));
  judge(view);
}

export function addDesiredCommands(program: Command, ctx: DesiredContext): void {
  program
    .command("plan")
    .description(
      `plan a desired-state document against GSE now (docs/desired-state.md); exit ${PLAN_HAS_CHANGES_EXIT_CODE} when it has changes, 0 when none, 1 on error`,
    )
    .option("-f, --file <desired.yaml|json>", "the desired-state document")
    // Wrong use is 1 here too: 2 says "the plan has changes" (terraform's -detailed-exitcode).
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      throw new CliError(error.message.replace(/^error: /, ""), undefined, "usage");
    })
    .action((options: { file?: string }) => plan(ctx, options));

  program
    .command("apply")
    .description("apply a plan (PLAN_ID), or plan a document (-f), show it and apply it once confirmed; exit 0 when APPLIED or BAKING")
    .argument("[plan_id]")
    .option("-f, --file <desired.yaml|json>", "plan this document, show the plan and ask before applying it")
    .option("--yes", "with -f: apply without asking")
    .option("--bake <seconds>", "after applying, watch the gate this long; when it trips the whole apply is undone")
    .option("--max-alive-drop <points>", "the gate: the fleet's alive share may not drop by more than this many points during the bake")
    .action((planId: string | undefined, options: ApplyOptions) => apply(ctx, planId, options));

  program
    .command("applies")
    .description("the history of desired-state applies, newest first")
    .option("--limit <n>", "applies per page", "20")
    .option("--cursor <cursor>", "the next page, as printed by the previous one")
    .action(async (options: ListOptions) => {
      const list = await callApi(ctx.target(), "GET", `/v1/applies?${listQuery(options)}`, rt().applyListSchema);
      ctx.print(list, () => appliesTable(list, ctx.io.color));
    });
}
