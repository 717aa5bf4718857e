/**
 * Every alert type held to the rule (docs/operations.md "What an alert means"): it means "the
 * system may not be in the state that was asked" or "a human must act", or it is the all-clear of
 * one that was; the operations doc lists it with that reason; and a test of the real stack raises it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALERT_CATALOG, ALERT_REASONS, ALERT_TYPES, isAlertType, type AlertTypeEntry } from "../../../lib/core/alert-catalog.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const operationsDoc = readFileSync(join(root, "docs", "operations.md"), "utf8");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Tests that run against the local stack: where an alert is really published and read back. */
const stackTests = [...filesUnder(join(root, "test", "integration")), ...filesUnder(join(root, "test", "reliability"))].map((path) => ({
  path,
  text: readFileSync(path, "utf8"),
}));

const REASON_IN_DOC: Readonly<Record<(typeof ALERT_REASONS)[number], RegExp>> = {
  not_as_asked: /not as asked/,
  human_must_act: /a human must act/,
  resolved: /all-clear of `([a-z_.]+)`/,
};

describe("the alert catalogue", () => {
  it.each(ALERT_TYPES.map((type) => [type, ALERT_CATALOG[type] as AlertTypeEntry] as const))(
    "%s is an alert under the rule, or the all-clear of one",
    (_type, entry) => {
      expect(ALERT_REASONS).toContain(entry.reason);
      expect(entry.severities.length).toBeGreaterThan(0);
      expect(entry.when.length).toBeGreaterThan(10);
      if (entry.reason === "resolved") {
        // An all-clear never pages, and closes an alert that exists.
        expect(entry.severities).toEqual(["info"]);
        expect(entry.resolves !== undefined && isAlertType(entry.resolves)).toBe(true);
        expect(ALERT_CATALOG[entry.resolves as keyof typeof ALERT_CATALOG].reason).not.toBe("resolved");
      } else {
        expect(entry.severities).not.toContain("info");
        expect(entry.resolves).toBeUndefined();
      }
    },
  );

  it.each(ALERT_TYPES)("%s is listed in docs/operations.md with its severity and reason", (type) => {
    const entry = ALERT_CATALOG[type] as AlertTypeEntry;
    const row = operationsDoc.split("\n").find((line) => line.startsWith(`| \`${type}\` |`));
    expect(row, `no row for ${type} in docs/operations.md`).toBeDefined();
    const [, , severities, reason] = (row as string).split("|").map((cell) => cell.trim());
    expect(severities?.split(/,\s*/)).toEqual([...entry.severities]);
    expect(reason).toMatch(REASON_IN_DOC[entry.reason]);
    if (entry.reason === "resolved") expect(reason).toContain(`\`${entry.resolves}\``);
  });

  it("lists nothing in docs/operations.md that the catalogue does not have", () => {
    const documented = [...operationsDoc.matchAll(/^\| `([a-z_]+\.[a-z_.]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((type) => !isAlertType(type as string))).toEqual([]);
  });

  it.each(ALERT_TYPES)("%s is raised and read back by a test against the local stack", (type) => {
    const raising = stackTests.filter((file) => file.text.includes(`"${type}"`));
    expect(
      raising.map((f) => f.path),
      `no test under test/integration or test/reliability names "${type}"`,
    ).not.toEqual([]);
  });
});
