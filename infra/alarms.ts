import { FUNCTIONS, SCHEDULES, scheduleMinutes, type FunctionKey } from "../lib/wiring";
import { alerts } from "./alerts";
import { api } from "./api";
import { lambda, logicalName } from "./functions";
import { queues } from "./queue";

/**
 * Every alarm tells the alerts topic, in both directions, so on-call sees it fire and clear.
 * Missing data is not breaching: these watch things (errors, queue depth, stream lag, duration)
 * that publish nothing while all is quiet. The one exception, a schedule that stopped being
 * invoked, says so itself (`breaching`) below. docs/operations.md lists every alarm.
 */
const notify = (treatMissingData: "notBreaching" | "breaching" = "notBreaching") => ({ alarmActions: [alerts.arn], okActions: [alerts.arn], treatMissingData });

/** A message on a dead-letter queue needs a human: it failed every retry. */
const deadLetterQueues = [
  { alarm: "AutomationDlqDepth", queue: queues.automationDlq, what: "automation jobs on the dead-letter queue" },
  { alarm: "AlertLogDlqDepth", queue: queues.alertLogDlq, what: "alerts the status page's alert log could not keep, on its dead-letter queue" },
  { alarm: "SlotForwardDlqDepth", queue: queues.slotForwardDlq, what: "upstream slot messages bk-monitor's slot handler did not take after every retry" },
];
for (const { alarm, queue, what } of deadLetterQueues) {
  new aws.cloudwatch.MetricAlarm(alarm, {
    alarmDescription: `gse-control: ${what}`,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue.nodes.queue.name },
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    ...notify(),
  });
}

/** Recovery failing means failed configs and commands are not being handled. */
new aws.cloudwatch.MetricAlarm("RecoveryErrors", {
  alarmDescription: "gse-control: the recovery function fails",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: lambda("recovery").name },
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  ...notify(),
});

/** Records waiting on the stream for minutes: recovery is stuck or far behind. */
new aws.cloudwatch.MetricAlarm("RecoveryIteratorAge", {
  alarmDescription: "gse-control: recovery is more than 5 minutes behind its streams",
  namespace: "AWS/Lambda",
  metricName: "IteratorAge",
  dimensions: { FunctionName: lambda("recovery").name },
  statistic: "Maximum",
  period: 60,
  evaluationPeriods: 5,
  threshold: 300_000,
  comparisonOperator: "GreaterThanThreshold",
  ...notify(),
});

/** A scheduled run close to its timeout (the heartbeat) will soon be late or cut off; a failing one watches nothing. */
for (const schedule of SCHEDULES) {
  new aws.cloudwatch.MetricAlarm(`${schedule.name}Errors`, {
    alarmDescription: `gse-control: ${schedule.name} fails (Lambda retries it; a poll that keeps failing means nothing is watched)`,
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: { FunctionName: lambda(schedule.function).name },
    statistic: "Sum",
    period: 60 * scheduleMinutes(schedule),
    evaluationPeriods: 3,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    ...notify(),
  });
  new aws.cloudwatch.MetricAlarm(`${schedule.name}Duration`, {
    alarmDescription: `gse-control: ${schedule.name} runs close to its timeout`,
    namespace: "AWS/Lambda",
    metricName: "Duration",
    dimensions: { FunctionName: lambda(schedule.function).name },
    statistic: "Maximum",
    period: 60 * scheduleMinutes(schedule),
    evaluationPeriods: 3,
    threshold: 0.8 * 1000 * FUNCTIONS[schedule.function].timeoutSeconds,
    comparisonOperator: "GreaterThanThreshold",
    ...notify(),
  });
}

/**
 * A schedule that stopped being invoked (rule disabled or deleted, function gone, EventBridge
 * failing) raises no error and no duration: its invocations are counted, and no data at all is
 * breaching. The window is twice the schedule's period, at least 5 minutes: one late or skipped
 * tick is not an alarm.
 */
for (const schedule of SCHEDULES) {
  const minutes = Math.min(1440, Math.max(5, 2 * scheduleMinutes(schedule)));
  new aws.cloudwatch.MetricAlarm(`${schedule.name}Missing`, {
    alarmDescription: `gse-control: ${schedule.name} has not run for ${minutes} minutes (its schedule should run it every ${scheduleMinutes(schedule)})`,
    namespace: "AWS/Lambda",
    metricName: "Invocations",
    dimensions: { FunctionName: lambda(schedule.function).name },
    statistic: "Sum",
    period: 60 * minutes,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "LessThanThreshold",
    ...notify("breaching"),
  });
}

/**
 * The API answering 5xx to more than 5 % of requests for 3 of 5 minutes, once there are at least
 * API_5XX_MIN_REQUESTS a minute. A rate rather than a count of 5xx: the API's traffic (bk-monitor's
 * polling) varies by orders of magnitude between stages, and one 5xx in a quiet minute is not an
 * outage. GSE's own 502/504 reach callers as they are (docs/api.md), so GSE down fires this too.
 */
const API_5XX_PERCENT = 5;
const API_5XX_MIN_REQUESTS = 10;
const apiMetric = (id: string, metricName: string) => ({
  id,
  returnData: false,
  metric: { namespace: "AWS/ApiGateway", metricName, dimensions: { ApiId: api.nodes.api.id }, stat: "Sum", period: 60 },
});
new aws.cloudwatch.MetricAlarm("Api5xxRate", {
  alarmDescription: `gse-control: more than ${API_5XX_PERCENT} % of API requests answered 5xx`,
  metricQueries: [
    apiMetric("errors", "5xx"),
    apiMetric("requests", "Count"),
    {
      id: "rate",
      label: "5xx % of requests",
      returnData: true,
      expression: `IF(requests >= ${API_5XX_MIN_REQUESTS}, 100 * errors / requests, 0)`,
    },
  ],
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: API_5XX_PERCENT,
  comparisonOperator: "GreaterThanThreshold",
  ...notify(),
});

/**
 * A throttled function drops work: an API call answered 429/500, a schedule tick or a queue batch
 * delayed. One alarm per function (lib/wiring.ts), so the alarm names the function; the
 * account-wide AWS/Lambda Throttles would also count other applications in the account.
 */
for (const key of Object.keys(FUNCTIONS) as FunctionKey[]) {
  new aws.cloudwatch.MetricAlarm(`${logicalName(key)}Throttles`, {
    alarmDescription: `gse-control: Lambda throttles ${key}`,
    namespace: "AWS/Lambda",
    metricName: "Throttles",
    dimensions: { FunctionName: lambda(key).name },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    ...notify(),
  });
}
