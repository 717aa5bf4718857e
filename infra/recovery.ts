import { STREAM_SUBSCRIPTIONS } from "../lib/wiring";
import { functionArgs } from "./functions";
import { tables } from "./storage";

for (const sub of STREAM_SUBSCRIPTIONS) {
  tables[sub.table].subscribe(`${sub.function}-${sub.table}`, functionArgs(sub.function), {
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
