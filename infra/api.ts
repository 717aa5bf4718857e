import { ROUTES } from "../lib/routes";
import { QUEUE_SUBSCRIPTIONS } from "../lib/wiring";
import { lambda } from "./functions";
import { queues } from "./queue";

export const api = new sst.aws.ApiGatewayV2("Api");

for (const route of ROUTES) {
  api.route(`${route.method} ${route.path}`, lambda(route.function).arn);
}

for (const sub of QUEUE_SUBSCRIPTIONS) {
  queues[sub.queue].subscribe(lambda(sub.function).arn, { batch: { size: sub.batchSize, partialResponses: true } });
}
