/**
 * The version scheme of lib/templates against DynamoDB Local: two writers that read the same latest
 * pointer race on the one conditional transaction, and the loser re-reads and takes the next version.
 * The race is forced, not hoped for: both writers read the pointer before either writes.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { validate } from "../../../lib/http/handler.ts";
import { getTemplate, putTemplate, type TemplateDeps } from "../../../lib/templates/api.ts";
import { expandTemplateRef } from "../../../lib/templates/expand.ts";
import { templateBodySchema } from "../../../lib/templates/schemas.ts";
import { TemplateStore } from "../../../lib/templates/store.ts";
import { useStack } from "../../helpers/stack.ts";

const { info, dynamo } = useStack();
const run = randomUUID().slice(0, 8);
const store = new TemplateStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: info.tables.commands });
const deps: TemplateDeps = { store, now: () => Date.UTC(2026, 11, 3, 10) };

const body = (content: string) => validate(templateBodySchema, { content });

/** A store whose first `readers` pointer reads each wait until all of them have read: they all see the same latest. */
function storeWithBarrier(readers: number): TemplateStore {
  let waiting: (() => void)[] = [];
  let arrived = 0;
  const raced = Object.create(store) as TemplateStore;
  raced.getPointer = async (name) => {
    const pointer = await store.getPointer(name);
    if (arrived < readers) {
      arrived++;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === readers) {
          for (const go of waiting) go();
          waiting = [];
        }
      });
    }
    return pointer;
  };
  return raced;
}

describe("template versions under concurrent writers", () => {
  it("gives two writers that read the same latest version N+1 and N+2, never both N+1", async () => {
    const name = `t-${run}-barrier`;
    expect((await putTemplate(deps, name, body("v1"), "ops")).template.version).toBe(1);
    const raced = { ...deps, store: storeWithBarrier(2) };
    const [a, b] = await Promise.all([putTemplate(raced, name, body("a"), "ops"), putTemplate(raced, name, body("b"), "ops")]);
    expect([a.template.version, b.template.version].sort()).toEqual([2, 3]);
    expect((await getTemplate(store, name, a.template.version)).content).toBe("a");
    expect((await getTemplate(store, name, b.template.version)).content).toBe("b");
    expect((await getTemplate(store, name)).version).toBe(3);
  });

  it("answers the loser of a race with the same body the winner's version, created: false", async () => {
    const name = `t-${run}-barrier-same`;
    const raced = { ...deps, store: storeWithBarrier(2) };
    const answers = await Promise.all([putTemplate(raced, name, body("same"), "ops"), putTemplate(raced, name, body("same"), "ops")]);
    expect(answers.map((a) => a.created).sort()).toEqual([false, true]);
    expect(answers.map((a) => a.template.version)).toEqual([1, 1]);
  });
});

describe("expandTemplateRef", () => {
  it("expands the latest version unless the reference names one, and 404s a version that does not exist", async () => {
    const name = `t-${run}-ref`;
    const template = (word: string) => validate(templateBodySchema, { content: `${word} {{who}}`, parameters: [{ name: "who", default: "all" }] });
    await putTemplate(deps, name, template("hello"), "ops");
    await putTemplate(deps, name, template("bye"), "ops");
    expect(await expandTemplateRef(store, { name })).toMatchObject({ content: "bye all", template: { name, version: 2 } });
    expect(await expandTemplateRef(store, { name, version: 1, parameters: { who: "you" } })).toMatchObject({ content: "hello you", template: { version: 1 } });
    await expect(expandTemplateRef(store, { name, version: 5 })).rejects.toMatchObject({ status: 404 });
    await expect(expandTemplateRef(store, { name: `t-${run}-none` })).rejects.toMatchObject({ status: 404 });
  });
});
