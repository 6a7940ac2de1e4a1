// A tree ensemble as a circuit, in the manner of Frery et al. 2023 ("Privacy-Preserving Tree-Based Inference
// with TFHE", §3): every distinct test q_f ≤ t is one lookup of the encrypted feature (0/1); a clear matrix A
// maps the test bits to, per leaf, the number of tests on its path that went its way, minus the path length
// (s_l = Aᵀc + r_l − depth_l ∈ [−depth_l, 0]); one lookup per leaf turns s_l = 0 into the leaf indicator;
// a clear matrix M of quantized leaf values sums the indicators into the outputs. Leaf values are
// quantized per tree to non-negative integers (value = m_t + s·q), and because the compiler bounds a sum of
// indicators by the sum of all their weights (it cannot know that one leaf per tree is active), each output
// column holds as many leaves as fit the message space; the client adds the columns of one output up.
import { Tracer } from "../../compiler/index.js";
import { MlUnsupportedError } from "../errors.js";
import { IntegerCircuit, type MlCompileOptions } from "../fhe.js";
import { type Ensemble, leafDepths, leafOf, type Tree } from "./ensemble.js";

export interface TreePlan {
  readonly circuit: IntegerCircuit;
  /** The trees with a split (the others are constants in `offset`). */
  readonly trees: readonly Tree[];
  /** Per tree: node → list of (column, integer) its leaf adds when active. */
  readonly contributions: readonly Map<number, [number, number][]>[];
  /** Output each column adds into. */
  readonly columnOutput: Int32Array;
  /** raw[o] = base[o] + scale·(offset[o] + leafScale·Σ columns of o). */
  readonly offset: Float64Array;
  readonly leafScale: number;
  readonly comparisons: number;
  readonly leaves: number;
}

export function planTrees(e: Ensemble, features: number, qmax: number, leafBits: number, batchSize: number, options: MlCompileOptions): TreePlan {
  const O = e.outputs;
  const offset = new Float64Array(O);
  const split = e.trees.filter((t) => t.left[0]! >= 0);
  // Constant trees (a single leaf) add their value in the clear.
  for (const t of e.trees) if (t.left[0]! < 0) for (let o = 0; o < O; o++) offset[o]! += t.value[o]!;
  if (split.length === 0) throw new MlUnsupportedError("the ensemble is constant (no tree has a split): there is nothing to compute in FHE");
  // Per tree and output: m_t,o = min over leaves; the common step s spreads the widest span over leafBits.
  const leavesOf = split.map((t) => [...leafDepths(t).keys()]);
  let span = 0;
  const mins = split.map((t, k) => Array.from({ length: O }, (_, o) => {
    const vals = leavesOf[k]!.map((l) => t.value[l * O + o]!);
    const lo = Math.min(...vals);
    span = Math.max(span, Math.max(...vals) - lo);
    return lo;
  }));
  const leafScale = span > 0 ? span / (2 ** leafBits - 1) : 1;
  mins.forEach((m) => m.forEach((v, o) => (offset[o]! += v)));
  // Leaves whose quantized values are all 0 (at least the lowest leaf of each tree) add nothing: they get
  // no lookup, and a test only they depend on gets none either.
  const quantized = (t: number, node: number, o: number): number => Math.round((split[t]!.value[node * O + o]! - mins[t]![o]!) / leafScale);
  const cmpIndex = new Map<string, number>();
  const cmps: { f: number; t: number }[] = [];
  const leafRows: { tree: number; node: number; coeffs: Map<number, number>; r: number; depth: number }[] = [];
  split.forEach((t, k) => {
    const walk = (i: number, path: [number, boolean][]): void => {
      if (t.left[i]! >= 0) {
        walk(t.left[i]!, [...path, [i, true]]);
        walk(t.right[i]!, [...path, [i, false]]);
        return;
      }
      if (Array.from({ length: O }, (_, o) => quantized(k, i, o)).every((q) => q === 0)) return;
      const coeffs = new Map<number, number>();
      let r = 0;
      for (const [node, goesLeft] of path) {
        const key = `${t.feature[node]},${t.threshold[node]}`;
        let c = cmpIndex.get(key);
        if (c === undefined) {
          c = cmps.length;
          cmpIndex.set(key, c);
          cmps.push({ f: t.feature[node]!, t: t.threshold[node]! });
        }
        coeffs.set(c, (coeffs.get(c) ?? 0) + (goesLeft ? 1 : -1));
        if (!goesLeft) r++;
      }
      leafRows.push({ tree: k, node: i, coeffs, r, depth: path.length });
    };
    walk(0, []);
  });
  if (leafRows.length === 0) throw new MlUnsupportedError(`every leaf value quantizes to its tree's minimum at leafBits = ${leafBits}: the model is constant in FHE`);
  const U = cmps.length, L = leafRows.length;
  const maxDepth = Math.max(...leafRows.map((l) => l.depth));
  // Message space of the lookups: the features (qmax) and s ∈ [−depth, 0]; outputs may use its whole width.
  const bits = Math.max(Math.ceil(Math.log2(qmax + 1)), Math.ceil(Math.log2(maxDepth + 1)));
  const cap = 2 ** (bits + 1) - 1;
  const columnOutput: number[] = [];
  const cells: [number, number, number][] = []; // leaf row, column, value
  for (let o = 0; o < O; o++) {
    let col = -1, used = cap + 1;
    leafRows.forEach((lr, li) => {
      const q = quantized(lr.tree, lr.node, o);
      if (q === 0) return;
      if (used + q > cap) {
        col = columnOutput.length;
        columnOutput.push(o);
        used = 0;
      }
      used += q;
      cells.push([li, col, q]);
    });
  }
  const G = columnOutput.length;
  const A = Array.from({ length: U }, () => new Array<number>(L).fill(0));
  leafRows.forEach((lr, li) => lr.coeffs.forEach((v, c) => (A[c]![li] = v)));
  const shift = leafRows.map((lr) => lr.r - lr.depth);
  const M = Array.from({ length: L }, () => new Array<number>(G).fill(0));
  for (const [li, g, q] of cells) M[li]![g] = q;
  const contributions = split.map(() => new Map<number, [number, number][]>());
  for (const [li, g, q] of cells) {
    const lr = leafRows[li]!, m = contributions[lr.tree]!;
    m.set(lr.node, [...(m.get(lr.node) ?? []), [g, q]]);
  }
  const fn = (x: Tracer): Tracer => {
    const columns = new Map<number, Tracer>();
    const bitsOf = cmps.map(({ f, t }) => {
      let col = columns.get(f);
      if (col === undefined) columns.set(f, (col = x.index(null, f)));
      return col.le(t);
    });
    const c = Tracer.stack(bitsOf, 1); // [B, U]
    const s = c.matmul(A).add(shift); // [B, L], 0 exactly at the active leaf of each tree
    return s.eq(0).matmul(M); // [B, G]
  };
  const circuit = new IntegerCircuit(fn, features, G, qmax, batchSize, options);
  return { circuit, trees: split, contributions, columnOutput: Int32Array.from(columnOutput), offset, leafScale, comparisons: U, leaves: L };
}

/** The circuit's outputs computed in the clear by walking the trees (the "disable" mode). */
export function integerReference(plan: TreePlan, q: Int32Array, rows: number, features: number): Float64Array {
  const { trees } = plan;
  const G = plan.columnOutput.length, out = new Float64Array(rows * G);
  for (let r = 0; r < rows; r++) {
    trees.forEach((t, k) => {
      for (const [g, v] of plan.contributions[k]!.get(leafOf(t, q, r * features)) ?? []) out[r * G + g]! += v;
    });
  }
  return out;
}
