import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createJobRunner } from "../../../lib/automation/jobs.ts";
import { Logger } from "@aws-lambda-powertools/logger";
import { createLogger, withLogKeys } from "../../../lib/core/logger.ts";
import type { QueueRecord } from "../../../lib/core/records.ts";

let lines: Record<string, unknown>[] = [];
let restore: () => void;
beforeEach(() => {
  lines = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  });
  restore = () => spy.mockRestore();
});
afterEach(() => restore());

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const record = (messageId: string, type: string): QueueRecord =>
  ({ messageId, body: JSON.stringify({ type }), attributes: { ApproximateReceiveCount: "1" } }) as unknown as QueueRecord;

describe("withLogKeys", () => {
  it("puts each piece of work's keys on its own lines while several run at once", async () => {
    const logger = createLogger("scope-test");
    const work = (id: string) =>
      withLogKeys({ message_id: id }, async () => {
        logger.info("start", { step: id });
        await tick();
        await tick();
        logger.info("end", { step: id });
      });
    await Promise.all([work("m-1"), work("m-2"), work("m-3")]);
    logger.info("outside");
    expect(lines.filter((l) => l.message !== "outside").every((l) => l.message_id === l.step)).toBe(true);
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).not.toHaveProperty("message_id");
  });

  it("lets a line's own key win over the scope's, and reaches child loggers", async () => {
    const logger = createLogger("scope-test");
    await withLogKeys({ message_id: "sqs-1", job_type: "t" }, async () => {
      logger.info("own", { message_id: "gse-message" });
      logger.createChild({ persistentKeys: { part: "child" } }).info("from a child");
    });
    expect(lines[0]).toMatchObject({ message_id: "gse-message", job_type: "t" });
    expect(lines[1]).toMatchObject({ message_id: "sqs-1", job_type: "t", part: "child" });
  });
});

describe("the scoped formatter", () => {
  it("nests scopes: the inner scope adds keys and overrides the outer's, the outer's come back after it", async () => {
    const logger = createLogger("scope-test");
    await withLogKeys({ message_id: "outer", job_type: "t" }, async () => {
      await withLogKeys({ message_id: "inner", agent_id: "a-1" }, async () => logger.info("in"));
      logger.info("out");
    });
    expect(lines[0]).toMatchObject({ message_id: "inner", job_type: "t", agent_id: "a-1" });
    expect(lines[1]).toMatchObject({ message_id: "outer", job_type: "t" });
    expect(lines[1]).not.toHaveProperty("agent_id");
  });

  it("writes the same keys, in the same order, as Powertools' default formatter", () => {
    createLogger("shape-test").info("line", { extra: 1 });
    new Logger({ serviceName: "shape-test" }).info("line", { extra: 1 });
    const [ours, theirs] = lines.map(({ timestamp: _, ...rest }) => rest);
    expect(Object.keys(lines[0] ?? {})).toEqual(Object.keys(lines[1] ?? {}));
    expect(ours).toEqual(theirs);
  });

  it("does not let a scope key replace a standard key of the line", async () => {
    const logger = createLogger("scope-test");
    await withLogKeys({ level: "FAKE", message: "fake", service: "fake" }, async () => logger.info("real"));
    expect(lines[0]).toMatchObject({ level: "INFO", message: "real", service: "scope-test" });
  });
});

describe("the job runner", () => {
  it("logs each record's message id with its own job, when a batch's records run in parallel", async () => {
    const logger = createLogger("automation-test");
    const job = async (): Promise<void> => {
      await tick();
      logger.info("job done");
    };
    // The queue client is never called: no record here is poison.
    const run = createJobRunner({ jobs: { slow: job, fast: job }, sqs: {} as never, deadLetterQueueUrl: "unused", logger });
    await Promise.all([run(record("m-slow", "slow")), run(record("m-fast", "fast"))]);
    expect(lines.map((l) => [l.job_type, l.message_id])).toEqual(
      expect.arrayContaining([
        ["slow", "m-slow"],
        ["fast", "m-fast"],
      ]),
    );
    expect(lines).toHaveLength(2);
  });
});
