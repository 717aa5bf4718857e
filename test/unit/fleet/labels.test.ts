import { describe, expect, it } from "vitest";
import { NotFoundError, ValidationError } from "../../../lib/core/errors.ts";
import type { FleetAgent } from "../../../lib/fleet/items.ts";
import { patchLabels, putLabels } from "../../../lib/fleet/labels.ts";
import type { FleetDeps } from "../../../lib/fleet/service.ts";

/** One agent's item, and a label write conditional on labels_rev as the table does it; `interfere` writes between a read and a write. */
function fakeStore(initial: Record<string, string> | undefined, interfere: (item: FleetAgent) => void = () => undefined) {
  let item: FleetAgent | undefined = {
    agent_id: "a",
    registered_at: 0,
    sources: ["api"],
    status: "alive",
    misses: 0,
    changed_at: 0,
    rev: 7,
    ...(initial ? { labels: initial, labels_rev: 1 } : {}),
  };
  let writes = 0;
  const store = {
    async getAgent() {
      return item === undefined ? undefined : structuredClone(item);
    },
    async writeLabels(_id: string, labels: Record<string, string>, _calls: unknown, expectedRev?: number) {
      if (item === undefined) return "absent" as const;
      if (writes++ === 0) interfere(item);
      if (expectedRev !== undefined && (item.labels_rev ?? 0) !== expectedRev) return "changed" as const;
      item = { ...item, labels: { ...labels }, labels_rev: (item.labels_rev ?? 0) + 1 };
      return "written" as const;
    },
  };
  return {
    deps: { store } as unknown as Pick<FleetDeps, "store">,
    item: () => item,
    unwatch: () => {
      item = undefined;
    },
  };
}

describe("label changes", () => {
  it("a PATCH that lost a race to another label write reads again and keeps both changes", async () => {
    const fake = fakeStore({ env: "prod" }, (item) => {
      item.labels = { ...item.labels, team: "ops" };
      item.labels_rev = (item.labels_rev ?? 0) + 1;
    });
    expect(await patchLabels(fake.deps, "a", { set: { zone: "sz-1" }, remove: ["env"] })).toEqual({ agent_id: "a", labels: { team: "ops", zone: "sz-1" } });
    expect(fake.item()).toMatchObject({ labels: { team: "ops", zone: "sz-1" }, labels_rev: 3, rev: 7 });
  });

  it("a PATCH past 32 labels in all is a 400 on set, and writes nothing", async () => {
    const fake = fakeStore(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, "v"])));
    const error = await patchLabels(fake.deps, "a", { set: { x: "1", y: "2", z: "3" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ data: { errors: [{ path: "set" }] } });
    expect(Object.keys(fake.item()?.labels ?? {})).toHaveLength(30);
    // Replacing one and adding two stays at 32.
    await expect(patchLabels(fake.deps, "a", { set: { x: "1", y: "2" } })).resolves.toBeDefined();
  });

  it("an agent not watched is a 404 for PUT and PATCH", async () => {
    const fake = fakeStore(undefined);
    fake.unwatch();
    await expect(putLabels(fake.deps, "a", { env: "prod" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(patchLabels(fake.deps, "a", { set: { env: "prod" } })).rejects.toBeInstanceOf(NotFoundError);
  });
});
