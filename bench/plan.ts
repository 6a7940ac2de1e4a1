// What a run measures: the options of runBenchmarks, the plan they select (sets, repetitions, batch
// sizes per mode) and the context every section receives.
import {
  NAMED_PARAMETER_SETS, PARAM_MESSAGE_4, PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3, PARAM_MESSAGE_6, PARAM_MESSAGE_7,
  PARAM_MESSAGE_8, UNSAFE_TEST_PARAMS_TINY, unsafeTestOnlyParameters,
  type ClientKey, type EvaluationKeys, type TfheParameters,
} from "../src/tfhe/index.js";
import type { BenchResult } from "./harness.js";

export interface BenchOptions {
  /** JSON lines on stdout (progress goes to stderr). */
  readonly json: boolean;
  /** Fewer repetitions; PARAM_MESSAGE_7 and PARAM_MESSAGE_8 left out. */
  readonly quick: boolean;
  /**
   * @internal Test mode: UNSAFE_TEST_PARAMS_TINY only, 1–2 repetitions, small batches, the cheap part of the
   * node-tfhe reference. Writes files only where `outDir` says.
   */
  readonly tiny?: boolean;
  /** Where bench/results/latest.json and BENCHMARKS.md go (default: the current working directory). */
  readonly outDir?: string;
  /** Run these sections only (default: all of BENCH_SECTIONS). */
  readonly only?: readonly BenchSection[];
  /** Repetitions of every measurement (overrides the mode's counts; e.g. 1 for a smoke run). */
  readonly runs?: number;
  /** Write the two files (default true; in tiny mode only when `outDir` is given). */
  readonly write?: boolean;
  /** Receives each output line (default: stdout). */
  readonly out?: (line: string) => void;
  /** Receives progress lines (default: stderr with --json, else stdout). */
  readonly log?: (line: string) => void;
  /** @internal Run one named set only (the child process that isolates a big set's memory). */
  readonly onlySet?: string;
}

export type Mode = "full" | "quick" | "tiny";

/** The sections of a run, in order (`--only` takes a comma-separated list of these). */
export const BENCH_SECTIONS = ["fft", "pbs", "encryption", "throughput", "compiler", "ml", "node-tfhe", "demos", "deploy"] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];

/** Checks `--only` and `--runs` values (RangeError naming what was given and what is allowed). */
export function parseSelection(only: string | undefined, runs: string | undefined): { only?: BenchSection[]; runs?: number } {
  const out: { only?: BenchSection[]; runs?: number } = {};
  if (only !== undefined) {
    const names = only.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    const bad = names.filter((n) => !(BENCH_SECTIONS as readonly string[]).includes(n));
    if (names.length === 0 || bad.length > 0) {
      throw new RangeError(`--only takes sections among ${BENCH_SECTIONS.join(", ")}; got ${JSON.stringify(only)}`);
    }
    out.only = names as BenchSection[];
  }
  if (runs !== undefined) {
    const n = Number(runs);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RangeError(`--runs takes an integer in [1, 1000]; got ${JSON.stringify(runs)}`);
    out.runs = n;
  }
  return out;
}

export interface Plan {
  readonly mode: Mode;
  /** Sets run in this process. */
  readonly sets: readonly TfheParameters[];
  /** Sets run in a child process at the end (memory isolation). */
  readonly isolatedSets: readonly TfheParameters[];
  readonly pbsReps: (p: TfheParameters) => number;
  readonly ksReps: (p: TfheParameters) => number;
  readonly keyReps: (p: TfheParameters) => number;
  readonly cheapReps: number;
  readonly batch: number;
  /** The set of the encryption, throughput and node-tfhe sections. */
  readonly main: TfheParameters;
  /** Also time the encryption of one 8-bit value at PARAM_MESSAGE_8 (client key only). */
  readonly encrypt8Bit: boolean;
  readonly fftN: number;
  readonly fftPairs: number;
  readonly fftReps: number;
  readonly throughputBatch: number;
  readonly throughputReps: number;
  /** A wider set whose pool throughput (1 and 2 workers) is also measured, with its batch size. */
  readonly throughputWide?: { readonly params: TfheParameters; readonly batch: number };
  readonly reference: "full" | "light";
  /** The demos section (src/demos). */
  readonly demos: DemosPlan;
  /** Measured compiles per compiler program (each pays the optimizer's search). */
  readonly compileReps: number;
  /** Compiler programs run under FHE (keygen + encryptRunDecrypt); the others are only compiled. */
  readonly compilerFhe: readonly CompilerProgram[];
  /** Measured encryptRunDecrypt runs per program (after a first, unmeasured run). */
  readonly compilerFheReps: number;
  /** Sets whose PBS run also measures batched vs one-at-a-time blind rotation (bench/sections/batched.ts). */
  readonly batchedSets: readonly TfheParameters[];
  readonly batchSizes: readonly number[];
  /** Classic vs multi-bit, interleaved (bench/sections/multibit.ts); the first is the reference. */
  readonly multiBitSets: readonly TfheParameters[];
  /** Interleaved A/B rounds of the speed comparisons (batched, multi-bit, relaxed SIMD). */
  readonly speedRounds: number;
}

/** The compiler benchmark's programs (bench/sections/compiler.ts). */
export type CompilerProgram = "dot8" | "lut4" | "lut6" | "mlp" | "mixed" | "acc12" | "cmp16" | "mul12" | "xor8" | "lut1x6" | "mixed3";

/** Sets too big to share a process with the others: their keys take GiBs (PARAM_MESSAGE_8's are streamed). */
const BIG_SETS: readonly TfheParameters[] = [PARAM_MESSAGE_7, PARAM_MESSAGE_8];

export interface DemosPlan {
  /** Time the diagnosis model's encrypt, server run and decrypt, and its FHE accuracy. */
  readonly diagnosis: boolean;
  /** Test rows run in FHE through each tree model, for comparison (0: none). */
  readonly treeRows: number;
  /** Filters and the image sizes (side in pixels) each is measured at. */
  readonly filters: readonly { readonly id: string; readonly sizes: readonly number[] }[];
  /** Worker threads the tone curve (lookups) runs with, one measurement each. */
  readonly threads: readonly number[];
  readonly reps: number;
  readonly toneReps: number;
}

export function makePlan(opts: BenchOptions): Plan {
  const plan = basePlan(opts);
  const r = opts.runs;
  if (r === undefined) return plan;
  const each = (): number => r;
  return {
    ...plan, pbsReps: each, ksReps: each, keyReps: each, cheapReps: r, fftReps: r, throughputReps: r, compileReps: r, compilerFheReps: r,
    speedRounds: r,
  };
}

function basePlan(opts: BenchOptions): Plan {
  if (opts.tiny) {
    return {
      mode: "tiny", sets: [UNSAFE_TEST_PARAMS_TINY], isolatedSets: [], pbsReps: () => 2, ksReps: () => 10, keyReps: () => 1,
      cheapReps: 2, batch: 8, main: UNSAFE_TEST_PARAMS_TINY, encrypt8Bit: false, fftN: 2048, fftPairs: 20, fftReps: 2,
      throughputBatch: 6, throughputReps: 1, reference: "light",
      // Real parameters even here (the compiler has no test-only path): all but the 6-bit lookup (its keys take seconds).
      compileReps: 2, compilerFhe: ["dot8", "lut4", "mlp"], compilerFheReps: 2,
      batchedSets: [UNSAFE_TEST_PARAMS_TINY], batchSizes: [1, 2], multiBitSets: [UNSAFE_TEST_PARAMS_TINY, TINY_MULTI_BIT_2], speedRounds: 1,
      demos: { diagnosis: false, treeRows: 0, filters: [{ id: "blur", sizes: [8] }], threads: [1], reps: 2, toneReps: 1 },
    };
  }
  return {
    mode: opts.quick ? "quick" : "full",
    sets: NAMED_PARAMETER_SETS.map((s) => s.params).filter((p) => !BIG_SETS.includes(p)),
    isolatedSets: opts.quick ? [] : BIG_SETS,
    // PARAM_MESSAGE_8: several seconds per PBS and about a second per key switch (both keys streamed).
    pbsReps: (p) => (p === PARAM_MESSAGE_8 ? 3 : p === PARAM_MESSAGE_7 ? 5 : 10),
    ksReps: (p) => (p === PARAM_MESSAGE_8 ? 3 : 10),
    keyReps: (p) => (opts.quick || p.polynomialSize * p.pbsLevel > 2048 ? 1 : 3),
    cheapReps: opts.quick ? 20 : 50,
    batch: 256,
    main: PARAM_MESSAGE_4,
    encrypt8Bit: true,
    fftN: 2048, fftPairs: 1000, fftReps: 10,
    throughputBatch: 64,
    throughputReps: opts.quick ? 2 : 3,
    throughputWide: { params: PARAM_MESSAGE_6, batch: 16 },
    reference: "full",
    compileReps: opts.quick ? 3 : 5,
    compilerFhe: ["dot8", "lut4", "lut6", "mlp", "mixed", "acc12", "cmp16", "mul12", "xor8", "lut1x6", "mixed3"],
    compilerFheReps: opts.quick ? 3 : 5,
    batchedSets: [PARAM_MESSAGE_4, PARAM_MESSAGE_6], batchSizes: [1, 2, 4, 8],
    multiBitSets: [PARAM_MESSAGE_4, PARAM_MESSAGE_4_MULTI_BIT_2, PARAM_MESSAGE_4_MULTI_BIT_3],
    speedRounds: opts.quick ? 3 : 5,
    demos: {
      diagnosis: true, treeRows: opts.quick ? 0 : 2,
      filters: [
        ...["blur", "sharpen", "edges"].map((id) => ({ id, sizes: opts.quick ? [16, 32] : [16, 32, 64] })),
        { id: "tone", sizes: opts.quick ? [16, 32] : [16, 32, 64] },
      ],
      threads: [1, 2], reps: opts.quick ? 3 : 5, toneReps: 1,
    },
  };
}

/** DANGER (insecure, tiny mode only): UNSAFE_TEST_PARAMS_TINY with multi-bit blind rotation, d = 2. */
const TINY_MULTI_BIT_2 = unsafeTestOnlyParameters({ ...UNSAFE_TEST_PARAMS_TINY, name: "UNSAFE_TEST_PARAMS_TINY_MULTI_BIT_2", groupingFactor: 2 });

/** What each section gets: the plan, where results and progress go, and keys shared between sections. */
export interface Ctx {
  readonly plan: Plan;
  readonly emit: (r: BenchResult) => void;
  readonly log: (line: string) => void;
  /** Keys of plan.main, kept from its PBS run for the other sections. */
  mainKeys?: { client: ClientKey; keys: EvaluationKeys };
}
