// Post-training quantization of a lowered float network (Jacob et al. 2018, §2; calibration as in Krishnamoorthi
// 2018, "Quantizing deep convolutional networks for efficient inference", §3): inputs get an affine quantizer
// per feature fitted on the calibration rows; each layer symmetric weights (the input scales folded in), one
// scale per output channel or one per tensor; each hidden relu unit an unsigned code on [0, α_k] with α_k the
// unit's largest (or a percentile of its) activation on the calibration rows; any other element-wise function
// an affine code on [lo_k, hi_k], its calibration range widened to hold 0. Every unit's lookup reads its
// accumulator rounded to `roundingBits` bits of that unit's sound range (all inputs the circuit accepts), and
// its table must be defined on all of that range (Sqrt, Log: a clear error otherwise).
import type { Matrix } from "../data.js";
import { MlUnsupportedError } from "../errors.js";
import type { ColumnFn } from "./elementwise.js";
import { AffineQuantizer } from "../quantize.js";
import type { IntegerNetwork } from "../nn/base.js";
import { type Activation, activationTable, type IntegerLayer, lsbsFor, roundLsbs } from "../nn/integer.js";
import type { AffineLayer } from "./graph.js";

export interface PtqOptions {
  readonly inputBits: number;
  readonly weightBits: number;
  readonly activationBits: number;
  /** Bits of the accumulator each lookup reads. */
  readonly roundingBits: number;
  readonly rounding: "approximate" | "exact";
  readonly weightScales: "per-channel" | "per-tensor";
  readonly activationRange: "minmax" | "percentile";
  /** For activationRange "percentile": α_k is this percentile of unit k's activations (e.g. 99.9). */
  readonly percentile: number;
}

/** The p-th percentile (nearest rank) of v, which it sorts. */
function percentileOf(v: Float64Array, p: number): number {
  v.sort();
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
}

/** Unit k's accumulator range over every input code in [lo, hi] (interval arithmetic, as the compiler bounds it). */
function unitRange(Q: Int32Array, B: Int32Array, n: number, m: number, k: number, lo: number, hi: number): { lo: number; hi: number } {
  let a = B[k]!, b = B[k]!;
  for (let j = 0; j < n; j++) {
    const w = Q[j * m + k]!;
    a += Math.min(w * lo, w * hi);
    b += Math.max(w * lo, w * hi);
  }
  return { lo: a, hi: b };
}

/** Symmetric scales of the columns of W [n × m]: max|w|/wmax per column, or the largest for all. */
function weightScales(W: Float64Array, n: number, m: number, wmax: number, perChannel: boolean): Float64Array {
  const s = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let mx = 0;
    for (let j = 0; j < n; j++) mx = Math.max(mx, Math.abs(W[j * m + k]!));
    s[k] = mx > 0 ? mx / wmax : 0;
  }
  const top = Math.max(...s);
  for (let k = 0; k < m; k++) s[k] = perChannel && s[k]! > 0 ? s[k]! : top > 0 ? top : 1;
  return s;
}

/**
 * Refuses a unit whose function is undefined (NaN) somewhere on the rounded accumulators its lookup can read:
 * Sqrt, Log or a division by the unit on a range that crosses their domain.
 */
function checkDefined(g: (x: number) => number, scale: number, range: { lo: number; hi: number }, lsbs: number, ops: readonly string[], node: string): void {
  const step = 2 ** lsbs;
  for (let j = Math.floor(range.lo / step) - 1; j <= Math.ceil(range.hi / step) + 1; j++) {
    const x = scale * j * step;
    if (Number.isNaN(g(x))) {
      throw new MlUnsupportedError(
        `ONNX node ${node} (${ops.join(" → ")}): undefined (NaN) at ${x.toPrecision(4)}, inside the range [${(scale * range.lo).toPrecision(4)}, ${(scale * range.hi).toPrecision(4)}] this unit can take for inputs the circuit accepts; ` +
        "Sqrt, Log, Reciprocal and Pow need their input to stay in their domain for every accepted input (put Abs, Relu or Softplus before them, or Clip)",
      );
    }
  }
}

export function quantizeNetwork(layers: readonly AffineLayer[], X: Matrix, o: PtqOptions): IntegerNetwork {
  const encoder = AffineQuantizer.fit(X, o.inputBits);
  let u: Float64Array = Float64Array.from(encoder.quantize(X).q);
  const rows = X.rows, amax = 2 ** o.activationBits - 1, wmax = 2 ** (o.weightBits - 1) - 1;
  let sIn: ArrayLike<number> = encoder.scale, zIn: ArrayLike<number> = encoder.zeroPoint, lo = 0, hi = encoder.qmax;
  const out: IntegerLayer[] = [];
  let scale: number[] = [], bias: number[] = [];
  layers.forEach((L, l) => {
    const n = L.inputs, m = L.outputs, last = l === layers.length - 1;
    // Real input = s_j·(u_j − z_j): fold s_j into row j, then quantize each column (or the whole matrix).
    const folded = Float64Array.from(L.W, (w, k) => w * sIn[Math.floor(k / m)]!);
    const sw = weightScales(folded, n, m, wmax, o.weightScales === "per-channel");
    const Q = Int32Array.from(folded, (w, k) => Math.round(w / sw[k % m]!));
    const B = Int32Array.from({ length: m }, (_, k) => {
      let zc = 0;
      for (let j = 0; j < n; j++) zc += Q[j * m + k]! * zIn[j]!;
      return (last ? 0 : Math.round(L.b[k]! / sw[k]!)) - zc;
    });
    if (last) {
      out.push({ inputs: n, outputs: m, Q, B });
      scale = Array.from(sw);
      bias = Array.from(L.b);
      return;
    }
    const act = L.activation;
    if (act?.kind !== "elementwise") throw new MlUnsupportedError(`ONNX node ${act?.node} (${act?.kind}): only as the last operator`);
    const relu = act.ops!.length === 1 && act.ops![0] === "Relu";
    const acc = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < m; k++) {
        let t = B[k]!;
        for (let j = 0; j < n; j++) t += Q[j * m + k]! * u[i * n + j]!;
        acc[i * m + k] = t;
      }
    }
    const units: Activation[] = Array.from({ length: m }, (_, k) => {
      const range = unitRange(Q, B, n, m, k, lo, hi), lsbs = lsbsFor(range, o.roundingBits);
      const rounding = o.rounding === "exact" ? { exact: true } : {};
      if (relu) {
        const v = Float64Array.from({ length: rows }, (_, i) => Math.max(0, sw[k]! * acc[i * m + k]!));
        const peak = Math.max(0, ...v);
        const alpha = o.activationRange === "percentile" ? percentileOf(v, o.percentile) : peak;
        // A unit (almost) never active on the calibration rows keeps its largest value, or a unit step.
        const sa = (alpha > 0 ? alpha : peak > 0 ? peak : sw[k]!) / amax;
        return { lsbs, multiplier: sw[k]! / sa, amax, ...rounding };
      }
      const f: ColumnFn = act.f!, g = (x: number): number => f(x, k);
      checkDefined(g, sw[k]!, range, lsbs, act.ops!, act.node);
      const v = Float64Array.from({ length: rows }, (_, i) => g(sw[k]! * acc[i * m + k]!));
      let vlo: number, vhi: number;
      if (o.activationRange === "percentile") {
        vhi = percentileOf(Float64Array.from(v), o.percentile);
        vlo = percentileOf(Float64Array.from(v), 100 - o.percentile);
      } else {
        vlo = Math.min(...v);
        vhi = Math.max(...v);
      }
      // The code range holds 0 (a zero-point that is an exact code); a constant unit gets a unit step.
      vlo = Math.min(0, vlo);
      vhi = Math.max(0, vhi);
      const outScale = vhi > vlo ? (vhi - vlo) / amax : Math.max(Math.abs(vlo), sw[k]!) / amax;
      const zero = Math.round(-vlo / outScale);
      return { lsbs, multiplier: sw[k]! / outScale, amax, ...rounding, fn: { f: g, scale: sw[k]!, outScale, zero } };
    });
    out.push({ inputs: n, outputs: m, Q, B, activation: units });
    const tables = units.map(activationTable);
    u = Float64Array.from(acc, (a, k) => tables[k % m]!(roundLsbs(a, units[k % m]!.lsbs)));
    sIn = units.map((a, k) => sw[k]! / a.multiplier);
    zIn = Float64Array.from(units, (a) => a.fn?.zero ?? 0);
    lo = 0;
    hi = amax;
  });
  return { encoder, layers: out, scale, bias };
}
