/**
 * Writes docs/reports/reliability.md's table from the reliability suite's own results, so the report is what
 * ran, not what someone wrote. Each test of test/reliability/ and test/soak/ is one row: what was
 * tried (its name), how many times (annotations of type `reliability:tries` the test adds, 1 when
 * none), extra figures (`reliability:detail`), and the outcome. Only with RELIABILITY_REPORT set
 * (`npm run reliability`), so an ordinary `npm test` leaves the tree clean.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

export const TRIES = "reliability:tries";
export const DETAIL = "reliability:detail";
/** One route's scope, as a scope test tried it: JSON of {@link ScopeRow}. */
export const SCOPE = "reliability:scope";

/** What a scope test tried on one route: the scope it needs and what a caller without it got. */
export interface ScopeRow {
  readonly route: string;
  readonly scope: string;
  readonly without: string;
}

/** Files whose tests are crash tests: each test is a row of the crash matrix too. */
const CRASH_FILE = /crash\.test\.ts$/;

const SUITE_DIRS = ["test/reliability/", "test/soak/"];

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function replaceSection(document: string, name: string, body: string): string {
  const begin = `<!-- reliability:${name} -->`;
  const end = `<!-- /reliability:${name} -->`;
  const block = `${begin}\n${body}\n${end}`;
  const from = document.indexOf(begin);
  const to = document.indexOf(end);
  if (from === -1 || to === -1) return `${document.trimEnd()}\n\n${block}\n`;
  return document.slice(0, from) + block + document.slice(to + end.length);
}

export default class ReliabilityReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const target = process.env.RELIABILITY_REPORT;
    if (!target) return;
    const rows: string[] = [];
    const crashRows: string[] = [];
    const scopeRows: string[] = [];
    let section = "suite";
    for (const module of modules) {
      const dir = SUITE_DIRS.find((d) => module.relativeModuleId.startsWith(d));
      if (!dir) continue;
      if (dir === "test/soak/") section = "soak";
      const area = basename(module.relativeModuleId, ".test.ts");
      for (const test of module.children.allTests()) {
        const annotations = test.annotations();
        const tries = annotations.filter((a) => a.type === TRIES).reduce((sum, a) => sum + Number(a.message), 0) || 1;
        const detail = annotations
          .filter((a) => a.type === DETAIL)
          .map((a) => a.message)
          .join("; ");
        const state = test.result().state;
        const outcome = state === "passed" ? "held" : state === "failed" ? "**FAILED**" : state;
        rows.push(`| ${area} | ${cell(test.fullName)} | ${tries} | ${outcome} | ${cell(detail)} |`);
        if (CRASH_FILE.test(module.relativeModuleId)) {
          const what = test.fullName.slice(0, test.fullName.length - test.name.length).replace(/ > $/, "") || area;
          crashRows.push(`| ${cell(what)} | ${cell(test.name)} | ${outcome} | ${cell(detail)} |`);
        }
        for (const a of annotations.filter((a) => a.type === SCOPE)) {
          const row = JSON.parse(a.message) as ScopeRow;
          scopeRows.push(`| \`${cell(row.route)}\` | \`${cell(row.scope)}\` | ${cell(row.without)} | ${outcome} |`);
        }
      }
    }
    if (rows.length === 0) return;
    const stamp = `_Written by \`npm run reliability\` (test/helpers/reliability-reporter.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}._`;
    let document = existsSync(target) ? readFileSync(target, "utf8") : "# Reliability\n";
    document = replaceSection(document, section, table(stamp, ["area", "what was tried, and what must hold", "tries", "outcome", "figures"], rows));
    if (crashRows.length > 0) {
      document = replaceSection(
        document,
        "crash-matrix",
        table(stamp, ["what crashed", "where it was killed, and what must hold after", "outcome", "figures"], crashRows),
      );
    }
    if (scopeRows.length > 0) {
      document = replaceSection(document, "scopes", table(stamp, ["route", "scope it needs", "a caller without it got", "outcome"], scopeRows));
    }
    writeFileSync(target, document);
  }
}

function table(stamp: string, headings: readonly string[], rows: readonly string[]): string {
  return [stamp, "", `| ${headings.join(" | ")} |`, `|${headings.map(() => "---").join("|")}|`, ...rows].join("\n");
}
