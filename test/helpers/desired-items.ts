/** Items of lib/desired/store.ts as a unit test needs them: an apply that ended ROLLED_BACK after its 2nd step failed. */
import type { ApplyStep } from "../../lib/desired/schemas.ts";
import type { ApplyItem } from "../../lib/desired/store.ts";

const AT = Date.UTC(2026, 10, 25, 12, 0, 0);

export const applyStep = (order: number, fields: Partial<ApplyStep>): ApplyStep => ({
  order,
  kind: "streamto",
  name: `s${order}`,
  id: 100 + order,
  action: "create",
  status: "UNDONE",
  version: 1,
  undo_version: 2,
  error: null,
  ...fields,
});

export function applyItem(fields: Partial<ApplyItem> = {}): ApplyItem {
  return {
    pk: "apply#apply-abcdef",
    sk: "meta",
    apply_id: "apply-abcdef",
    plan_id: "plan-abcdef",
    plat_name: "bkmonitor",
    status: "ROLLED_BACK",
    rev: 5,
    author: "alice",
    steps: [
      applyStep(1, {}),
      applyStep(2, { kind: "route", name: "1100001", id: 1100001, status: "FAILED", error: { message: "GSE refused", gse_code: 1001 } }),
    ],
    error: { message: "GSE refused", gse_code: 1001 },
    bake: null,
    started_at: AT,
    expires_at: 0,
    ...fields,
  };
}
