/**
 * The fleet table (lib/fleet/store.ts) as a source of agent state. The heartbeat keeps every
 * watched agent's item as GSE said at its last change, and marks per partition when a poll last
 * answered for all of it (`meta`/`polled`): such an item is exact as of that poll. A lookup answers
 * a watched agent from it while that poll is within the TTL, before the agents cache and GSE.
 *
 * Read only: this module never writes the fleet table.
 */
import { BatchGetCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { BATCH_GET_MAX_KEYS, BatchTable, chunk, drainUnprocessed, type BatchStoreOptions } from "../dynamo/batch.ts";
import { fleetAgentSchema, type FleetAgent } from "../fleet/items.ts";
import { agentKey, META, partitionMarksOf, partitionOf } from "../fleet/table.ts";
import { RUNNING_STATUS } from "./fetch.ts";
import type { AgentFacts, AgentItem, AgentSource } from "./store.ts";

/** The part of a fleet item an answer is made of; a read fetches only these attributes. */
export const fleetStateSchema = fleetAgentSchema.pick({
  agent_id: true,
  status: true,
  misses: true,
  changed_at: true,
  bk_cloud_id: true,
  version: true,
  run_mode: true,
  status_code: true,
  status_class: true,
});
export type FleetState = Pick<FleetAgent, keyof typeof fleetStateSchema.shape>;

/** DynamoDB calls a lookup made of the fleet table. */
export interface FleetStateCalls {
  batchGet: number;
  get: number;
}
export const newFleetStateCalls = (): FleetStateCalls => ({ batchGet: 0, get: 0 });

/** What a lookup needs of the fleet table; unit tests pass an in-memory one. */
export interface FleetStateReader {
  /** The watched agents among `ids` (an id without an item is not watched). */
  agents(ids: readonly string[], calls: FleetStateCalls): Promise<Map<string, FleetState>>;
  /** Per partition, when a poll last answered for all of it. */
  polledAt(calls: FleetStateCalls): Promise<ReadonlyMap<number, number>>;
}

/**
 * The facts GSE gave at the agent's last poll, through `source`, when the item holds all of them;
 * undefined when it cannot tell (never polled, polled through the other call, or written before
 * status classes, when an unknown item could keep an old code).
 * - list_agent_state answers every known id with a status_code, and the heartbeat removes the
 *   code of an id GSE omitted (class unknown): a code means known, and its item holds GSE's fields.
 * - get_agent_status has no code: the heartbeat stores its alive as class alive, its not alive as
 *   degraded; a host it omitted is unknown.
 */
export function factsFromFleet(agent: FleetState, source: AgentSource): AgentFacts | undefined {
  const statusClass = agent.status_class;
  if (statusClass === undefined) return undefined;
  if (agent.status_code === undefined && statusClass === "unknown") return { known: false, source, alive: false };
  if (source === "list_agent_state") {
    const { bk_cloud_id, version, run_mode, status_code } = agent;
    if (status_code === undefined || bk_cloud_id === undefined || version === undefined || run_mode === undefined) return undefined;
    return { known: true, source, bk_cloud_id, version, run_mode, status_code, alive: status_code === RUNNING_STATUS };
  }
  if (agent.status_code !== undefined || agent.bk_cloud_id === undefined || (statusClass !== "alive" && statusClass !== "degraded")) return undefined;
  return { known: true, source, bk_cloud_id: agent.bk_cloud_id, alive: statusClass === "alive" };
}

/**
 * The agent as a cache item, confirmed at its partition's last poll; undefined when the fleet
 * cannot answer for it (see factsFromFleet), or that poll is not within the TTL of `now`.
 */
export function itemFromFleet(
  agent: FleetState,
  source: AgentSource,
  polledAt: ReadonlyMap<number, number>,
  now: number,
  ttlMs: number,
): AgentItem | undefined {
  const polled = polledAt.get(partitionOf(agent.agent_id));
  if (polled === undefined || now - polled >= ttlMs) return undefined;
  const facts = factsFromFleet(agent, source);
  if (facts === undefined) return undefined;
  // Never stored: expires_at only fills the item's shape.
  return { agent_id: agent.agent_id, ...facts, fetched_at: polled, changed_at: Math.min(agent.changed_at, polled), expires_at: 0 };
}

/** Whether `id` can be a fleet key: its sort key (`agent#<id>`) within DynamoDB's 1024 bytes. */
export const isFleetKeyable = (id: string): boolean => id.length > 0 && Buffer.byteLength(agentKey(id).sk, "utf8") <= MAX_SORT_KEY_BYTES;
const MAX_SORT_KEY_BYTES = 1024;

/** Whether the fleet could answer for this agent once its partition is polled in time. */
export const fleetCanAnswer = (agent: FleetState, source: AgentSource): boolean => factsFromFleet(agent, source) !== undefined;

/** How long an instance reuses the poll times it read: a few seconds of a one-minute poll. */
export const FLEET_POLLED_MAX_AGE_MS = 5_000;

export interface DynamoFleetStateOptions extends BatchStoreOptions {
  /** How long this instance reuses the `polled` item it read (ms); the heartbeat moves it once a minute. */
  readonly polledMaxAgeMs: number;
  readonly now: () => number;
}

const PROJECTION = Object.keys(fleetStateSchema.shape);

/** BatchGetItem calls in flight per lookup (the cost model times a request by it). */
export const FLEET_STATE_READ_CONCURRENCY = 32;

export class DynamoFleetState extends BatchTable implements FleetStateReader {
  private polled: { at: number; value: Promise<ReadonlyMap<number, number>> } | undefined;

  constructor(private readonly options: DynamoFleetStateOptions) {
    super(options, FLEET_STATE_READ_CONCURRENCY);
  }

  /**
   * Read consistently: the heartbeat writes an agent before it marks its partition polled, so an
   * eventually consistent read could pair a newer poll time with the state before it.
   */
  async agents(ids: readonly string[], calls: FleetStateCalls): Promise<Map<string, FleetState>> {
    const found = new Map<string, FleetState>();
    const table = this.tableName;
    const names = Object.fromEntries(PROJECTION.map((name, i) => [`#a${i}`, name]));
    const projection = Object.keys(names).join(", ");
    await Promise.all(
      chunk(ids, BATCH_GET_MAX_KEYS).map((part) =>
        this.limit(async () => {
          const left = await drainUnprocessed(
            part.map((id): Record<string, unknown> => agentKey(id)),
            async (keys) => {
              calls.batchGet++;
              const out = await this.client.send(
                new BatchGetCommand({
                  RequestItems: { [table]: { Keys: [...keys], ConsistentRead: true, ProjectionExpression: projection, ExpressionAttributeNames: names } },
                }),
              );
              for (const raw of out.Responses?.[table] ?? []) {
                const parsed = fleetStateSchema.safeParse(raw);
                if (parsed.success) found.set(parsed.data.agent_id, parsed.data);
              }
              return out.UnprocessedKeys?.[table]?.Keys ?? [];
            },
            this.retry,
          );
          if (left.length > 0) throw new Error(`DynamoDB left ${left.length} fleet keys unprocessed after ${this.retry.maxAttempts} rounds`);
        }),
      ),
    );
    return found;
  }

  /** The `polled` item, read once per polledMaxAgeMs by this instance (a failed read is not kept). */
  polledAt(calls: FleetStateCalls): Promise<ReadonlyMap<number, number>> {
    const now = this.options.now();
    if (this.polled !== undefined && now - this.polled.at < this.options.polledMaxAgeMs) return this.polled.value;
    calls.get++;
    const value = this.client
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: META, sk: "polled" }, ConsistentRead: true }))
      .then(({ Item }) => partitionMarksOf(Item).polledAt);
    const entry = { at: now, value };
    this.polled = entry;
    value.catch(() => {
      if (this.polled === entry) this.polled = undefined;
    });
    return value;
  }
}
