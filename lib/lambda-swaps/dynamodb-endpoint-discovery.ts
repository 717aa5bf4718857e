/**
 * What a Lambda bundle gets for `@aws-sdk/middleware-endpoint-discovery` (lib/bundling.ts swaps it in at
 * build time): the package's own config options, and a config resolver without the endpoint cache it
 * builds for every DynamoDB client (@aws-sdk/endpoint-cache and mnemonist's LRU cache, ≈6.5 kB with
 * the discovery middleware). DynamoDB endpoint discovery is off unless a client is given
 * `endpointDiscoveryEnabled` or the environment or shared config turns it on, which we never do, and
 * the DynamoDB client we bundle adds the discovery middleware to no command: nothing but that
 * middleware reads the cache. Should a client ever be built with discovery on, it fails at once with
 * this message; should anything ask the client whether discovery is on while the environment turns it
 * on, or use its endpoint cache, that fails with this message too. Should an SDK update import another
 * name of this package (a command's discovery plugin), the build fails ("No matching export").
 */
import type {
  EndpointDiscoveryConfigOptions,
  EndpointDiscoveryInputConfig,
  EndpointDiscoveryResolvedConfig,
  PreviouslyResolved,
} from "@aws-sdk/middleware-endpoint-discovery";

export { NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS } from "@aws-sdk/middleware-endpoint-discovery/dist-es/configurations.js";

const leftOut = (): never => {
  throw new Error(
    "DynamoDB endpoint discovery is left out of the Lambda bundles (lib/bundling.ts): leave endpointDiscoveryEnabled, AWS_ENABLE_ENDPOINT_DISCOVERY and endpoint_discovery_enabled unset",
  );
};

/** The EndpointCache methods the discovery middleware calls, each failing. */
const noEndpointCache = { getEndpoint: leftOut, get: leftOut, set: leftOut, delete: leftOut, has: leftOut, clear: leftOut };

type ResolvedWithoutCache = Omit<EndpointDiscoveryResolvedConfig, "endpointCache"> & { endpointCache: typeof noEndpointCache };

export function resolveEndpointDiscoveryConfig<T>(
  input: T & PreviouslyResolved & EndpointDiscoveryInputConfig,
  { endpointDiscoveryCommandCtor }: EndpointDiscoveryConfigOptions,
): T & ResolvedWithoutCache {
  const { endpointDiscoveryEnabled, endpointDiscoveryEnabledProvider } = input;
  if (endpointDiscoveryEnabled === true) leftOut();
  const resolved: ResolvedWithoutCache = {
    endpointDiscoveryCommandCtor,
    endpointCache: noEndpointCache,
    endpointDiscoveryEnabled:
      endpointDiscoveryEnabled !== undefined
        ? () => Promise.resolve(endpointDiscoveryEnabled)
        : async function endpointDiscoveryEnabledOrLeftOut() {
            const enabled = await endpointDiscoveryEnabledProvider();
            return enabled ? leftOut() : enabled;
          },
    isClientEndpointDiscoveryEnabled: endpointDiscoveryEnabled !== undefined,
  };
  return Object.assign(input, resolved);
}
