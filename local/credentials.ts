/**
 * The local stack's documented credentials (README "Quick start"), apart from local/stack.ts so
 * the CLI can default to them against a loopback URL without loading the stack's launchers.
 */
export interface StackCredentials {
  caller: { bk_app_code: string; bk_app_secret: string };
  gse: { appCode: string; appSecret: string; slotId: number; slotToken: string; username: string };
  simulatorControlToken: string;
  /** The key in the callback URL the simulator's message slot posts to (GseCallbackKey). */
  callbackKey: string;
}

export const LOCAL_SECRETS: StackCredentials = {
  caller: { bk_app_code: "local-dev", bk_app_secret: "local-dev-secret" },
  gse: { appCode: "bk_monitorv3", appSecret: "local-gse-app-secret", slotId: 37, slotToken: "local-slot-token", username: "admin" },
  simulatorControlToken: "local-simulator-control",
  callbackKey: "local-callback-key-0001",
};
