/**
 * Types of the AWS SDK files a Lambda swap (lib/lambda-swaps/) imports by path: the packages type their
 * index only, and each of these files exports what the index re-exports under that name.
 */
declare module "@aws-sdk/middleware-endpoint-discovery/dist-es/configurations.js" {
  export { NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS } from "@aws-sdk/middleware-endpoint-discovery";
}
