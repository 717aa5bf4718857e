import { QUEUES, queueDefinition, type QueueKey } from "../lib/resources";
import { alerts } from "./alerts";

const dlq = new sst.aws.Queue(QUEUES.automationDlq.link, {
  visibilityTimeout: `${QUEUES.automationDlq.visibilityTimeoutSeconds} seconds`,
});

const alertLogDlq = new sst.aws.Queue(QUEUES.alertLogDlq.link, {
  visibilityTimeout: `${QUEUES.alertLogDlq.visibilityTimeoutSeconds} seconds`,
});

const slotForwardDlq = new sst.aws.Queue(QUEUES.slotForwardDlq.link, {
  visibilityTimeout: `${QUEUES.slotForwardDlq.visibilityTimeoutSeconds} seconds`,
});

export const queues = {
  automationDlq: dlq,
  automation: new sst.aws.Queue(QUEUES.automation.link, {
    visibilityTimeout: `${QUEUES.automation.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: dlq.arn, retry: QUEUES.automation.deadLetter.maxReceiveCount },
  }),
  alertLogDlq: alertLogDlq,
  alertLog: new sst.aws.Queue(QUEUES.alertLog.link, {
    visibilityTimeout: `${QUEUES.alertLog.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: alertLogDlq.arn, retry: QUEUES.alertLog.deadLetter.maxReceiveCount },
  }),
  slotForwardDlq,
  slotForward: new sst.aws.Queue(QUEUES.slotForward.link, {
    visibilityTimeout: `${QUEUES.slotForward.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: slotForwardDlq.arn, retry: QUEUES.slotForward.deadLetter.maxReceiveCount },
  }),
};

// Queues that take a topic's messages (the alert log takes every alert), in SNS's envelope.
const topics = { alerts };
for (const key of Object.keys(QUEUES) as QueueKey[]) {
  const topic = queueDefinition(key).subscribesTo;
  if (topic !== undefined) topics[topic].subscribeQueue(QUEUES[key].link, queues[key].arn);
}
