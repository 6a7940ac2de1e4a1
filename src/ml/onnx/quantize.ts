// Post-training quantization of a lowered float network (Jacob et al. 2018, §2; calibration as in Krishnamoorthi
// 2018, "Quantizing deep convolutional networks for efficient inference", §3): inputs get an affine quantizer
// per feature fitted on the calibration rows, each layer symmetric per-tensor weights (the input scales folded
// in), each hidden relu an unsigned code on [0, α] with α the largest activation on the calibration rows.
import type { Matrix } from "../data.js";
import { MlUnsupportedError } from "../errors.js";
import { AffineQuantizer } from "../quantize.js";
import type { IntegerNetwork } from "../nn/base.js";
import { accumulatorRange, activationTable, type IntegerLayer, lsbsFor, roundLsbs } from "../nn/integer.js";
import type { AffineLayer } from "./graph.js";

export interface PtqOptions {
  readonly nBits: number;
  readonly weightBits: number;
  readonly activationBits: number;
  readonly lookupBits: number;
}

export function quantizeNetwork(layers: readonly AffineLayer[], X: Matrix, o: PtqOptions): IntegerNetwork {
  const encoder = AffineQuantizer.fit(X, o.nBits);
  let u: Float64Array = Float64Array.from(encoder.quantize(X).q);
  const rows = X.rows, amax = 2 ** o.activationBits - 1, wmax = 2 ** (o.weightBits - 1) - 1;
  let sIn: ArrayLike<number> = encoder.scale, zIn: ArrayLike<number> = encoder.zeroPoint, lo = 0, hi = encoder.qmax;
  const out: IntegerLayer[] = [];
  let scale: number[] = [], bias: number[] = [];
  layers.forEach((L, l) => {
    const n = L.inputs, m = L.outputs, last = l === layers.length - 1;
    const folded = Float64Array.from(L.W, (w, k) => w * sIn[Math.floor(k / m)]!);
    let mx = 0;
    for (const w of folded) mx = Math.max(mx, Math.abs(w));
    const sw = mx > 0 ? mx / wmax : 1;
    const Q = Int32Array.from(folded, (w) => Math.round(w / sw));
    const B = Int32Array.from({ length: m }, (_, k) => {
      let zc = 0;
      for (let j = 0; j < n; j++) zc += Q[j * m + k]! * zIn[j]!;
      return (last ? 0 : Math.round(L.b[k]! / sw)) - zc;
    });
    if (last) {
      out.push({ inputs: n, outputs: m, Q, B });
      scale = Array.from({ length: m }, () => sw);
      bias = Array.from(L.b);
      return;
    }
    if (L.activation?.kind !== "relu") {
      throw new MlUnsupportedError(`ONNX node ${L.activation?.node} (${L.activation?.kind}): between layers only Relu has an encrypted form here (one lookup per unit); the float model (predictFloat) supports it`);
    }
    const acc = new Float64Array(rows * m);
    let peak = 0;
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < m; k++) {
        let t = B[k]!;
        for (let j = 0; j < n; j++) t += Q[j * m + k]! * u[i * n + j]!;
        acc[i * m + k] = t;
        peak = Math.max(peak, sw * t);
      }
    }
    const lsbs = lsbsFor(accumulatorRange({ inputs: n, outputs: m, Q, B }, lo, hi), o.lookupBits);
    const sa = (peak > 0 ? peak : 1) / amax;
    const activation = { lsbs, multiplier: sw / sa, amax };
    const table = activationTable(activation);
    out.push({ inputs: n, outputs: m, Q, B, activation });
    u = Float64Array.from(acc, (a) => table(roundLsbs(a, lsbs)));
    sIn = new Float64Array(m).fill(sa);
    zIn = new Float64Array(m);
    lo = 0;
    hi = amax;
  });
  return { encoder, layers: out, scale, bias };
}
