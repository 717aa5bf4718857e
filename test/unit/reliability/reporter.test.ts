/**
 * The reliability report's tables come from the suite's own results: the crash matrix from the
 * crash files' tests, the scope table from the scope tests' annotations. Fed fake vitest modules
 * here (the reporter reads only these few fields), it must write each section from them alone.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TestModule } from "vitest/node";
import ReliabilityReporter, { replaceSection, SCOPE, TRIES } from "../../helpers/reliability-reporter.ts";

interface FakeTest {
  name: string;
  describe?: string;
  state?: "passed" | "failed";
  annotations?: { type: string; message: string }[];
}

function fakeModule(relativeModuleId: string, tests: FakeTest[]): TestModule {
  const children = tests.map((t) => ({
    name: t.name,
    fullName: t.describe ? `${t.describe} > ${t.name}` : t.name,
    annotations: () => t.annotations ?? [],
    result: () => ({ state: t.state ?? "passed" }),
  }));
  return { relativeModuleId, children: { allTests: () => children } } as unknown as TestModule;
}

const saved = process.env.RELIABILITY_REPORT;
afterEach(() => {
  if (saved === undefined) delete process.env.RELIABILITY_REPORT;
  else process.env.RELIABILITY_REPORT = saved;
});

function report(modules: TestModule[], before = "# Reliability\n"): string {
  const file = join(mkdtempSync(join(tmpdir(), "reliability-report-")), "reliability.md");
  writeFileSync(file, before);
  process.env.RELIABILITY_REPORT = file;
  new ReliabilityReporter().onTestRunEnd(modules);
  return readFileSync(file, "utf8");
}

describe("reliability reporter", () => {
  it("puts every test of a crash file in the crash matrix, named by what crashed and where", () => {
    const text = report([
      fakeModule("test/reliability/command-crash.test.ts", [
        { describe: "a dispatch", name: "killed after GSE took the batch: the command ends SUCCEEDED, one alert" },
        { describe: "a dispatch", name: "killed before the record: FAILED counts match", state: "failed" },
      ]),
      fakeModule("test/reliability/faults.test.ts", [{ describe: "reads", name: "retries a 502 once" }]),
    ]);
    const matrix = text.slice(text.indexOf("<!-- reliability:crash-matrix -->"), text.indexOf("<!-- /reliability:crash-matrix -->"));
    expect(matrix).toContain("| a dispatch | killed after GSE took the batch: the command ends SUCCEEDED, one alert | held |");
    expect(matrix).toContain("| a dispatch | killed before the record: FAILED counts match | **FAILED** |");
    expect(matrix).not.toContain("retries a 502 once");
    // Every test is a row of the suite table as well.
    expect(text).toContain("| faults | reads > retries a 502 once | 1 | held |  |");
  });

  it("writes the scope table from the scope annotations, one row per route tried", () => {
    const scope = (route: string, needs: string) => ({ type: SCOPE, message: JSON.stringify({ route, scope: needs, without: "403 FORBIDDEN naming it" }) });
    const text = report([
      fakeModule("test/reliability/scopes.test.ts", [
        {
          name: "every route refuses a caller without its scope",
          annotations: [
            scope("POST /v1/commands/{message_id}/cancel", "operator"),
            scope("POST /api/v2/data/add_route", "gse:write"),
            { type: TRIES, message: "2" },
          ],
        },
      ]),
    ]);
    expect(text).toContain("| `POST /v1/commands/{message_id}/cancel` | `operator` | 403 FORBIDDEN naming it | held |");
    expect(text).toContain("| `POST /api/v2/data/add_route` | `gse:write` | 403 FORBIDDEN naming it | held |");
    expect(text).toContain("| scopes | every route refuses a caller without its scope | 2 | held |  |");
    expect(text).not.toContain("<!-- reliability:crash-matrix -->");
  });

  it("replaces a section in place and leaves the text around it", () => {
    const before = "# R\n\nintro\n\n<!-- reliability:suite -->\nold\n<!-- /reliability:suite -->\n\nafter\n";
    const after = replaceSection(before, "suite", "new");
    expect(after).toBe("# R\n\nintro\n\n<!-- reliability:suite -->\nnew\n<!-- /reliability:suite -->\n\nafter\n");
  });
});
