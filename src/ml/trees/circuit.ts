// A tree ensemble as a circuit, in the manner of Frery et al. 2023 ("Privacy-Preserving Tree-Based Inference
// with TFHE", §3): every distinct test q_f ≤ t is one lookup of the encrypted feature (0/1; the tests of one
// feature share a blind rotation where the precision leaves room, runtime/fusion.ts); a clear matrix maps
// the test bits to, per parent of leaves P, the number of tests on its path that went its way minus the
// path length (s_P ∈ [−depth_P, 0], 0 exactly when P is reached), and z_P = 2·s_P + c_P with P's own test
// c_P: z_P = 1 when P's left leaf is the active one, 0 when its right leaf is, negative otherwise. Two
// lookups of z_P (z = 1, z = 0) give both leaf indicators from one blind rotation (many-LUT), half the PBS
// of one lookup per leaf; their sum's noise is counted as correlated (compiler/norms.ts). A clear matrix M
// of quantized leaf values sums the indicators into the outputs. Leaf values are quantized per tree to
// non-negative integers (value = m_t + s·q), and because the compiler bounds a sum of indicators by the sum
// of all their weights (it cannot know that one leaf per tree is active), each output column holds as many
// leaves as fit the message space; the client adds the columns of one output up.
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
  const cmpOf = (t: Tree, node: number): number => {
    const key = `${t.feature[node]},${t.threshold[node]}`;
    let c = cmpIndex.get(key);
    if (c === undefined) {
      c = cmps.length;
      cmpIndex.set(key, c);
      cmps.push({ f: t.feature[node]!, t: t.threshold[node]! });
    }
    return c;
  };
  const isLeaf = (t: Tree, i: number): boolean => t.left[i]! < 0;
  const counts = (k: number, i: number): boolean => isLeaf(split[k]!, i) && Array.from({ length: O }, (_, o) => quantized(k, i, o)).some((q) => q !== 0);
  // Parents of leaves that add something: z_P = Σ coeffs·c + shift, leaves[0] its left leaf, [1] its right
  // (−1 where that child is an inner node or adds nothing).
  const parents: { tree: number; coeffs: Map<number, number>; shift: number; depth: number; leaves: [number, number] }[] = [];
  split.forEach((t, k) => {
    const walk = (i: number, path: [number, boolean][]): void => {
      if (isLeaf(t, i)) return;
      const [l, r] = [t.left[i]!, t.right[i]!];
      if (counts(k, l) || counts(k, r)) {
        const coeffs = new Map<number, number>();
        let matched = 0;
        for (const [node, goesLeft] of path) {
          const c = cmpOf(t, node);
          coeffs.set(c, (coeffs.get(c) ?? 0) + 2 * (goesLeft ? 1 : -1));
          if (!goesLeft) matched++;
        }
        const own = cmpOf(t, i);
        coeffs.set(own, (coeffs.get(own) ?? 0) + 1);
        parents.push({ tree: k, coeffs, shift: 2 * (matched - path.length), depth: path.length, leaves: [counts(k, l) ? l : -1, counts(k, r) ? r : -1] });
      }
      walk(l, [...path, [i, true]]);
      walk(r, [...path, [i, false]]);
    };
    walk(0, []);
  });
  if (parents.length === 0) throw new MlUnsupportedError(`every leaf value quantizes to its tree's minimum at leafBits = ${leafBits}: the model is constant in FHE`);
  const U = cmps.length, P = parents.length;
  const maxDepth = Math.max(...parents.map((p) => p.depth)) + 1;
  // Message space of the lookups: the features (qmax) and s ∈ [−depth, 0]; outputs may use its whole width.
  const bits = Math.max(Math.ceil(Math.log2(qmax + 1)), Math.ceil(Math.log2(maxDepth + 1)));
  const cap = 2 ** (bits + 1) - 1;
  // Indicator rows: 2p + side (side 0: z = 1, the left leaf; side 1: z = 0, the right leaf).
  const columnOutput: number[] = [];
  const cells: [number, number, number, number][] = []; // parent, side, column, value
  for (let o = 0; o < O; o++) {
    let col = -1, used = cap + 1;
    parents.forEach((pr, pi) => pr.leaves.forEach((leaf, side) => {
      if (leaf < 0) return;
      const q = quantized(pr.tree, leaf, o);
      if (q === 0) return;
      if (used + q > cap) {
        col = columnOutput.length;
        columnOutput.push(o);
        used = 0;
      }
      used += q;
      cells.push([pi, side, col, q]);
    }));
  }
  const G = columnOutput.length;
  const A = Array.from({ length: U }, () => new Array<number>(P).fill(0));
  parents.forEach((pr, pi) => pr.coeffs.forEach((v, c) => (A[c]![pi] = v)));
  const shift = parents.map((pr) => pr.shift);
  const M = [0, 1].map(() => Array.from({ length: P }, () => new Array<number>(G).fill(0)));
  for (const [pi, side, g, q] of cells) M[side]![pi]![g] = q;
  const contributions = split.map(() => new Map<number, [number, number][]>());
  for (const [pi, side, g, q] of cells) {
    const pr = parents[pi]!, m = contributions[pr.tree]!, leaf = pr.leaves[side]!;
    m.set(leaf, [...(m.get(leaf) ?? []), [g, q]]);
  }
  const leaves = parents.reduce((n, pr) => n + pr.leaves.filter((l) => l >= 0).length, 0);
  const fn = (x: Tracer): Tracer => {
    const columns = new Map<number, Tracer>();
    const bitsOf = cmps.map(({ f, t }) => {
      let col = columns.get(f);
      if (col === undefined) columns.set(f, (col = x.index(null, f)));
      return col.le(t);
    });
    const c = Tracer.stack(bitsOf, 1); // [B, U]
    const z = c.matmul(A).add(shift); // [B, P]: 1 or 0 exactly at the parent of each tree's active leaf
    // Two lookups of one input: one blind rotation per parent gives both of its leaf indicators.
    return z.eq(1).matmul(M[0]!).add(z.eq(0).matmul(M[1]!)); // [B, G]
  };
  const circuit = new IntegerCircuit(fn, features, G, qmax, batchSize, options);
  return { circuit, trees: split, contributions, columnOutput: Int32Array.from(columnOutput), offset, leafScale, comparisons: U, leaves };
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
