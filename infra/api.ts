import { QUEUE_SUBSCRIPTIONS, ROUTES } from "../lib/wiring";
import { functionArgs } from "./functions";
import { queues } from "./queue";

export const api = new sst.aws.ApiGatewayV2("Api");

for (const route of ROUTES) {
  api.route(`${route.method} ${route.path}`, functionArgs(route.function));
}

for (const sub of QUEUE_SUBSCRIPTIONS) {
  queues[sub.queue].subscribe(functionArgs(sub.function), { batch: { size: sub.batchSize, partialResponses: true } });
}
