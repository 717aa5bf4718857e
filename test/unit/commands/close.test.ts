/**
 * Closing an ended command (lib/commands/close.ts closeCommand): the agents' final outcomes first,
 * then the counts they make. The store here is an in-memory one that keeps the conditions of the
 * real one (lib/commands/store.ts), so running the close twice, or after a crash half-way, can be
 * compared with running it once.
 */
import { describe, expect, it } from "vitest";
import { closeCommand, countsAreFinal, type CloseDeps } from "../../../lib/commands/close.ts";
import { effectiveOutcome, zeroCounts } from "../../../lib/commands/outcomes.ts";
import type { OutcomeCounts } from "../../../lib/commands/schemas.ts";
import type { CommandStore } from "../../../lib/commands/store.ts";
import { batchSk, commandPk, type AgentCommandItem, type AgentsOf, type BatchItem, type CommandItem } from "../../../lib/commands/store/items.ts";
import { commandItem } from "../../helpers/events.ts";

const ID = "test.close";
const HASH = "h";

/** The commands table of one command, with the real store's conditions. */
class MemoryCommandStore implements Pick<CommandStore, "batches" | "skipBatch" | "agentItems" | "giveUp" | "setCounts" | "getCommand"> {
  gaveUp = 0;
  /** Throws on the giveUp after this many successful ones (a process dying mid-way). */
  crashAfterGiveUps = Infinity;

  constructor(
    public command: CommandItem,
    readonly batchItems: Map<string, BatchItem>,
    readonly agents: Map<string, AgentCommandItem>,
  ) {}

  async batches(): Promise<BatchItem[]> {
    return [...this.batchItems.values()].map((b) => ({ ...b }));
  }

  async skipBatch(_messageId: string, seen: Pick<BatchItem, "sk">, now: number): Promise<void> {
    const batch = this.batchItems.get(seen.sk);
    if (batch?.state === "PENDING" || (batch?.state === "SENDING" && (batch.lease_until ?? 0) < now)) batch.state = "SKIPPED";
  }

  async *agentItems(): AsyncGenerator<AgentCommandItem[]> {
    const all = [...this.agents.values()].map((a) => ({ ...a }));
    // Two pages, as DynamoDB would give a large command's agents.
    yield all.slice(0, 7);
    yield all.slice(7);
  }

  async giveUp(_command: AgentsOf, agentId: string, now: number): Promise<boolean> {
    const agent = this.agents.get(agentId);
    if (!agent || (agent.outcome !== "FAILED" && agent.outcome !== "RETRYING") || agent.final === true) return false;
    if (this.gaveUp >= this.crashAfterGiveUps) throw new Error("the process died");
    Object.assign(agent, { outcome: "FAILED", final: true, updated_at: now });
    this.command = { ...this.command, pending_retries: this.command.pending_retries - 1 };
    this.gaveUp++;
    return true;
  }

  async setCounts(_messageId: string, counts: OutcomeCounts): Promise<boolean> {
    if (this.command.alerted_at !== undefined) return false;
    this.command = { ...this.command, counts };
    return true;
  }

  async getCommand(): Promise<CommandItem | undefined> {
    return { ...this.command };
  }

  markAlerted(counts: OutcomeCounts, now: number): void {
    this.command = { ...this.command, alerted_at: now, counts };
  }
}

const agent = (id: string, batch: number, fields: Partial<AgentCommandItem> = {}): AgentCommandItem => ({
  pk: commandPk(ID),
  sk: `agent#${id}`,
  agent_id: id,
  batch,
  outcome: "PENDING",
  attempts: 1,
  updated_at: 1,
  expires_at: 9,
  ...fields,
});

const batch = (index: number, state: BatchItem["state"]): BatchItem => ({ pk: commandPk(ID), sk: batchSk(HASH, index), index, size: 10, state, expires_at: 9 });

/**
 * An aborted command of 50 targets in 5 batches of 10, as the alert used to find it: batches 0 and 1
 * sent, with 6 delivery failures between them (one retried and RETRYING, four FAILED with attempts
 * left, one FAILED for good); batch 2 released by GSE and never sent again (its agents prewritten,
 * still PENDING); batches 3 and 4 never touched.
 */
function abortedCommand(): MemoryCommandStore {
  const command = commandItem({ message_id: ID, body_hash: HASH, target_count: 50, batch_count: 5, batches_done: 2, pending_retries: 5, index_sk: "1#x" });
  const batches = [batch(0, "SENT"), batch(1, "SENT"), batch(2, "PENDING"), batch(3, "PENDING"), batch(4, "PENDING")];
  const failure = { code: 1, message: "agent not connected" };
  const agents: AgentCommandItem[] = [];
  for (let b = 0; b < 3; b++) for (let i = 0; i < 10; i++) agents.push(agent(`a-${b}-${i}`, b));
  Object.assign(agents[0] as AgentCommandItem, { outcome: "RETRYING", final: false, attempts: 2, retry_at: 5, ...failure });
  Object.assign(agents[1] as AgentCommandItem, { outcome: "FAILED", final: false, ...failure });
  Object.assign(agents[2] as AgentCommandItem, { outcome: "FAILED", final: true, attempts: 5, ...failure });
  for (const i of [10, 11, 12]) Object.assign(agents[i] as AgentCommandItem, { outcome: "FAILED", final: false, ...failure });
  return new MemoryCommandStore(command, new Map(batches.map((b) => [b.sk, b])), new Map(agents.map((a) => [a.agent_id, a])));
}

const deps = (store: MemoryCommandStore): CloseDeps => ({ store, now: () => 100 });
const FINAL: OutcomeCounts = { ...zeroCounts(), SENT: 14, FAILED: 6, SKIPPED: 30 };

describe("closing an ended command", () => {
  it("gives up every agent waiting for a retry and skips the batches not sent before it counts: no RETRYING, no PENDING left", async () => {
    const store = abortedCommand();
    const closed = await closeCommand(deps(store), store.command);
    expect(closed.counts).toEqual(FINAL);
    expect(store.command.counts).toEqual(FINAL);
    expect(store.command.pending_retries).toBe(0);
    expect([...store.agents.values()].filter((a) => a.outcome === "RETRYING" || (a.outcome === "FAILED" && a.final !== true))).toEqual([]);
    expect([...store.batchItems.values()].map((b) => b.state)).toEqual(["SENT", "SENT", "SKIPPED", "SKIPPED", "SKIPPED"]);
    expect(countsAreFinal(store.command)).toBe(true);
  });

  it("changes nothing when run again (recovery after the stopper, or a re-delivered record)", async () => {
    const store = abortedCommand();
    await closeCommand(deps(store), store.command);
    const given = store.gaveUp;
    const again = await closeCommand(deps(store), store.command);
    expect(again.counts).toEqual(FINAL);
    expect(store.gaveUp).toBe(given);
    expect(store.command.pending_retries).toBe(0);
  });

  it("converges after a crash half-way: a second run finishes what the first left, with the same counts", async () => {
    const store = abortedCommand();
    store.crashAfterGiveUps = 2;
    await expect(closeCommand(deps(store), store.command)).rejects.toThrow("the process died");
    expect(store.command.counts).toBeUndefined();
    expect(countsAreFinal(store.command)).toBe(false);
    store.crashAfterGiveUps = Infinity;
    const closed = await closeCommand(deps(store), store.command);
    expect(closed.counts).toEqual(FINAL);
    expect(store.gaveUp).toBe(5);
    expect(store.command.pending_retries).toBe(0);
  });

  it("keeps the alert's counts once the alert went out, whatever changed since", async () => {
    const store = abortedCommand();
    const closed = await closeCommand(deps(store), store.command);
    store.markAlerted(closed.counts, 200);
    // A batch that was in flight at the stop delivers afterwards: the agents change, the counts stay.
    (store.batchItems.get(batchSk(HASH, 2)) as BatchItem).state = "SENT";
    const again = await closeCommand(deps(store), store.command);
    expect(again.counts).toEqual(FINAL);
    expect(store.command.counts).toEqual(FINAL);
  });

  it("skips a batch whose sender died (its lease ran out) and keeps one still in its sender's hands in flight", async () => {
    const store = abortedCommand();
    Object.assign(store.batchItems.get(batchSk(HASH, 3)) as BatchItem, { state: "SENDING", lease_until: 99 });
    Object.assign(store.batchItems.get(batchSk(HASH, 4)) as BatchItem, { state: "SENDING", lease_until: 101 });
    for (const b of [3, 4]) for (let i = 0; i < 10; i++) store.agents.set(`a-${b}-${i}`, agent(`a-${b}-${i}`, b));
    const closed = await closeCommand(deps(store), store.command);
    expect([...store.batchItems.values()].map((b) => b.state)).toEqual(["SENT", "SENT", "SKIPPED", "SKIPPED", "SENDING"]);
    expect(closed.counts).toEqual({ ...FINAL, SKIPPED: 20, PENDING: 10 });
  });

  it("refuses a command that still runs", async () => {
    const store = abortedCommand();
    await expect(closeCommand(deps(store), { ...store.command, status: "RUNNING" })).rejects.toThrow(/still RUNNING/);
  });
});

describe("final counts", () => {
  const ended = { status: "ABORTED" as const, pending_retries: 0, counts: FINAL };
  it("are the stored ones of an ended command with nothing waiting or in flight", () => {
    expect(countsAreFinal(ended)).toBe(true);
  });
  it("are not yet while counts are missing, a retry is pending, or agents show RETRYING or PENDING", () => {
    expect(countsAreFinal({ ...ended, counts: undefined })).toBe(false);
    expect(countsAreFinal({ ...ended, pending_retries: 1 })).toBe(false);
    expect(countsAreFinal({ ...ended, counts: { ...FINAL, RETRYING: 6, FAILED: 0 } })).toBe(false);
    expect(countsAreFinal({ ...ended, counts: { ...FINAL, PENDING: 10, SKIPPED: 20 } })).toBe(false);
    expect(countsAreFinal({ ...ended, status: "RUNNING" })).toBe(false);
  });
});

describe("an agent's outcome once its command ended", () => {
  const states = new Map<number, BatchItem["state"]>([
    [0, "SENT"],
    [1, "SENDING"],
    [2, "SKIPPED"],
    [3, "PENDING"],
  ]);
  it("is FAILED for an agent that was waiting for a retry, however it is stored", () => {
    expect(effectiveOutcome({ outcome: "RETRYING", batch: 0, final: false }, states, true)).toBe("FAILED");
    expect(effectiveOutcome({ outcome: "FAILED", batch: 0, final: false }, states, true)).toBe("FAILED");
    expect(effectiveOutcome({ outcome: "RETRYING", batch: 0, final: false }, states)).toBe("RETRYING");
  });
  it("is SKIPPED for an agent whose batch never went out, PENDING only while its batch is in flight", () => {
    expect(effectiveOutcome({ outcome: "PENDING", batch: 2 }, states, true)).toBe("SKIPPED");
    expect(effectiveOutcome({ outcome: "PENDING", batch: 3 }, states, true)).toBe("SKIPPED");
    expect(effectiveOutcome({ outcome: "PENDING", batch: 1 }, states, true)).toBe("PENDING");
    expect(effectiveOutcome({ outcome: "PENDING", batch: 0 }, states, true)).toBe("SENT");
    expect(effectiveOutcome({ outcome: "REPLIED", batch: 0 }, states, true)).toBe("REPLIED");
  });
});
