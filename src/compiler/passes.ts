// Graph rewrites. Each returns a new graph and verifies it, as every pass must.
import { BoundsError, EvaluationError } from "../runtime/errors.js";
import {
  type ChunkedOp, type Graph, type LutTable, type Node, type NodeOf, type OpAttrs, deriveNode, liveNodes, nodeName, verify,
} from "../runtime/ir.js";
import { ceilLog2 } from "../runtime/encoding.js";
import { roundNode } from "../runtime/tensor-ops.js";
import { sameShape } from "../runtime/shape.js";
import { bitWidth, DEFAULT_MAX_LUT_BITS, reluSplit, type WideStep } from "./bounds.js";
import {
  chunkedBitwise, chunkedBitwiseCost, chunkedProduct, chunkedRelu, chunkedShift, chunkCount, extractedBits, type Field, fieldBits, packedLookup, pbsCost, type Push, SHIFTED_BITS, truncationAdvice,
  type WideDelta, wideEquality,
} from "./radix.js";

/** Drops nodes that no output depends on and renumbers the rest (order preserved, so still topological). */
export function eliminateDeadNodes(graph: Graph): Graph {
  const live = liveNodes(graph);
  const remap = new Map<number, number>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (!live.has(node.id)) continue;
    remap.set(node.id, nodes.length);
    nodes.push({ ...node, id: nodes.length, args: node.args.map((a) => remap.get(a)!) });
  }
  const out: Graph = {
    nodes,
    inputs: graph.inputs.map((id) => remap.get(id)!),
    outputs: graph.outputs.map((id) => remap.get(id)!),
  };
  verify(out);
  return out;
}

/** Attaches tables to lookup nodes (by id); evaluation then reads the table instead of calling f. */
export function attachTables(graph: Graph, tables: ReadonlyMap<number, LutTable>): Graph {
  const nodes = graph.nodes.map((node): Node => {
    const table = tables.get(node.id);
    return table !== undefined && node.kind === "lut" ? { ...node, table } : node;
  });
  const out: Graph = { nodes, inputs: graph.inputs, outputs: graph.outputs };
  verify(out);
  return out;
}

/**
 * Merges encrypted lookups that compute the same thing: same input node and same table (lut), or same
 * input and shift (round). Besides saving PBS, this keeps the noise accounting right: a blind rotation is
 * deterministic, so two copies of one lookup have the same noise, fully correlated, while Σw² counts
 * distinct lookups as independent sources (measured: distinct tables on one input are uncorrelated).
 */
export function mergeDuplicateLookups(graph: Graph): { graph: Graph; merged: number } {
  const replace = new Map<number, number>();
  const seen = new Map<string, number>();
  const nodes = graph.nodes.map((node): Node => {
    const n = { ...node, args: node.args.map((a) => replace.get(a) ?? a) } as Node;
    let key: string | undefined;
    if (n.encrypted && n.kind === "lut" && n.table !== undefined) {
      key = `lut ${n.args[0]} ${n.readLsbs ?? 0} ${n.table.min} ${n.table.step} ${n.table.values.join(",")}`;
    } else if (n.encrypted && n.kind === "round") {
      key = `round ${n.args[0]} ${n.lsbs} ${n.approximate === true} ${n.truncate === true} ${n.extract === true}`;
    } else if (n.kind !== "input" && n.kind !== "lut" && n.kind !== "lut2") {
      // Pure linear and structural nodes: same op, attributes, arguments and shape compute the same
      // ciphertexts (x.lt(y) and x.ge(y) each trace x − y; one is enough).
      const { id: _, args, shape, encrypted: __, ...attrs } = n;
      key = `${n.kind} ${args.join(",")} ${shape.join("x")} ${JSON.stringify(attrs, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))}`;
    }
    if (key !== undefined) {
      const first = seen.get(key);
      if (first === undefined) seen.set(key, n.id);
      else replace.set(n.id, first);
    }
    return n;
  });
  if (replace.size === 0) return { graph, merged: 0 };
  const out = eliminateDeadNodes({ nodes, inputs: graph.inputs, outputs: graph.outputs.map((o) => replace.get(o) ?? o) });
  return { graph: out, merged: replace.size };
}

/** The function a lookup node computes element-wise (before tables are attached), and its name. */
function univariate(n: Node): { f: (v: number) => number; label: string } | undefined {
  if (n.kind === "lut") return { f: n.fn, label: n.label };
  if (n.kind === "round") {
    const node = n;
    return { f: (v) => roundNode(v, node), label: `${n.truncate === true ? "truncate" : "round"}(${n.lsbs})` };
  }
  return undefined;
}

/**
 * Fuses chains of encrypted lookups into one: g(f(x)) — lut or round, with f's result used by g alone —
 * becomes one lookup of x with the composed table. One PBS instead of two, exactly the same values, and
 * fresh noise once. An exact round on a narrow input is itself a lookup over that input, so
 * `relu(round(acc, k))` becomes a single lookup on `acc`; an approximate round reads acc's top bits, and
 * the composed lookup keeps that reading (readLsbs). Runs on a traced graph, before tables are attached.
 * `allowed(x, readLsbs)` says whether a lookup directly on node x (read in steps of 2^readLsbs) fits the
 * lookup limit; when it does not, the chain is kept (an exact round of a wide value is a bit extraction,
 * which is what makes the outer lookup possible).
 */
export function fuseLookupChains(graph: Graph, allowed: (x: number, readLsbs: number) => boolean = () => true): Graph {
  const uses = new Array<number>(graph.nodes.length).fill(0);
  for (const n of graph.nodes) for (const a of n.args) uses[a]!++;
  for (const o of graph.outputs) uses[o]! += 1;
  const nodes = [...graph.nodes];
  let fused = 0;
  for (const n of graph.nodes) {
    const outer = univariate(nodes[n.id]!);
    // An approximate lookup reads its own input's top bits: composing it with the inner one would not.
    if (!n.encrypted || outer === undefined || (nodes[n.id]!.kind === "lut" && (nodes[n.id] as { readLsbs?: number }).readLsbs !== undefined)) continue;
    const innerNode = nodes[n.args[0]!]!;
    const inner = univariate(innerNode);
    // A truncation marked for bit extraction (a chunk) stays one: its input is wider than its consumers read.
    if (innerNode.kind === "round" && innerNode.extract === true) continue;
    if (!innerNode.encrypted || inner === undefined || uses[innerNode.id] !== 1 || !allowed(innerNode.args[0]!, innerNode.kind === "lut" ? innerNode.readLsbs ?? 0
      : innerNode.kind === "round" && innerNode.approximate === true ? innerNode.lsbs : 0)) continue;
    const [f, g] = [inner.f, outer.f];
    const fn = (v: number): number => {
      const u = f(v);
      if (!Number.isSafeInteger(u)) {
        throw new EvaluationError(`${nodeName(innerNode)} ${inner.label}: f(${v}) = ${u} is not a safe integer (round it in f, e.g. Math.round)`, innerNode.id);
      }
      return g(u);
    };
    const x = innerNode.args[0]!;
    // An approximate inner lookup keeps its reading: the composed table is read the same way.
    const readLsbs = innerNode.kind === "lut" ? innerNode.readLsbs
      : innerNode.kind === "round" && innerNode.approximate === true ? innerNode.lsbs : undefined;
    nodes[n.id] = {
      id: n.id, kind: "lut", fn, label: `${outer.label}∘${inner.label}`, args: [x], shape: n.shape, encrypted: true,
      ...(readLsbs !== undefined ? { readLsbs } : {}),
    };
    uses[innerNode.id] = 0;
    uses[x]!++;
    fused++;
  }
  return fused === 0 ? graph : eliminateDeadNodes({ nodes, inputs: graph.inputs, outputs: graph.outputs });
}

/**
 * Lowers each bivariate lookup f(x, y) to one lookup of the packed index
 * i = (x − x_min)·S + (y − y_min), S = y_max − y_min + 1, over the operands' ranges (sound: every value
 * they can take at run time). Each pair of the box has its own index, so the table computes f exactly;
 * its precision is that of the box, ⌈log2(|x|·|y|)⌉ bits. Lookups of the same (x, y) share one packed
 * node, so they read one input (and may share a blind rotation). Clear ones are lowered too: a clear
 * lookup travels as its table (graph-codec.ts), and the packed box is the table's domain. Runs after a
 * first bounds pass.
 */
export function lowerBivariateLookups(graph: Graph, range: (id: number) => { readonly min: number; readonly max: number; readonly zeroLsbs?: number },
  maxLutBits = DEFAULT_MAX_LUT_BITS): Graph {
  if (!graph.nodes.some((n) => n.kind === "lut2")) return graph;
  const packed = new Map<string, { id: number; xMin: number; yMin: number; S: number }>();
  return rewriteNodes(graph, "lowering a bivariate lookup", (n, args, push, shapeOf) => {
    if (n.kind !== "lut2") return undefined;
    // A lowered form may be narrower than the node when an operand's part is a broadcast constant.
    const fit = (id: number): number => (sameShape(shapeOf(id), n.shape) ? id : push({ kind: "broadcast" }, [id], n.shape));
    const constant = (v: number): number => push({ kind: "constant", value: Float64Array.of(v) }, [], []);
    const [x, y] = n.args as [number, number];
    const rx = range(x), ry = range(y);
    const exactBits = ceilLog2((rx.max - rx.min + 1) * (ry.max - ry.min + 1));
    if (n.encrypted && n.op !== undefined) {
      const id = lowerChunkedOp(n, n.op, args as [number, number], push, rx, ry, x === y, exactBits, maxLutBits);
      if (id !== undefined) return fit(id);
    }
    // Operands with known zero low bits (truncated, or chunks) pack in steps: fewer bits than their span.
    const fx: Field = { id: args[0]!, lo: rx.min, hi: rx.max, shift: Math.min(rx.zeroLsbs ?? 0, 52) };
    const fy: Field = { id: args[1]!, lo: ry.min, hi: ry.max, shift: Math.min(ry.zeroLsbs ?? 0, 52) };
    const aligned = (f: Field): Field => ({ ...f, lo: Math.floor(f.lo / 2 ** f.shift) * 2 ** f.shift, hi: Math.floor(f.hi / 2 ** f.shift) * 2 ** f.shift });
    const [ax, ay] = [aligned(fx), aligned(fy)];
    if (n.encrypted && exactBits > maxLutBits) {
      if (x === y || fieldBits(ax) + fieldBits(ay) > maxLutBits) throw tooWideBivariate(n, ax, ay, maxLutBits);
      return fit(packedLookup(push, ax, ay, n.fn, n.label));
    }
    const key = `${x},${y}`;
    let p = packed.get(key);
    if (p === undefined) {
      const S = ry.max - ry.min + 1;
      const xs = push({ kind: "mul" }, [push({ kind: "sub" }, [args[0]!, constant(rx.min)]), constant(S)]);
      const id = push({ kind: "add" }, [xs, push({ kind: "sub" }, [args[1]!, constant(ry.min)])]);
      p = { id, xMin: rx.min, yMin: ry.min, S };
      packed.set(key, p);
    }
    const { xMin, yMin, S } = p;
    const f = n.fn;
    const fn = (i: number): number => f(xMin + Math.floor(i / S), yMin + (i % S));
    return push({ kind: "lut", fn, label: `${n.label}∘pack` }, [p.id]);
  });
}

/**
 * An encrypted product, bitwise op or shift: the narrow forms while they fit a table (quarter squares for
 * x·y, one lookup for x·x; the packed pair for the others, undefined here), else by chunks (radix.ts).
 */
function lowerChunkedOp(n: Node, op: ChunkedOp, args: readonly [number, number], push: Push, rx: Range, ry: Range, same: boolean,
  exactBits: number, maxLutBits: number): number | undefined {
  const fits = (min: number, max: number): boolean => bitWidth(min, max).bits <= maxLutBits;
  const [x, y] = args;
  if (op === "mul") {
    const bound = (v: number): number => push({ kind: "bound", op: "mul" }, [v, x, y]);
    if (same && fits(rx.min, rx.max)) return push({ kind: "lut", fn: (v) => v * v, label: "square" }, [x]);
    if (!same && fits(rx.min + ry.min, rx.max + ry.max) && fits(rx.min - ry.max, rx.max - ry.min)) {
      const quarterSquare = (v: number): number => Math.floor((v * v) / 4);
      const plus = push({ kind: "lut", fn: quarterSquare, label: "⌊v²/4⌋" }, [push({ kind: "add" }, [x, y])]);
      const minus = push({ kind: "lut", fn: quarterSquare, label: "⌊v²/4⌋" }, [push({ kind: "sub" }, [x, y])]);
      return bound(push({ kind: "sub" }, [plus, minus]));
    }
    if (maxLutBits < 2) throw new BoundsError(`${nodeName(n)} mul: a product by chunks needs lookups of 2 bits (maxLutBits = ${maxLutBits})`, n.id);
    return bound(chunkedProduct(push, x, y, rx, ry, same, maxLutBits));
  }
  if (maxLutBits < 2) return undefined;
  // A bitwise op whose packed pair fits one table still goes by chunks when that is cheaper: a 4-bit xor
  // packed is one 8-bit PBS (N = 32768 for the whole circuit), by 2-bit chunks six PBS of ≤ 4 bits.
  if (exactBits <= maxLutBits && (op === "shl" || op === "shr" || pbsCost(1, exactBits) <= chunkedBitwiseCost(rx, ry, maxLutBits))) return undefined;
  if (op === "shl" || op === "shr") {
    const id = chunkedShift(push, op, x, y, rx, ry, maxLutBits);
    if (id !== undefined) return id;
    // Each chunk of x is packed with y: y must leave at least one bit of the table to the chunk.
    const k = shiftClip(op, rx, maxLutBits);
    // A clip is itself a lookup on y: it needs y to fit one; otherwise y must be narrowed where it is made.
    const advice = bitWidth(ry.min, ry.max).bits <= maxLutBits
      ? `clip it first: ${op === "shl" ? "x.leftShift" : "x.rightShift"}(y.clip(0, ${k}))` +
        (op === "shr" ? " (exact: past x's width a right shift gives 0 or −1)" : "")
      : `narrow it where it is computed to at most ${k + 1} values (y is too wide for a clip, itself a lookup)`;
    throw new BoundsError(`${nodeName(n)} ${op}: the shift amount %${n.args[1]} ∈ [${ry.min}, ${ry.max}] is too wide to pack with ` +
      `chunks of %${n.args[0]} (at most ${maxLutBits - 1} bits for it at maxLutBits = ${maxLutBits}); ${advice}`, n.id);
  }
  return chunkedBitwise(push, op, x, y, rx, ry, maxLutBits);
}

type Range = { readonly min: number; readonly max: number };


/** The largest shift amount a chunked shift of x ∈ rx can pack (and, for shl, keep x·2^y within a region). */
export function shiftClip(op: "shl" | "shr", rx: Range, maxLutBits: number): number {
  const packable = 2 ** Math.max(0, maxLutBits - 1) - 1;
  const width = bitWidth(rx.min, rx.max).bits;
  const safe = Math.max(0, SHIFTED_BITS - width);
  return Math.min(packable, op === "shr" ? width : safe);
}

/** A bivariate lookup f(x, y) whose operands do not fit one table together, with advice that works (radix.ts). */
function tooWideBivariate(n: NodeOf<"lut2">, x: Field, y: Field, maxLutBits: number): BoundsError {
  return new BoundsError(`${nodeName(n)} ${n.label}: its operands %${n.args[0]} ∈ [${x.lo}, ${x.hi}] and %${n.args[1]} ∈ [${y.lo}, ${y.hi}] ` +
    `pack into ${fieldBits(x) + fieldBits(y)} bits, above maxLutBits = ${maxLutBits}; ${truncationAdvice(x, y, maxLutBits)}`, n.id);
}

/**
 * Lowers each encrypted step-function lookup whose input is too wide for one table (a comparison of wide
 * values: f(v) = below for v < t, atOrAbove for v ≥ t) to a lookup of the truncated difference:
 * truncate(x − t, k) ≥ 0 exactly when x ≥ t (floor keeps the sign), and with k low bits gone it fits a
 * table of maxLutBits. The truncation extracts those k bits one 1-bit PBS each (encoding.ts), so a
 * 16-bit comparison costs about 8 small PBS and one lookup rather than a lookup over 2^16 values.
 */
export function lowerWideSteps(graph: Graph, steps: readonly WideStep[], range: (id: number) => { readonly min: number; readonly max: number }, maxLutBits: number): Graph {
  if (steps.length === 0) return graph;
  const byNode = new Map(steps.map((s) => [s.node, s]));
  return rewriteNodes(graph, "lowering a wide comparison", (n, args, push) => {
    const step = byNode.get(n.id);
    if (step === undefined || n.kind !== "lut") return undefined;
    const { min, max } = range(n.args[0]!);
    return stepLookup(push, args[0]!, min, max, step, maxLutBits, n.label);
  });
}

/** f(x) = below for x < t, atOrAbove for x ≥ t, of x ∈ [min, max] (id x): truncate(x − t, k), then a 2-bit lookup. */
function stepLookup(push: Push, x: number, min: number, max: number, step: WideStep, maxLutBits: number, label: string): number {
  const t = step.threshold;
  // Truncate down to a 2-bit value (its sign is all the lookup reads): 1-bit extractions are cheap, a
  // wide final lookup is not (its PBS needs N ≥ 2^bits).
  const target = Math.min(maxLutBits, 2);
  let k = 1;
  while (k < 52 && bitWidth(Math.floor((min - t) / 2 ** k), Math.floor((max - t) / 2 ** k)).bits > target) k++;
  const d = t === 0 ? x : push({ kind: "sub" }, [x, push({ kind: "constant", value: Float64Array.of(t) }, [], [])]);
  const truncated = push({ kind: "round", lsbs: k, truncate: true }, [d]);
  const { below, atOrAbove } = step;
  return push({ kind: "lut", fn: (v) => (v >= 0 ? atOrAbove : below), label: `${label}∘truncate(${k})` }, [truncated]);
}

/** Lowers each encrypted equality test too wide for one table to two wide comparisons (radix.ts wideEquality). */
export function lowerWideDeltas(graph: Graph, deltas: readonly WideDelta[], range: (id: number) => Range, maxLutBits: number): Graph {
  if (deltas.length === 0) return graph;
  const byNode = new Map(deltas.map((d) => [d.node, d]));
  return rewriteNodes(graph, "lowering a wide equality", (n, args, push) => {
    const delta = byNode.get(n.id);
    if (delta === undefined || n.kind !== "lut") return undefined;
    return wideEquality(push, args[0]!, range(n.args[0]!), delta,
      (x, min, max, step) => stepLookup(push, x, min, max, step, maxLutBits, n.label));
  });
}

/**
 * Splits each encrypted relu of a value x too wide for one table (max and min of wide values lower to one):
 * with T = truncate(x, k) (bit extraction) and L = x − T ∈ [0, 2^k), relu(x) = relu(T) + relu(L − (1 − s)·2^k)
 * where s = [T ≥ 0] (x ≥ 0 exactly when T ≥ 0): for x ≥ 0 that is T + L, otherwise 0 + 0. T has few values
 * (a narrow table) and the second relu reads k + 1 bits: k extractions and three small lookups in all.
 */
export function lowerWideRelus(graph: Graph, relus: readonly number[], range: (id: number) => { readonly min: number; readonly max: number }, maxLutBits: number): Graph {
  if (relus.length === 0) return graph;
  const targets = new Set(relus);
  return rewriteNodes(graph, "splitting a wide relu", (n, args, push) => {
    if (!targets.has(n.id) || n.kind !== "lut") return undefined;
    const { min, max } = range(n.args[0]!);
    const split = reluSplit(min, max, maxLutBits);
    // The split's k extractions and three lookups, or chunks (radix.ts chunkedRelu), whichever costs less.
    if (split === undefined || splitCost(min, max, split.k) > chunkedReluCost(min, max, maxLutBits)) {
      return chunkedRelu(push, args[0]!, { min, max }, maxLutBits);
    }
    const { k } = split, pow = 2 ** k;
    const constant = (v: number): number => push({ kind: "constant", value: Float64Array.of(v) }, [], []);
    const x = args[0]!;
    const t = push({ kind: "round", lsbs: k, truncate: true }, [x]);
    // x − T is x mod 2^k: the bound node tells the range analysis so (the difference alone looks wide).
    const low = push({ kind: "bound", op: "mod" }, [push({ kind: "sub" }, [x, t]), x, constant(pow)]);
    const sign = push({ kind: "lut", fn: (v) => (v >= 0 ? 1 : 0), label: "v >= 0" }, [t]);
    const top = push({ kind: "lut", fn: (v) => Math.max(v, 0), label: `${n.label}(top)` }, [t]);
    const u = push({ kind: "add" }, [low, push({ kind: "sub" }, [push({ kind: "mul" }, [sign, constant(pow)]), constant(pow)])]);
    const rest = push({ kind: "lut", fn: (v) => Math.max(v, 0), label: `${n.label}(low)` }, [u]);
    return push({ kind: "add" }, [top, rest]);
  });
}

/** Estimated cost of a relu split at k (passes.ts lowerWideRelus): k extractions, three lookups. */
function splitCost(min: number, max: number, k: number): number {
  const top = bitWidth(Math.floor(min / 2 ** k), Math.floor(max / 2 ** k)).bits;
  return pbsCost(k + 3, Math.max(top, k + 1));
}

/** Estimated cost of the cheapest chunked relu (radix.ts chunkedRelu). */
function chunkedReluCost(min: number, max: number, maxLutBits: number): number {
  let best = Infinity;
  for (let c = 1; c + 1 <= maxLutBits; c++) {
    const m = chunkCount(min, max, c);
    best = Math.min(best, pbsCost(extractedBits(min, max, c, m) + m + 1, c + 1));
  }
  return best;
}

/**
 * Rebuilds a graph node by node: `replace` may expand a node into new ones (through `push`, on the new
 * ids of its arguments) and return the id that stands for it, or undefined to copy it. Verified, then
 * dead nodes dropped.
 */
export function rewriteNodes(graph: Graph, what: string,
  replace: (n: Node, args: readonly number[], push: Push, shapeOf: (id: number) => readonly number[]) => number | undefined): Graph {
  const nodes: Node[] = [];
  const remap = new Map<number, number>();
  const push: Push = (op, args, shape) => {
    const id = nodes.length;
    const d = deriveNode(op, args.map((a) => nodes[a]!), shape, `%${id} = ${op.kind} (${what})`);
    nodes.push({ ...op, id, args: [...args], shape: d.shape, encrypted: d.encrypted } as Node);
    return id;
  };
  for (const n of graph.nodes) {
    const args = n.args.map((a) => remap.get(a)!);
    const id = replace(n, args, push, (i) => nodes[i]!.shape);
    if (id !== undefined) { remap.set(n.id, id); continue; }
    const { id: _, args: __, shape, encrypted: ___, ...op } = n;
    remap.set(n.id, push(op as OpAttrs, args, shape));
  }
  const out: Graph = { nodes, inputs: graph.inputs.map((id) => remap.get(id)!), outputs: graph.outputs.map((id) => remap.get(id)!) };
  verify(out);
  return eliminateDeadNodes(out);
}
