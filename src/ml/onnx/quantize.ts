// Post-training quantization of a lowered float network (Jacob et al. 2018, §2; calibration as in Krishnamoorthi
// 2018, "Quantizing deep convolutional networks for efficient inference", §3): inputs get an affine quantizer
// per feature fitted on the calibration rows; each layer symmetric weights (the input scales folded in), one
// scale per output channel or one per tensor; each hidden relu unit an unsigned code on [0, α_k] with α_k the
// unit's largest (or a percentile of its) activation on the calibration rows. Every unit's lookup reads its
// accumulator rounded to `roundingBits` bits of that unit's sound range (all inputs the circuit accepts).
import type { Matrix } from "../data.js";
import { MlUnsupportedError } from "../errors.js";
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
    if (L.activation?.kind !== "relu") {
      throw new MlUnsupportedError(`ONNX node ${L.activation?.node} (${L.activation?.kind}): between layers only Relu has an encrypted form here (one lookup per unit); the float model (predictFloat) supports it`);
    }
    const acc = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < m; k++) {
        let t = B[k]!;
        for (let j = 0; j < n; j++) t += Q[j * m + k]! * u[i * n + j]!;
        acc[i * m + k] = t;
      }
    }
    const units: Activation[] = Array.from({ length: m }, (_, k) => {
      const v = Float64Array.from({ length: rows }, (_, i) => Math.max(0, sw[k]! * acc[i * m + k]!));
      const peak = Math.max(0, ...v);
      const alpha = o.activationRange === "percentile" ? percentileOf(v, o.percentile) : peak;
      // A unit (almost) never active on the calibration rows keeps its largest value, or a unit step.
      const sa = (alpha > 0 ? alpha : peak > 0 ? peak : sw[k]!) / amax;
      const lsbs = lsbsFor(unitRange(Q, B, n, m, k, lo, hi), o.roundingBits);
      return { lsbs, multiplier: sw[k]! / sa, amax, ...(o.rounding === "exact" ? { exact: true } : {}) };
    });
    out.push({ inputs: n, outputs: m, Q, B, activation: units });
    const tables = units.map(activationTable);
    u = Float64Array.from(acc, (a, k) => tables[k % m]!(roundLsbs(a, units[k % m]!.lsbs)));
    sIn = units.map((a, k) => sw[k]! / a.multiplier);
    zIn = new Float64Array(m);
    lo = 0;
    hi = amax;
  });
  return { encoder, layers: out, scale, bias };
}
