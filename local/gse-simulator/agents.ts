/**
 * The simulated agent fleet. Generated agents are not stored as objects: their ids and attributes are
 * pure functions of (seed, index), only status lives in typed arrays, so 100 000 agents cost a few
 * hundred kilobytes. Agents added at runtime are kept as objects beside them.
 */
import { hash32, hashUnit, hex32, type Mulberry32 } from "./prng.ts";

export const RUNNING_STATUS = 2;
export const MIN_STATUS_CODE = -2;
export const MAX_STATUS_CODE = 7;

/** Non-running codes an agent may churn into (§3.2). */
const NON_RUNNING_STATUSES = [0, 1, 3, 4, 5, 6, 7] as const;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  [-2]: "not_found",
  [-1]: "query_failed",
  0: "initial",
  1: "starting",
  2: "running",
  3: "lossy",
  4: "busy",
  5: "upgrading",
  6: "stopping",
  7: "removing",
};

export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? "unknown";
}

const AGENT_VERSIONS = ["2.1.5", "2.1.4", "2.0.9"] as const;
const FIRST_IP = ((10 << 24) >>> 0) + 1; // 10.0.0.1
const MAX_GENERATED = 0xffffff - 1; // stays inside 10.0.0.0/8
const AGENT_ID_PATTERN = /^02000000[0-9a-f]{12}\d{5}(\d{10})n$/;
const LEGACY_ID_PATTERN = /^(\d+):(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Independent hash streams per attribute. */
const Salt = {
  IdA: 1,
  IdB: 2,
  IdDigits: 11,
  IdMask: 12,
  Cloud: 3,
  Version: 4,
  RunMode: 5,
  Status: 6,
  StatusPick: 7,
  Cpu: 8,
  Mem: 9,
  Uptime: 10,
} as const;

/** What the simulator knows about one agent. */
export interface AgentView {
  /** GSE 2.0 agent id, or null for an agent known only by `cloud:ip`. */
  readonly bk_agent_id: string | null;
  /** Legacy id `"{bk_cloud_id}:{ip}"`. */
  readonly legacy_id: string;
  readonly bk_cloud_id: number;
  readonly ip: string;
  readonly version: string;
  readonly run_mode: number;
  readonly status_code: number;
  readonly last_status_code: number;
  readonly cpu_rate: number;
  readonly mem_rate: number;
  /** Seconds the agent has been up when the fleet was created. */
  readonly uptime_s: number;
}

export interface NewAgent {
  bk_agent_id?: string | undefined;
  bk_cloud_id?: number | undefined;
  ip: string;
  version?: string | undefined;
  run_mode?: number | undefined;
  status_code?: number | undefined;
  /** false: status churn never picks this agent (a test that needs its agents to stay as set). */
  churn?: boolean | undefined;
}

interface ExtraAgent {
  readonly agentId: string | null;
  readonly legacyId: string;
  readonly cloudId: number;
  readonly ip: string;
  readonly version: string;
  readonly runMode: number;
  status: number;
  lastStatus: number;
  readonly churns: boolean;
}

export type AgentRef = { readonly kind: "generated"; readonly index: number } | { readonly kind: "extra"; readonly agent: ExtraAgent };

export class AgentConflictError extends Error {
  override readonly name = "AgentConflictError";
}

function ipFromInt(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function assertStatusCode(code: number): void {
  if (!Number.isInteger(code) || code < MIN_STATUS_CODE || code > MAX_STATUS_CODE) {
    throw new RangeError(`status_code must be an integer in [${MIN_STATUS_CODE}, ${MAX_STATUS_CODE}]`);
  }
}

export class AgentFleet {
  private readonly seed: number;
  private readonly generated: number;
  private readonly statuses: Int8Array;
  private readonly lastStatuses: Int8Array;
  private readonly removed: Uint8Array;
  private removedCount = 0;
  private readonly extras: ExtraAgent[] = [];
  private readonly extrasById = new Map<string, ExtraAgent>();
  /** Versions set by a delivered upgrade message, by legacy id; agents marked keep-version are never upgraded. */
  private readonly upgraded = new Map<string, string>();
  private readonly keepVersion = new Set<string>();

  constructor(seed: number, count: number) {
    if (!Number.isInteger(count) || count < 0 || count > MAX_GENERATED) {
      throw new RangeError(`agents must be an integer in [0, ${MAX_GENERATED}]`);
    }
    this.seed = seed >>> 0;
    this.generated = count;
    this.statuses = new Int8Array(count);
    this.lastStatuses = new Int8Array(count);
    this.removed = new Uint8Array(count);
    for (let index = 0; index < count; index++) {
      const status = this.initialStatus(index);
      this.statuses[index] = status;
      this.lastStatuses[index] = status;
    }
  }

  /** Number of agents currently known. */
  get size(): number {
    return this.generated - this.removedCount + this.extras.length;
  }

  private initialStatus(index: number): number {
    if (hashUnit(this.seed, index, Salt.Status) < 0.9) return RUNNING_STATUS;
    return NON_RUNNING_STATUSES[hash32(this.seed, index, Salt.StatusPick) % NON_RUNNING_STATUSES.length] ?? 0;
  }

  /** Mask that hides the index inside generated ids, so they look opaque but stay reversible. */
  private get idMask(): number {
    return hash32(this.seed, 0, Salt.IdMask);
  }

  /** `02000000` + 12 hex + 5 digits + the masked index as 10 digits + `n`: 36 chars, like real ids. */
  private generatedAgentId(index: number): string {
    const hex = hex32(hash32(this.seed, index, Salt.IdA)) + hex32(hash32(this.seed, index, Salt.IdB)).slice(0, 4);
    const digits = String(hash32(this.seed, index, Salt.IdDigits) % 100000).padStart(5, "0");
    const masked = String((index ^ this.idMask) >>> 0).padStart(10, "0");
    return `02000000${hex}${digits}${masked}n`;
  }

  private generatedCloudId(index: number): number {
    const roll = hash32(this.seed, index, Salt.Cloud);
    return roll % 10 === 0 ? 1 + (roll % 3) : 0;
  }

  private generatedLegacyId(index: number): string {
    return `${this.generatedCloudId(index)}:${ipFromInt(FIRST_IP + index)}`;
  }

  private isLiveGenerated(index: number): boolean {
    return index >= 0 && index < this.generated && this.removed[index] === 0;
  }

  /** Finds an agent by either id form, exactly as spelled; undefined when unknown or removed. */
  resolve(id: string): AgentRef | undefined {
    const extra = this.extrasById.get(id);
    if (extra !== undefined) return { kind: "extra", agent: extra };
    const modern = AGENT_ID_PATTERN.exec(id);
    if (modern?.[1] !== undefined) {
      const index = (Number(modern[1]) ^ this.idMask) >>> 0;
      if (this.isLiveGenerated(index) && this.generatedAgentId(index) === id) return { kind: "generated", index };
      return undefined;
    }
    const legacy = LEGACY_ID_PATTERN.exec(id);
    if (legacy !== null) {
      const octets = legacy.slice(2, 6).map(Number);
      if (octets.some((octet) => octet > 255)) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      const index = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d - FIRST_IP;
      if (this.isLiveGenerated(index) && this.generatedLegacyId(index) === id) return { kind: "generated", index };
    }
    return undefined;
  }

  resolveHost(cloudId: number, ip: string): AgentRef | undefined {
    return this.resolve(`${cloudId}:${ip}`);
  }

  private legacyIdOf(ref: AgentRef): string {
    return ref.kind === "extra" ? ref.agent.legacyId : this.generatedLegacyId(ref.index);
  }

  /** A delivered `{"action":"upgrade","version":"X"}`: the agent reports X from now on, unless marked keep-version. */
  upgrade(ref: AgentRef, version: string): boolean {
    const id = this.legacyIdOf(ref);
    if (this.keepVersion.has(id)) return false;
    this.upgraded.set(id, version);
    return true;
  }

  /** Marks agents to keep their version whatever upgrade they are sent (a failed upgrade). */
  setKeepVersion(ids: readonly string[], keep: boolean): { updated: number; unknown: number } {
    let updated = 0;
    for (const id of ids) {
      const ref = this.resolve(id);
      if (ref === undefined) continue;
      if (keep) this.keepVersion.add(this.legacyIdOf(ref));
      else this.keepVersion.delete(this.legacyIdOf(ref));
      updated++;
    }
    return { updated, unknown: ids.length - updated };
  }

  view(ref: AgentRef): AgentView {
    const upgraded = this.upgraded.get(this.legacyIdOf(ref));
    const base = this.baseView(ref);
    return upgraded === undefined ? base : { ...base, version: upgraded };
  }

  private baseView(ref: AgentRef): AgentView {
    if (ref.kind === "extra") {
      const agent = ref.agent;
      return {
        bk_agent_id: agent.agentId,
        legacy_id: agent.legacyId,
        bk_cloud_id: agent.cloudId,
        ip: agent.ip,
        version: agent.version,
        run_mode: agent.runMode,
        status_code: agent.status,
        last_status_code: agent.lastStatus,
        cpu_rate: 1.5,
        mem_rate: 3.25,
        uptime_s: 3600,
      };
    }
    const index = ref.index;
    const versionRoll = hashUnit(this.seed, index, Salt.Version);
    return {
      bk_agent_id: this.generatedAgentId(index),
      legacy_id: this.generatedLegacyId(index),
      bk_cloud_id: this.generatedCloudId(index),
      ip: ipFromInt(FIRST_IP + index),
      version: AGENT_VERSIONS[versionRoll < 0.7 ? 0 : versionRoll < 0.9 ? 1 : 2],
      run_mode: hashUnit(this.seed, index, Salt.RunMode) < 0.03 ? 0 : 1,
      status_code: this.statuses[index] ?? 0,
      last_status_code: this.lastStatuses[index] ?? 0,
      cpu_rate: Math.round(hashUnit(this.seed, index, Salt.Cpu) * 10000) / 100,
      mem_rate: Math.round(hashUnit(this.seed, index, Salt.Mem) * 10000) / 100,
      uptime_s: 60 + (hash32(this.seed, index, Salt.Uptime) % (30 * 86400)),
    };
  }

  status(ref: AgentRef): number {
    return ref.kind === "extra" ? ref.agent.status : (this.statuses[ref.index] ?? 0);
  }

  setStatus(ref: AgentRef, code: number): void {
    assertStatusCode(code);
    if (ref.kind === "extra") {
      if (ref.agent.status !== code) {
        ref.agent.lastStatus = ref.agent.status;
        ref.agent.status = code;
      }
      return;
    }
    const current = this.statuses[ref.index] ?? 0;
    if (current !== code) {
      this.lastStatuses[ref.index] = current;
      this.statuses[ref.index] = code;
    }
  }

  /** Adds agents; throws {@link AgentConflictError} (adding none) if any id is already known. */
  add(agents: readonly NewAgent[]): AgentView[] {
    const prepared = agents.map((input): ExtraAgent => {
      const cloudId = input.bk_cloud_id ?? 0;
      const status = input.status_code ?? RUNNING_STATUS;
      assertStatusCode(status);
      return {
        agentId: input.bk_agent_id ?? null,
        legacyId: `${cloudId}:${input.ip}`,
        cloudId,
        ip: input.ip,
        version: input.version ?? AGENT_VERSIONS[0],
        runMode: input.run_mode ?? 1,
        status,
        lastStatus: status,
        churns: input.churn ?? true,
      };
    });
    const incoming = new Set<string>();
    for (const agent of prepared) {
      for (const id of [agent.agentId, agent.legacyId]) {
        if (id === null) continue;
        if (incoming.has(id) || this.resolve(id) !== undefined) throw new AgentConflictError(`agent ${id} already exists`);
        incoming.add(id);
      }
    }
    for (const agent of prepared) {
      this.extras.push(agent);
      this.extrasById.set(agent.legacyId, agent);
      if (agent.agentId !== null) this.extrasById.set(agent.agentId, agent);
    }
    return prepared.map((agent) => this.view({ kind: "extra", agent }));
  }

  remove(ref: AgentRef): void {
    if (ref.kind === "generated") {
      if (this.removed[ref.index] === 0) {
        this.removed[ref.index] = 1;
        this.removedCount++;
      }
      return;
    }
    const position = this.extras.indexOf(ref.agent);
    if (position !== -1) this.extras.splice(position, 1);
    this.extrasById.delete(ref.agent.legacyId);
    if (ref.agent.agentId !== null) this.extrasById.delete(ref.agent.agentId);
  }

  /** Live agents in a stable order (generated first, then added ones). */
  list(offset: number, limit: number): AgentView[] {
    const out: AgentView[] = [];
    let skipped = 0;
    for (let index = 0; index < this.generated && out.length < limit; index++) {
      if (this.removed[index] !== 0) continue;
      if (skipped++ < offset) continue;
      out.push(this.view({ kind: "generated", index }));
    }
    for (const agent of this.extras) {
      if (out.length >= limit) break;
      if (skipped++ < offset) continue;
      out.push(this.view({ kind: "extra", agent }));
    }
    return out;
  }

  /** The live agent at a position of the combined (generated, then added) index space. */
  private liveAt(slot: number): AgentRef | undefined {
    if (slot < this.generated) return this.removed[slot] === 0 ? { kind: "generated", index: slot } : undefined;
    const agent = this.extras[slot - this.generated];
    return agent === undefined ? undefined : { kind: "extra", agent };
  }

  /**
   * One churn step: about `rate` of the fleet changes status (running → a non-running code, anything
   * else → running), picked by the PRNG. Returns how many agents changed.
   */
  churn(prng: Mulberry32, rate: number): number {
    const total = this.generated + this.extras.length;
    if (total === 0 || rate <= 0) return 0;
    const exact = total * Math.min(rate, 1);
    const picks = Math.floor(exact) + (prng.next() < exact - Math.floor(exact) ? 1 : 0);
    let changed = 0;
    for (let pick = 0; pick < picks; pick++) {
      const ref = this.liveAt(prng.nextInt(total));
      if (ref === undefined || (ref.kind === "extra" && !ref.agent.churns)) continue;
      const next = this.status(ref) === RUNNING_STATUS ? (NON_RUNNING_STATUSES[prng.nextInt(NON_RUNNING_STATUSES.length)] ?? 0) : RUNNING_STATUS;
      this.setStatus(ref, next);
      changed++;
    }
    return changed;
  }
}
