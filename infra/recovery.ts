import { STREAM_SUBSCRIPTIONS } from "../lib/wiring";
import { lambda } from "./functions";
import { tables } from "./storage";

for (const sub of STREAM_SUBSCRIPTIONS) {
  tables[sub.table].subscribe(`${sub.function}-${sub.table}`, lambda(sub.function).arn, {
    filters: sub.filters.map((pattern) => ({ ...pattern })),
    transform: {
      eventSourceMapping: (args) => {
        args.batchSize = sub.batchSize;
        args.maximumRetryAttempts = sub.maxRetryAttempts;
        args.bisectBatchOnFunctionError = sub.bisectBatchOnError;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.startingPosition = "TRIM_HORIZON";
      },
    },
  });
}
