import { QUEUES, queueDefinition, type QueueKey } from "../lib/resources";
import { alerts } from "./alerts";

const KEYS = Object.keys(QUEUES) as QueueKey[];
const built: Partial<Record<QueueKey, sst.aws.Queue>> = {};

// Dead-letter queues first, so each queue that names one gets its ARN and lib/resources.ts's redrive.
for (const key of [...KEYS].sort((a, b) => Number("deadLetter" in QUEUES[a]) - Number("deadLetter" in QUEUES[b]))) {
  const def = queueDefinition(key);
  const deadLetter = def.deadLetter;
  const target = deadLetter ? built[deadLetter.queue] : undefined;
  if (deadLetter && !target) throw new Error(`queue ${key}: its dead-letter queue ${deadLetter.queue} is not defined`);
  built[key] = new sst.aws.Queue(def.link, {
    visibilityTimeout: `${def.visibilityTimeoutSeconds} seconds`,
    ...(deadLetter && target ? { dlq: { queue: target.arn, retry: deadLetter.maxReceiveCount } } : {}),
  });
}

export const queues = built as Record<QueueKey, sst.aws.Queue>;

// Queues that take a topic's messages (the alert log takes every alert), in SNS's envelope.
const topics = { alerts };
for (const key of KEYS) {
  const topic = queueDefinition(key).subscribesTo;
  if (topic !== undefined) topics[topic].subscribeQueue(QUEUES[key].link, queues[key].arn);
}
