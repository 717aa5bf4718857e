/**
 * The local stack's documented credentials (README "Quick start"), apart from local/stack.ts so
 * the CLI can default to them against a loopback URL without loading the stack's launchers.
 */
/** A caller narrowed to some scopes (lib/core/scopes.ts). */
export interface ScopedCaller {
  bk_app_code: string;
  bk_app_secret: string;
  scopes: string[];
}

export interface StackCredentials {
  /** Configured without scopes, so an admin (every caller is one until given scopes). */
  caller: { bk_app_code: string; bk_app_secret: string };
  /**
   * What bk-monitor would get (GSE's routes: read, write, dispatch), a read-only caller, and a
   * dispatch-only one (what bk-job needs; also the caller that lacks gse:read in the scope tests).
   */
  scoped: { monitor: ScopedCaller; reader: ScopedCaller; dispatcher: ScopedCaller };
  gse: { appCode: string; appSecret: string; slotId: number; slotToken: string; username: string };
  simulatorControlToken: string;
  /** The key in the callback URL the simulator's message slot posts to (GseCallbackKey). */
  callbackKey: string;
}

export const LOCAL_SECRETS: StackCredentials = {
  caller: { bk_app_code: "local-dev", bk_app_secret: "local-dev-secret" },
  scoped: {
    monitor: { bk_app_code: "local-monitor", bk_app_secret: "local-monitor-secret", scopes: ["gse:read", "gse:write", "gse:dispatch"] },
    reader: { bk_app_code: "local-reader", bk_app_secret: "local-reader-secret", scopes: ["gse:read"] },
    dispatcher: { bk_app_code: "local-dispatcher", bk_app_secret: "local-dispatcher-secret", scopes: ["gse:dispatch"] },
  },
  gse: { appCode: "bk_monitorv3", appSecret: "local-gse-app-secret", slotId: 37, slotToken: "local-slot-token", username: "admin" },
  simulatorControlToken: "local-simulator-control",
  callbackKey: "local-callback-key-0001",
};
