import { interceptLocalhostDns } from "fauxqs";
/** AWS SDK settings that point at the local emulators; any credentials work there. */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  // Local services answer fast or not at all; the SDK's default retries would only slow a failing start.
  maxAttempts: 2,
});

// Local processes run on the project's own Node 24 (the `node` devDependency), like Lambda's
// nodejs24.x; the SDK's runtime-support warning would only be noise in every local log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// fauxqs names queues `http://sqs.<region>.localhost:<port>/...` and the SDK sends to the queue
// URL's host. RFC 6761 makes every *.localhost name loopback, but glibc does not resolve them,
// so local processes (never the deployed functions) resolve `.localhost` names to 127.0.0.1.
interceptLocalhostDns();
