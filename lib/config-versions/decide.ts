/**
 * Deciding a version its request left PENDING: a request that ran out of time (answered 504, the
 * work cut off by Lambda's timeout) or whose process died. GSE decides, as the dead request's
 * verify would have: if it holds what the version sent, APPLIED and the head moved; if not,
 * FAILED, and recovery undoes what is still ours and alerts, as for any failure.
 *
 * `config.decide` does this within seconds of the request's deadline (CONFIG_PENDING_DECIDE_SECONDS
 * after it), so the object is not locked until the scheduled reconcile; the reconcile decides its
 * stuck versions with the same `decidePending`.
 */
import * as z from "zod";
import { JOB_TYPES } from "../automation/job-types.ts";
import { asJob, jobBody, type JobHandler } from "../automation/jobs.ts";
import type { ConfigOperation } from "../gse/config-apply.ts";
import { storedError, type ConfigDeps } from "./change.ts";
import { expectationOfDocument, expectationOfRequest, meets, objectKey, objectKindSchema, readObject, type ObjectRef } from "./documents.ts";
import { ConcurrentChangeError, type VersionItem } from "./store.ts";

export const DECIDE_CONFIG_JOB = JOB_TYPES.configDecide;

export const decideConfigJobSchema = z.object({
  type: z.literal(DECIDE_CONFIG_JOB),
  kind: objectKindSchema,
  id: z.int().positive(),
  version: z.int().positive(),
});
export type DecideConfigJob = z.infer<typeof decideConfigJobSchema>;

export interface DecideDeps extends Pick<ConfigDeps, "gse" | "store" | "logger" | "now"> {
  /** The GSE operator the read is made as. */
  readonly operator: string;
}

/** What GSE must hold if the version got through. */
export function expectationOf(version: VersionItem) {
  return version.operation === "rollback_to" || version.operation === "adopt"
    ? expectationOfDocument(version.document)
    : expectationOfRequest(version.operation as ConfigOperation, version.request);
}

/**
 * A PENDING version whose request is over, decided from what GSE holds. `why` says how it came to
 * be left (kept in the FAILED version's error). "skipped" when something else decided it first.
 */
export async function decidePending(deps: DecideDeps, ref: ObjectRef, version: VersionItem, why: string): Promise<"applied" | "failed" | "skipped"> {
  const current = await readObject(deps.gse, ref, version.document?.plat_name ?? "", deps.operator);
  const log = { object: objectKey(ref), version: version.version, why };
  if (meets(current, expectationOf(version))) {
    try {
      await deps.store.markApplied(ref, version.version, { reconciled: true }, deps.now());
    } catch (error) {
      if (error instanceof ConcurrentChangeError) return "skipped";
      throw error;
    }
    deps.logger.warn("PENDING version decided: GSE holds it", { ...log, status: "APPLIED" });
    return "applied";
  }
  const failed = await deps.store.markFailed(ref, version.version, { message: `${why} and GSE does not hold it`, kind: "stuck_pending" }, deps.now());
  if (!failed) return "skipped";
  deps.logger.warn("PENDING version decided: GSE does not hold it", { ...log, status: "FAILED" });
  return "failed";
}

/** Seconds from now until the job should look at a version whose request ends at `deadlineAt`. */
const secondsUntilDecidable = (deadlineAt: number, now: number, delaySeconds: number): number =>
  Math.max(0, Math.ceil((deadlineAt - now) / 1000)) + delaySeconds;

/**
 * Puts the version's config.decide job on the queue, for CONFIG_PENDING_DECIDE_SECONDS after its
 * request's deadline. A failed send is logged: the scheduled reconcile still decides the version.
 */
export async function scheduleDecide(deps: ConfigDeps, ref: ObjectRef, version: VersionItem): Promise<void> {
  if (!deps.decide || version.deadline_at === undefined) return;
  const job: DecideConfigJob = { type: DECIDE_CONFIG_JOB, kind: ref.kind, id: ref.id, version: version.version };
  try {
    await deps.decide.queue.send(job, secondsUntilDecidable(version.deadline_at, deps.now(), deps.decide.delaySeconds));
  } catch (error) {
    deps.logger.warn("could not schedule the version's decide job; the reconcile will decide it if it is left PENDING", {
      object: objectKey(ref),
      version: version.version,
      error: storedError(error),
    });
  }
}

/**
 * The `config.decide` job: nothing to do once the version left PENDING (its request finished it);
 * before its request's deadline it looks again later; after, GSE decides.
 */
export function decideConfigJob(deps: ConfigDeps): JobHandler {
  return (job) =>
    asJob(async () => {
      const p = jobBody(decideConfigJobSchema, job);
      const ref: ObjectRef = { kind: p.kind, id: p.id };
      const version = await deps.store.getVersion(ref, p.version);
      if (version?.status !== "PENDING") return;
      const now = deps.now();
      if (!deps.decide) throw new Error("config.decide needs its settings (ConfigDeps.decide)");
      if (version.deadline_at !== undefined && version.deadline_at > now) {
        await deps.decide.queue.send(p, secondsUntilDecidable(version.deadline_at, now, deps.decide.delaySeconds));
        return;
      }
      await decidePending({ ...deps, operator: deps.decide.operator }, ref, version, "its request ran out of time");
    });
}
