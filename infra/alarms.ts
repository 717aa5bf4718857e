import { FUNCTIONS, SCHEDULES, scheduleMinutes } from "../lib/wiring";
import { alerts } from "./alerts";
import { lambda } from "./functions";
import { queues } from "./queue";

/** Every alarm tells the alerts topic, in both directions, so on-call sees it fire and clear. */
const notify = () => ({ alarmActions: [alerts.arn], okActions: [alerts.arn], treatMissingData: "notBreaching" as const });

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
