import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetTopicAttributesCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Dispatcher } from "undici";
import { DependencyUnavailableError } from "./core/errors.ts";

/**
 * Checks of the dependencies, each bounded by a timeout so a dead one cannot hang the caller:
 * GET /health runs all three (checkHealth); the status page's data (lib/console/data.ts) runs the
 * alerts topic's (checkAlertsTopic) beside its own DynamoDB reads.
 */

/** One dependency's answer. `detail` never holds a secret: it is built from codes, not bodies. */
export interface DependencyHealth {
  readonly ok: boolean;
  readonly latency_ms: number;
  readonly detail: string;
}

export interface HealthReport {
  readonly status: "ok" | "degraded";
  readonly dependencies: {
    readonly dynamodb: DependencyHealth;
    readonly sns: DependencyHealth;
    readonly gse: DependencyHealth;
  };
}

export interface GseProbe {
  readonly dispatcher: Dispatcher;
  /** Full URL of a read-only GSE call that needs credentials. */
  readonly url: URL;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

export interface HealthDeps {
  readonly dynamo: DynamoDBClient;
  readonly sns: SNSClient;
  readonly tables: readonly string[];
  readonly topicArn: string;
  readonly gse: GseProbe;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** What the alerts topic's check needs (the status page's data function has no GSE or table list). */
export type AlertsTopicDeps = Pick<HealthDeps, "sns" | "topicArn" | "timeoutMs" | "now">;

/** An error as its name and code only: an SDK's or a socket's message may quote a request. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}${"code" in error && typeof error.code === "string" ? ` ${error.code}` : ""}` : "error";

/** Runs one check: ok with what it said, or failing with why, and how long it took either way. */
export async function checkDependency(now: () => number, check: () => Promise<string>): Promise<DependencyHealth> {
  const started = now();
  try {
    const detail = await check();
    return { ok: true, latency_ms: now() - started, detail };
  } catch (error) {
    return { ok: false, latency_ms: now() - started, detail: error instanceof HealthProblem ? error.message : describeError(error) };
  }
}

class HealthProblem extends Error {}

async function checkDynamo(deps: Pick<HealthDeps, "dynamo" | "tables" | "timeoutMs">): Promise<string> {
  const abortSignal = AbortSignal.timeout(deps.timeoutMs);
  const tables = await Promise.all(deps.tables.map((TableName) => deps.dynamo.send(new DescribeTableCommand({ TableName }), { abortSignal })));
  const notActive = tables.filter((t) => t.Table?.TableStatus !== "ACTIVE").map((t) => t.Table?.TableName);
  if (notActive.length > 0) throw new HealthProblem(`tables not active: ${notActive.join(", ")}`);
  return `${tables.length} tables active`;
}

async function checkSns(deps: Pick<HealthDeps, "sns" | "topicArn" | "timeoutMs">): Promise<string> {
  const abortSignal = AbortSignal.timeout(deps.timeoutMs);
  await deps.sns.send(new GetTopicAttributesCommand({ TopicArn: deps.topicArn }), { abortSignal });
  return "alerts topic reachable";
}

/**
 * GSE counts as healthy when it answers a read with its own envelope and accepts our
 * credentials; a business error (e.g. 1011003, no such agent) still proves both.
 */
async function checkGse(deps: Pick<HealthDeps, "gse" | "timeoutMs">): Promise<string> {
  const { gse } = deps;
  const response = await gse.dispatcher.request({
    origin: gse.url.origin,
    path: `${gse.url.pathname}${gse.url.search}`,
    method: "POST",
    headers: { "content-type": "application/json", ...gse.headers },
    body: JSON.stringify(gse.body),
    headersTimeout: deps.timeoutMs,
    bodyTimeout: deps.timeoutMs,
  });
  const text = await response.body.text();
  let code: unknown;
  try {
    code = (JSON.parse(text) as { code?: unknown }).code;
  } catch {
    throw new HealthProblem(`HTTP ${response.statusCode}, body is not JSON`);
  }
  if (response.statusCode === 400 && code === 1640001) throw new HealthProblem("GSE refused our app credentials (1640001)");
  if (response.statusCode === 401 || response.statusCode === 403) throw new HealthProblem(`GSE refused us (HTTP ${response.statusCode})`);
  if (response.statusCode >= 500 || response.statusCode === 429) throw new HealthProblem(`HTTP ${response.statusCode}, code ${String(code)}`);
  if (typeof code !== "number") throw new HealthProblem(`HTTP ${response.statusCode}, no GSE envelope`);
  return `answered code ${code}`;
}

/** The alerts topic (SNS) answers a read of its attributes within the timeout. */
export const checkAlertsTopic = (deps: AlertsTopicDeps): Promise<DependencyHealth> => checkDependency(deps.now, () => checkSns(deps));

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const [dynamodb, sns, gse] = await Promise.all([
    checkDependency(deps.now, () => checkDynamo(deps)),
    checkAlertsTopic(deps),
    checkDependency(deps.now, () => checkGse(deps)),
  ]);
  const status = dynamodb.ok && sns.ok && gse.ok ? "ok" : "degraded";
  return { status, dependencies: { dynamodb, sns, gse } };
}

/**
 * GET /health's answer: the report in the success envelope when every dependency answers; when
 * one does not, a DependencyUnavailableError (503, `result: false`, 1650301) whose message names
 * the dependencies down and whose `data` is still the whole report, so a caller sees which failed.
 */
export function healthAnswer(report: HealthReport): { readonly status: 200; readonly data: HealthReport } {
  if (report.status === "ok") return { status: 200, data: report };
  const down = Object.entries(report.dependencies)
    .filter(([, health]) => !health.ok)
    .map(([name, health]) => `${name} (${health.detail})`);
  throw new DependencyUnavailableError(`dependencies down: ${down.join("; ")}`, report);
}
