/**
 * Load: 200 concurrent clients on list_agent_state for 2 minutes (SOAK_SECONDS), over loopback,
 * with the simulator failing 2% of GSE's list_agent_state calls. What must hold: no 5xx of ours
 * (a GSE failure that outlasts our retries is passed on as GSE's own 502/504, counted apart),
 * and the functions' process does not grow. Latency percentiles and RSS are reported.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { expect, it } from "vitest";
import { DETAIL, TRIES } from "../helpers/reliability-reporter.ts";
import { logLines, simulatorControl, useStack } from "../helpers/stack.ts";

const { info, authHeader } = useStack();
const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const CLIENTS = 200;
const IDS_PER_REQUEST = 50;
const POOL = 5000;
/**
 * The first part of the run fills caches, pools and the heap; memory is judged after it. A 6-minute
 * run (2026-11-25) showed RSS climbing for about 30 s, then flat within ±10 MB.
 */
const WARM_UP_SECONDS = Math.min(45, SECONDS / 3);

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match?.[1] ? Number(match[1]) / 1024 : Number.NaN;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const median = (values: readonly number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

it(`serves ${CLIENTS} concurrent clients with GSE failing 2% of calls: no 5xx of ours, memory flat`, { timeout: (SECONDS + 120) * 1000 }, async ({
  annotate,
}) => {
  const pid = info.pids.runtime;
  if (pid === undefined) throw new Error("the stack reported no runtime pid");
  const { agents } = (await simulatorControl(info, "GET", `agents?offset=0&limit=${POOL}`)) as { agents: { legacy_id: string }[] };
  const ids = agents.map((a) => a.legacy_id);
  expect(ids.length).toBe(POOL);
  await simulatorControl(info, "POST", "faults/add", { faults: [{ kind: "http_error", status: 500, operation: "list_agent_state", probability: 0.02 }] });

  const dispatcher = new Agent({ connections: CLIENTS, keepAliveTimeout: 30_000 });
  const statuses = new Map<number, number>();
  const ourErrors: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const rss: { at: number; mb: number }[] = [];
  const sampler = (async () => {
    while (performance.now() < deadline) {
      rss.push({ at: (performance.now() - started) / 1000, mb: rssMb(pid) });
      await sleep(2000);
    }
  })();

  let seed = 1;
  const client = async (n: number): Promise<void> => {
    while (performance.now() < deadline) {
      // A cheap deterministic spread over the pool, different for each client.
      seed = (seed * 1103515245 + 12345 + n) % 2 ** 31;
      const start = seed % (POOL - IDS_PER_REQUEST);
      const t0 = performance.now();
      const res = await request(`${info.gatewayUrl}/api/v2/cluster/list_agent_state`, {
        method: "POST",
        dispatcher,
        headers: { "content-type": "application/json", ...authHeader },
        body: JSON.stringify({ agent_id_list: ids.slice(start, start + IDS_PER_REQUEST) }),
      });
      const text = await res.body.text();
      latencies.push(performance.now() - t0);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      // Ours: any 5xx that is not GSE's failure passed through (502/504 with a GSE code).
      if (res.statusCode >= 500 && !(res.statusCode === 502 || res.statusCode === 504)) ourErrors.push(text.slice(0, 300));
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  await sampler;
  await dispatcher.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const afterWarmUp = rss.filter((s) => s.at >= WARM_UP_SECONDS);
  const quarter = Math.max(1, Math.floor(afterWarmUp.length / 4));
  const early = median(afterWarmUp.slice(0, quarter).map((s) => s.mb));
  const late = median(afterWarmUp.slice(-quarter).map((s) => s.mb));
  const report = {
    seconds: SECONDS,
    clients: CLIENTS,
    requests: latencies.length,
    per_second: Math.round(latencies.length / SECONDS),
    statuses: Object.fromEntries(statuses),
    p50_ms: Math.round(percentile(sorted, 50)),
    p99_ms: Math.round(percentile(sorted, 99)),
    max_ms: Math.round(sorted[sorted.length - 1] ?? 0),
    rss_mb: { start: Math.round(rss[0]?.mb ?? 0), after_warm_up: Math.round(early), end: Math.round(late), max: Math.round(Math.max(...rss.map((s) => s.mb))) },
  };
  // Where the time went, from the functions' own "agent state lookup" lines.
  const lookups = logLines(info, "runtime")
    .filter((l) => l.includes('"agent state lookup"'))
    .map((l) => JSON.parse(l) as { duration_ms: number; read_ms: number; fetch_ms: number; gse_calls: number; memo_hits: number; fresh: number });
  const p = (pick: (l: (typeof lookups)[number]) => number, q: number): number =>
    percentile(
      [...lookups.map(pick)].sort((a, b) => a - b),
      q,
    );
  const inside = {
    lookups: lookups.length,
    duration_p50_p99_ms: [p((l) => l.duration_ms, 50), p((l) => l.duration_ms, 99)],
    read_p50_p99_ms: [p((l) => l.read_ms, 50), p((l) => l.read_ms, 99)],
    fetch_p50_p99_ms: [p((l) => l.fetch_ms, 50), p((l) => l.fetch_ms, 99)],
    gse_calls: lookups.reduce((a, l) => a + l.gse_calls, 0),
    memo_hit_share: Number((lookups.reduce((a, l) => a + l.memo_hits, 0) / Math.max(1, lookups.length * IDS_PER_REQUEST)).toFixed(2)),
  };
  const series = rss.filter((_, i) => i % 5 === 0).map((s) => `${Math.round(s.at)}s:${Math.round(s.mb)}`);
  process.stdout.write(`soak: ${JSON.stringify({ ...report, inside, rss_series: series.join(" ") })}\n`);

  await annotate(String(latencies.length), TRIES);
  await annotate(
    `${SECONDS} s, ${CLIENTS} clients, ${report.per_second} req/s; statuses ${JSON.stringify(report.statuses)}; p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms; ` +
      `RSS MB start ${report.rss_mb.start}, after warm-up ${report.rss_mb.after_warm_up}, end ${report.rss_mb.end}, max ${report.rss_mb.max}`,
    DETAIL,
  );
  expect(ourErrors, ourErrors.slice(0, 3).join("\n")).toEqual([]);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(latencies.length * 0.95);
  // Flat: the last quarter's median within 15% (plus 16 MB of GC slack) of the first quarter's after warm-up.
  expect(late).toBeLessThanOrEqual(early * 1.15 + 16);
});
