/**
 * What a Lambda bundle gets in place of `@smithy/core/event-streams` (lib/bundling.ts swaps it in
 * at build time, ≈15 kB). The SDK's HTTP protocols import it lazily, only to send or read an
 * operation's event stream; none of the DynamoDB, SQS and SNS operations we call has one. Should a
 * function ever call one, the call fails with this message instead of the bundle carrying the codec.
 */
throw new Error("the AWS SDK's event-stream codec is left out of the Lambda bundles (lib/bundling.ts); no operation we call streams events");
