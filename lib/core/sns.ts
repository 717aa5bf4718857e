import { SNSClient } from "@aws-sdk/client-sns";

/** The SNS client alerts are published with (one factory for every AWS client: lib/core/aws.ts). */
export function snsClient(): SNSClient {
  return new SNSClient({});
}
