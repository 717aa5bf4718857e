import type { GseConfig } from "../core/config.ts";
import { GATEWAY_PREFIX, type Door, type OperationDefinition } from "./operations.ts";

type GseSettings = GseConfig;

const trimSlash = (url: string): string => url.replace(/\/+$/, "");

/** bk-monitor's rule: the gateway base is BKGSE_APIGW_BASE_URL, else `<component url>/api/bk-gse/prod`. */
export function gatewayBase(gse: Pick<GseSettings, "baseUrl" | "apigwBaseUrl">): string {
  return trimSlash(gse.apigwBaseUrl ?? `${trimSlash(gse.baseUrl)}${GATEWAY_PREFIX}`);
}

/** The URL of one operation on one door; bk-monitor sends no trailing slash to the gateway and one to ESB. */
export function operationUrl(gse: Pick<GseSettings, "baseUrl" | "apigwBaseUrl">, op: OperationDefinition, door: Door): URL {
  const path = door === "gateway" ? op.gatewayPath : op.esbPath;
  if (!path) throw new Error(`${op.name} has no ${door} path`);
  return new URL(door === "gateway" ? `${gatewayBase(gse)}${path}` : `${trimSlash(gse.baseUrl)}${path}`);
}

/** The headers GSE's gateway expects (docs/gse-contract.md §2.1). */
export function gseHeaders(gse: Pick<GseSettings, "appCode" | "appSecret" | "username" | "tenantId">): Record<string, string> {
  return {
    "x-bkapi-authorization": JSON.stringify({ bk_app_code: gse.appCode, bk_app_secret: gse.appSecret, bk_username: gse.username }),
    ...(gse.tenantId ? { "x-bk-tenant-id": gse.tenantId } : {}),
  };
}
