/**
 * `gse-control rollout`'s pure parts: the body its flags build, a wave's bar and lines, what
 * `--watch` prints on a terminal and off one, and the wrong uses that exit 2 before anything is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { parseStrategy, rolloutBody } from "../../../cli/rollout.ts";
import { rolloutLines, rolloutProgress, rolloutSettled, rolloutsTable, waveBar, waveLine, waveProgress } from "../../../cli/rollout-format.ts";
import { usage } from "../../helpers/cli.ts";
import { rolloutView, waveView } from "../../helpers/rollout-view.ts";

const dir = mkdtempSync(join(tmpdir(), "gse-rollout-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const wave = waveView;
const view = rolloutView;

describe("rollout start's body", () => {
  it("builds the POST /v1/rollouts body from flags: targets, counts as numbers, shares as strings, strategy, seconds, template with parameters", () => {
    const body = rolloutBody({
      agents: "a1,a2, a3",
      maxConcurrency: "10%",
      maxErrors: "2",
      strategy: "exponential:1,2,0.9",
      bake: "5",
      replyTimeout: "30",
      undoContent: '{"task":"downgrade"}',
      template: "upgrade@3",
      param: ["version=2.1.0", "mode=a=b"],
      id: "r-1",
    });
    expect(body).toEqual({
      rollout_id: "r-1",
      targets: { agent_id_list: ["a1", "a2", "a3"] },
      template: { name: "upgrade", version: 3, parameters: { version: "2.1.0", mode: "a=b" } },
      max_concurrency: "10%",
      max_errors: 2,
      reply_timeout_seconds: 30,
      strategy: { kind: "exponential", start: 1, factor: 2, min_success_rate: 0.9 },
      bake_seconds: 5,
      undo: { content: '{"task":"downgrade"}' },
    });
  });

  it("takes -f's body and lets each flag given override its field, keeping the undo's other fields", () => {
    const file = join(dir, "rollout.json");
    writeFileSync(
      file,
      JSON.stringify({
        targets: { query: { labels: { env: "prod" } } },
        content: "x",
        max_errors: "5%",
        undo: { content: "old", reply_timeout_seconds: 9 },
        gate: { max_unhealthy: "10%" },
      }),
    );
    const ids = join(dir, "ids.txt");
    writeFileSync(ids, "# mine\na1\n\na2\n");
    expect(rolloutBody({ body: file, file: ids, maxErrors: "1", undoContent: "new" })).toEqual({
      targets: { agent_id_list: ["a1", "a2"] },
      content: "x",
      max_errors: 1,
      undo: { content: "new", reply_timeout_seconds: 9 },
      gate: { max_unhealthy: "10%" },
    });
    expect(rolloutBody({ body: file }).targets).toEqual({ query: { labels: { env: "prod" } } });
    expect(rolloutBody({ query: '{"version":">=2"}', content: "x" }).targets).toEqual({ query: { version: ">=2" } });
  });

  it.each([
    ["linear:10%", { kind: "linear", wave_size: "10%" }],
    ["linear:25", { kind: "linear", wave_size: 25 }],
    ["exponential:1,2", { kind: "exponential", start: 1, factor: 2 }],
    ["all", { kind: "all" }],
  ])("reads --strategy %s", (text, strategy) => {
    expect(parseStrategy(text)).toEqual(strategy);
  });

  it.each([["linear"], ["linear:"], ["exponential:1"], ["exponential:a,b"], ["waves:3"], ["all:1"]])("refuses --strategy %s naming the forms", (text) => {
    expect(() => parseStrategy(text)).toThrow(/--strategy is all, linear/);
  });
});

describe("a rollout's lines", () => {
  it("counts a wave's agents: sent, settled (while it runs SENT may await a reply and FAILED be retried) and failed", () => {
    const running = wave(2, 10, "RUNNING", { PENDING: 3, SENT: 2, REPLIED: 3, FAILED: 1, TIMED_OUT: 1 });
    expect(waveProgress(running)).toEqual({ size: 10, waiting: 3, sent: 7, settled: 4, failed: 2 });
    const ended = wave(2, 10, "FAILED", { SENT: 2, REPLIED: 6, FAILED: 1, TIMED_OUT: 1 });
    expect(waveProgress(ended)).toEqual({ size: 10, waiting: 0, sent: 10, settled: 10, failed: 2 });
    const aborted = wave(3, 10, "ABORTED", { FAILED: 2, REPLIED: 3, SKIPPED: 5 });
    expect(waveProgress(aborted)).toEqual({ size: 10, waiting: 0, sent: 5, settled: 10, failed: 2 });
    expect(waveProgress(wave(4, 10, "RUNNING", {}, { counts: null }))).toEqual({ size: 10, waiting: 10, sent: 0, settled: 0, failed: 0 });
  });

  it("draws a wave's bar in proportion, always as wide as asked: failed, settled, in flight, not sent", () => {
    expect(waveBar({ size: 10, waiting: 4, sent: 6, settled: 4, failed: 1 }, false, 10)).toBe("[x███▒▒░░░░]");
    expect(waveBar({ size: 0, waiting: 0, sent: 0, settled: 0, failed: 0 }, false, 10)).toBe("[░░░░░░░░░░]");
    for (let settled = 0; settled <= 7; settled++)
      expect(waveBar({ size: 7, waiting: 7 - settled, sent: settled, settled, failed: 1 }, false, 24)).toHaveLength(26);
  });

  it("shows the header, one line per wave with its status, the gate, the undo and the reason", () => {
    const lines = rolloutLines(
      view({
        status: "ABORTED",
        reason: "gate health tripped",
        gate: { state: "tripped", gate: "health", touched: 16, unhealthy: 5, threshold: 3 },
        undo: { message_id: "r1.undo", status: "RUNNING", counts: null },
      }),
      false,
    );
    expect(lines).toEqual([
      "rollout r1: ABORTED, wave 2, 16/30 agents sent, errors 1/3",
      expect.stringMatching(/^wave 1 {2}10 agents \[.+\] sent 10 settled 10 failed 1 {2}SUCCEEDED$/),
      expect.stringMatching(/^wave 2 {2}10 agents \[.+\] sent 6 settled 4 failed 0 {2}RUNNING$/),
      "gate TRIPPED (health): 5 unhealthy of 16 touched (trips above 3)",
      "undo r1.undo: RUNNING",
      "reason: gate health tripped",
    ]);
    expect(waveLine(wave(1, 5, "SUCCEEDED", { REPLIED: 5 }, { bake_until: "2026-12-03T10:05:00.000Z" }), false)).toContain(
      "bake until 2026-12-03T10:05:00.000Z",
    );
  });

  it("sums up the first waves when there are more than a screen's worth", () => {
    const waves = Array.from({ length: 15 }, (_, i) => wave(i + 1, 2, "SUCCEEDED", { REPLIED: 2 }));
    const lines = rolloutLines(view({ waves, current_wave: 15 }), false);
    expect(lines[1]).toBe("waves 1–3  6 agents  SUCCEEDED");
    expect(lines.filter((l) => l.startsWith("wave "))).toHaveLength(12);
  });

  it("says the error budget, and when there is none or no health gate", () => {
    const lines = rolloutLines(view({ max_errors: null, gate: { state: "ok", gate: null, touched: 16, unhealthy: 0, threshold: null } }), false);
    expect(lines[0]).toContain("errors 1 (no limit)");
    expect(lines).toContain("gate ok: 0 unhealthy of 16 touched (no health gate set)");
  });

  it("lists rollouts in a table, with the next page's cursor", () => {
    const { rollout_id, status, targets, current_wave, errors, created_at, created_by } = view();
    const text = rolloutsTable({ rollouts: [{ rollout_id, status, targets, current_wave, errors, created_at, created_by }], next_cursor: "abc" }, false);
    expect(text).toMatch(/r1 +│ RUNNING +│ 2 +│ 30 +│ 1 +│/);
    expect(text).toContain("more: --cursor abc");
    expect(rolloutsTable({ rollouts: [] }, false)).toBe("No rollouts.");
  });
});

describe("rollout status --watch's end", () => {
  it("comes when the rollout ended and its undo too: not while it runs, pauses or bakes, nor while an aborted one's undo is queued or runs", () => {
    for (const status of ["SCHEDULED", "RUNNING", "BAKING", "PAUSED"] as const) expect(rolloutSettled(view({ status })), status).toBe(false);
    for (const status of ["SUCCEEDED", "ABORTED", "CANCELLED"] as const) expect(rolloutSettled(view({ status })), status).toBe(true);
    expect(rolloutSettled(view({ status: "ABORTED", undo: { message_id: "r1.undo", status: "RUNNING", counts: null } }))).toBe(false);
    expect(rolloutSettled(view({ status: "ABORTED", undo: { message_id: "r1.undo", status: "PENDING", counts: null } }))).toBe(false);
    expect(rolloutSettled(view({ status: "ABORTED", undo: { message_id: "r1.undo", status: "SUCCEEDED", counts: null } }))).toBe(true);
  });
});

describe("rollout status --watch's drawing", () => {
  it("off a terminal prints only the lines that changed since the last poll", () => {
    let out = "";
    const progress = rolloutProgress({ stream: undefined, json: false, out: (t) => (out += t), color: false });
    progress.update(view());
    const first = out.split("\n").filter(Boolean);
    expect(first).toHaveLength(4);
    out = "";
    progress.update(view());
    expect(out).toBe("");
    progress.update(view({ waves: [view().waves[0]!, wave(2, 10, "RUNNING", { PENDING: 0, SENT: 2, REPLIED: 8 })] }));
    expect(out.split("\n").filter(Boolean)).toEqual([
      "rollout r1: RUNNING, wave 2, 20/30 agents sent, errors 1/3",
      expect.stringMatching(/^wave 2 .* sent 10 settled 8 /),
    ]);
  });

  it("on a terminal redraws in place: cursor up over the last drawing, then clear", () => {
    const stream = new PassThrough();
    let written = "";
    stream.on("data", (c: Buffer) => (written += c.toString()));
    const progress = rolloutProgress({ stream, json: false, out: () => undefined, color: false });
    progress.update(view());
    expect(written).not.toContain("\x1b[");
    written = "";
    progress.update(view({ status: "BAKING" }));
    expect(written.startsWith("\x1b[4F\x1b[0J")).toBe(true);
    expect(written).toContain("rollout r1: BAKING");
  });

  it("with --json prints nothing while watching", () => {
    let out = "";
    rolloutProgress({ stream: undefined, json: true, out: (t) => (out += t), color: false }).update(view());
    expect(out).toBe("");
  });
});

describe("rollout's usage errors", () => {
  it.each([
    ["start without targets", ["rollout", "start", "--content", "x"]],
    ["start with targets twice", ["rollout", "start", "--agents", "a1", "--query", "{}", "--content", "x"]],
    ["start with a strategy of no known form", ["rollout", "start", "--agents", "a1", "--content", "x", "--strategy", "fast"]],
    ["start with a bake that is not whole seconds", ["rollout", "start", "--agents", "a1", "--content", "x", "--bake", "1m"]],
    ["start with --param but no --template", ["rollout", "start", "--agents", "a1", "--content", "x", "--param", "a=b"]],
    ["start with a --param that is not key=value", ["rollout", "start", "--agents", "a1", "--template", "t", "--param", "ab"]],
    ["start with a body file that is not there", ["rollout", "start", "-f", "/no/such/rollout.json"]],
    ["start with a query that is not JSON", ["rollout", "start", "--query", "env=prod", "--content", "x"]],
    ["start without content or template (the route's own schema, before sending)", ["rollout", "start", "--agents", "a1"]],
    ["start with a max-errors that is neither a count nor a share", ["rollout", "start", "--agents", "a1", "--content", "x", "--max-errors", "lots"]],
    ["start with an agent id GSE would not take", ["rollout", "start", "--agents", "0:10.0.0.999", "--content", "x"]],
    ["status without an id", ["rollout", "status"]],
    ["pause without an id", ["rollout", "pause"]],
    ["list with a status that does not exist", ["rollout", "list", "--status", "DONE"]],
  ])("exits 2 for %s, saying why", async (_label, argv) => {
    const res = await usage(argv);
    expect(res.code, res.err).toBe(2);
    expect(res.err).not.toBe("");
  });

  it("refuses content and a template together: one says what to send", async () => {
    expect((await usage(["rollout", "start", "--agents", "a1", "--content", "x", "--template", "t"])).err).toContain("--content and --template");
  });

  it("names the flag whose value the route's schema refuses", async () => {
    expect((await usage(["rollout", "start", "--agents", "a1"])).err).toContain("--content");
    expect((await usage(["rollout", "start", "--agents", "a1", "--content", "x", "--max-errors", "lots"])).err).toContain("--max-errors");
    const unknown = join(dir, "unknown-key.json");
    writeFileSync(unknown, JSON.stringify({ targets: { agent_id_list: ["a1"] }, content: "x", bake: 5 }));
    expect((await usage(["rollout", "start", "-f", unknown])).err).toContain('bake: Unrecognized key: "bake"');
  });
});
