/**
 * A local GSE faithful to docs/gse-contract.md: both front doors (API gateway v2 and legacy ESB),
 * gateway authentication, N deterministic simulated agents with status churn, message slots with
 * plugin callbacks, and fault injection through `/_sim/*` or the returned object.
 */
import type { GseSimulator } from "./api.ts";
import { resolveOptions, type GseSimulatorOptions } from "./options.ts";
import { Simulator } from "./simulator.ts";

export type { AgentRemoveResult, AgentUpdateResult, GseSimulator, GseSimulatorControls, SimulatorCounters, TickResult } from "./api.ts";
export type { AgentView, NewAgent } from "./agents.ts";
export { AgentConflictError, RUNNING_STATUS } from "./agents.ts";
export type { ActiveFault, FaultKind, FaultSpec } from "./faults.ts";
export { FAULT_KINDS, faultSpecSchema } from "./faults.ts";
export type { Credential, GseSimulatorOptions } from "./options.ts";
export { DEFAULT_CREDENTIALS, DEFAULT_SLOT } from "./options.ts";
export * from "./codes.ts";
export { FIRST_ALLOCATED_CHANNEL_ID, FIRST_STREAM_TO_ID } from "./handlers.ts";

/** Starts the simulator and resolves once it listens; `stop()` closes it and every open connection. */
export async function startGseSimulator(options: GseSimulatorOptions = {}): Promise<GseSimulator> {
  const simulator = new Simulator(resolveOptions(options));
  await simulator.listen();
  return simulator;
}
