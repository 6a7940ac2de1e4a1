// CART (Breiman et al. 1984) on quantized features, grown depth-first with histogram split search: every
// feature is an integer in [0, bins), so the best threshold of a node is one prefix scan per feature over
// per-bin sums. One builder serves three criteria, each the sum over the children of a score of the
// children's summed statistics:
//   gini  stats = one-hot class (weighted), score(s) = Σ_k s_k² / Σ_k s_k   (max ⇔ min weighted Gini)
//   mse   stats = (1, y),                    score(s) = s₁² / s₀             (max ⇔ min squared error)
//   xgb   stats = (g, h),                    score(s) = G² / (H + λ)          (Chen & Guestrin 2016, eq. 7)
import type { Tree } from "./ensemble.js";

export type Criterion = "gini" | "mse" | "xgb";

export interface GrowOptions {
  readonly criterion: Criterion;
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  /** Features tried per split (random subset when < features). */
  readonly maxFeatures: number;
  /** xgb: L2 penalty on leaf weights, minimum hessian per child, minimum gain, leaf scale (learning rate). */
  readonly lambda?: number;
  readonly minChildWeight?: number;
  readonly gamma?: number;
  readonly eta?: number;
  readonly random: () => number;
}

export interface GrowData {
  /** Quantized rows, row-major, `features` wide, values in [0, bins). */
  readonly q: Int32Array;
  readonly features: number;
  readonly bins: number;
  /** Per row statistics, `dims` wide (see the criteria above). */
  readonly stats: Float64Array;
  readonly dims: number;
  /** Outputs of a leaf (the class distribution for gini, else 1). */
  readonly outputs: number;
}

function score(c: Criterion, s: Float64Array | number[], off: number, dims: number, lambda: number): number {
  if (c === "gini") {
    let tot = 0, sq = 0;
    for (let k = 0; k < dims; k++) {
      tot += s[off + k]!;
      sq += s[off + k]! ** 2;
    }
    return tot > 0 ? sq / tot : 0;
  }
  if (c === "mse") return s[off]! > 0 ? s[off + 1]! ** 2 / s[off]! : 0;
  return s[off]! ** 2 / (s[off + 1]! + lambda);
}

function leafValue(c: Criterion, s: Float64Array, o: GrowOptions): number[] {
  if (c === "gini") {
    const tot = s.reduce((a, b) => a + b, 0);
    return Array.from(s, (v) => v / tot);
  }
  if (c === "mse") return [s[1]! / s[0]!];
  return [(-s[0]! / (s[1]! + (o.lambda ?? 1))) * (o.eta ?? 1)];
}

/** Grows one tree on the rows `rows` (indices into data, repeated for bootstrap samples). */
export function growTree(data: GrowData, rows: Int32Array, o: GrowOptions): Tree {
  const { q, features: F, bins, stats, dims, outputs } = data;
  const lambda = o.lambda ?? 1;
  const feature: number[] = [], threshold: number[] = [], left: number[] = [], right: number[] = [], value: number[] = [];
  const hist = new Float64Array(bins * dims), counts = new Int32Array(bins);
  const sumOf = (idx: Int32Array): Float64Array => {
    const s = new Float64Array(dims);
    for (const r of idx) for (let d = 0; d < dims; d++) s[d]! += stats[r * dims + d]!;
    return s;
  };
  const node = (idx: Int32Array, depth: number): number => {
    const id = feature.length;
    feature.push(0); threshold.push(0); left.push(-1); right.push(-1);
    const total = sumOf(idx);
    const leaf = (): number => {
      value.length = Math.max(value.length, (id + 1) * outputs);
      leafValue(o.criterion, total, o).forEach((v, k) => (value[id * outputs + k] = v));
      return id;
    };
    if (depth >= o.maxDepth || idx.length < o.minSamplesSplit || idx.length < 2 * o.minSamplesLeaf) return leaf();
    const parent = score(o.criterion, total, 0, dims, lambda);
    let best = { gain: 1e-12 * Math.max(1, Math.abs(parent)), f: -1, t: -1 };
    if (o.criterion === "xgb") best.gain = Math.max(best.gain, 2 * (o.gamma ?? 0));
    // Features tried at this node: all, or a random subset of maxFeatures (Fisher–Yates prefix).
    const order = Array.from({ length: F }, (_, j) => j);
    for (let k = 0; o.maxFeatures < F && k < o.maxFeatures; k++) {
      const j = k + Math.floor(o.random() * (F - k));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    const leftSum = new Float64Array(dims);
    for (const f of order.slice(0, Math.min(o.maxFeatures, F))) {
      hist.fill(0); counts.fill(0);
      for (const r of idx) {
        const b = q[r * F + f]!;
        counts[b]!++;
        for (let d = 0; d < dims; d++) hist[b * dims + d]! += stats[r * dims + d]!;
      }
      leftSum.fill(0);
      let nLeft = 0;
      for (let t = 0; t < bins - 1; t++) {
        if (counts[t] === 0) continue;
        nLeft += counts[t]!;
        for (let d = 0; d < dims; d++) leftSum[d]! += hist[t * dims + d]!;
        const nRight = idx.length - nLeft;
        if (nLeft < o.minSamplesLeaf || nRight < o.minSamplesLeaf) continue;
        if (nRight === 0) break;
        const rightSum = Array.from(total, (v, d) => v - leftSum[d]!);
        if (o.criterion === "xgb" && (leftSum[1]! < (o.minChildWeight ?? 1) || rightSum[1]! < (o.minChildWeight ?? 1))) continue;
        const gain = score(o.criterion, leftSum, 0, dims, lambda) + score(o.criterion, rightSum, 0, dims, lambda) - parent;
        if (gain > best.gain) best = { gain, f, t };
      }
    }
    if (best.f < 0) return leaf();
    const li: number[] = [], ri: number[] = [];
    for (const r of idx) (q[r * F + best.f]! <= best.t ? li : ri).push(r);
    feature[id] = best.f;
    threshold[id] = best.t;
    value.length = Math.max(value.length, (id + 1) * outputs);
    for (let k = 0; k < outputs; k++) value[id * outputs + k] = 0;
    left[id] = node(Int32Array.from(li), depth + 1);
    right[id] = node(Int32Array.from(ri), depth + 1);
    return id;
  };
  node(rows, 0);
  return {
    feature: Int32Array.from(feature), threshold: Int32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right),
    value: Float64Array.from({ length: feature.length * outputs }, (_, k) => value[k] ?? 0),
  };
}
