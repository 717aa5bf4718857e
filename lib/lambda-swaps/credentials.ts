/**
 * What a Lambda bundle gets in place of `@aws-sdk/credential-provider-node` (lib/bundling.ts swaps
 * it in at build time; nothing imports this file). Lambda hands a function its role's credentials
 * in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, valid for the life of the
 * execution environment, and the SDK's default chain finds them there first anyway. The rest of
 * that chain (shared ini files, SSO and its OIDC client, STS web identity and assume-role, the
 * `credential_process`, the ECS and EC2 metadata endpoints, the STS/SSO clients they nest) can never
 * answer in a Lambda and was ≈130–150 kB of every bundle that builds an AWS client (issue 23).
 *
 * Where no such variables are set the client's first call fails with the SDK's own
 * CredentialsProviderError ("Unable to find environment variable credentials"), not with a
 * fallback to another source. Tests, scripts and the CLI run from source and keep the full chain.
 */
export { fromEnv as defaultProvider } from "@aws-sdk/credential-provider-env";
