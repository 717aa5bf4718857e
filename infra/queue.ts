import { QUEUES } from "../lib/resources";

const dlq = new sst.aws.Queue(QUEUES.automationDlq.link, {
  visibilityTimeout: `${QUEUES.automationDlq.visibilityTimeoutSeconds} seconds`,
});

export const queues = {
  automationDlq: dlq,
  automation: new sst.aws.Queue(QUEUES.automation.link, {
    visibilityTimeout: `${QUEUES.automation.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: dlq.arn, retry: QUEUES.automation.deadLetter.maxReceiveCount },
  }),
};
