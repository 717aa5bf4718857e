import { SNSClient } from "@aws-sdk/client-sns";
import { traced } from "./tracing.ts";

/** The SNS client alerts are published with, traced (one factory for every AWS client: lib/core/aws.ts). */
export function snsClient(): SNSClient {
  return traced(new SNSClient({}));
}
