/** Fault injection: what can go wrong between a GSE client and GSE, on demand and deterministically. */
import { z } from "zod";
import { OPERATION_NAMES, type OperationName } from "../../lib/gse/operations.ts";
import type { Mulberry32 } from "./prng.ts";

export const FAULT_KINDS = [
  /** Adds `latencyMs` before the answer; stacks with every other fault. */
  "latency",
  /** HTTP 5xx with the gateway error body (502 → 1650200 BAD_GATEWAY, 504 → 1650401). */
  "http_error",
  /** HTTP 429 with `Retry-After` and the gateway body 1642903. */
  "rate_limit",
  /** Never answers; the request is held until the client gives up. */
  "timeout",
  /** Destroys the socket (TCP RST) without answering. */
  "reset",
  /** HTTP 200 with a body that is not valid JSON. */
  "malformed_body",
  /** HTTP 200, valid JSON, but `data` (or, when data is null, `result`) has the wrong types. */
  "schema_violation",
  /** HTTP 200 with `result: false` and the given `code`/`message`; nothing is applied. */
  "business_error",
  /** Performs the operation (writes are applied), then answers HTTP 5xx like `http_error`. */
  "apply_then_fail",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const faultSpecSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    /** Target operation; absent = every operation. */
    operation: z.enum(OPERATION_NAMES).optional(),
    /**
     * Only calls whose raw request body contains this text (an agent id, a stream_to name): lets
     * tests that share one simulator each fault their own calls and nobody else's.
     */
    match: z.string().min(1).optional(),
    /** Chance that a matching call is hit (default 1). */
    probability: z.number().min(0).max(1).optional(),
    /** Hit only the next N matching calls, then the fault disappears (default: unlimited). */
    count: z.int().min(1).optional(),
    /** latency: milliseconds to add. */
    latencyMs: z.int().min(0).max(600_000).optional(),
    /** http_error / apply_then_fail: HTTP status (default 502). */
    status: z.int().min(500).max(599).optional(),
    /** rate_limit: value of Retry-After in seconds (default 1). */
    retryAfterSeconds: z.int().min(0).max(3600).optional(),
    /** business_error: code and message of the error envelope. */
    code: z.int().optional(),
    message: z.string().optional(),
    /** timeout / reset / malformed_body / schema_violation: perform the operation first (default false). */
    apply: z.boolean().optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.kind === "latency" && spec.latencyMs === undefined) {
      ctx.addIssue({ code: "custom", message: "latency needs latencyMs", path: ["latencyMs"] });
    }
    if (spec.kind === "business_error" && (spec.code === undefined || spec.code === 0)) {
      ctx.addIssue({ code: "custom", message: "business_error needs a non-zero code", path: ["code"] });
    }
  });
export type FaultSpec = z.input<typeof faultSpecSchema>;
export type TerminalFaultKind = Exclude<FaultKind, "latency">;
/** A fault that decides the answer (every kind but latency). */
export type TerminalFault = FaultSpec & { readonly kind: TerminalFaultKind };

export interface ActiveFault {
  readonly id: number;
  readonly spec: FaultSpec;
  /** Hits left; null = unlimited. */
  readonly remaining: number | null;
}

interface Entry {
  readonly id: number;
  readonly spec: FaultSpec;
  remaining: number | null;
}

export interface FaultPick {
  readonly latencyMs: number;
  /** The first non-latency fault that hit, if any. */
  readonly terminal: TerminalFault | undefined;
  /** Kinds that hit (latency included), for counters. */
  readonly hits: readonly FaultKind[];
}

export class FaultRegistry {
  private entries: Entry[] = [];
  private nextId = 1;

  constructor(private readonly prng: Mulberry32) {}

  /** Replaces all faults; throws a ZodError (leaving the old set) when one is invalid. */
  set(specs: readonly FaultSpec[]): ActiveFault[] {
    const parsed = z.array(faultSpecSchema).parse(specs);
    this.entries = parsed.map((spec) => ({ id: this.nextId++, spec, remaining: spec.count ?? null }));
    return this.list();
  }

  /** Adds faults beside the existing ones; returns only the added, so their ids can be removed. */
  add(specs: readonly FaultSpec[]): ActiveFault[] {
    const parsed = z.array(faultSpecSchema).parse(specs);
    const added = parsed.map((spec) => ({ id: this.nextId++, spec, remaining: spec.count ?? null }));
    this.entries.push(...added);
    const ids = new Set(added.map((e) => e.id));
    return this.list().filter((fault) => ids.has(fault.id));
  }

  /** Removes the faults with these ids; returns how many there were. */
  remove(ids: readonly number[]): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => !ids.includes(entry.id));
    return before - this.entries.length;
  }

  clear(): void {
    this.entries = [];
  }

  list(): ActiveFault[] {
    return this.entries.map((entry) => ({ id: entry.id, spec: { ...entry.spec }, remaining: entry.remaining }));
  }

  /** Decides which faults hit one call of `operation`; consumes counts of the faults that hit. */
  pick(operation: OperationName, rawBody = ""): FaultPick {
    let latencyMs = 0;
    let terminal: TerminalFault | undefined;
    const hits: FaultKind[] = [];
    for (const entry of this.entries) {
      const { spec } = entry;
      if (spec.operation !== undefined && spec.operation !== operation) continue;
      if (spec.match !== undefined && !rawBody.includes(spec.match)) continue;
      if (spec.kind !== "latency" && terminal !== undefined) continue;
      const probability = spec.probability ?? 1;
      if (probability < 1 && this.prng.next() >= probability) continue;
      if (entry.remaining !== null) entry.remaining -= 1;
      const kind = spec.kind;
      hits.push(kind);
      if (kind === "latency") latencyMs += spec.latencyMs ?? 0;
      else terminal = { ...spec, kind };
    }
    this.entries = this.entries.filter((entry) => entry.remaining === null || entry.remaining > 0);
    return { latencyMs, terminal, hits };
  }
}

/**
 * Same JSON shape with every leaf's type flipped (numbers → strings, strings → numbers, booleans →
 * strings, empty arrays/objects get a wrong-typed member), so any schema for it fails.
 */
export function corruptData(value: unknown): unknown {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return value.length;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? [42] : value.map(corruptData);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return { unexpected: 42 };
    return Object.fromEntries(entries.map(([key, item]) => [key, corruptData(item)]));
  }
  return value;
}
