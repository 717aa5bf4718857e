/** The simulator's public, programmatic surface (mirrored by the `/_sim/*` control endpoint). */
import type { OperationName } from "../../lib/gse/operations.ts";
import type { AgentView, NewAgent } from "./agents.ts";
import type { ActiveFault, FaultKind, FaultSpec } from "./faults.ts";
import type { Credential } from "./options.ts";

export interface SimulatorCounters {
  /** Authenticated calls that reached an operation (faulted ones included). */
  readonly calls: Readonly<Record<OperationName, number>>;
  /** Writes whose effect was actually applied to the simulator's state. */
  readonly applied: Readonly<Record<OperationName, number>>;
  /** How often each fault kind hit. */
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Requests refused with 400 INVALID_ARGS (authentication). */
  readonly authFailures: number;
  /** Requests answered 404 API_NOT_FOUND. */
  readonly notFound: number;
  /** Requests currently held open by a `timeout` fault. */
  readonly held: number;
  readonly callbacks: { readonly sent: number; readonly failed: number; readonly skipped: number; readonly pending: number };
  /** Churn ticks applied so far (clock-driven and explicit). */
  readonly ticks: number;
  /** Live agents. */
  readonly agents: number;
}

export interface TickResult {
  readonly ticks: number;
  readonly changed: number;
}

export interface AgentUpdateResult {
  readonly updated: number;
  readonly unknown: readonly string[];
}

export interface AgentRemoveResult {
  readonly removed: number;
  readonly unknown: readonly string[];
}

export interface GseSimulatorControls {
  /** Replaces every fault. */
  setFaults(faults: readonly FaultSpec[]): ActiveFault[];
  /** Adds faults beside the others (tests sharing a simulator); returns the added ones with their ids. */
  addFaults(faults: readonly FaultSpec[]): ActiveFault[];
  /** Removes faults by id; returns how many were removed. */
  removeFaults(ids: readonly number[]): number;
  clearFaults(): void;
  faults(): ActiveFault[];
  /** Sets the status of agents given by either id form. */
  setAgentStatus(ids: string | readonly string[], statusCode: number): AgentUpdateResult;
  /** Adds agents; throws AgentConflictError if an id is already known. */
  addAgents(agents: readonly NewAgent[]): AgentView[];
  removeAgents(ids: readonly string[]): AgentRemoveResult;
  listAgents(options?: { readonly offset?: number; readonly limit?: number }): AgentView[];
  getAgent(id: string): AgentView | undefined;
  /** Applies `count` churn steps now (default 1), independent of the clock. */
  tick(count?: number): TickResult;
  /** Back to the initial state: config, agents, counters, faults, callback URL, clock origin. */
  reset(): void;
  counters(): SimulatorCounters;
  setCallbackUrl(url: string | null): void;
  callbackUrl(): string | null;
  /** Silent agents take messages but their plugin never replies (a probe that hangs). */
  setSilent(ids: readonly string[], silent: boolean): { updated: number };
  /** Agents that keep their version when sent an upgrade message (`{"action":"upgrade","version":"X"}`). */
  setKeepVersion(ids: readonly string[], keep: boolean): { updated: number; unknown: number };
  /** How many times each agent was delivered `messageId` (the last 2000 message ids are kept). */
  deliveries(messageId: string): Record<string, number>;
}

export interface GseSimulator extends GseSimulatorControls {
  /** Base URL, e.g. `http://127.0.0.1:40123`; paths of both doors hang off it. */
  readonly url: string;
  readonly port: number;
  readonly controlToken: string;
  readonly credentials: readonly Credential[];
  readonly slot: { readonly slot_id: number; readonly token: string };
  /** Resolves once every scheduled plugin reply has been sent or has failed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}
