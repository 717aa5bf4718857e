/**
 * The /v1/apm routes: which route does what, with its input validated by its schema. The
 * functions in functions/apm are thin wrappers around these.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import * as z from "zod";
import { parametersOf } from "../config-versions/api.ts";
import type { HttpReply, HttpRequestContext } from "../http/handler.ts";
import { validate } from "../http/handler.ts";
import { authorOf } from "../http/author.ts";
import { createApp, deleteApp, getApp, updateApp, type ApmDeps } from "./apps.ts";
import { setDatasource } from "./datasources.ts";
import { discoverProbes, ingestProbes, listProbes, probeVersions, upgradeProbes } from "./probes.ts";
import {
  appListQuerySchema,
  appPathSchema,
  createAppSchema,
  datasourcePathSchema,
  datasourceRequestSchema,
  discoverRequestSchema,
  probeIngestSchema,
  probeQuerySchema,
  updateAppSchema,
  upgradeRequestSchema,
} from "./schemas.ts";

const NO_QUERY = z.object({});
const methodOf = (event: APIGatewayProxyEventV2): string => event.requestContext?.http?.method ?? "GET";

/** POST/GET /v1/apm/apps, GET/PUT/DELETE /v1/apm/apps/{bk_biz_id}/{app_name}. */
export async function answerApps(deps: ApmDeps, ctx: HttpRequestContext<unknown>): Promise<HttpReply<unknown>> {
  const { event } = ctx;
  const method = methodOf(event);
  if (!event.pathParameters?.app_name) {
    if (method === "POST") return { status: 201, data: await createApp(deps, validate(createAppSchema, ctx.body ?? {}), authorOf(ctx)) };
    const query = validate(appListQuerySchema, event.queryStringParameters ?? {});
    return { data: { apps: await deps.store.listApps(query.bk_biz_id) } };
  }
  const { path } = parametersOf(event, appPathSchema, NO_QUERY);
  if (method === "PUT") return { data: await updateApp(deps, path.bk_biz_id, path.app_name, validate(updateAppSchema, ctx.body ?? {})) };
  if (method === "DELETE") return { data: await deleteApp(deps, path.bk_biz_id, path.app_name) };
  return { data: await getApp(deps.store, path.bk_biz_id, path.app_name) };
}

/** POST …/datasources/{datasource}/start and …/stop. */
export async function answerDatasource(deps: ApmDeps, ctx: HttpRequestContext<unknown>): Promise<HttpReply<unknown>> {
  const { path } = parametersOf(ctx.event, datasourcePathSchema, NO_QUERY);
  const verb = (ctx.event.routeKey ?? "").endsWith("/stop") ? "stop" : "start";
  const request = validate(datasourceRequestSchema, ctx.body ?? {});
  return { data: await setDatasource(deps, path.bk_biz_id, path.app_name, path.datasource, verb, authorOf(ctx), request) };
}

/** GET/POST …/probes, GET …/probe-versions, POST …/discover, POST …/upgrade. */
export async function answerProbes(deps: ApmDeps, ctx: HttpRequestContext<unknown>): Promise<HttpReply<unknown>> {
  const { event } = ctx;
  const route = event.routeKey ?? "";
  if (route.endsWith("/probe-versions")) {
    const { path } = parametersOf(event, appPathSchema, NO_QUERY);
    return { data: await probeVersions(deps, path.bk_biz_id, path.app_name) };
  }
  if (route.endsWith("/discover")) {
    const { path } = parametersOf(event, appPathSchema, NO_QUERY);
    return { data: await discoverProbes(deps, path.bk_biz_id, path.app_name, validate(discoverRequestSchema, ctx.body ?? {}), authorOf(ctx)) };
  }
  if (route.endsWith("/upgrade")) {
    const { path } = parametersOf(event, appPathSchema, NO_QUERY);
    return { data: await upgradeProbes(deps, path.bk_biz_id, path.app_name, validate(upgradeRequestSchema, ctx.body ?? {}), authorOf(ctx)) };
  }
  if (methodOf(event) === "POST") {
    const { path } = parametersOf(event, appPathSchema, NO_QUERY);
    return { data: await ingestProbes(deps, path.bk_biz_id, path.app_name, validate(probeIngestSchema, ctx.body ?? {}).instances) };
  }
  const { path, query } = parametersOf(event, appPathSchema, probeQuerySchema);
  return { data: await listProbes(deps, path.bk_biz_id, path.app_name, query) };
}
