/**
 * X-Ray tracing through Powertools Tracer: every AWS SDK client is captured where it is built
 * (aws.ts, queue.ts, sns.ts), and every GSE call is a subsegment of its own (lib/gse/client.ts).
 * On in Lambda (the functions run with active tracing, infra/functions.ts); off elsewhere, and the
 * local runtime says so explicitly with POWERTOOLS_TRACE_ENABLED=false.
 */
import { Tracer } from "@aws-lambda-powertools/tracer";
import { METRICS_SERVICE } from "./metrics.ts";

let shared: Tracer | undefined;

/** The process's tracer, built on first use so that the environment it reads is settled. */
export function tracer(): Tracer {
  shared ??= new Tracer({ serviceName: METRICS_SERVICE });
  return shared;
}

/** An AWS SDK v3 client whose calls are traced (unchanged where tracing is off). */
export const traced = <T>(client: T): T => tracer().captureAWSv3Client(client);

/**
 * Runs `run` inside a subsegment named `name`, annotated with `annotations` (searchable in X-Ray);
 * an error it throws is recorded on the subsegment and thrown on.
 */
export async function inSubsegment<T>(name: string, annotations: Readonly<Record<string, string>>, run: () => Promise<T>): Promise<T> {
  const t = tracer();
  if (!t.isTracingEnabled()) return run();
  return (await t.provider.captureAsyncFunc(name, async (subsegment) => {
    for (const [key, value] of Object.entries(annotations)) subsegment?.addAnnotation(key, value);
    try {
      return await run();
    } catch (error) {
      subsegment?.addError(error as Error, true);
      throw error;
    } finally {
      subsegment?.close();
    }
  })) as T;
}
