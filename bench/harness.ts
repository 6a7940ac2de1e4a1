// The measurement harness every section uses: the result record, timing (warm-up, then measured runs),
// medians, result constructors, and the emitter that prints each result as it is produced.
import { fmtBytes, fmtMs, fmtNum, round } from "./format.js";

export type Section = "pbs" | "keygen" | "encrypt" | "sizes" | "fft" | "throughput" | "compiler" | "ml" | "reference" | "compare" | "speed" | "demos" | "deploy";

export interface BenchResult {
  readonly name: string;
  readonly section: Section;
  /** Median wall-clock time of one run (latency items). */
  readonly median_ms?: number;
  readonly min_ms?: number;
  readonly max_ms?: number;
  /** The value in `unit` when it is not a time (bytes, operations per second, ratio). */
  readonly value?: number;
  /** Parameter set the item ran at. */
  readonly params?: string;
  /** Ciphertexts per run (batch items). */
  readonly batch?: number;
  /** Throughput items: process CPU time (all threads) ÷ wall time over the measured runs. */
  readonly cpu_per_wall?: number;
  /** Compiler items: the circuit's message bits (p = 2^bits). */
  readonly bits?: number;
  /** Compiler items: PBS per run of the circuit; ML items: PBS per row. */
  readonly pbs_count?: number;
  /** ML latency items: median server evaluation time per row (ms), keys loaded before. */
  readonly server_ms?: number;
  /** ML latency items: median process CPU time per row (ms, all threads). */
  readonly cpu_ms?: number;
  /** For sizes: "serialize" (bytes of serialize(), or its exact serializedSize()) or "memory". */
  readonly source?: "serialize" | "memory";
  readonly error?: string;
  readonly note?: string;
  /** Number of measured runs (0 when failed). */
  readonly n: number;
  readonly unit: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs fn `warmup` times unmeasured, then `reps` times measured; returns the samples in ms. */
export function sample(fn: () => void, reps: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function sampleAsync(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** A latency result: median, min and max of the samples, in ms. */
export function latency(name: string, section: Section, samples: readonly number[], extra: Partial<BenchResult> = {}): BenchResult {
  return {
    name, section, median_ms: round(median(samples)), min_ms: round(Math.min(...samples)), max_ms: round(Math.max(...samples)),
    ...extra, n: samples.length, unit: "ms",
  };
}

/** A size result in bytes (section "sizes" unless `extra` says otherwise). */
export function size(name: string, bytes: number, source: BenchResult["source"], extra: Partial<BenchResult> = {}): BenchResult {
  return { name, section: extra.section ?? "sizes", value: bytes, source, ...extra, n: 1, unit: "bytes" };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The figure of a result (median time, else value); undefined when missing or failed. */
export function valueOf(r: BenchResult | undefined): number | undefined {
  if (!r || r.error) return undefined;
  return r.median_ms ?? r.value;
}

/** The result with `name` first and `n`, `unit` last (the JSON line and file layout). */
export function orderKeys(r: BenchResult): Record<string, unknown> {
  const { name, n, unit, ...rest } = r;
  return { name, ...rest, n, unit };
}

/** Records each result in `results` and prints it: one JSON line, or one readable line. */
export function makeEmitter(json: boolean, out: (line: string) => void, results: BenchResult[]): (r: BenchResult) => void {
  return (r) => {
    results.push(r);
    if (json) {
      out(JSON.stringify(orderKeys(r)));
      return;
    }
    const v = r.error ? `error: ${r.error}` : r.median_ms !== undefined && r.unit === "ms"
      ? `${fmtMs(r.median_ms)} (median of ${r.n})` : r.unit === "bytes" ? `${fmtBytes(r.value)} (${r.source})`
        : `${fmtNum(r.value)} ${r.unit}${r.median_ms !== undefined ? ` (${fmtMs(r.median_ms)} per run, median of ${r.n})` : ""}`;
    out(`${r.name.padEnd(52)} ${v}`);
  };
}
