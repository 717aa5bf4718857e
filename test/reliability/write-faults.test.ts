/**
 * The fault matrix for the versioned config writes faults.test.ts leaves out: update_route,
 * delete_route, add_route with its own channel id, update_streamto, delete_streamto, and an APM
 * datasource start (whose route goes to GSE through the same versioned flow), each under every
 * transient fault the simulator makes (once) and under two lasting ones. For every pair:
 * - the answer: GSE's data after a transient fault; GSE's error, or a clear 502, after a lasting one;
 * - bounded retries: how often the fault hit (its `remaining` in the simulator);
 * - no duplicate side effect: how many calls of the write reached GSE (a zero-latency fault
 *   beside the real one, matching the same calls, counts them), and what GSE holds afterwards;
 * - the record: APPLIED after a transient fault; after a lasting 502 (outcome unknown) FAILED, then
 *   ROLLED_BACK by recovery; after GSE's lasting refusal REJECTED (nothing changed, nothing to undo);
 *   the head unlocked in every case. An add of its own id is recorded beside the object until GSE
 *   took it, so a failed or refused one leaves the object without versions;
 * - the alerts on this file's own queue subscribed to the alerts topic: none about the object
 *   after a transient fault or a refusal, exactly one `config.rolled_back` after a lasting 502 (and,
 *   for APM, exactly one `apm.datasource_apply`).
 *
 * Each row's faults match text only that row's write carries (its own operator_name; for APM, the
 * app's route name): never its read-backs, recovery's calls, or another file's requests. All rows
 * run at once so the file stays quick: the rows that must raise no alert first (transient faults,
 * and GSE's lasting refusal), then the lasting 502s, so that when every one of those rows' alert has
 * come, recovery has passed every earlier row's records and "no alert" is a checked fact, not a guess. The `it` rows assert what their row saw.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit from "p-limit";
import { beforeAll, describe, expect, it } from "vitest";
import type { ConfigAlert } from "../../lib/config-versions/alerts.ts";
import { objectKey, type ObjectRef } from "../../lib/config-versions/documents.ts";
import { GseError } from "../../lib/core/errors.ts";
import type { ConfigOperation } from "../../lib/gse/config-apply.ts";
import { GseClient } from "../../lib/gse/client.ts";
import type { HeadItem, VersionItem } from "../../lib/config-versions/store.ts";
import { alertInbox, configStore, route, streamTo, type AlertInbox } from "../helpers/configs.ts";
import { DETAIL } from "../helpers/reliability-reporter.ts";
import { callApi, eventually, simulatorControl, uniqueBuiltInChannelId, useStack, type ApiResponse, testGseConfig } from "../helpers/stack.ts";

const { info, authHeader, dynamo, sqs, sns } = useStack();
const store = configStore(info, dynamo);
const run = randomUUID().slice(0, 8);
const PLAT = `wf_${run}`;
const SETUP = { operator_name: "admin" };

const post = (path: string, body: unknown): Promise<ApiResponse> => callApi(info.gatewayUrl, path, { method: "POST", headers: authHeader, body });

/** Straight at the simulator, to see what GSE holds without going through us. */
const gse = new GseClient({
  gse: testGseConfig(info),
});

const absentIfNotFound = (error: unknown): null => {
  if (error instanceof GseError && error.notFound) return null;
  throw error;
};

/** The channel's route entries as GSE holds them; null when the channel does not exist. */
async function routesIn(channelId: number): Promise<unknown[] | null> {
  try {
    const channels = await gse.call("query_route", { condition: { channel_id: channelId }, operation: SETUP });
    const channel = channels.find((c) => c.metadata.channel_id === channelId);
    return channel ? (channel.route ?? []) : null;
  } catch (error) {
    return absentIfNotFound(error);
  }
}

/** The stream_to as GSE holds it; null when it does not exist. */
async function streamToIn(id: number): Promise<unknown> {
  try {
    const items = await gse.call("query_streamto", { condition: { plat_name: PLAT, stream_to_id: id }, operation: SETUP });
    if (items.length !== 1) throw new Error(`query_streamto ${id} answered ${items.length} items`);
    return (items[0] as { stream_to: unknown }).stream_to;
  } catch (error) {
    return absentIfNotFound(error);
  }
}

const kafkaRoute = (name: string, streamToId = 501) => ({ name, stream_to: { stream_to_id: streamToId, kafka: { topic_name: `0${name}` } } });
const kafkaStreamTo = (name: string, host: string) => ({ name, report_mode: "kafka" as const, kafka: { storage_address: [{ ip: host, port: 9092 }] } });

/**
 * Objects are made straight in GSE (as if before gse-control): cheap, so sixty rows set up in
 * parallel stay quick. The change under test then adopts what GSE held as version 0 and records
 * itself as version 1; a rollback restores version 0.
 */
async function createChannel(routes: ReturnType<typeof kafkaRoute>[]): Promise<number> {
  const channelId = uniqueBuiltInChannelId();
  await gse.call("add_route", { metadata: { channel_id: channelId, plat_name: PLAT }, operation: SETUP, route: routes });
  return channelId;
}

async function createStreamTo(streamTo: ReturnType<typeof kafkaStreamTo>): Promise<number> {
  return (await gse.call("add_streamto", { metadata: { plat_name: PLAT }, operation: SETUP, stream_to: streamTo })).stream_to_id;
}

interface LastingFault {
  readonly label: string;
  readonly spec: { readonly kind: string; readonly [key: string]: unknown };
  /** How often it may hit: a 502 leaves the outcome unknown, so one read-back, one more send, then the error. */
  readonly hits: number;
  /** GSE's answer, as a GSE route passes it through. */
  readonly gseAnswer: { readonly status: number; readonly body: Record<string, unknown> };
  /** What the failed version records. */
  readonly stored: Record<string, unknown>;
  /** How the change ends: FAILED then undone by recovery (with its alert), or REJECTED (nothing changed, no alert). */
  readonly ends: "ROLLED_BACK" | "REJECTED";
}

/** Each matches every call of the row's write (count far above what may happen). */
const LASTING_COUNT = 10;
const LASTING: readonly LastingFault[] = [
  {
    label: "a lasting 502",
    spec: { kind: "http_error", status: 502 },
    hits: 2,
    gseAnswer: { status: 502, body: { result: false, code: 1650200, code_name: "BAD_GATEWAY" } },
    stored: { kind: "unavailable", outcome: "unknown" },
    ends: "ROLLED_BACK",
  },
  {
    label: "GSE's business error",
    spec: { kind: "business_error", code: 1012001, message: "simulated refusal" },
    hits: 1,
    gseAnswer: { status: 200, body: { result: false, code: 1012001, message: "simulated refusal" } },
    stored: { kind: "business", gse_code: 1012001, outcome: "rejected" },
    ends: "REJECTED",
  },
];

/** One object made ready for one row: the change, and what GSE holds without and with it. */
interface Subject {
  readonly ref: ObjectRef;
  /** The GSE write the change makes, and text that only this row's calls of it carry (what its faults match). */
  readonly gseWrite: ConfigOperation;
  readonly match: string;
  readonly send: () => Promise<ApiResponse>;
  /** What the answer holds after a transient fault. */
  readonly answered: Record<string, unknown>;
  /** The answer after a lasting fault. */
  readonly refused: (fault: LastingFault) => { readonly status: number; readonly body: Record<string, unknown> };
  /** The operation the version records. */
  readonly versionOperation: string;
  /** An add of its own id: recorded beside the object until GSE took it, a version only then. */
  readonly addOfOwnId?: boolean;
  readonly held: () => Promise<unknown>;
  readonly before: unknown;
  readonly after: unknown;
  /** The alerts a lasting fault raises, one each; after a transient fault none about these objects. */
  readonly alerts: readonly { readonly object: string; readonly type: string }[];
}

type GseOperation = Exclude<ConfigOperation, "add_streamto">;

/**
 * A change through one of our GSE routes. Its operator_name is the row's marker, and the faults
 * match it: recovery's calls (operator "admin") and the read-backs are never hit.
 */
function gseChange(
  operation: GseOperation,
  m: string,
  ref: ObjectRef,
  body: (operation: { operator_name: string }) => Record<string, unknown>,
  state: Pick<Subject, "held" | "before" | "after"> & { data: unknown },
): Subject {
  return {
    ref,
    gseWrite: operation,
    match: `"operator_name":"${m}"`,
    send: () => post(`/api/v2/data/${operation}`, body({ operator_name: m })),
    answered: { result: true, code: 0, data: state.data },
    refused: (fault) => fault.gseAnswer,
    versionOperation: operation,
    held: state.held,
    before: state.before,
    after: state.after,
    alerts: [{ object: objectKey(ref), type: "config.rolled_back" }],
  };
}

const APM_BIZ = 9;

type Operation = GseOperation | "apm_start";

const OPERATIONS: Record<Operation, (m: string) => Promise<Subject>> = {
  // update_route upserts by name: the channel gains the one new entry, once.
  update_route: async (m) => {
    const kept = kafkaRoute(`keep_${m}`);
    const added = kafkaRoute(`new_${m}`, 502);
    const id = await createChannel([kept]);
    return gseChange(
      "update_route",
      m,
      route(id),
      (operation) => ({ condition: { channel_id: id, plat_name: PLAT }, operation, specification: { route: [added] } }),
      {
        data: null,
        held: () => routesIn(id),
        before: [kept],
        after: [kept, added],
      },
    );
  },
  delete_route: async (m) => {
    const kept = kafkaRoute(`keep_${m}`);
    const gone = kafkaRoute(`gone_${m}`, 502);
    const id = await createChannel([kept, gone]);
    return gseChange(
      "delete_route",
      m,
      route(id),
      (operation) => ({
        condition: { channel_id: id, plat_name: PLAT },
        operation: { ...operation, method: "specification" },
        specification: { route: [gone.name] },
      }),
      { data: null, held: () => routesIn(id), before: [kept, gone], after: [kept] },
    );
  },
  // A second add of the same channel id would be refused by GSE (1000003): one answer of 200 is one add.
  add_route: async (m) => {
    const entry = kafkaRoute(`only_${m}`);
    const id = uniqueBuiltInChannelId();
    const subject = gseChange("add_route", m, route(id), (operation) => ({ metadata: { channel_id: id, plat_name: PLAT }, operation, route: [entry] }), {
      data: { channel_id: id },
      held: () => routesIn(id),
      before: null,
      after: [entry],
    });
    return { ...subject, addOfOwnId: true };
  },
  update_streamto: async (m) => {
    const old = kafkaStreamTo(`st_${m}`, "kafka-old.local");
    const next = kafkaStreamTo(`st_${m}`, "kafka-new.local");
    const id = await createStreamTo(old);
    return gseChange(
      "update_streamto",
      m,
      streamTo(id),
      (operation) => ({ condition: { stream_to_id: id, plat_name: PLAT }, operation, specification: { stream_to: next } }),
      {
        data: null,
        held: () => streamToIn(id),
        before: old,
        after: next,
      },
    );
  },
  // A second delete would be GSE's "not found": one answer of 200 is one delete.
  delete_streamto: async (m) => {
    const old = kafkaStreamTo(`st_${m}`, "kafka.local");
    const id = await createStreamTo(old);
    return gseChange("delete_streamto", m, streamTo(id), (operation) => ({ condition: { stream_to_id: id, plat_name: PLAT }, operation }), {
      data: null,
      held: () => streamToIn(id),
      before: old,
      after: null,
    });
  },
  // Starting an APM app's trace datasource: its data id's channel (absent in GSE here) gets the
  // datasource's route by add_route. The faults match the route's name (it carries the app's name).
  apm_start: async (m) => {
    const dataId = uniqueBuiltInChannelId();
    const appName = `wf-${m}`;
    const topic = `apm_${m}`;
    const created = await callApi(info.gatewayUrl, "/v1/apm/apps", {
      method: "POST",
      headers: authHeader,
      body: { bk_biz_id: APM_BIZ, app_name: appName, datasources: { trace: { data_id: dataId, stream_to_id: 501, topic_name: topic } } },
    });
    if (created.status !== 201) throw new Error(`setup: creating the APM app answered ${created.status}: ${created.text}`);
    const entry = { name: `apm_trace_${APM_BIZ}_${appName}`, stream_to: { stream_to_id: 501, kafka: { topic_name: topic } } };
    const appPath = `/v1/apm/apps/${APM_BIZ}/${appName}`;
    return {
      ref: route(dataId),
      gseWrite: "add_route",
      match: `"name":"${entry.name}"`,
      send: () => callApi(info.gatewayUrl, `${appPath}/datasources/trace/start`, { method: "POST", headers: authHeader }),
      answered: {
        result: true,
        data: {
          changed: true,
          action: "start",
          app: { datasources: { trace: { enabled: true, apply: { state: "APPLIED", action: "start", config_version: 1, targets: 0 } } } },
        },
      },
      refused: (fault) => ({
        status: 502,
        body: { result: false, code: 1650203, code_name: "DATASOURCE_APPLY_FAILED", data: { step: "config", error: fault.stored } },
      }),
      versionOperation: "apm.start_trace",
      held: async () => {
        const app = await callApi(info.gatewayUrl, appPath, { headers: authHeader });
        const trace = (app.body.data as { datasources?: { trace?: { enabled?: boolean; apply?: { state?: string } } } } | undefined)?.datasources?.trace;
        return { routes: await routesIn(dataId), enabled: trace?.enabled, apply: trace?.apply?.state };
      },
      before: { routes: null, enabled: false, apply: "FAILED" },
      after: { routes: [entry], enabled: true, apply: "APPLIED" },
      alerts: [
        { object: `route#${dataId}`, type: "config.rolled_back" },
        { object: `apm#${APM_BIZ}#${appName}#trace`, type: "apm.datasource_apply" },
      ],
    };
  },
};

interface FaultCase {
  readonly label: string;
  readonly spec: { readonly kind: string; readonly [key: string]: unknown };
  /** Whether GSE applied the write on the call the fault hit. */
  readonly applies: boolean;
}

/** Each hits once (`count: 1`); the write must then go through exactly once. */
const TRANSIENT: readonly FaultCase[] = [
  { label: "a 502 (GSE did not apply it)", spec: { kind: "http_error", status: 502 }, applies: false },
  { label: "a 429 with Retry-After: 0", spec: { kind: "rate_limit", retryAfterSeconds: 0 }, applies: false },
  { label: "a connection reset (GSE did not apply it)", spec: { kind: "reset" }, applies: false },
  { label: "a connection reset (GSE applied it)", spec: { kind: "reset", apply: true }, applies: true },
  { label: "a timeout (GSE held it, unapplied)", spec: { kind: "timeout" }, applies: false },
  { label: "a malformed body", spec: { kind: "malformed_body" }, applies: false },
  { label: "a schema-violating body", spec: { kind: "schema_violation" }, applies: false },
  { label: "GSE applied it, then answered 502", spec: { kind: "apply_then_fail" }, applies: true },
];

interface Sent {
  readonly subject: Subject;
  readonly res: ApiResponse;
  /** How often the row's fault hit. */
  readonly hits: number;
  /** How many calls of the write reached GSE. */
  readonly calls: number;
}

interface Observed extends Sent {
  /** What GSE (and, for APM, the datasource) holds afterwards. */
  readonly held: unknown;
  readonly head: HeadItem | undefined;
  /**
   * Version 1: the change (version 0 is what GSE held when gse-control first saw the object); for
   * an add of its own id that did not become a version, its record beside the object.
   */
  readonly version: (Partial<VersionItem> & { status: string }) | undefined;
  /** Every alert about each of the subject's alert objects, counted once recovery is known to have passed its records. */
  readonly alerts: Record<string, ConfigAlert[]>;
}

interface Row {
  readonly name: string;
  readonly operation: Operation;
  readonly transient?: FaultCase;
  readonly lasting?: LastingFault;
}

const label = (operation: Operation): string => (operation === "apm_start" ? "APM start (trace datasource)" : operation);
const rows: Row[] = [];
for (const operation of Object.keys(OPERATIONS) as Operation[]) {
  for (const fault of TRANSIENT) {
    rows.push({ name: `${label(operation)} after ${fault.label}: applied once, answered 200, APPLIED, no alert`, operation, transient: fault });
  }
  for (const fault of LASTING) {
    const answer = operation === "apm_start" ? 502 : fault.gseAnswer.status;
    const alerts = fault.ends === "REJECTED" ? "no alert" : operation === "apm_start" ? "one config.rolled_back + one apm.datasource_apply alert" : "one alert";
    const record = fault.ends === "REJECTED" ? "REJECTED" : "FAILED then ROLLED_BACK";
    rows.push({
      name: `${label(operation)} under ${fault.label}: sent ${fault.hits}x, answered ${answer}, ${record}, GSE unchanged, ${alerts}`,
      operation,
      lasting: fault,
    });
  }
}

const marker = (): string => `wf${randomUUID().replace(/-/g, "").slice(0, 14)}`;

/**
 * faults.test.ts's withFault, plus a zero-latency fault matching the same calls: its `remaining`
 * counts every call of the write that reached GSE. Both are removed afterwards.
 */
async function sendWithFault(row: Row, subject: Subject): Promise<{ res: ApiResponse; hits: number; calls: number }> {
  const scope = { operation: subject.gseWrite, match: subject.match };
  const spec = row.lasting?.spec ?? row.transient?.spec;
  const count = row.lasting ? LASTING_COUNT : 1;
  const counterCount = 100;
  const added = (await simulatorControl(info, "POST", "faults/add", {
    faults: [
      { ...spec, ...scope, count },
      { kind: "latency", latencyMs: 0, ...scope, count: counterCount },
    ],
  })) as { faults: { id: number }[] };
  const ids = added.faults.map((f) => f.id);
  try {
    const res = await subject.send();
    const { faults } = (await simulatorControl(info, "GET", "faults")) as { faults: { id: number; remaining: number | null }[] };
    const left = (id: number | undefined): number => faults.find((f) => f.id === id)?.remaining ?? 0;
    return { res, hits: count - left(ids[0]), calls: counterCount - left(ids[1]) };
  } finally {
    await simulatorControl(info, "POST", "faults/remove", { ids });
  }
}

let inbox: AlertInbox;
const observed = new Map<string, Promise<Observed>>();

/**
 * Starts every row; each test awaits its own (a rejection is kept for the row's test to report).
 * Transient rows first, all at once; the lasting ones once those are done; then one wait for the
 * lasting rows' alerts: recovery has passed every record written before them.
 */
function startRows(): void {
  const limit = pLimit(10);
  const send = async (row: Row, go: Promise<unknown>): Promise<Sent> => {
    const subject = await OPERATIONS[row.operation](marker());
    await go;
    return { subject, ...(await limit(() => sendWithFault(row, subject))) };
  };
  const look = async (sent: Sent): Promise<Omit<Observed, "alerts">> => ({
    ...sent,
    held: await sent.subject.held(),
    head: await store.getHead(sent.subject.ref),
    version: (await store.getVersion(sent.subject.ref, 1)) ?? (sent.subject.addOfOwnId ? (await store.listAddAttempts(sent.subject.ref, 1))[0] : undefined),
  });
  const alertsAbout = async (subject: Subject): Promise<Record<string, ConfigAlert[]>> =>
    Object.fromEntries(await Promise.all(subject.alerts.map(async ({ object }) => [object, await inbox.about(object)] as const)));
  // The timeouts first: each holds its slot for GSE_TIMEOUT_MS (2 s in the test stack).
  // Rows that must raise no alert go first (a refusal ends REJECTED, with nothing for recovery);
  // the rows that raise one go last, so their alerts prove recovery has passed the others' records.
  const alerting = (r: Row): boolean => r.lasting?.ends === "ROLLED_BACK";
  const transient = rows
    .filter((r) => !alerting(r))
    .sort((a, b) => Number(b.transient?.spec.kind === "timeout") - Number(a.transient?.spec.kind === "timeout"));
  const lasting = rows.filter(alerting);
  const transientSent = new Map(transient.map((row) => [row, send(row, Promise.resolve())] as const));
  const transientDone = Promise.allSettled(transientSent.values());
  const lastingSent = new Map(lasting.map((row) => [row, send(row, transientDone)] as const));
  const alertsIn = Promise.allSettled(lastingSent.values())
    .then((all) => {
      const objects = all.flatMap((r) => (r.status === "fulfilled" ? r.value.subject.alerts.map((a) => a.object) : []));
      return eventually(
        "an alert about every lasting row's objects",
        async () => {
          for (const object of objects) if ((await inbox.about(object)).length === 0) return undefined;
          return true;
        },
        20_000,
      );
    })
    // A missing alert fails its own row; the count below still waits for the others, then a
    // short grace for a duplicate, if any, to arrive.
    .catch(() => undefined)
    .then(() => sleep(500));
  for (const [row, sent] of [...transientSent, ...lastingSent]) {
    const result = sent.then(async (s) => {
      // A transient or refused row's record is final when the answer comes; a lasting row's once rolled back.
      if (alerting(row)) await alertsIn;
      const seen = await look(s);
      await alertsIn;
      return { ...seen, alerts: await alertsAbout(s.subject) };
    });
    result.catch(() => undefined);
    observed.set(row.name, result);
  }
}

beforeAll(async () => {
  inbox = await alertInbox(info, sqs, sns);
  startRows();
});

describe("config writes under GSE faults", () => {
  it.for(rows.map((row) => [row.name, row] as const))("%s", { timeout: 60_000 }, async ([, row], { annotate }) => {
    const o = await (observed.get(row.name) as Promise<Observed>);
    const { subject } = o;
    const alertCount = Object.values(o.alerts).reduce((n, list) => n + list.length, 0);
    await annotate(`fault hits ${o.hits}; ${subject.gseWrite} calls reaching GSE ${o.calls}; alerts ${alertCount}`, DETAIL);
    const ctx = `${objectKey(subject.ref)}: ${o.res.status} ${o.res.text.slice(0, 400)}`;

    if (row.transient) {
      expect(o.res.status, ctx).toBe(200);
      expect(o.res.body, ctx).toMatchObject(subject.answered);
      expect(o.hits, ctx).toBe(1);
      // One send that GSE applied; after a fault that applied nothing, one more (after a read-back).
      expect(o.calls, ctx).toBe(row.transient.applies ? 1 : 2);
      expect(o.held, ctx).toEqual(subject.after);
      expect(o.version, ctx).toMatchObject({ status: "APPLIED", operation: subject.versionOperation });
      expect(o.version?.error, ctx).toBeUndefined();
      expect(o.version?.failed_at, ctx).toBeUndefined();
      expect(o.head, ctx).toMatchObject({ current_version: 1, last_good_version: 1, latest_version: 1 });
      expect(o.head?.pending_version, ctx).toBeUndefined();
      for (const { object } of subject.alerts) expect(o.alerts[object], `${ctx}: alerts about ${object}`).toEqual([]);
      return;
    }

    const fault = row.lasting as LastingFault;
    const refused = subject.refused(fault);
    expect(o.res.status, ctx).toBe(refused.status);
    expect(o.res.body, ctx).toMatchObject(refused.body);
    expect(o.hits, ctx).toBe(fault.hits);
    // Every call that reached GSE was one the fault refused: nothing was applied.
    expect(o.calls, ctx).toBe(fault.hits);
    expect(o.held, ctx).toEqual(subject.before);
    if (fault.ends === "REJECTED") {
      expect(o.version, ctx).toMatchObject({ status: "REJECTED", operation: subject.versionOperation, error: fault.stored, rejected_at: expect.any(Number) });
      expect(o.version?.failed_at, ctx).toBeUndefined();
      expect(o.version?.rolled_back_at, ctx).toBeUndefined();
    } else {
      expect(o.version, ctx).toMatchObject({
        status: "ROLLED_BACK",
        operation: subject.versionOperation,
        error: fault.stored,
        failed_at: expect.any(Number),
        rolled_back_at: expect.any(Number),
      });
      expect(o.version?.rollback_error, ctx).toBeUndefined();
    }
    if (subject.addOfOwnId) expect(o.head, ctx).toBeUndefined();
    else expect(o.head, ctx).toMatchObject({ current_version: 0, last_good_version: 0, latest_version: 1 });
    expect(o.head?.pending_version, ctx).toBeUndefined();
    for (const { object, type } of subject.alerts) {
      if (fault.ends === "REJECTED") {
        expect(o.alerts[object], `${ctx}: alerts about ${object}`).toEqual([]);
        continue;
      }
      const details =
        type === "config.rolled_back"
          ? {
              severity: "warning",
              operation: subject.versionOperation,
              failed_version: subject.addOfOwnId ? undefined : 1,
              restored_version: subject.addOfOwnId ? undefined : 0,
            }
          : {};
      expect(o.alerts[object], `${ctx}: alerts about ${object}`).toEqual([
        expect.objectContaining({ type, object, ...Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) }),
      ]);
    }
  });
});
