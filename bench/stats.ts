/** Percentiles of a sample, by the nearest-rank method. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(samples: readonly number[]): { n: number; p50: number; p99: number; mean: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, max: sorted[sorted.length - 1] ?? NaN };
}

export const fmt = (value: number, digits = 1): string => value.toFixed(digits);

/** What `npm run bench` passes on: `--agents N` where a benchmark takes a fleet size. */
export interface BenchmarkOptions {
  readonly agents?: number;
}

/** The markdown of a report section, and (for `--json`) the measured figures as one object. */
export interface BenchmarkResult {
  readonly report: string;
  readonly json: Record<string, unknown>;
}

/** One benchmark of `npm run bench`: its name, and the markdown of its report section. */
export interface Benchmark {
  readonly name: string;
  /** Returns the markdown that goes into the benchmark's section, with its figures where it gives them. */
  run(options?: BenchmarkOptions): Promise<string | BenchmarkResult>;
}
