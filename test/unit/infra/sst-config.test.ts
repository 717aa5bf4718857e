/**
 * Loads sst.config.ts with SST's globals replaced by recording fakes (test/helpers/sst-fakes.ts)
 * and checks what it would build against lib/'s definitions. Stages and deploy settings:
 * deploy.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { esbuildDefine, lambdaPluginsFile } from "../../../lib/bundling.ts";
import { QUEUES, SECRETS, TABLES, TOPICS, type TableKey } from "../../../lib/resources.ts";
import { functionRouteScopes, ROUTES } from "../../../lib/routes.ts";
import { FUNCTIONS, QUEUE_SUBSCRIPTIONS, runtimeWiring, SCHEDULES, STREAM_SUBSCRIPTIONS, type FunctionKey } from "../../../lib/wiring.ts";
import { METRIC_CATALOGUE, METRICS_NAMESPACE } from "../../../lib/core/metrics.ts";
import { ROOT } from "../../helpers/spawn-stack.ts";
import { DEPLOY_ENV, runConfig, type Built } from "../../helpers/sst-fakes.ts";

const CANARIES = {
  GSE_APP_SECRET: "canary-app-secret",
  GSE_SLOT_TOKEN: "canary-slot-token",
  API_CALLERS: "canary-callers",
  ...DEPLOY_ENV,
};

let built: Built[] = [];
beforeAll(async () => {
  Object.assign(process.env, CANARIES);
  ({ built } = await runConfig("dev"));
});

const ofKind = (kind: string) => built.filter((b) => b.kind === kind);
const nameOf = (value: unknown): string => (value as { fake?: Built }).fake?.name ?? String(value);
const functionNamed = (key: FunctionKey) => ofKind("Function").find((f) => f.args.handler === FUNCTIONS[key].file.replace(/\.ts$/, ".handler"));

/** The source of a file and every project file it imports, transitively. */
function sourceClosure(file: string, seen = new Set<string>()): string {
  if (seen.has(file)) return "";
  seen.add(file);
  const text = readFileSync(join(ROOT, file), "utf8");
  const imports = [...text.matchAll(/from "(\.\.?\/[^"]+)"/g)].map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1] as string)));
  return text + imports.map((f) => sourceClosure(f, seen)).join("\n");
}

/** What a function's code reads, by the accessor each linked resource is read through (lib/core/config.ts). */
function linksUsed(file: string): string[] {
  const code = sourceClosure(file);
  const used = new Set<string>();
  for (const key of Object.keys(TABLES) as TableKey[]) {
    if (new RegExp(`tableOf\\(\\w+(\\.\\w+)?, "${key}"\\)`).test(code) || /TABLE_KEYS\.map\(\(key\) => tableOf\(/.test(code)) used.add(TABLES[key].link);
  }
  if (/alertsTopicOf\(/.test(code)) used.add("Alerts");
  for (const key of Object.keys(QUEUES) as (keyof typeof QUEUES)[]) {
    if (new RegExp(`queueUrlOf\\(\\w+, "${key}"\\)`).test(code)) used.add(QUEUES[key].link);
  }
  if (/gseOf\(/.test(code)) used.add(SECRETS.gseAppSecret.link);
  if (/slotTokenOf\(/.test(code)) used.add(SECRETS.gseSlotToken.link);
  if (/callersOf\(/.test(code)) used.add(SECRETS.apiCallers.link);
  if (/callbackKeyOf\(/.test(code)) used.add(SECRETS.gseCallbackKey.link);
  return [...used].sort();
}

describe("sst.config.ts", () => {
  it("builds one Lambda per function, for exactly the files in functions/, each exporting handler", () => {
    const handlers = ofKind("Function").map((f) => String(f.args.handler));
    expect(new Set(handlers).size).toBe(handlers.length);
    expect(handlers.sort()).toEqual(
      Object.values(FUNCTIONS)
        .map((f) => f.file.replace(/\.ts$/, ".handler"))
        .sort(),
    );
    for (const handler of handlers) {
      const file = handler.replace(/\.handler$/, ".ts");
      expect(existsSync(join(ROOT, file)), file).toBe(true);
      expect(readFileSync(join(ROOT, file), "utf8"), file).toMatch(/export const handler\b/);
    }
  });

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])("links %s to exactly the resources its code reads", (key) => {
    const fn = functionNamed(key);
    const linked = ((fn?.args.link as unknown[]) ?? []).map(nameOf).sort();
    expect(linked).toEqual([...FUNCTIONS[key].links].sort());
    expect(linksUsed(FUNCTIONS[key].file)).toEqual(linked);
  });

  it("bundles every function as npm run build does: ESM, minified, source maps kept out of the zip, the same defines and plugins", () => {
    // The stack names a function by its key in PascalCase (infra/functions.ts logicalName).
    const keyOf = (name: string) =>
      (Object.keys(FUNCTIONS) as FunctionKey[]).find((key) => key.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase()) === name);
    const plugins = new Set<string>();
    for (const fn of ofKind("Function")) {
      const key = keyOf(fn.name);
      expect(key, fn.name).toBeDefined();
      plugins.add(lambdaPluginsFile(key as FunctionKey));
      expect(fn.args.nodejs, fn.name).toEqual({
        format: "esm",
        minify: true,
        esbuild: { define: esbuildDefine(functionRouteScopes(key as FunctionKey), runtimeWiring(key as FunctionKey)) },
        plugins: lambdaPluginsFile(key as FunctionKey),
      });
      expect(fn.args).toMatchObject({ runtime: "nodejs24.x" });
    }
    // openapi keeps zod's JSON Schema generator; every other function is bundled without it.
    expect(plugins.size).toBe(2);
  });

  it("never puts a secret into a function's plain environment", () => {
    for (const fn of ofKind("Function")) {
      const env = (fn.args.environment ?? {}) as Record<string, string>;
      for (const name of Object.values(SECRETS).map((s) => s.env)) expect(env, fn.name).not.toHaveProperty(name);
      for (const value of [CANARIES.GSE_APP_SECRET, CANARIES.GSE_SLOT_TOKEN, CANARIES.API_CALLERS]) expect(Object.values(env)).not.toContain(value);
      expect(env.GSE_BASE_URL).toBe(CANARIES.GSE_BASE_URL);
    }
    expect(
      ofKind("Secret")
        .map((s) => s.name)
        .sort(),
    ).toEqual(
      Object.values(SECRETS)
        .map((s) => s.link)
        .sort(),
    );
  });

  it("builds each table with lib/'s keys, stream, TTL and point-in-time recovery", () => {
    for (const [key, def] of Object.entries(TABLES)) {
      const table = ofKind("Dynamo").find((t) => t.name === def.link);
      expect(table, key).toBeDefined();
      const args = table?.args ?? {};
      const range = "rangeKey" in def ? def.rangeKey : undefined;
      expect(args.primaryIndex).toEqual({ hashKey: def.hashKey.name, ...(range ? { rangeKey: range.name } : {}) });
      expect(Object.keys(args.fields as object).sort()).toEqual([def.hashKey.name, ...(range ? [range.name] : [])].sort());
      expect(args.stream).toBe("stream" in def ? "new-and-old-images" : undefined);
      expect(args.ttl).toBe("ttlAttribute" in def ? def.ttlAttribute : undefined);
      const tableArgs: Record<string, unknown> = {};
      (args.transform as { table: (a: Record<string, unknown>) => void }).table(tableArgs);
      expect(tableArgs).toEqual({ pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: false });
    }
  });

  it("subscribes recovery to each stream with lib/'s batch, retry, bisect, filters and partial batch responses", () => {
    for (const sub of STREAM_SUBSCRIPTIONS) {
      const table = ofKind("Dynamo").find((t) => t.name === TABLES[sub.table].link);
      const call = table?.calls.find((c) => c.method === "subscribe");
      expect(call, sub.table).toBeDefined();
      const [, target, options] = call!.args as [string, string, { filters: unknown; transform: { eventSourceMapping: (a: Record<string, unknown>) => void } }];
      expect(target).toBe(`arn:fake:Function:${functionNamed(sub.function)?.name}`);
      expect(options.filters).toEqual(sub.filters);
      const mapping: Record<string, unknown> = {};
      options.transform.eventSourceMapping(mapping);
      expect(mapping).toEqual({
        batchSize: sub.batchSize,
        maximumRetryAttempts: sub.maxRetryAttempts,
        bisectBatchOnFunctionError: sub.bisectBatchOnError,
        functionResponseTypes: ["ReportBatchItemFailures"],
        startingPosition: "TRIM_HORIZON",
      });
    }
  });

  it("routes every path of the route table to its function's Lambda", () => {
    const api = ofKind("ApiGatewayV2")[0];
    const routes = (api?.calls ?? []).filter((c) => c.method === "route").map((c) => `${String(c.args[0])} -> ${String(c.args[1])}`);
    expect(routes.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path} -> arn:fake:Function:${functionNamed(r.function)?.name}`).sort());
  });

  it("gives the automation queue its dead-letter queue and partial batch responses", () => {
    const queue = ofKind("Queue").find((q) => q.name === QUEUES.automation.link);
    expect(queue?.args.dlq).toEqual({ queue: `arn:fake:Queue:${QUEUES.automationDlq.link}`, retry: QUEUES.automation.deadLetter.maxReceiveCount });
    for (const sub of QUEUE_SUBSCRIPTIONS) {
      const call = ofKind("Queue")
        .find((q) => q.name === QUEUES[sub.queue].link)
        ?.calls.find((c) => c.method === "subscribe");
      expect(call?.args[1]).toEqual({ batch: { size: sub.batchSize, partialResponses: true } });
    }
  });

  it("subscribes the alert-log queue to the alerts topic, and its consumer to the queue; its dead-letter queue takes what fails 5 times", () => {
    const topic = ofKind("SnsTopic").find((t) => t.name === TOPICS.alerts.link);
    const subscriptions = (topic?.calls ?? []).filter((c) => c.method === "subscribeQueue").map((c) => [c.args[0], c.args[1]]);
    expect(subscriptions).toEqual([[QUEUES.alertLog.link, `arn:fake:Queue:${QUEUES.alertLog.link}`]]);
    const queue = ofKind("Queue").find((q) => q.name === QUEUES.alertLog.link);
    expect(queue?.args).toEqual({
      visibilityTimeout: `${QUEUES.alertLog.visibilityTimeoutSeconds} seconds`,
      dlq: { queue: `arn:fake:Queue:${QUEUES.alertLogDlq.link}`, retry: QUEUES.alertLog.deadLetter.maxReceiveCount },
    });
    const consumer = queue?.calls.find((c) => c.method === "subscribe");
    expect(consumer?.args[0]).toBe(`arn:fake:Function:${functionNamed("alert_log")?.name}`);
  });

  it("raises alarms on the dead-letter queues, recovery errors and lag, and each schedule's duration", () => {
    const alarms = ofKind("MetricAlarm");
    expect(alarms.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        "AutomationDlqDepth",
        "AlertLogDlqDepth",
        "RecoveryErrors",
        "RecoveryIteratorAge",
        ...SCHEDULES.flatMap((s) => [`${s.name}Duration`, `${s.name}Errors`]),
      ]),
    );
    for (const alarm of alarms) expect(alarm.args.alarmActions).toEqual(["arn:fake:SnsTopic:Alerts"]);
  });

  it("runs the heartbeat every minute (or as HEARTBEAT_EVERY_MINUTES says), the config reconcile and the command sweep every 5, on EventBridge schedules", async () => {
    const crons = ofKind("Cron");
    expect(crons.map((c) => [c.name, c.args.schedule, nameOf(c.args.function)])).toEqual([
      ["Heartbeat", "rate(1 minute)", `arn:fake:Function:${functionNamed("heartbeat")?.name}`],
      ["ConfigReconcile", "rate(5 minutes)", `arn:fake:Function:${functionNamed("config_reconcile")?.name}`],
      ["CommandSweep", "rate(5 minutes)", `arn:fake:Function:${functionNamed("command_sweep")?.name}`],
    ]);
    process.env.HEARTBEAT_EVERY_MINUTES = "2";
    try {
      const slower = await runConfig("dev");
      expect(slower.built.filter((b) => b.kind === "Cron").map((c) => c.args.schedule)).toEqual(["rate(2 minutes)", "rate(5 minutes)", "rate(5 minutes)"]);
      process.env.HEARTBEAT_EVERY_MINUTES = "0";
      await expect(runConfig("dev")).rejects.toThrow(/HEARTBEAT_EVERY_MINUTES/);
    } finally {
      delete process.env.HEARTBEAT_EVERY_MINUTES;
    }
  });
});

describe("sst.config.ts: observability", () => {
  const alarm = (name: string) => ofKind("MetricAlarm").find((a) => a.name === name);

  it("alarms when a schedule stops being invoked, with missing data breaching: a heartbeat that never runs fires", () => {
    for (const schedule of SCHEDULES) {
      const missing = alarm(`${schedule.name}Missing`);
      expect(missing?.args, schedule.name).toMatchObject({
        namespace: "AWS/Lambda",
        metricName: "Invocations",
        dimensions: { FunctionName: functionNamed(schedule.function)?.name },
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      });
    }
    expect(alarm("HeartbeatMissing")?.args.period).toBe(300);
  });

  it("alarms on the API's 5xx rate, from API Gateway's 5xx and Count of this API", () => {
    const args = alarm("Api5xxRate")?.args ?? {};
    const queries = args.metricQueries as { id: string; expression?: string; metric?: { metricName: string; dimensions: unknown } }[];
    expect(queries.filter((q) => q.metric).map((q) => [q.metric?.metricName, q.metric?.dimensions])).toEqual([
      ["5xx", { ApiId: "id-Api" }],
      ["Count", { ApiId: "id-Api" }],
    ]);
    expect(queries.find((q) => q.expression)?.expression).toMatch(/100 \* errors \/ requests/);
    expect(args).toMatchObject({ comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching" });
  });

  it("alarms on throttles of every function", () => {
    const throttled = ofKind("MetricAlarm")
      .filter((a) => a.args.metricName === "Throttles")
      .map((a) => (a.args.dimensions as { FunctionName: string }).FunctionName)
      .sort();
    expect(throttled).toEqual((Object.keys(FUNCTIONS) as FunctionKey[]).map((key) => functionNamed(key)?.name).sort());
  });

  it("builds one dashboard that names every metric of the catalogue, and every function's errors and throttles", () => {
    const dashboards = ofKind("Dashboard");
    expect(dashboards).toHaveLength(1);
    const body = String(dashboards[0]?.args.dashboardBody);
    const widgets = (JSON.parse(body) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] }).widgets;
    // A metric is shown as a row [namespace, name, ...] or found by a SEARCH of its name.
    const shown = widgets.flatMap((w) =>
      w.properties.metrics.map((row) =>
        row[0] === METRICS_NAMESPACE ? String(row[1]) : (/MetricName="(\w+)"/.exec((row[0] as { expression?: string }).expression ?? "")?.[1] ?? ""),
      ),
    );
    expect(new Set(shown)).toEqual(new Set([...Object.keys(METRIC_CATALOGUE), ""]));
    const named = (title: string) => JSON.stringify(widgets.find((w) => w.properties.title.startsWith(title))?.properties.metrics);
    for (const key of Object.keys(FUNCTIONS) as FunctionKey[]) {
      expect(named("Lambda errors")).toContain(`"${functionNamed(key)?.name}"`);
      expect(named("Lambda throttles")).toContain(`"${functionNamed(key)?.name}"`);
    }
    expect(named("API 5xx")).toContain('"5xx"');
  });

  it("runs every function with active X-Ray tracing and lets it send segments", () => {
    for (const fn of ofKind("Function")) {
      expect(fn.args.transform, fn.name).toEqual({ function: { tracingConfig: { mode: "Active" } } });
      expect(fn.args.permissions, fn.name).toEqual([{ actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] }]);
    }
  });
});
