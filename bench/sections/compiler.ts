// The compiler (src/compiler): per program, the time to compile (trace + bounds + encoding + the optimizer's
// parameter choice), then at the parameters it chose: key generation, FHE latency of encryptRunDecrypt
// (keygen excluded) and the clear Circuit.runClear for reference. Real parameters in every mode.
import {
  compile, DEFAULT_P_FAIL, type InputSpec, lut, prng, relu, round as roundLsbs, toNested, type Circuit, type Sample, type Tensor, type TraceFn,
} from "../../src/compiler/index.js";
import { round } from "../format.js";
import { errorText, latency, median, sample, sampleAsync } from "../harness.js";
import type { CompilerProgram, Ctx } from "../plan.js";

interface Program {
  /** One line for BENCHMARKS.md. */
  readonly what: string;
  readonly fn: TraceFn;
  /** Bounds come from these; the FHE runs take their inputs from it too (so they stay within the bounds). */
  readonly inputset: readonly Sample[];
  /** Inputs (default: one encrypted x). */
  readonly spec?: InputSpec;
}

const W_DOT = Array.from({ length: 30 }, (_, i) => ((i * 5 + 2) % 7) - 3); // every value of [-3, 3]
const W1 = [[1, -1, 2, 0], [0, 1, -1, 1], [-1, 1, 1, -1], [1, 0, -1, 1]];
const W2 = [[1, -1], [-1, 1], [1, 1], [0, -1]];
const W_ACC = [37, -21, 45, 29];

/** All-lo and all-hi vectors, `extremes`, then 30 random vectors (deterministic). */
function inputsetOf(n: number, lo: number, hi: number, seed: number, extremes: readonly number[][] = []): Sample[] {
  const r = prng(seed);
  const random = Array.from({ length: 30 }, () => Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1))));
  return [new Array<number>(n).fill(lo), new Array<number>(n).fill(hi), ...extremes, ...random].map((x) => [x]);
}

export const COMPILER_PROGRAMS: Readonly<Record<CompilerProgram, Program>> = {
  dot8: {
    what: "x · w: x encrypted, 30 values in [0, 255]; w clear, fixed, in [-3, 3]; no lookup",
    fn: (x) => x.dot(W_DOT),
    // The largest and the smallest dot product: the message space covers every 8-bit input.
    inputset: inputsetOf(30, 0, 255, 1, [W_DOT.map((w) => (w > 0 ? 255 : 0)), W_DOT.map((w) => (w < 0 ? 255 : 0))]),
  },
  lut4: {
    what: "x² mod 16 on x encrypted, 4 values in [0, 15]: one 4-bit lookup per value",
    fn: (x) => lut(x, (v) => (v * v) % 16),
    inputset: inputsetOf(4, 0, 15, 2),
  },
  lut6: {
    what: "x² mod 64 on x encrypted, 4 values in [0, 63]: one 6-bit lookup per value",
    fn: (x) => lut(x, (v) => (v * v) % 64),
    inputset: inputsetOf(4, 0, 63, 3),
  },
  mlp: {
    what: "relu(x · W1) · W2: x encrypted, 4 values in [0, 3]; W1 4×4 and W2 4×2 clear, in [-1, 2]",
    fn: (x) => relu(x.matmul(W1)).matmul(W2),
    inputset: inputsetOf(4, 0, 3, 4),
  },
  mixed: {
    what: "[x·30 + y, NOT y]: x, y encrypted, 4 values each in [0, 3] and [0, 1]: a 1-bit lookup next to a 7-bit value " +
      "(one message space: 7 bits for the lookup too)",
    fn: (x) => [x.slice([0, 4]).mul(30).add(x.slice([4, 8]).clip(0, 1)), lut(x.slice([4, 8]), (v) => 1 - v)],
    inputset: inputsetOf(8, 0, 1, 6, [[3, 3, 3, 3, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]]),
  },
  cmp16: {
    what: "x[0] < x[1]: x encrypted, 2 values in [0, 65535]; the 17-bit difference truncated by bit extraction, then a 2-bit lookup " +
      "(one table over it: no parameters exist past 8 bits)",
    fn: (x) => x.index(0).lt(x.index(1)),
    inputset: inputsetOf(2, 0, 65535, 8, [[65535, 0], [0, 65535], [40000, 40000], [40000, 39999]]),
  },
  mul12: {
    what: "x[0] · x[1]: x encrypted, 2 values in [0, 4095]; partial products of 2-bit chunks (quarter squares would read 13 bits, " +
      "one table of the pair 24 bits: no parameters exist past 8 bits)",
    fn: (x) => x.index(0).mul(x.index(1)),
    inputset: inputsetOf(2, 0, 4095, 9, [[4095, 4095], [4095, 1]]),
  },
  xor8: {
    what: "x[0] XOR x[1]: x encrypted, 2 values in [0, 255]; 2-bit chunk pairs (one table of the pair: 16 bits, no parameters " +
      "exist past 8 bits)",
    fn: (x) => x.index(0).bitwiseXor(x.index(1)),
    inputset: inputsetOf(2, 0, 255, 10, [[255, 0], [170, 85]]),
  },
  acc12: {
    what: "relu(round(x · w, 7, approximate)): x encrypted, 4 values in [0, 15]; w clear in [-21, 45]: a 12-bit " +
      "accumulator read by a 5-bit lookup (one message space: not compilable, the lookup needs ≤ 8 bits)",
    fn: (x) => relu(roundLsbs(x.dot(W_ACC), 7, { approximate: true })),
    inputset: inputsetOf(4, 0, 15, 7),
  },
  lut1x6: {
    what: "[x² mod 64, NOT y]: x, y encrypted, 4 values each in [0, 63] and [0, 1]: four 6-bit lookups next to four 1-bit ones",
    fn: (x, y) => [lut(x!, (v) => (v * v) % 64), lut(y!, (v) => 1 - v)],
    inputset: pairInputset(4, 63, 4, 1, 8),
    spec: { x: "encrypted", y: "encrypted" },
  },
  mixed3: {
    what: "s = NOT x + t(y), [s, s²]: x, y encrypted, 4 values in [0, 1] and one in [0, 15], t a 4-bit table to {0, 1}: " +
      "1-, 2- and 4-bit lookups; outputs of lookups of two precisions added",
    fn: (x, y) => {
      const s = lut(x!, (v) => 1 - v).add(lut(y!, (v) => ((v * 3) % 16) >> 3));
      return [s, lut(s, (v) => v * v)];
    },
    inputset: pairInputset(4, 1, 1, 15, 9),
    spec: { x: "encrypted", y: "encrypted" },
  },
};

/** Pairs (x: `a` values in [0, hiA], y: `b` values in [0, hiB]): all-lo, all-hi, then 30 random (deterministic). */
function pairInputset(a: number, hiA: number, b: number, hiB: number, seed: number): Sample[] {
  const r = prng(seed);
  const vec = (n: number, f: () => number) => Array.from({ length: n }, f);
  return [[vec(a, () => 0), vec(b, () => 0)], [vec(a, () => hiA), vec(b, () => hiB)],
    ...Array.from({ length: 30 }, () => [vec(a, () => Math.floor(r() * (hiA + 1))), vec(b, () => Math.floor(r() * (hiB + 1)))])];
}

let freshCount = 0;
/**
 * A p_fail a hair below the default, new at every call: the optimizer caches its choice per target, and a
 * measured compile should pay the search as compiling a new program does.
 */
const freshPFail = (): number => DEFAULT_P_FAIL * (1 - ++freshCount * 2 ** -30);

const same = (a: readonly Tensor[], b: readonly Tensor[]): boolean =>
  JSON.stringify(a.map(toNested)) === JSON.stringify(b.map(toNested));

export async function benchCompiler(ctx: Ctx): Promise<void> {
  for (const [name, prog] of Object.entries(COMPILER_PROGRAMS) as [CompilerProgram, Program][]) {
    let stage = "compile";
    let circuit: Circuit | undefined;
    try {
      ctx.log(`compiler: ${name}`);
      benchCompile(ctx, name, prog);
      // Default p_fail; partitions allowed, and a multi-parameter choice measured against one set for the same program.
      const c = circuit = compile(prog.fn, prog.spec ?? { x: "encrypted" }, prog.inputset, { multiParameter: true });
      const oneSet = c.parameters.multi === undefined ? undefined : compile(prog.fn, prog.spec ?? { x: "encrypted" }, prog.inputset);
      if (oneSet !== undefined) emitPartitions(ctx, name, c, oneSet);
      if (ctx.plan.compilerFhe.includes(name)) {
        for (const [label, cc] of oneSet === undefined ? [["", c] as const] : [["", c] as const, ["-one-set", oneSet] as const]) {
          try {
            stage = `keygen${label}`;
            benchKeygen(ctx, name, cc, label);
            stage = `fhe${label}`;
            benchFhe(ctx, name, prog, cc, label);
            if (cc.encoding.pbsCount > 0) {
              stage = `fhe-2-workers${label}`;
              await benchFhePool(ctx, name, prog, cc, label);
            }
          } finally {
            if (cc !== c) await cc.close();
          }
        }
      }
      stage = "clear";
      const x = prog.inputset[2]!;
      ctx.emit(latency(`compiler/clear/${name}`, "compiler", sample(() => { c.runClear(...x); }, ctx.plan.cheapReps),
        { note: "Circuit.runClear: the same circuit evaluated in the clear" }));
    } catch (e) {
      ctx.emit({ name: `compiler/${stage}/${name}`, section: "compiler", error: errorText(e), n: 0, unit: "ms" });
    } finally {
      await circuit?.close();
    }
  }
}

function benchCompile(ctx: Ctx, name: CompilerProgram, prog: Program): void {
  const phases: [number[], number[], number[]] = [[], [], []];
  let circuit!: Circuit;
  const samples = sample(() => {
    const t0 = performance.now();
    circuit = compile(prog.fn, prog.spec ?? { x: "encrypted" }, prog.inputset, { pFail: freshPFail() });
    const t1 = performance.now();
    void circuit.encoding;
    const t2 = performance.now();
    void circuit.parameters;
    const t3 = performance.now();
    phases[0].push(t1 - t0);
    phases[1].push(t2 - t1);
    phases[2].push(t3 - t2);
  }, ctx.plan.compileReps);
  const warm = phases.map((p) => round(median(p.slice(1)))); // without the warm-up run
  const cp = circuit.parameters;
  ctx.emit(latency(`compiler/compile/${name}`, "compiler", samples, {
    params: cp.params.name, bits: circuit.encoding.bits, pbs_count: circuit.encoding.pbsCount,
    note: `trace + bounds ${warm[0]} ms, encoding ${warm[1]} ms, parameters ${warm[2]} ms (medians); ` +
      (cp.linearOnly ? "no lookup: the smallest named set that decrypts the outputs" : "the optimizer's search, not its cache") +
      `; predicted p_fail ${cp.log2PFail < -999 ? "< 2^-999" : `2^${round(cp.log2PFail, 3)}`} per ${cp.linearOnly ? "output" : "PBS"}`,
  }));
}

/** Per partition: PBS count, precisions and ring; the optimizer's estimated cost against one set's. */
function emitPartitions(ctx: Ctx, name: CompilerProgram, c: Circuit, oneSet: Circuit): void {
  const m = c.parameters.multi!, one = oneSet.parameters.params;
  const parts = m.partitions.map((p, i) => `partition ${i}: ${p.pbsCount} PBS at ${p.precisions.join("/")} bits, n = ${p.params.lweDimension}, ` +
    `k = ${p.params.glweDimension}, N = ${p.params.polynomialSize}, p_fail 2^${round(p.log2PFail, 3)}`);
  ctx.emit({
    name: `compiler/partitions/${name}`, section: "compiler", n: 1, unit: "ratio", value: round(m.estimatedCost / m.singleSetCost, 3),
    note: `${parts.join("; ")}; ${m.layout.keyswitches.length} key switch key(s) between partitions, ${m.conversions} conversion(s) per run; ` +
      `one set: n = ${one.lweDimension}, k = ${one.glweDimension}, N = ${one.polynomialSize}; value: estimated cost ÷ one set's`,
  });
}

function benchKeygen(ctx: Ctx, name: CompilerProgram, circuit: Circuit, label = ""): void {
  const cp = circuit.parameters;
  ctx.emit(latency(`compiler/keygen${label}/${name}`, "compiler", sample(() => { circuit.keygen(); }, ctx.plan.keyReps(cp.params), 0), {
    params: cp.params.name,
    note: cp.linearOnly ? "client key only (no lookup: no evaluation keys)"
      : cp.multi !== undefined ? `${cp.multi.partitions.length} partitions: a key pair, BSK and KSK each, and the key switches between them`
      : "client key + evaluation keys (BSK + KSK)",
  }));
}

/** Latency of encryptRunDecrypt with the keys of benchKeygen, each result checked against Circuit.run. */
function benchFhe(ctx: Ctx, name: CompilerProgram, prog: Program, circuit: Circuit, label = ""): void {
  const { plan, emit } = ctx;
  const cp = circuit.parameters;
  const inputs = prog.inputset.slice(2);
  let k = 0, wrong = 0;
  const once = (): void => {
    const x = inputs[k++ % inputs.length]!;
    if (!same(circuit.encryptRunDecrypt(...x), circuit.runClear(...x))) wrong++;
  };
  const t = performance.now();
  once(); // builds the server key (Fourier conversion of the BSK): not part of the latency
  const first = performance.now() - t;
  const runs = sample(once, plan.compilerFheReps, 0);
  const pbs = circuit.encoding.pbsCount;
  const estimated = circuit.statistics.estimatedMs.oneThread;
  emit(latency(`compiler/fhe${label}/${name}`, "compiler", runs, {
    params: cp.params.name, bits: circuit.encoding.bits, pbs_count: pbs,
    note: [
      `encrypt + evaluate + decrypt, keys made before; first run ${round(first)} ms (builds the server key)`,
      pbs > 0 ? `≈ ${round(median(runs) / pbs)} ms per PBS; statistics' estimate ${round(estimated)} ms` : "",
      wrong > 0 ? `WARNING: wrong results in ${wrong} of ${runs.length + 1} runs` : "",
    ].filter((s) => s !== "").join("; "),
  }));
}

/** encryptRunDecryptAsync on a pool of 2 workers: the lookups of each layer spread over both. */
async function benchFhePool(ctx: Ctx, name: CompilerProgram, prog: Program, circuit: Circuit, label = ""): Promise<void> {
  const inputs = prog.inputset.slice(2);
  let k = 0, wrong = 0;
  const once = async (): Promise<void> => {
    const x = inputs[k++ % inputs.length]!;
    if (!same(await circuit.encryptRunDecryptAsync(x, { threads: 2 }), circuit.runClear(...x))) wrong++;
  };
  const t = performance.now();
  await once(); // starts the pool (each worker builds its server key): not part of the latency
  const first = performance.now() - t;
  const runs = await sampleAsync(once, ctx.plan.compilerFheReps, 0);
  const s = circuit.statistics;
  ctx.emit(latency(`compiler/fhe-2-workers${label}/${name}`, "compiler", runs, {
    params: s.parameters.name, bits: s.bits, pbs_count: s.pbsCount,
    note: [
      `encryptRunDecryptAsync on 2 worker threads, lookups layer by layer [${s.lookupLayers.join(", ")}]; ` +
        `first run ${round(first)} ms (starts the pool); statistics' estimate ${round(s.estimatedMs.pool(2))} ms`,
      wrong > 0 ? `WARNING: wrong results in ${wrong} of ${runs.length + 1} runs` : "",
    ].filter((x) => x !== "").join("; "),
  }));
}
