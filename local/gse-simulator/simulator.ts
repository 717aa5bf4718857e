/** The GSE simulator: one node:http server serving both GSE doors plus the `/_sim/*` control endpoint. */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { findOperationByPath, OPERATION_NAMES, type Door, type Operation } from "../../lib/gse/operations.ts";
import { ESB_UNKNOWN_ERROR_CODE, type SlotCallback } from "../../lib/gse/schemas.ts";
import { AgentFleet, type AgentView, type NewAgent } from "./agents.ts";
import type { AgentRemoveResult, AgentUpdateResult, GseSimulator, SimulatorCounters, TickResult } from "./api.ts";
import { CallbackSender } from "./callbacks.ts";
import { SIM_BODY_LIMIT_BYTES } from "./codes.ts";
import { ControlEndpoint } from "./control.ts";
import { corruptData, FAULT_KINDS, FaultRegistry, type ActiveFault, type FaultSpec, type TerminalFault } from "./faults.ts";
import { ConfigState, HANDLERS, secretEquals, validationFailure, type HandlerContext, type Outcome, type SavedConfig } from "./handlers.ts";
import { headerValue, isRecord, parseJson, readBody, sendGatewayError, sendJson, sendRaw, sleep, type JsonResult } from "./http.ts";
import { hash32, hex32, Mulberry32 } from "./prng.ts";
import type { Credential, ResolvedOptions } from "./options.ts";

/** At most this many clock ticks are replayed at once after a clock jump; older ones are dropped. */
const MAX_CLOCK_CATCH_UP_TICKS = 10_000;

type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of keys) out[key] = 0;
  return out;
}

export class Simulator implements GseSimulator {
  private readonly server: Server;
  private readonly control: ControlEndpoint;
  private readonly callbacks: CallbackSender;
  private readonly held = new Set<ServerResponse>();

  private config = new ConfigState();
  private fleet: AgentFleet;
  private fleetCreatedAt: number;
  private churnPrng: Mulberry32;
  private faultRegistry: FaultRegistry;
  private requestSeq = 0;
  private clockOrigin: number;
  private clockTicks = 0;
  private totalTicks = 0;
  private currentCallbackUrl: string | null;
  private readonly silentAgents = new Set<string>();
  private readonly delivered = new Map<string, Map<string, number>>();

  private calls = zeroCounts(OPERATION_NAMES);
  private appliedWrites = zeroCounts(OPERATION_NAMES);
  private faultHits = zeroCounts(FAULT_KINDS);
  private authFailures = 0;
  private notFound = 0;

  private listenUrl = "";
  private listenPort = 0;

  constructor(private readonly options: ResolvedOptions) {
    if (options.stateFile !== undefined && existsSync(options.stateFile)) {
      this.config = ConfigState.fromJSON(JSON.parse(readFileSync(options.stateFile, "utf8")) as SavedConfig);
    }
    this.fleet = new AgentFleet(options.seed, options.agents);
    this.fleetCreatedAt = options.now();
    this.clockOrigin = this.fleetCreatedAt;
    this.churnPrng = new Mulberry32(options.seed ^ 0x5eed_c4a2);
    this.faultRegistry = new FaultRegistry(new Mulberry32(options.seed ^ 0x0fa1_7000));
    this.currentCallbackUrl = options.callbackUrl;
    this.callbacks = new CallbackSender({
      url: () => this.currentCallbackUrl,
      delayMs: () => options.replyDelayMs,
      log: options.log,
    });
    this.control = new ControlEndpoint(this, options.controlToken);
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        options.log(`internal error ${error instanceof Error ? error.message : "unknown"}`);
        sendGatewayError(res, "BAD_GATEWAY", "simulator internal error");
      });
    });
  }

  get url(): string {
    return this.listenUrl;
  }

  get port(): number {
    return this.listenPort;
  }

  get controlToken(): string {
    return this.options.controlToken;
  }

  get credentials(): readonly Credential[] {
    return this.options.credentials;
  }

  get slot(): { readonly slot_id: number; readonly token: string } {
    return this.options.slot;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const address: AddressInfo | string | null = this.server.address();
    if (address === null || typeof address === "string") throw new Error("simulator is not listening on a TCP port");
    this.listenPort = address.port;
    const host = this.options.host.includes(":") ? `[${this.options.host}]` : this.options.host;
    this.listenUrl = `http://${host}:${this.listenPort}`;
  }

  async stop(): Promise<void> {
    await this.callbacks.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  idle(): Promise<void> {
    return this.callbacks.idle();
  }

  // -------------------------------------------------------------------------------------------
  // programmatic controls
  // -------------------------------------------------------------------------------------------

  setFaults(faults: readonly FaultSpec[]): ActiveFault[] {
    return this.faultRegistry.set(faults);
  }

  addFaults(faults: readonly FaultSpec[]): ActiveFault[] {
    return this.faultRegistry.add(faults);
  }

  removeFaults(ids: readonly number[]): number {
    return this.faultRegistry.remove(ids);
  }

  clearFaults(): void {
    this.faultRegistry.clear();
  }

  faults(): ActiveFault[] {
    return this.faultRegistry.list();
  }

  setAgentStatus(ids: string | readonly string[], statusCode: number): AgentUpdateResult {
    this.syncClock();
    const unknown: string[] = [];
    let updated = 0;
    for (const id of typeof ids === "string" ? [ids] : ids) {
      const ref = this.fleet.resolve(id);
      if (ref === undefined) unknown.push(id);
      else {
        this.fleet.setStatus(ref, statusCode);
        updated++;
      }
    }
    return { updated, unknown };
  }

  addAgents(agents: readonly NewAgent[]): AgentView[] {
    return this.fleet.add(agents);
  }

  removeAgents(ids: readonly string[]): AgentRemoveResult {
    const unknown: string[] = [];
    let removed = 0;
    for (const id of ids) {
      const ref = this.fleet.resolve(id);
      if (ref === undefined) unknown.push(id);
      else {
        this.fleet.remove(ref);
        removed++;
      }
    }
    return { removed, unknown };
  }

  listAgents(options: { readonly offset?: number; readonly limit?: number } = {}): AgentView[] {
    this.syncClock();
    return this.fleet.list(options.offset ?? 0, options.limit ?? 100);
  }

  getAgent(id: string): AgentView | undefined {
    this.syncClock();
    const ref = this.fleet.resolve(id);
    return ref === undefined ? undefined : this.fleet.view(ref);
  }

  tick(count = 1): TickResult {
    let changed = 0;
    for (let i = 0; i < count; i++) changed += this.churnOnce();
    return { ticks: count, changed };
  }

  reset(): void {
    this.config = new ConfigState();
    this.saveConfig();
    this.fleet = new AgentFleet(this.options.seed, this.options.agents);
    this.fleetCreatedAt = this.options.now();
    this.clockOrigin = this.fleetCreatedAt;
    this.clockTicks = 0;
    this.totalTicks = 0;
    this.churnPrng = new Mulberry32(this.options.seed ^ 0x5eed_c4a2);
    this.faultRegistry = new FaultRegistry(new Mulberry32(this.options.seed ^ 0x0fa1_7000));
    this.currentCallbackUrl = this.options.callbackUrl;
    this.calls = zeroCounts(OPERATION_NAMES);
    this.appliedWrites = zeroCounts(OPERATION_NAMES);
    this.faultHits = zeroCounts(FAULT_KINDS);
    this.authFailures = 0;
    this.notFound = 0;
    this.callbacks.resetCounters();
  }

  counters(): SimulatorCounters {
    this.syncClock();
    return {
      calls: { ...this.calls },
      applied: { ...this.appliedWrites },
      faults: { ...this.faultHits },
      authFailures: this.authFailures,
      notFound: this.notFound,
      held: this.held.size,
      callbacks: { ...this.callbacks.counters, pending: this.callbacks.pending },
      ticks: this.totalTicks,
      agents: this.fleet.size,
    };
  }

  setSilent(ids: readonly string[], silent: boolean): { updated: number } {
    for (const id of ids) {
      if (silent) this.silentAgents.add(id);
      else this.silentAgents.delete(id);
    }
    return { updated: ids.length };
  }

  setKeepVersion(ids: readonly string[], keep: boolean): { updated: number; unknown: number } {
    return this.fleet.setKeepVersion(ids, keep);
  }

  deliveries(messageId: string): Record<string, number> {
    return Object.fromEntries(this.delivered.get(messageId) ?? new Map<string, number>());
  }

  /** Counts deliveries per message id and agent, and holds back the replies of silent agents. */
  private deliver(replies: readonly SlotCallback[]): void {
    for (const reply of replies) {
      let perAgent = this.delivered.get(reply.message_id);
      if (!perAgent) {
        perAgent = new Map();
        this.delivered.set(reply.message_id, perAgent);
        if (this.delivered.size > 2000) this.delivered.delete(this.delivered.keys().next().value as string);
      }
      perAgent.set(reply.bk_agent_id, (perAgent.get(reply.bk_agent_id) ?? 0) + 1);
    }
    this.callbacks.schedule(replies.filter((r) => !this.silentAgents.has(r.bk_agent_id)));
  }

  setCallbackUrl(url: string | null): void {
    if (url !== null && !URL.canParse(url)) throw new TypeError("callback URL is not a valid URL");
    this.currentCallbackUrl = url;
  }

  callbackUrl(): string | null {
    return this.currentCallbackUrl;
  }

  // -------------------------------------------------------------------------------------------
  // clock and ids
  // -------------------------------------------------------------------------------------------

  private churnOnce(): number {
    this.totalTicks++;
    return this.fleet.churn(this.churnPrng, this.options.churnRate);
  }

  /** Applies the churn ticks the injected clock says are due. */
  private syncClock(): void {
    const { tickMs } = this.options;
    if (tickMs <= 0) return;
    const due = Math.floor((this.options.now() - this.clockOrigin) / tickMs);
    if (due - this.clockTicks > MAX_CLOCK_CATCH_UP_TICKS) this.clockTicks = due - MAX_CLOCK_CATCH_UP_TICKS;
    while (this.clockTicks < due) {
      this.clockTicks++;
      this.churnOnce();
    }
  }

  private nextRequestId(): string {
    const n = ++this.requestSeq;
    const seed = this.options.seed;
    return hex32(hash32(seed, n, 11)) + hex32(hash32(seed, n, 12)) + hex32(hash32(seed, n, 13)) + hex32(n);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------------------------

  private authenticate(req: IncomingMessage, door: Door, body: JsonResult): AuthResult {
    const header = headerValue(req.headers["x-bkapi-authorization"]);
    let source: Record<string, unknown> = {};
    if (header !== undefined) {
      const parsed = parseJson(header);
      if (!parsed.ok || !isRecord(parsed.value)) return { ok: false, reason: "X-Bkapi-Authorization is not a valid JSON object" };
      source = parsed.value;
    } else if (door === "esb" && body.ok && isRecord(body.value)) {
      // Legacy ESB also takes the app credentials from the body (§2.1).
      source = body.value;
    }
    const appCode = source.bk_app_code;
    const appSecret = source.bk_app_secret;
    if (typeof appCode !== "string" || appCode === "") return { ok: false, reason: "app code cannot be empty" };
    if (typeof appSecret !== "string" || appSecret === "") return { ok: false, reason: "app secret cannot be empty" };
    let matched = false;
    for (const credential of this.options.credentials) {
      const secretOk = secretEquals(appSecret, credential.bk_app_secret);
      if (secretOk && credential.bk_app_code === appCode) matched = true;
    }
    return matched ? { ok: true } : { ok: false, reason: "bk_app_code or bk_app_secret is incorrect" };
  }

  private context(): HandlerContext {
    return {
      config: this.config,
      fleet: this.fleet,
      now: this.options.now,
      fleetCreatedAt: this.fleetCreatedAt,
      slot: this.options.slot,
      scheduleReplies: (replies) => this.deliver(replies),
    };
  }

  private evaluate(op: Operation, req: IncomingMessage, body: JsonResult): Outcome {
    const contentType = headerValue(req.headers["content-type"]) ?? "";
    if (!contentType.toLowerCase().includes("application/json")) return validationFailure("Content-Type must be application/json");
    if (!body.ok) return validationFailure("request body is not valid JSON");
    return HANDLERS[op.name](body.value, this.context());
  }

  private apply(op: Operation, outcome: Outcome): void {
    if (!outcome.ok || outcome.commit === undefined) return;
    outcome.commit();
    if (op.kind === "write") {
      this.appliedWrites[op.name] += 1;
      this.saveConfig();
    }
  }

  /** Written before the answer goes out: once GSE has said yes, the change survives a crash. */
  private saveConfig(): void {
    const file = this.options.stateFile;
    if (file === undefined) return;
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.config));
    renameSync(temporary, file);
  }

  private envelope(requestId: string, outcome: Outcome): Record<string, unknown> {
    return outcome.ok
      ? { result: true, code: 0, message: "", data: outcome.data, request_id: requestId }
      : { result: false, code: outcome.code, message: outcome.message, data: outcome.data ?? null, request_id: requestId };
  }

  private sendServerError(res: ServerResponse, status: number): void {
    if (status === 504) sendGatewayError(res, "REQUEST_BACKEND_TIMEOUT", "Request backend service timeout", { status });
    else sendGatewayError(res, "BAD_GATEWAY", "Request backend service failed", { status });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = this.nextRequestId();
    res.setHeader("X-Bkapi-Request-Id", requestId);
    const url = new URL(req.url ?? "/", "http://simulator.invalid");
    if (url.pathname === "/_sim" || url.pathname.startsWith("/_sim/")) return this.control.handle(req, res, url);

    const method = req.method ?? "GET";
    const match = findOperationByPath(url.pathname);
    if (match === undefined || method !== "POST") {
      req.resume();
      this.notFound++;
      this.options.log(`${method} ${url.pathname} 404 rid=${requestId}`);
      return sendGatewayError(res, "API_NOT_FOUND", `API not found [method="${method}" path="${url.pathname}"]`);
    }
    const { operation: op, door } = match;
    const raw = await readBody(req, SIM_BODY_LIMIT_BYTES);
    if (raw.kind === "too_large") {
      return sendGatewayError(res, "BODY_SIZE_LIMIT_EXCEED", "Request body size too large.", { headers: { connection: "close" } });
    }
    const body = parseJson(raw.text);
    const auth = this.authenticate(req, door, body);
    if (!auth.ok) {
      this.authFailures++;
      this.options.log(`POST ${url.pathname} op=${op.name} 400 auth rid=${requestId}`);
      return sendGatewayError(res, "INVALID_ARGS", `Parameters error [reason="${auth.reason}"]`);
    }

    this.calls[op.name] += 1;
    this.syncClock();
    const pick = this.faultRegistry.pick(op.name, raw.text);
    for (const kind of pick.hits) this.faultHits[kind] += 1;
    if (pick.latencyMs > 0) await sleep(pick.latencyMs);
    const fault = pick.terminal;
    this.options.log(`POST ${url.pathname} op=${op.name} door=${door}${fault ? ` fault=${fault.kind}` : ""} rid=${requestId}`);

    if (fault === undefined) {
      const outcome = this.evaluate(op, req, body);
      this.apply(op, outcome);
      return sendJson(res, 200, this.envelope(requestId, outcome));
    }
    return this.answerWithFault(fault, op, req, res, body, requestId);
  }

  private answerWithFault(fault: TerminalFault, op: Operation, req: IncomingMessage, res: ServerResponse, body: JsonResult, requestId: string): void {
    const applyIfAsked = (): void => {
      if (fault.apply === true) this.apply(op, this.evaluate(op, req, body));
    };
    switch (fault.kind) {
      case "reset":
        applyIfAsked();
        req.socket.resetAndDestroy();
        return;
      case "timeout":
        applyIfAsked();
        this.held.add(res);
        res.on("close", () => this.held.delete(res));
        return;
      case "http_error":
        this.sendServerError(res, fault.status ?? 502);
        return;
      case "apply_then_fail":
        this.apply(op, this.evaluate(op, req, body));
        this.sendServerError(res, fault.status ?? 502);
        return;
      case "rate_limit": {
        const retryAfter = String(fault.retryAfterSeconds ?? 1);
        sendGatewayError(res, "RATE_LIMIT_RESOURCE", "API rate limit exceeded by resource strategy", {
          headers: {
            "retry-after": retryAfter,
            "x-bkapi-ratelimit-limit": "100",
            "x-bkapi-ratelimit-remaining": "0",
            "x-bkapi-ratelimit-reset": retryAfter,
            "x-bkapi-ratelimit-plugin": "bk-resource-ratelimit",
          },
        });
        return;
      }
      case "business_error":
        sendJson(
          res,
          200,
          this.envelope(requestId, {
            ok: false,
            code: fault.code ?? ESB_UNKNOWN_ERROR_CODE,
            message: fault.message ?? "simulated business error",
          }),
        );
        return;
      case "malformed_body":
        applyIfAsked();
        sendRaw(res, 200, `{"result": true, "code": 0, "message": "", "request_id": "${requestId}", "data": {"trunc`);
        return;
      case "schema_violation": {
        const outcome = this.evaluate(op, req, body);
        if (fault.apply === true) this.apply(op, outcome);
        const envelope = this.envelope(requestId, outcome);
        const broken =
          envelope.data === null || envelope.data === undefined
            ? { ...envelope, result: String(envelope.result) }
            : { ...envelope, data: corruptData(envelope.data) };
        sendJson(res, 200, broken);
        return;
      }
    }
  }
}
