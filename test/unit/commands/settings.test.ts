/**
 * The lease rule (lib/commands/settings.ts assertLeaseOutlasts): a batch's claim must outlast the
 * function that holds it, or a second sender takes the batch over while the first still sends.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, configSchema } from "../../../lib/core/config.ts";
import { SECRETS, TABLES } from "../../../lib/resources.ts";
import { assertLeaseOutlasts } from "../../../lib/commands/settings.ts";
import { FUNCTIONS } from "../../../lib/wiring.ts";

/** The functions that can claim a batch: they link the commands table and the slot token (they send). */
const senders = Object.entries(FUNCTIONS).filter(([, fn]) => {
  const links: readonly string[] = fn.links;
  return links.includes(TABLES.commands.link) && links.includes(SECRETS.gseSlotToken.link);
});

describe("assertLeaseOutlasts", () => {
  it("refuses a lease shorter than the function's timeout, naming COMMAND_LEASE_SECONDS and both figures", () => {
    let thrown: unknown;
    try {
      assertLeaseOutlasts({ leaseMs: 60_000 }, 120);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain("COMMAND_LEASE_SECONDS (60) must be at least this function's timeout (120 s)");
  });

  it("accepts a lease equal to or longer than the timeout", () => {
    expect(() => assertLeaseOutlasts({ leaseMs: 120_000 }, 120)).not.toThrow();
    expect(() => assertLeaseOutlasts({ leaseMs: 121_000 }, 120)).not.toThrow();
  });

  it("the default lease outlasts every function that can claim a batch", () => {
    expect(senders.map(([name]) => name)).toContain("automation");
    const settings = { leaseMs: configSchema.shape.commands.parse({}).leaseSeconds * 1000 };
    for (const [name, fn] of senders) {
      expect(() => assertLeaseOutlasts(settings, fn.timeoutSeconds), name).not.toThrow();
    }
  });
});
