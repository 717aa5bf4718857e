/** The status page's data as a test sets it up: every section empty, the dependencies quiet, the test's own sections over them. */
import { checkedHealth } from "../../lib/console/data.ts";
import { consoleDataSchema, type ConsoleData } from "../../lib/console/schemas.ts";

/** GSE not polled yet, DynamoDB and SNS healthy, `now` by the test's clock; `fields` override any section. */
export function consoleData(now: number, fields: Partial<ConsoleData> = {}): ConsoleData {
  const at = new Date(now).toISOString();
  return consoleDataSchema.parse({
    generated_at: at,
    dependencies: {
      gse: { state: "unknown", detail: "no heartbeat poll has finished yet", checked_at: null, since: null },
      dynamodb: { state: "ok", detail: "this answer's reads took 5 ms", checked_at: at, since: null },
      sns: checkedHealth({ ok: true, latency_ms: 3, detail: "alerts topic reachable" }, now),
    },
    refresh_seconds: 15,
    fleet: null,
    history: { hours: 24, every_minutes: 5, points: [] },
    lost: { total: null, agents: [], complete: true },
    alerts: [],
    commands: [],
    rollouts: [],
    applies: [],
    configs: [],
    ...fields,
  });
}
