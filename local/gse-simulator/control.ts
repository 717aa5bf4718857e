/**
 * `/_sim/*`: the authenticated control endpoint (Authorization: Bearer <controlToken>). Every route
 * calls the same method tests use programmatically. `GET /_sim/health` needs no token.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AgentConflictError, MAX_STATUS_CODE, MIN_STATUS_CODE } from "./agents.ts";
import type { GseSimulatorControls } from "./api.ts";
import { faultSpecSchema } from "./faults.ts";
import { secretEquals } from "./handlers.ts";
import { headerValue, parseJson, readBody, sendJson } from "./http.ts";

const CONTROL_BODY_LIMIT = 1024 * 1024;

const statusCodeSchema = z.int().min(MIN_STATUS_CODE).max(MAX_STATUS_CODE);
const idsSchema = z.array(z.string().min(1)).min(1);

const newAgentSchema = z.object({
  bk_agent_id: z.string().min(1).optional(),
  bk_cloud_id: z.int().min(0).optional(),
  ip: z.string().min(1),
  version: z.string().min(1).optional(),
  run_mode: z.int().optional(),
  status_code: statusCodeSchema.optional(),
  churn: z.boolean().optional(),
});

export const controlBodies = {
  faults: z.object({ faults: z.array(faultSpecSchema) }),
  removeFaults: z.object({ ids: z.array(z.int().min(1)).min(1) }),
  addAgents: z.object({ agents: z.array(newAgentSchema).min(1) }),
  removeAgents: z.object({ ids: idsSchema }),
  agentStatus: z.object({ ids: idsSchema, status_code: statusCodeSchema }),
  tick: z.object({ count: z.int().min(1).max(100_000).optional() }),
  silent: z.object({ ids: idsSchema, silent: z.boolean() }),
  keepVersion: z.object({ ids: idsSchema, keep: z.boolean() }),
  callbackUrl: z.object({ url: z.url({ protocol: /^https?$/ }).nullable() }),
} as const;

type Reply = { readonly status: number; readonly body: unknown };
type Route = (body: unknown, query: URLSearchParams) => Reply;

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function badRequest(error: z.ZodError): Reply {
  const message = error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
  return { status: 400, body: { error: "invalid_body", message } };
}

/** Parses the body with `schema`, then runs `run`; a bad body is a 400 naming the field. */
function withBody<S extends z.ZodType>(schema: S, run: (input: z.output<S>) => Reply): Route {
  return (body) => {
    const parsed = schema.safeParse(body);
    return parsed.success ? run(parsed.data) : badRequest(parsed.error);
  };
}

function nonNegativeInt(value: string | null, fallback: number): number {
  const parsed = value === null ? Number.NaN : Number(value);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

function routes(sim: GseSimulatorControls): Readonly<Record<string, Route>> {
  return {
    "GET /_sim/counters": () => ok(sim.counters()),
    "GET /_sim/faults": () => ok({ faults: sim.faults() }),
    "POST /_sim/faults": withBody(controlBodies.faults, (input) => ok({ faults: sim.setFaults(input.faults) })),
    "POST /_sim/faults/add": withBody(controlBodies.faults, (input) => ok({ faults: sim.addFaults(input.faults) })),
    "POST /_sim/faults/remove": withBody(controlBodies.removeFaults, (input) => ok({ removed: sim.removeFaults(input.ids) })),
    "DELETE /_sim/faults": () => {
      sim.clearFaults();
      return ok({ faults: [] });
    },
    "GET /_sim/agents": (_body, query) => {
      const agents = sim.listAgents({
        offset: nonNegativeInt(query.get("offset"), 0),
        limit: Math.min(nonNegativeInt(query.get("limit"), 100), 10_000),
      });
      return ok({ total: sim.counters().agents, agents });
    },
    "POST /_sim/agents": withBody(controlBodies.addAgents, (input) => {
      try {
        return ok({ agents: sim.addAgents(input.agents) });
      } catch (error) {
        if (error instanceof AgentConflictError) return { status: 409, body: { error: "conflict", message: error.message } };
        throw error;
      }
    }),
    "POST /_sim/agents/remove": withBody(controlBodies.removeAgents, (input) => ok(sim.removeAgents(input.ids))),
    "POST /_sim/agents/status": withBody(controlBodies.agentStatus, (input) => ok(sim.setAgentStatus(input.ids, input.status_code))),
    "POST /_sim/agents/silent": withBody(controlBodies.silent, (input) => ok(sim.setSilent(input.ids, input.silent))),
    "POST /_sim/agents/keep-version": withBody(controlBodies.keepVersion, (input) => ok(sim.setKeepVersion(input.ids, input.keep))),
    "GET /_sim/deliveries": (_body, query) => ok({ message_id: query.get("message_id") ?? "", agents: sim.deliveries(query.get("message_id") ?? "") }),
    "POST /_sim/tick": withBody(controlBodies.tick, (input) => ok(sim.tick(input.count ?? 1))),
    "POST /_sim/reset": () => {
      sim.reset();
      return ok({ reset: true });
    },
    "GET /_sim/callback-url": () => ok({ url: sim.callbackUrl() }),
    "POST /_sim/callback-url": withBody(controlBodies.callbackUrl, (input) => {
      sim.setCallbackUrl(input.url);
      return ok({ url: sim.callbackUrl() });
    }),
  };
}

export class ControlEndpoint {
  private readonly table: Readonly<Record<string, Route>>;

  constructor(
    sim: GseSimulatorControls,
    private readonly token: string,
  ) {
    this.table = routes(sim);
  }

  private authorized(req: IncomingMessage): boolean {
    const header = headerValue(req.headers.authorization) ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match?.[1] !== undefined && secretEquals(match[1].trim(), this.token);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/_sim/health") {
      req.resume();
      return sendJson(res, 200, { ok: true });
    }
    if (!this.authorized(req)) {
      req.resume();
      return sendJson(res, 401, { error: "unauthorized" }, { "www-authenticate": "Bearer" });
    }
    const route = this.table[`${method} ${url.pathname.replace(/\/$/, "")}`];
    if (route === undefined) {
      req.resume();
      return sendJson(res, 404, { error: "not_found", message: `${method} ${url.pathname}` });
    }
    const raw = await readBody(req, CONTROL_BODY_LIMIT);
    if (raw.kind === "too_large") return sendJson(res, 413, { error: "body_too_large" });
    const body = raw.text.trim() === "" ? { ok: true as const, value: {} } : parseJson(raw.text);
    if (!body.ok) return sendJson(res, 400, { error: "invalid_json" });
    const reply = route(body.value, url.searchParams);
    sendJson(res, reply.status, reply.body);
  }
}
