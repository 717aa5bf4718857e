/** The fleet table's agents (registry and polled state, by partition) and each agent's transitions. */
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_ITEMS, chunk, drainUnprocessed, runStatements, type Statement } from "../dynamo/batch.ts";
import { isConditionFailure } from "../dynamo/conditions.ts";
import { ALERT_MARK_HORIZON_MS, fleetAgentSchema, OWED_PREFIX, transitionSchema, type FleetAgent, type TransitionRecord } from "./items.ts";
import { FleetTable, META, agentKey, historyPk, pad, partitionOf, partitionPk, readUnitsOf, type FleetCalls } from "./table.ts";

type Removable<T> = { [K in keyof T]?: T[K] | null };

/** The fields of an agent a poll may change (everything but registry, bookkeeping and the operator's labels); null removes a field. */
export type AgentChange = Removable<
  Omit<FleetAgent, "agent_id" | "registered_at" | "sources" | "rev" | "expires_at" | "changed_at" | "labels" | "labels_rev">
> & {
  readonly expires_at: number | null;
};

export interface AgentPage {
  readonly agents: FleetAgent[];
  /** The sk to continue after, when the partition has more. */
  readonly after?: string;
}

export class FleetAgentRecords extends FleetTable {
  /**
   * Moves the revision of the partitions of `agentIds` (`meta`/`polled` `rNN`), after a write of
   * those agents: a warm heartbeat re-reads a partition whose revision moved (lib/heartbeat/fleet-cache.ts).
   */
  async bumpRevisions(agentIds: readonly string[], calls: FleetCalls): Promise<void> {
    await this.bumpPartitions([...new Set(agentIds.map(partitionOf))], calls);
  }

  /** Moves the revision of `partitions` (see bumpRevisions). */
  async bumpPartitions(partitions: readonly number[], calls: FleetCalls): Promise<void> {
    if (partitions.length === 0) return;
    await this.write(calls, () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: META, sk: "polled" },
          UpdateExpression: `ADD ${partitions.map((p) => `#r${p} :one`).join(", ")}`,
          ExpressionAttributeNames: Object.fromEntries(partitions.map((p) => [`#r${p}`, `r${pad(p)}`])),
          ExpressionAttributeValues: { ":one": 1 },
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  /** One page of a partition's agents, after `after` (an sk), up to `limit` items read. */
  async agentPage(partition: number, options: { after?: string; limit?: number }, calls: FleetCalls): Promise<AgentPage> {
    const out = await this.read(calls, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ReturnConsumedCapacity: "TOTAL",
          KeyConditionExpression: options.after === undefined ? "pk = :pk" : "pk = :pk AND sk > :after",
          ExpressionAttributeValues: { ":pk": partitionPk(partition), ...(options.after === undefined ? {} : { ":after": options.after }) },
          ...(options.limit !== undefined ? { Limit: options.limit } : {}),
        }),
      ),
    );
    const agents = (out.Items ?? []).flatMap((raw) => {
      const parsed = fleetAgentSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
    const last = out.LastEvaluatedKey?.sk;
    return { agents, ...(typeof last === "string" ? { after: last } : {}) };
  }

  /** Every agent of the partitions. */
  async agentsOf(partitions: readonly number[], calls: FleetCalls): Promise<FleetAgent[]> {
    const pages = await Promise.all(
      partitions.map((partition) =>
        this.limit(async () => {
          const all: FleetAgent[] = [];
          let after: string | undefined;
          do {
            const page = await this.agentPage(partition, after === undefined ? {} : { after }, calls);
            all.push(...page.agents);
            after = page.after;
          } while (after !== undefined);
          return all;
        }),
      ),
    );
    return pages.flat();
  }

  /** One agent; `consistent` reads what a write just made (the heartbeat's read-back of a write whose answer it lost). */
  async getAgent(agentId: string, calls: FleetCalls, options: { readonly consistent?: boolean } = {}): Promise<FleetAgent | undefined> {
    const out = await this.read(calls, () =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: agentKey(agentId),
          ...(options.consistent === true ? { ConsistentRead: true } : {}),
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    const parsed = fleetAgentSchema.safeParse(out.Item);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * Which of `ids` are watched already, with their sources; `consistent` sees a write just made
   * (the unregister must see the mark a poll's write has just left).
   */
  async existing(ids: readonly string[], calls: FleetCalls, options: { readonly consistent?: boolean } = {}): Promise<Map<string, FleetAgent>> {
    const found = new Map<string, FleetAgent>();
    const table = this.tableName;
    await Promise.all(
      chunk(ids, BATCH_GET_MAX_KEYS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((id): Record<string, unknown> => agentKey(id)),
            async (keys) => {
              const out = await this.read(calls, () =>
                this.client.send(
                  new BatchGetCommand({
                    RequestItems: { [table]: { Keys: [...keys], ...(options.consistent === true ? { ConsistentRead: true } : {}) } },
                    ReturnConsumedCapacity: "TOTAL",
                  }),
                ),
              );
              for (const raw of out.Responses?.[table] ?? []) {
                const parsed = fleetAgentSchema.safeParse(raw);
                if (parsed.success) found.set(parsed.data.agent_id, parsed.data);
              }
              return out.UnprocessedKeys?.[table]?.Keys ?? [];
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} fleet keys unprocessed`);
        }),
      ),
    );
    return found;
  }

  /**
   * Adds new agents, each unless it is there already (a poll's state is never reset by a
   * registration racing it). PartiQL INSERT fails per statement on an existing key, so this is a
   * conditional put 25 at a time: the cache's write-back registers 10,000 agents it meets for the
   * first time in 400 calls, not 10,000. Returns how many were added; throws when some could be
   * neither added nor found there after the retries.
   */
  async addAgents(agents: readonly FleetAgent[], calls: FleetCalls): Promise<number> {
    const statementOf = (agent: FleetAgent): Statement => {
      const item: Record<string, unknown> = { ...agent, ...agentKey(agent.agent_id) };
      const names = Object.keys(item).filter((name) => item[name] !== undefined);
      return {
        Statement: `INSERT INTO "${this.tableName}" VALUE {${names.map((name) => `'${name}': ?`).join(", ")}}`,
        Parameters: names.map((name) => item[name]),
      };
    };
    // DynamoDB refuses a whole batch that names one key twice.
    const distinct = [...new Map(agents.map((agent) => [agent.agent_id, agent])).values()];
    const { done: added, failed } = await runStatements(this.client, this.limit, this.retry, distinct, {
      statementOf,
      expected: "DuplicateItem",
      onCall: (out, sent) => {
        calls.writes++;
        calls.writeUnits += readUnitsOf(out.ConsumedCapacity) || sent;
      },
    });
    // Some may have been written even when others failed: their partitions move all the same.
    if (added > 0 || failed > 0)
      await this.bumpRevisions(
        distinct.map((agent) => agent.agent_id),
        calls,
      );
    if (failed > 0) throw new Error(`${failed} of ${agents.length} fleet registrations could not be written`);
    return added;
  }

  /** Adds a source to an agent watched already (a set: no duplicate, no other field touched). */
  async addSource(agentId: string, source: string, calls: FleetCalls): Promise<void> {
    try {
      await this.write(calls, () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: agentKey(agentId),
            UpdateExpression: "SET sources = list_append(sources, :s)",
            ConditionExpression: "attribute_exists(pk) AND NOT contains(sources, :one)",
            ExpressionAttributeValues: { ":s": [source], ":one": source },
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return;
    }
    await this.bumpRevisions([agentId], calls);
  }

  /**
   * Writes an agent's labels, and nothing else: not `rev`, so a poll that read the agent before
   * still writes its change, and the poll's own writes never name `labels`. `labels_rev` counts
   * label writes: `expectedRev` (the one read; 0 for none) makes a read-modify-write that cannot
   * lose a concurrent one; omitted, the write replaces whatever is there. Returns "written",
   * "changed" (expectedRev did not hold) or "absent" (the agent is not watched).
   */
  async writeLabels(
    agentId: string,
    labels: Readonly<Record<string, string>>,
    calls: FleetCalls,
    expectedRev?: number,
  ): Promise<"written" | "changed" | "absent"> {
    const guard = expectedRev === undefined ? "" : expectedRev === 0 ? " AND attribute_not_exists(labels_rev)" : " AND labels_rev = :expected";
    try {
      await this.write(calls, () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: agentKey(agentId),
            UpdateExpression: "SET labels = :labels, labels_rev = if_not_exists(labels_rev, :zero) + :one",
            ConditionExpression: `attribute_exists(pk)${guard}`,
            ExpressionAttributeValues: {
              ":labels": labels,
              ":zero": 0,
              ":one": 1,
              ...(expectedRev !== undefined && expectedRev > 0 ? { ":expected": expectedRev } : {}),
            },
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (expectedRev === undefined) return "absent";
      return (await this.getAgent(agentId, calls)) === undefined ? "absent" : "changed";
    }
    await this.bumpRevisions([agentId], calls);
    return "written";
  }

  /**
   * Before an agent is deleted: the marks of the heartbeat's recent writes on it (a poll's
   * transitions, lib/heartbeat/alert-marks.ts) are kept, with the agent as it is, under each poll
   * they name (`poll#<id>`/`owed#<agent id>`), until the marks' horizon. A shard killed after
   * marking the agent and re-run after the unregister no longer finds the agent in its partitions;
   * it finds this item (lib/heartbeat/shard.ts recallMarks), so the lost (or other) alert the
   * agent's write owes is still sent, once. Returns how many were kept.
   */
  async keepOwedMarks(agents: readonly FleetAgent[], now: number, calls: FleetCalls): Promise<number> {
    const owed = agents.flatMap((agent) =>
      Object.keys(agent.alerts_due ?? {}).flatMap((pollId) => {
        const until = Date.parse(pollId) + ALERT_MARK_HORIZON_MS;
        return Number.isFinite(until) && until > now ? [{ agent, pollId, until }] : [];
      }),
    );
    await Promise.all(
      owed.map(({ agent, pollId, until }) =>
        this.limit(() =>
          this.write(calls, () =>
            this.client.send(
              new PutCommand({
                TableName: this.tableName,
                Item: { ...agent, pk: `poll#${pollId}`, sk: `${OWED_PREFIX}${agent.agent_id}`, expires_at: Math.ceil(until / 1000) },
                ReturnConsumedCapacity: "TOTAL",
              }),
            ),
          ),
        ),
      ),
    );
    return owed.length;
  }

  /** The unregistered agents a poll's writes marked (keepOwedMarks), as they were when unregistered. */
  async owedAgents(pollId: string, calls: FleetCalls): Promise<FleetAgent[]> {
    return (await this.queryAll(calls, `poll#${pollId}`, OWED_PREFIX)).flatMap((raw) => {
      const parsed = fleetAgentSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Stops watching: deletes the agents' items (their history expires by TTL). */
  async deleteAgents(ids: readonly string[], calls: FleetCalls): Promise<void> {
    const table = this.tableName;
    type DeleteEntry = { DeleteRequest: { Key: Record<string, unknown> } };
    // Bumped even when a delete failed: some of them may be gone.
    await Promise.all(
      chunk(ids, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((id): DeleteEntry => ({ DeleteRequest: { Key: agentKey(id) } })),
            async (requests) => {
              calls.writes++;
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] }, ReturnConsumedCapacity: "TOTAL" }));
              calls.writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? requests.length;
              return (out.UnprocessedItems?.[table] ?? []).flatMap((r): DeleteEntry[] =>
                r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : [],
              );
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} fleet deletes unprocessed`);
        }),
      ),
    ).finally(() => this.bumpRevisions(ids, calls));
  }

  /**
   * Writes a poll's change to one agent, only if the item is still the one read (same rev): a
   * concurrent unregister is not undone, and a second pass of the same poll changes nothing.
   * Returns false when the condition failed.
   */
  async updateAgent(agent: FleetAgent, change: AgentChange, at: number, calls: FleetCalls): Promise<boolean> {
    try {
      await this.write(calls, () =>
        this.client.send(new UpdateCommand({ ...agentUpdate(this.tableName, agent, change, at), ReturnConsumedCapacity: "TOTAL" })),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // ---- history ------------------------------------------------------------------------------

  async putTransitions(transitions: readonly TransitionRecord[], expiresAt: number, calls: FleetCalls): Promise<number> {
    const table = this.tableName;
    type PutEntry = { PutRequest: { Item: Record<string, unknown> } };
    const failed = await Promise.all(
      chunk(transitions, BATCH_WRITE_MAX_ITEMS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map(
              (t): PutEntry => ({
                PutRequest: { Item: { pk: historyPk(t.agent_id), sk: `${new Date(t.at).toISOString()}#${t.kind}`, ...t, expires_at: expiresAt } },
              }),
            ),
            async (requests) => {
              calls.writes++;
              const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] }, ReturnConsumedCapacity: "TOTAL" }));
              calls.writeUnits += out.ConsumedCapacity?.[0]?.CapacityUnits ?? requests.length;
              return (out.UnprocessedItems?.[table] ?? []).flatMap((r): PutEntry[] =>
                r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
              );
            },
            this.retry,
          );
          return left.length;
        }),
      ),
    );
    return failed.reduce((a, b) => a + b, 0);
  }

  /** An agent's transitions, newest first; `before` is the sk to continue from. */
  async history(
    agentId: string,
    options: { limit: number; before?: string },
    calls: FleetCalls,
  ): Promise<{ transitions: TransitionRecord[]; before?: string }> {
    const out = await this.read(calls, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ReturnConsumedCapacity: "TOTAL",
          KeyConditionExpression: options.before === undefined ? "pk = :pk" : "pk = :pk AND sk < :before",
          ExpressionAttributeValues: { ":pk": historyPk(agentId), ...(options.before === undefined ? {} : { ":before": options.before }) },
          ScanIndexForward: false,
          Limit: options.limit,
        }),
      ),
    );
    const transitions = (out.Items ?? []).flatMap((raw) => {
      const parsed = transitionSchema.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    });
    const last = out.LastEvaluatedKey?.sk;
    return { transitions, ...(typeof last === "string" ? { before: last } : {}) };
  }
}

/** The conditional update of one agent by a poll (its rev moves on by one). */
function agentUpdate(tableName: string, agent: FleetAgent, change: AgentChange, at: number) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ":rev": agent.rev, ":next": agent.rev + 1, ":at": at };
  const sets = ["rev = :next", "changed_at = :at"];
  const removes: string[] = [];
  Object.entries(change).forEach(([field, value], i) => {
    if (value === undefined) return;
    names[`#f${i}`] = field;
    if (value === null) removes.push(`#f${i}`);
    else {
      sets.push(`#f${i} = :v${i}`);
      values[`:v${i}`] = value;
    }
  });
  return {
    TableName: tableName,
    Key: agentKey(agent.agent_id),
    UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
    ConditionExpression: "rev = :rev",
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
  };
}
