/**
 * What a Lambda bundle gets for the X-Ray SDK's AWS SDK v2 patcher, `./patchers/aws_p` (lib/bundling.ts
 * swaps it in at build time): `captureAWS` and `captureAWSClient` wrap v2 clients, and we have none; our
 * clients are v3 and traced through `captureAWSv3Client` (lib/core/tracing.ts), which stays. Should a
 * function ever call one, it fails with this message instead of the bundle carrying the patcher.
 */
const leftOut = (): never => {
  throw new Error("the X-Ray SDK's AWS SDK v2 patcher is left out of the Lambda bundles (lib/bundling.ts): trace v3 clients with captureAWSv3Client");
};

export = { captureAWS: leftOut, captureAWSClient: leftOut };
