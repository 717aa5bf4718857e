/** Simulator options: defaults and their schema in one place. */
import { randomBytes } from "node:crypto";
import { z } from "zod";

export interface Credential {
  readonly bk_app_code: string;
  readonly bk_app_secret: string;
}

export interface GseSimulatorOptions {
  /** TCP port; 0 picks a free one (default 0). */
  port?: number;
  /** Bind address (default "127.0.0.1"). */
  host?: string;
  /** Number of generated agents (default 1000). */
  agents?: number;
  /** PRNG seed for agents, churn, fault probabilities and request ids (default 1). */
  seed?: number;
  /** App credentials accepted in X-Bkapi-Authorization (and in the body on the ESB door). */
  credentials?: readonly Credential[];
  /** The registered message slot (default `{slot_id: 37, token: "c2xvdC10b2tlbg"}`, as in docs/gse-contract.md). */
  slot?: { readonly slot_id: number; readonly token: string };
  /** Where plugin replies are POSTed (default none; can be set at runtime). */
  callbackUrl?: string | null;
  /** Real-time delay before a plugin reply is POSTed (default 0). */
  replyDelayMs?: number;
  /** Bearer token of the `/_sim/*` control endpoint (default: random). */
  controlToken?: string;
  /** Clock (default Date.now). Status churn follows this clock only. */
  now?: () => number;
  /** Churn period on the injected clock; 0 disables clock-driven churn (default 60 000). */
  tickMs?: number;
  /** Fraction of agents whose status changes per tick (default 0.01). */
  churnRate?: number;
  /**
   * A file that keeps the stream_to and route configuration across restarts, as GSE does: read at
   * start when it exists, rewritten after every applied change. Default none (memory only).
   */
  stateFile?: string;
  /** true logs one line per request to stderr; a function receives the lines. Never secrets. */
  log?: boolean | ((line: string) => void);
}

export const DEFAULT_CREDENTIALS: readonly Credential[] = [{ bk_app_code: "bk_monitorv3", bk_app_secret: "gse-simulator-secret" }];
export const DEFAULT_SLOT = { slot_id: 37, token: "c2xvdC10b2tlbg" } as const;

const credentialSchema = z.object({ bk_app_code: z.string().min(1), bk_app_secret: z.string().min(1) });

const optionsSchema = z.object({
  port: z.int().min(0).max(65535).default(0),
  host: z.string().min(1).default("127.0.0.1"),
  agents: z.int().min(0).max(10_000_000).default(1000),
  seed: z.int().default(1),
  credentials: z
    .array(credentialSchema)
    .min(1)
    .default([...DEFAULT_CREDENTIALS]),
  slot: z.object({ slot_id: z.int(), token: z.string().min(1) }).default({ ...DEFAULT_SLOT }),
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .default(null),
  replyDelayMs: z.int().min(0).max(600_000).default(0),
  controlToken: z.string().min(8).optional(),
  tickMs: z.int().min(0).default(60_000),
  churnRate: z.number().min(0).max(1).default(0.01),
  stateFile: z.string().min(1).optional(),
});

export interface ResolvedOptions extends z.output<typeof optionsSchema> {
  readonly controlToken: string;
  readonly now: () => number;
  readonly log: (line: string) => void;
}

/** Applies defaults and validates; throws a ZodError naming the bad option. */
export function resolveOptions(options: GseSimulatorOptions): ResolvedOptions {
  const { now, log, ...data } = options;
  const parsed = optionsSchema.parse(data);
  const logger = typeof log === "function" ? log : log === true ? (line: string) => void process.stderr.write(`[gse-sim] ${line}\n`) : () => {};
  return {
    ...parsed,
    controlToken: parsed.controlToken ?? randomBytes(24).toString("hex"),
    now: now ?? Date.now,
    log: logger,
  };
}
