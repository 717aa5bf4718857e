/**
 * Function timeouts that code reads besides lib/wiring.ts, which sets them: apart, so that reading
 * one does not bring every function's wiring into a bundle.
 */

/** A GSE operation's function timeout: under API Gateway's 30 s limit on an integration. */
export const GSE_OPERATION_TIMEOUT_SECONDS = 29;
