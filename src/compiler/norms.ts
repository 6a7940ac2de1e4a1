// Σw² of every encrypted node: the squared 2-norm of the weights that the linear ops since the last lookup
// apply to fresh ciphertexts (encrypted inputs and lookup outputs). The noise variance of a node is
// Σw²·σ² when its sources have variance σ², so this (with the lookup precision) sizes the parameters.
//
// Each element keeps its exact coefficient on every source rather than only a norm: x + x must give
// w = 2 (Σw² = 4), not 1 + 1 as adding norms would, and x − x must cancel. Weights that vary at run time
// (clear inputs) enter as intervals, so the result stays an upper bound.
import type { Graph, Node } from "../runtime/ir.js";
import * as k from "../runtime/tensor-ops.js";
import { broadcastMap, sizeOf } from "../runtime/shape.js";

interface Interval {
  lo: number;
  hi: number;
}
/** Coefficient interval per source (a source is one element of an input, lookup or round node). */
type Combination = Map<number, Interval>;

/** Clear weights of a node, element-wise: exact values for constants, else the node's range. */
export type ClearWeights = (id: number) => Interval[];

function scale(c: Combination, w: Interval, into: Combination = new Map()): Combination {
  for (const [s, v] of c) {
    const p = [v.lo * w.lo, v.lo * w.hi, v.hi * w.lo, v.hi * w.hi];
    const add = { lo: Math.min(...p), hi: Math.max(...p) };
    const prev = into.get(s);
    into.set(s, prev === undefined ? add : { lo: prev.lo + add.lo, hi: prev.hi + add.hi });
  }
  return into;
}

const ONE: Interval = { lo: 1, hi: 1 };
const MINUS_ONE: Interval = { lo: -1, hi: -1 };

function squaredNorm(c: Combination): number {
  let s = 0;
  for (const { lo, hi } of c.values()) s += Math.max(lo * lo, hi * hi);
  return s;
}

/** Reorders elements the way a structural op moves them: run the op on a tensor of element indices. */
function gather(src: readonly Combination[], moved: Float64Array): Combination[] {
  return Array.from(moved, (i) => src[i]!);
}

/** Max Σw² over the elements of each node (0 for clear nodes), indexed by node id. */
export function squaredNorms(graph: Graph, clearWeights: ClearWeights): number[] {
  return squaredNormsBySource(graph, clearWeights).total;
}

/** Σw² per node (max over its elements), in total and by kind of source. */
export interface NormsBySource {
  readonly total: number[];
  readonly fresh: number[];
  readonly pbs: number[];
}

/**
 * The fused group of a lookup or round node (any key shared by the members of one many-LUT group), or
 * undefined when its PBS is its own: element i of every member of a group comes out of the same rotation.
 */
export type CorrelatedOutputs = (node: number) => number | undefined;

/**
 * Σw² per node split by the kind of source: fresh encryptions of inputs (variance σ_glwe² each) and
 * bootstrap outputs (lookups; the PBS output variance each). Each is the max over the node's elements, so
 * fresh·σ_glwe² + pbs·σ_pbs² bounds every element's variance.
 */
export function squaredNormsBySource(
  graph: Graph, clearWeights: ClearWeights, roundWeight: (node: number) => number = () => 1,
  correlated?: CorrelatedOutputs,
): NormsBySource {
  const combos: (Combination[] | undefined)[] = [];
  let nextSource = 0;
  const isPbs: boolean[] = [];
  // Correlation class of each source (sources of one fused rotation share one; the others are alone).
  const classOf: number[] = [];
  const classes = new Map<string, number>();
  let current: Node | undefined;
  // An exact round adds its correction's noise: one bootstrap output (a lookup), or for a wide input the
  // extracted bits b_j weighted 2^j (bit extraction, encoding.ts), whose Σ 4^j `roundWeight` gives.
  const fresh = (n: number, base: readonly Combination[] = []): Combination[] =>
    Array.from({ length: n }, (_, i) => {
      const c = new Map(base[i] ?? []);
      isPbs[nextSource] = current?.kind !== "input";
      const g = current === undefined || correlated === undefined ? undefined : correlated(current.id);
      if (g !== undefined) {
        const key = `${g}:${i}`;
        let c = classes.get(key);
        if (c === undefined) classes.set(key, (c = classes.size));
        classOf[nextSource] = c;
      }
      const w = current?.kind === "round" && current.approximate !== true ? Math.sqrt(roundWeight(current.id)) : 1;
      c.set(nextSource++, w === 1 ? ONE : { lo: w, hi: w });
      return c;
    });
  const indices = (id: number) => ({ shape: graph.nodes[id]!.shape, data: Float64Array.from(combos[id]!.keys()) });
  const total: number[] = [], freshNorms: number[] = [], pbsNorms: number[] = [];
  for (const n of graph.nodes) {
    if (!n.encrypted) {
      combos.push(undefined);
      total.push(0), freshNorms.push(0), pbsNorms.push(0);
      continue;
    }
    current = n;
    const c = combine(n, graph, combos, clearWeights, fresh, indices);
    combos.push(c);
    let t = 0, f = 0, p = 0;
    for (const e of c) {
      let ef = 0, ep = 0;
      let shared: Map<number, number> | undefined; // class → Σ|w| of its sources in this element
      for (const [s, { lo, hi }] of e) {
        const cls = classOf[s];
        if (cls !== undefined) {
          shared ??= new Map();
          shared.set(cls, (shared.get(cls) ?? 0) + Math.max(Math.abs(lo), Math.abs(hi)));
          continue;
        }
        const w2 = Math.max(lo * lo, hi * hi);
        if (isPbs[s]) ep += w2;
        else ef += w2;
      }
      // Fused outputs are bootstrap outputs: (Σ|w|)² per rotation.
      if (shared !== undefined) for (const a of shared.values()) ep += a * a;
      t = Math.max(t, ef + ep), f = Math.max(f, ef), p = Math.max(p, ep);
    }
    total.push(t), freshNorms.push(f), pbsNorms.push(p);
  }
  return { total, fresh: freshNorms, pbs: pbsNorms };
}

function combine(
  n: Node, graph: Graph, combos: readonly (Combination[] | undefined)[], clearWeights: ClearWeights,
  fresh: (n: number, base?: readonly Combination[]) => Combination[],
  indices: (id: number) => { shape: readonly number[]; data: Float64Array },
): Combination[] {
  const size = sizeOf(n.shape);
  const argEnc = n.args.map((a) => graph.nodes[a]!.encrypted);
  const [a, b] = n.args.map((id) => combos[id]) as [Combination[] | undefined, Combination[] | undefined];
  switch (n.kind) {
    case "input": case "lut": case "lut2": return fresh(size);
    // Lowered later as x minus a lookup output holding the low bits: x's combination plus one fresh source.
    case "round": return n.approximate === true ? fresh(size) : fresh(size, a!);
    case "neg": return a!.map((c) => scale(c, MINUS_ONE));
    case "add": case "sub": case "mul": {
      const ma = broadcastMap(graph.nodes[n.args[0]!]!.shape, n.shape);
      const mb = broadcastMap(graph.nodes[n.args[1]!]!.shape, n.shape);
      if (n.kind === "mul") {
        const [enc, encMap, w, wMap] = argEnc[0] ? [a!, ma, clearWeights(n.args[1]!), mb] : [b!, mb, clearWeights(n.args[0]!), ma];
        return Array.from({ length: size }, (_, i) => scale(enc[encMap[i]!]!, w[wMap[i]!]!));
      }
      const sign = n.kind === "sub" ? MINUS_ONE : ONE;
      return Array.from({ length: size }, (_, i) => {
        const out: Combination = argEnc[0] ? scale(a![ma[i]!]!, ONE) : new Map();
        return argEnc[1] ? scale(b![mb[i]!]!, sign, out) : out;
      });
    }
    case "matmul": {
      const [sa, sb] = n.args.map((id) => graph.nodes[id]!.shape) as [readonly number[], readonly number[]];
      const m = sa.length === 2 ? sa[0]! : 1, kk = sa[sa.length - 1]!, cols = sb.length === 2 ? sb[1]! : 1;
      const wa = argEnc[0] ? undefined : clearWeights(n.args[0]!);
      const wb = argEnc[1] ? undefined : clearWeights(n.args[1]!);
      const out: Combination[] = [];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < cols; j++) {
          const acc: Combination = new Map();
          for (let l = 0; l < kk; l++) {
            if (wb !== undefined) scale(a![i * kk + l]!, wb[l * cols + j]!, acc);
            else scale(b![l * cols + j]!, wa![i * kk + l]!, acc);
          }
          out.push(acc);
        }
      }
      return out;
    }
    case "sum": {
      const src = a!;
      if (n.axis === null) return [src.reduce((acc, c) => scale(c, ONE, acc), new Map())];
      const shape = graph.nodes[n.args[0]!]!.shape;
      const len = shape[n.axis]!, inner = sizeOf(shape.slice(n.axis + 1));
      return Array.from({ length: size }, (_, o) => {
        const outer = Math.floor(o / inner), r = o % inner;
        const acc: Combination = new Map();
        for (let t = 0; t < len; t++) scale(src[(outer * len + t) * inner + r]!, ONE, acc);
        return acc;
      });
    }
    case "reshape": case "bound": return a!;
    case "broadcast": return gather(a!, k.broadcastTo(indices(n.args[0]!), n.shape).data);
    case "slice": return gather(a!, k.slice(indices(n.args[0]!), n.starts, n.stops, n.steps).data);
    case "gather": return Array.from(n.indices, (i) => a![i]!);
    case "concat": {
      // Clear parts carry no ciphertext noise: empty combinations.
      const parts = n.args.map((id) => combos[id] ?? Array.from({ length: sizeOf(graph.nodes[id]!.shape) }, () => new Map()));
      const all = parts.flat();
      let offset = 0;
      const idx = n.args.map((id, p) => {
        const t = { shape: graph.nodes[id]!.shape, data: Float64Array.from(parts[p]!.keys(), (i) => i + offset) };
        offset += parts[p]!.length;
        return t;
      });
      return gather(all, k.concat(idx, n.axis).data);
    }
    case "constant": throw new Error("unreachable: constants are clear");
  }
}
