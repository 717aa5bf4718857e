/** The keys of a command's agent items: spread over its agent shards, or (written before them) under the command's own key. */
import { describe, expect, it } from "vitest";
import { AGENT_SHARDS, agentKey, agentPartitions, agentPk, commandPk, messageIdOfAgentPk, shardPk } from "../../../lib/commands/store/items.ts";

const agents = Array.from({ length: 1_000 }, (_, i) => `0:agent-${i}`);

describe("agent item keys", () => {
  it("puts a sharded command's agents under its agent_shards keys, each agent always under the same one", () => {
    const command = { message_id: "reload.1", agent_shards: AGENT_SHARDS };
    const partitions = agentPartitions(command);
    expect(partitions).toHaveLength(AGENT_SHARDS);
    expect(new Set(partitions).size).toBe(AGENT_SHARDS);
    const used = new Map<string, number>();
    for (const agent of agents) {
      const pk = agentPk(command, agent);
      expect(partitions).toContain(pk);
      expect(agentPk(command, agent)).toBe(pk);
      used.set(pk, (used.get(pk) ?? 0) + 1);
    }
    // 125 a key on average: every key takes its share.
    for (const pk of partitions) expect(used.get(pk)).toBeGreaterThan(80);
    expect(agentKey(command, "0:agent-1")).toEqual({ pk: agentPk(command, "0:agent-1"), sk: "agent#0:agent-1" });
  });

  it("keeps a command written before agent shards under the command's own key", () => {
    const legacy = { message_id: "reload.1" };
    expect(agentPartitions(legacy)).toEqual([commandPk("reload.1")]);
    for (const agent of agents.slice(0, 20)) expect(agentPk(legacy, agent)).toBe("cmd#reload.1");
  });

  it("reads the message id back from either layout's key, even one holding '#' and digits", () => {
    for (const id of ["reload.1", "a#3", "a#b#7", "#", "cmdagents#2#x"]) {
      expect(messageIdOfAgentPk(agentPk({ message_id: id, agent_shards: AGENT_SHARDS }, "0:agent-9"))).toBe(id);
      expect(messageIdOfAgentPk(agentPk({ message_id: id }, "0:agent-9"))).toBe(id);
    }
  });

  it("reads no message id from keys that hold no agent items of a command", () => {
    for (const pk of ["fleet#01", "upstream#2026-12-04", "cmds#index", "cmdagents#", "cmdagents#3"]) expect(messageIdOfAgentPk(pk)).toBeUndefined();
  });

  it("keeps agent keys apart from the ids and members keys of the same command", () => {
    const command = { message_id: "reload.1", agent_shards: AGENT_SHARDS };
    const idKeys = Array.from({ length: 8 }, (_, n) => shardPk("reload.1", n));
    for (const pk of agentPartitions(command)) expect(idKeys).not.toContain(pk);
  });
});
