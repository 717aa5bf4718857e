import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetTopicAttributesCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Dispatcher } from "undici";

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

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}${"code" in error && typeof error.code === "string" ? ` ${error.code}` : ""}` : "error";

async function timed(now: () => number, check: () => Promise<string>): Promise<DependencyHealth> {
  const started = now();
  try {
    const detail = await check();
    return { ok: true, latency_ms: now() - started, detail };
  } catch (error) {
    return { ok: false, latency_ms: now() - started, detail: error instanceof HealthProblem ? error.message : describeError(error) };
  }
}

class HealthProblem extends Error {}

async function checkDynamo(deps: HealthDeps): Promise<string> {
  const abortSignal = AbortSignal.timeout(deps.timeoutMs);
  const tables = await Promise.all(
    deps.tables.map((TableName) => deps.dynamo.send(new DescribeTableCommand({ TableName }), { abortSignal })),
  );
  const notActive = tables.filter((t) => t.Table?.TableStatus !== "ACTIVE").map((t) => t.Table?.TableName);
  if (notActive.length > 0) throw new HealthProblem(`tables not active: ${notActive.join(", ")}`);
  return `${tables.length} tables active`;
}

async function checkSns(deps: HealthDeps): Promise<string> {
  const abortSignal = AbortSignal.timeout(deps.timeoutMs);
  await deps.sns.send(new GetTopicAttributesCommand({ TopicArn: deps.topicArn }), { abortSignal });
  return "alerts topic reachable";
}

/**
 * GSE counts as healthy when it answers a read with its own envelope and accepts our
 * credentials; a business error (e.g. 1011003, no such agent) still proves both.
 */
async function checkGse(deps: HealthDeps): Promise<string> {
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

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const [dynamodb, sns, gse] = await Promise.all([
    timed(deps.now, () => checkDynamo(deps)),
    timed(deps.now, () => checkSns(deps)),
    timed(deps.now, () => checkGse(deps)),
  ]);
  const status = dynamodb.ok && sns.ok && gse.ok ? "ok" : "degraded";
  return { status, dependencies: { dynamodb, sns, gse } };
}
