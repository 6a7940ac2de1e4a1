// Tree ensembles on quantized (integer) features: node i tests q[feature[i]] ≤ threshold[i] and goes left
// when it holds. raw[o] = base[o] + scale·Σ_trees value[leaf, o].
import { MlInputError } from "../errors.js";

export interface Tree {
  readonly feature: Int32Array;
  readonly threshold: Int32Array;
  /** Children, −1 at leaves. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** nodes × outputs, row-major; only leaves' rows are used. */
  readonly value: Float64Array;
}

export interface Ensemble {
  readonly trees: readonly Tree[];
  readonly outputs: number;
  readonly base: Float64Array;
  readonly scale: number;
}

export interface TreeJSON {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface EnsembleJSON {
  trees: TreeJSON[];
  outputs: number;
  base: number[];
  scale: number;
}

/** Index of the leaf row q (row-major, `features` wide, starting at `off`) reaches. */
export function leafOf(t: Tree, q: ArrayLike<number>, off: number): number {
  let i = 0;
  while (t.left[i]! >= 0) i = q[off + t.feature[i]!]! <= t.threshold[i]! ? t.left[i]! : t.right[i]!;
  return i;
}

/** raw outputs [rows × outputs] of the ensemble on quantized rows. */
export function evaluateEnsemble(e: Ensemble, q: ArrayLike<number>, rows: number, features: number): Float64Array {
  const O = e.outputs, out = new Float64Array(rows * O);
  for (let r = 0; r < rows; r++) {
    for (const t of e.trees) {
      const leaf = leafOf(t, q, r * features);
      for (let o = 0; o < O; o++) out[r * O + o]! += t.value[leaf * O + o]!;
    }
    for (let o = 0; o < O; o++) out[r * O + o] = e.base[o]! + e.scale * out[r * O + o]!;
  }
  return out;
}

/** Depth of every leaf (root at depth 0). */
export function leafDepths(t: Tree): Map<number, number> {
  const out = new Map<number, number>();
  const walk = (i: number, d: number): void => {
    if (t.left[i]! < 0) out.set(i, d);
    else {
      walk(t.left[i]!, d + 1);
      walk(t.right[i]!, d + 1);
    }
  };
  walk(0, 0);
  return out;
}

export function ensembleToJSON(e: Ensemble): EnsembleJSON {
  return {
    trees: e.trees.map((t) => ({ feature: [...t.feature], threshold: [...t.threshold], left: [...t.left], right: [...t.right], value: [...t.value] })),
    outputs: e.outputs, base: [...e.base], scale: e.scale,
  };
}

/** Checks the structure (children in range and acyclic: each child index greater than its parent's). */
export function ensembleFromJSON(j: EnsembleJSON, features: number): Ensemble {
  const bad = (why: string): never => {
    throw new MlInputError(`tree ensemble JSON: ${why}`);
  };
  if (!Array.isArray(j?.trees) || j.trees.length === 0) bad("no trees");
  const O = j.outputs;
  if (!Number.isInteger(O) || O < 1 || j.base?.length !== O || !Number.isFinite(j.scale)) bad("outputs, base and scale do not agree");
  const trees = j.trees.map((t, k): Tree => {
    const n = t.feature?.length;
    if (!(n > 0) || [t.threshold, t.left, t.right].some((a) => a?.length !== n) || t.value?.length !== n * O) bad(`tree ${k}: arrays of different lengths`);
    for (let i = 0; i < n; i++) {
      const l = t.left[i]!, r = t.right[i]!;
      if ((l < 0) !== (r < 0)) bad(`tree ${k}: node ${i} has one child`);
      if (l >= 0 && !(l > i && r > i && l < n && r < n)) bad(`tree ${k}: node ${i}'s children out of order or range`);
      if (l >= 0 && !(Number.isInteger(t.feature[i]) && t.feature[i]! >= 0 && t.feature[i]! < features)) bad(`tree ${k}: node ${i} tests feature ${t.feature[i]}`);
    }
    if (!t.value.every(Number.isFinite)) bad(`tree ${k}: non-finite leaf value`);
    return { feature: Int32Array.from(t.feature), threshold: Int32Array.from(t.threshold), left: Int32Array.from(t.left), right: Int32Array.from(t.right), value: Float64Array.from(t.value) };
  });
  return { trees, outputs: O, base: Float64Array.from(j.base), scale: j.scale };
}
