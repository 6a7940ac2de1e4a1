// From the circuit's decrypted integers to predictions, in the clear on the client: dequantization (the
// affine map of a linear model, or the leaf-value columns of a tree ensemble), then the link.
import { MlInputError } from "./errors.js";

export type Label = number | string;

/**
 * How dequantized scores become outputs: identity/exp/logistic (regressors' values), logistic/softmax/proba/ovr
 * (probabilities; ovr: one sigmoid per class, normalized to sum 1), margin (no probabilities).
 */
export type Link = "identity" | "exp" | "logistic" | "softmax" | "proba" | "ovr" | "margin";

export type Dequantizer =
  /** y_k = scale_k·acc_k + bias_k. */
  | { readonly kind: "affine"; readonly scale: readonly number[]; readonly bias: readonly number[] }
  /** raw_o = base_o + scale·(offset_o + leafScale·Σ_{columns g of o} acc_g). */
  | {
    readonly kind: "columns"; readonly columnOutput: readonly number[]; readonly offset: readonly number[];
    readonly leafScale: number; readonly base: readonly number[]; readonly scale: number;
  };

/** Scores [rows × outputs] from the circuit's integer columns [rows × columns]. */
export function dequantize(d: Dequantizer, acc: ArrayLike<number>, rows: number): Float64Array {
  if (d.kind === "affine") {
    const K = d.scale.length;
    return Float64Array.from({ length: rows * K }, (_, k) => d.scale[k % K]! * acc[k]! + d.bias[k % K]!);
  }
  const O = d.base.length, G = d.columnOutput.length, out = new Float64Array(rows * O);
  for (let r = 0; r < rows; r++) {
    const sum = new Float64Array(O);
    for (let g = 0; g < G; g++) sum[d.columnOutput[g]!]! += acc[r * G + g]!;
    for (let o = 0; o < O; o++) out[r * O + o] = d.base[o]! + d.scale * (d.offset[o]! + d.leafScale * sum[o]!);
  }
  return out;
}

/** Column count the dequantizer reads per row. */
export function columnsOf(d: Dequantizer): number {
  return d.kind === "affine" ? d.scale.length : d.columnOutput.length;
}

/** One score per row: class 1 when positive; several: the argmax. */
export function labelsOf(scores: Float64Array, rows: number, classes: readonly Label[]): Label[] {
  const K = scores.length / rows;
  return Array.from({ length: rows }, (_, i) => {
    if (K === 1) return classes[scores[i]! > 0 ? 1 : 0]!;
    let best = 0;
    for (let k = 1; k < K; k++) if (scores[i * K + k]! > scores[i * K + best]!) best = k;
    return classes[best]!;
  });
}

export function probabilitiesOf(scores: Float64Array, rows: number, link: Link): number[][] {
  const K = scores.length / rows;
  if (link !== "logistic" && link !== "softmax" && link !== "proba" && link !== "ovr") throw new MlInputError(`this model has no probabilities (link ${link})`);
  return Array.from({ length: rows }, (_, i) => {
    const r = Array.from(scores.subarray(i * K, (i + 1) * K));
    if (link === "logistic") {
      const p = 1 / (1 + Math.exp(-r[0]!));
      return [1 - p, p];
    }
    if (link === "softmax") {
      const m = Math.max(...r), e = r.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    }
    if (link === "ovr") {
      const p = r.map((v) => 1 / (1 + Math.exp(-v))), z = p.reduce((a, b) => a + b, 0);
      return p.map((v) => v / z);
    }
    // Averaged class distributions: clipped at 0 (quantization) and renormalized.
    const c = r.map((v) => Math.max(0, v)), z = c.reduce((a, b) => a + b, 0);
    return z > 0 ? c.map((v) => v / z) : c.map(() => 1 / K);
  });
}

/** A regressor's values: the scores through its inverse link (exp: log link; logistic: logit link). */
export function valuesOf(scores: Float64Array, link: Link): number[] {
  if (link === "logistic") return Array.from(scores, (v) => 1 / (1 + Math.exp(-v)));
  return link === "exp" ? Array.from(scores, Math.exp) : Array.from(scores);
}
