// Bounds of a traced graph. The inputset fixes what the client accepts (an encrypted input's whole bit width,
// a clear input's range, both after the margin); the range analysis (intervals.ts) derives every other
// node's range from those, soundly, and builds each encrypted lookup's table over its input's whole
// derived range. Bit widths follow, and Σw² (the squared 2-norm of the weights applied to fresh
// ciphertexts since the last lookup), which with the lookup precision drives the choice of parameters.
// The inputset's own per-node ranges are kept as `measuredMin/Max`, for describe().
import { BoundsError, EvaluationError, GraphError, InputOutOfRangeError } from "../runtime/errors.js";
import { type ChunkedOp, type Graph, type LutTable, type Node, nodeName } from "../runtime/ir.js";
import { bindInputs, evaluateAll } from "./interpreter.js";
import { type Interval, type NodeRanges, RangeAnalysis } from "./intervals.js";
import * as k from "../runtime/tensor-ops.js";
import { type CorrelatedOutputs, type NormsBySource, squaredNormsBySource } from "./norms.js";
import { sizeOf } from "../runtime/shape.js";
import { MAX_LOOKUP_CIRCUIT_BITS } from "../runtime/encoding.js";
import type { Tensor, TensorLike } from "../runtime/tensor.js";
import { SHIFTED_BITS, truncationAdvice, type WideDelta } from "./radix.js";

export interface Margin {
  /** Widen each range by this fraction of its span on both sides (default 0). */
  readonly relative?: number;
  /** Widen each range by this many units on both sides (default 0). */
  readonly absolute?: number;
}

export interface BoundsOptions {
  readonly margin?: Margin;
  /** Widest lookup input the parameters can take (default 8); wider inputs must be rounded first. */
  readonly maxLutBits?: number;
}

export const DEFAULT_MAX_LUT_BITS = 8;

export interface NodeBounds {
  /** Range after the margin: what the circuit is built for. */
  readonly min: number;
  readonly max: number;
  /** Range seen on the inputset. */
  readonly measuredMin: number;
  readonly measuredMax: number;
  /** Width of [min, max]: unsigned when min ≥ 0, else two's complement. */
  readonly bits: number;
  readonly signed: boolean;
  /** Low bits known to be zero from the structure (after round(x, lsbs), for instance). */
  readonly zeroLsbs: number;
  /** Max over elements of Σw² of fresh encrypted sources since the last lookup; 0 for clear nodes. */
  readonly norm2: number;
  /** The same split by source: fresh encryptions of inputs, and bootstrap outputs (lookups). */
  readonly freshNorm2: number;
  readonly pbsNorm2: number;
}

export interface LutBounds {
  readonly node: number;
  /** Table domain: inputMin, inputMin + step, …, inputMax. */
  readonly inputMin: number;
  readonly inputMax: number;
  readonly step: number;
  /** Precision of the lookup: width of the domain counted in steps. */
  readonly inputBits: number;
  readonly signed: boolean;
  /** Σw² of the lookup's input. */
  readonly norm2: number;
  readonly table: LutTable;
}

export interface Bounds {
  readonly nodes: readonly NodeBounds[];
  /** Encrypted lookups: the PBS of the circuit. */
  readonly luts: readonly LutBounds[];
  /**
   * Tables of the lookups on clear values, by node id, over their input's sound range (step 1): no PBS,
   * but a deployed server has no traced function, only the table (graph-codec.ts).
   */
  readonly clearTables: ReadonlyMap<number, LutTable>;
  readonly maxLutBits: number;
  readonly maxLutInputBits: number;
  readonly maxLutNorm2: number;
  /** Max Σw² over all encrypted nodes (outputs included: it bounds the noise of lookup-free circuits). */
  readonly maxNorm2: number;
  /** Encrypted lookups too wide for one table that are step functions (compile lowers them: passes.ts). */
  readonly wideSteps: readonly WideStep[];
  /** Encrypted relu lookups too wide for one table (compile splits them: passes.ts lowerWideRelus). */
  readonly wideRelus: readonly number[];
  /** Encrypted equality tests too wide for one table (compile lowers them: passes.ts lowerWideDeltas). */
  readonly wideDeltas: readonly WideDelta[];
  /**
   * The nodes' Σw² again, with the outputs of fused lookups counted as correlated (norms.ts): what the
   * encoding uses once fusion has grouped the lookups.
   */
  readonly correlatedNorms: (correlated: CorrelatedOutputs) => NormsBySource;
}

/** Smallest width holding [min, max]: unsigned if min ≥ 0, else two's complement. */
export function bitWidth(min: number, max: number): { bits: number; signed: boolean } {
  if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max)) throw new RangeError(`bitWidth: bad range [${min}, ${max}]`);
  let bits = 1;
  if (min >= 0) {
    while (2 ** bits <= max) bits++;
    return { bits, signed: false };
  }
  while (min < -(2 ** (bits - 1)) || max > 2 ** (bits - 1) - 1) bits++;
  return { bits, signed: true };
}

/** The representable range of a width, the inverse of bitWidth. */
export function rangeOfWidth(bits: number, signed: boolean): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

// A loop rather than Math.max(...xs): spreading a large table overflows the call stack.
function maxOf(xs: ArrayLike<number>, start = -Infinity): number {
  let m = start;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]!);
  return m;
}

function trailingZeros(v: number): number {
  if (v === 0) return Infinity;
  let z = 0;
  let a = Math.abs(v);
  while (a % 2 === 0) {
    a /= 2;
    z++;
  }
  return z;
}

/** Low bits every value of the node is known to have zero, from the ops alone (not from the samples). */
function zeroLsbsOf(graph: Graph): number[] {
  const z: number[] = [];
  const cap = (v: number) => Math.min(v, 52);
  for (const n of graph.nodes) {
    const a = n.args.map((i) => z[i]!);
    switch (n.kind) {
      case "input": case "lut": case "lut2": z.push(0); break;
      case "constant": z.push(cap(n.value.reduce((m, v) => Math.min(m, trailingZeros(v)), Infinity))); break;
      case "round": z.push(Math.max(a[0]!, n.lsbs)); break;
      case "bound": z.push(a[0]!); break;
      case "mul": case "matmul": z.push(cap(a[0]! + a[1]!)); break;
      // Sums, differences and moves of multiples of 2^z stay multiples of 2^z.
      default: z.push(Math.min(...a));
    }
  }
  return z;
}

function validateOptions(options: BoundsOptions): { relative: number; absolute: number; maxLutBits: number } {
  const relative = options.margin?.relative ?? 0;
  const absolute = options.margin?.absolute ?? 0;
  const maxLutBits = options.maxLutBits ?? DEFAULT_MAX_LUT_BITS;
  if (!(Number.isFinite(relative) && relative >= 0)) throw new RangeError(`margin.relative = ${relative} must be a finite number ≥ 0`);
  if (!(Number.isFinite(absolute) && absolute >= 0)) throw new RangeError(`margin.absolute = ${absolute} must be a finite number ≥ 0`);
  if (!(Number.isInteger(maxLutBits) && maxLutBits >= 1 && maxLutBits <= 24)) throw new RangeError(`maxLutBits = ${maxLutBits} must be an integer in [1, 24]`);
  return { relative, absolute, maxLutBits };
}

export function inferBounds(graph: Graph, inputset: readonly (readonly (TensorLike | Tensor)[])[], options: BoundsOptions = {}): Bounds {
  const { relative, absolute, maxLutBits } = validateOptions(options);
  if (inputset.length === 0) throw new GraphError("the inputset is empty: bounds need at least one sample");
  const count = graph.nodes.length;
  const lo = new Array<number>(count).fill(Infinity);
  const hi = new Array<number>(count).fill(-Infinity);
  inputset.forEach((sample, s) => {
    if (!Array.isArray(sample)) throw new GraphError(`inputset sample ${s} must be an array (one value per input)`);
    evaluateAll(graph, sample).forEach((v, id) => {
      for (const x of v.data) {
        if (x < lo[id]!) lo[id] = x;
        if (x > hi[id]!) hi[id] = x;
      }
    });
  });

  const zeros = zeroLsbsOf(graph);
  const luts: { -readonly [K in keyof LutBounds]: LutBounds[K] }[] = [];
  const wideSteps: WideStep[] = [];
  const wideRelus: number[] = [];
  const wideDeltas: WideDelta[] = [];
  const clearTables = new Map<number, LutTable>();
  // The inputset fixes only what the client accepts: an encrypted input's whole bit width (of its range
  // with the margin), a clear input's range with the margin (checked in the clear on both sides). Every
  // other range follows soundly from those (intervals.ts), so no accepted input can leave a table.
  const analysis = new RangeAnalysis(graph, {
    zeroLsbs: (id) => zeros[id]!,
    input: (n) => {
      const d = relative * (hi[n.id]! - lo[n.id]!) + absolute;
      const [min, max] = [Math.floor(lo[n.id]! - d), Math.ceil(hi[n.id]! + d)];
      if (!n.encrypted) return { lo: min, hi: max };
      const { bits, signed } = bitWidth(min, max);
      const [wlo, whi] = rangeOfWidth(bits, signed);
      return { lo: wlo, hi: whi };
    },
    lookup: (n, input) => {
      if (!n.encrypted) {
        const table = clearLookupTable(n, input);
        clearTables.set(n.id, table);
        return elementRanges(input, (v) => table.values[v - table.min]!, 1);
      }
      let lut: ReturnType<typeof buildTable>;
      try {
        lut = buildTable(n, input, zeros[n.args[0]!]!, maxLutBits);
      } catch (e) {
        // Too wide for one lookup: a step function (a comparison) is lowered by compile to a lookup of the
        // truncated difference to its threshold (passes.ts lowerWideSteps); anything else stays an error.
        const wide = e instanceof BoundsError && n.readLsbs === undefined && zeros[n.args[0]!] === 0;
        const step = wide ? stepFunction(n, input) : undefined;
        if (step !== undefined) {
          wideSteps.push({ node: n.id, ...step });
          return Array.from(input.lo, () => ({ lo: Math.min(step.below, step.atOrAbove), hi: Math.max(step.below, step.atOrAbove) }));
        }
        // relu (max/min of wide values) splits into a narrow top part and low bits, or chunks (passes.ts lowerWideRelus).
        if (wide && maxLutBits >= 2 && isRelu(n, input)) {
          wideRelus.push(n.id);
          return Array.from(input.lo, (l, i) => ({ lo: Math.max(0, l), hi: Math.max(0, input.hi[i]!) }));
        }
        // An equality test (one point differs) is two wide comparisons (radix.ts wideEquality).
        const delta = wide ? deltaFunction(n, input) : undefined;
        if (delta !== undefined) {
          wideDeltas.push({ node: n.id, ...delta });
          return Array.from(input.lo, () => ({ lo: Math.min(delta.at, delta.other), hi: Math.max(delta.at, delta.other) }));
        }
        throw e;
      }
      luts.push(lut);
      if (n.readLsbs !== undefined) {
        // Either neighbour of a tie may be read in FHE: an element's range covers both roundings.
        const step = 2 ** n.readLsbs;
        const down: NodeRanges = { ...input, lo: input.lo.map((v) => Math.floor(v / step) * step), hi: input.hi.map((v) => Math.ceil(v / step) * step) };
        return elementRanges(down, (v) => lut.table.values[(v - lut.inputMin) / lut.step]!, lut.step);
      }
      return elementRanges(input, (v) => lut.table.values[(v - lut.inputMin) / lut.step]!, lut.step);
    },
    lookup2: (n, boxes) => bivariateRanges(n, boxes, zeros[n.args[0]!]!, zeros[n.args[1]!]!, maxLutBits),
  });
  const ranges = analysis.ranges;
  // Weights of clear operands, per element: exact for constants, the element's sound range otherwise.
  const clearWeights = (id: number) => Array.from(ranges[id]!.lo, (l, i) => ({ lo: l, hi: ranges[id]!.hi[i]! }));
  const roundWeight = (id: number) => {
    const n = graph.nodes[id] as Extract<Node, { kind: "round" }>, x = ranges[n.args[0]!]!;
    const e = roundExtraction(x.min, x.max, zeros[n.args[0]!]!, n.lsbs, maxLutBits, n.extract === true);
    return e === undefined ? 1 : (4 ** n.lsbs - 4 ** e.fromBit) / 3;
  };
  const split = squaredNormsBySource(graph, clearWeights, roundWeight);
  const norm2 = split.total;
  for (const l of luts) l.norm2 = norm2[graph.nodes[l.node]!.args[0]!]!;
  const nodes: NodeBounds[] = graph.nodes.map((n) => {
    const { min, max } = ranges[n.id]!;
    return { min, max, measuredMin: lo[n.id]!, measuredMax: hi[n.id]!, ...bitWidth(min, max), zeroLsbs: zeros[n.id]!, norm2: norm2[n.id]!, freshNorm2: split.fresh[n.id]!, pbsNorm2: split.pbs[n.id]! };
  });
  return {
    nodes, luts, clearTables, maxLutBits, wideSteps, wideRelus, wideDeltas,
    correlatedNorms: (correlated) => squaredNormsBySource(graph, clearWeights, roundWeight, correlated),
    maxLutInputBits: maxOf(luts.map((l) => l.inputBits), 0),
    maxLutNorm2: maxOf(luts.map((l) => l.norm2), 0),
    maxNorm2: maxOf(nodes.map((b) => b.norm2), 0),
  };
}

/** A lookup f with f(v) = below for v < threshold, atOrAbove for v ≥ threshold, over its input's range. */
/**
 * How a relu of x ∈ [min, max] (too wide for one table) splits: T = truncate(x, k) has at most 2^maxLutBits
 * values and the low part u ∈ [−2^k, 2^k) fits k + 1 ≤ maxLutBits bits; undefined when no k does.
 */
export function reluSplit(min: number, max: number, maxLutBits: number): { k: number } | undefined {
  // The k whose two lookups have the smallest larger precision (a PBS's cost grows with it).
  let best: { k: number; bits: number } | undefined;
  for (let k = 1; k + 1 <= maxLutBits; k++) {
    const entries = Math.floor(max / 2 ** k) - Math.floor(min / 2 ** k) + 1;
    const bits = Math.max(Math.ceil(Math.log2(entries) - 1e-12), k + 1);
    if (entries <= 2 ** maxLutBits && (best === undefined || bits < best.bits)) best = { k, bits };
  }
  return best === undefined ? undefined : { k: best.k };
}

/** f is max(v, 0) on the input's whole range (scanned, bounded). */
function isRelu(n: Extract<Node, { kind: "lut" }>, input: NodeRanges): boolean {
  if (input.max - input.min + 1 > MAX_STEP_SCAN) return false;
  for (let v = input.min; v <= input.max; v++) if (n.fn(v) !== Math.max(v, 0)) return false;
  return true;
}

export interface WideStep {
  readonly node: number;
  readonly threshold: number;
  readonly below: number;
  readonly atOrAbove: number;
}

/** Largest domain scanned for a step function. */
const MAX_STEP_SCAN = 2 ** 22;

/** f as a step function over the input's range (at most one change of value), or undefined. */
function stepFunction(n: Extract<Node, { kind: "lut" }>, input: NodeRanges): Omit<WideStep, "node"> | undefined {
  const step = 1;
  const lo = Math.floor(input.min / step) * step, hi = Math.ceil(input.max / step) * step;
  if ((hi - lo) / step + 1 > MAX_STEP_SCAN) return undefined;
  const f0 = n.fn(lo);
  if (!Number.isSafeInteger(f0)) return undefined;
  let threshold = hi + step, after = f0;
  for (let v = lo + step; v <= hi; v += step) {
    const y = n.fn(v);
    if (y === (threshold <= hi ? after : f0)) continue;
    if (threshold <= hi || !Number.isSafeInteger(y)) return undefined; // a second change: not a step
    threshold = v;
    after = y;
  }
  return { threshold, below: f0, atOrAbove: after };
}

/** f as an equality test over the input's range: one value at a single interior point, another everywhere else. */
function deltaFunction(n: Extract<Node, { kind: "lut" }>, input: NodeRanges): Omit<WideDelta, "node"> | undefined {
  const { min, max } = input;
  if (max - min + 1 > MAX_STEP_SCAN || max - min < 2) return undefined;
  // The value taken by at least two of the first three points is the "other" one.
  const [a, b, c] = [n.fn(min), n.fn(min + 1), n.fn(min + 2)];
  const other = a === b || a === c ? a : b === c ? b : undefined;
  if (other === undefined || !Number.isSafeInteger(other)) return undefined;
  let point: number | undefined, at = other;
  for (let v = min; v <= max; v++) {
    const y = n.fn(v);
    if (y === other) continue;
    if (point !== undefined || !Number.isSafeInteger(y)) return undefined;
    [point, at] = [v, y];
  }
  return point === undefined ? undefined : { point, at, other };
}

/** Largest domain a clear lookup is tabulated over to bound its outputs. */
const MAX_CLEAR_LOOKUP_DOMAIN = 2 ** 20;

/** Per-element output ranges of f over each element's input range (stepping by `step`), shared per range. */
function elementRanges(input: NodeRanges, f: (v: number) => number, step: number): Interval[] {
  const cache = new Map<string, Interval>();
  return Array.from(input.lo, (l, i) => {
    const h = input.hi[i]!;
    const key = `${l}:${h}`;
    let r = cache.get(key);
    if (r === undefined) {
      let min = Infinity, max = -Infinity;
      for (let v = Math.floor(l / step) * step; v <= h; v += step) {
        const y = f(v);
        if (y < min) min = y;
        if (y > max) max = y;
      }
      r = { lo: min, hi: max };
      cache.set(key, r);
    }
    return r;
  });
}

/** Output ranges of f(x, y) over each element's box of operand ranges (bounded domain, shared per box). */
function bivariateRanges(n: Extract<Node, { kind: "lut2" }>, boxes: readonly (readonly [Interval, Interval])[], zx: number, zy: number, maxLutBits: number): Interval[] {
  const cache = new Map<string, Interval>();
  // Operands with known zero low bits take only multiples of 2^z: f is enumerated on those.
  const [sx, sy] = [2 ** Math.min(zx, 52), 2 ** Math.min(zy, 52)];
  return boxes.map(([x0, y0]) => {
    const x = { lo: Math.ceil(x0.lo / sx) * sx, hi: Math.floor(x0.hi / sx) * sx }, y = { lo: Math.ceil(y0.lo / sy) * sy, hi: Math.floor(y0.hi / sy) * sy };
    const key = `${x.lo}:${x.hi}:${y.lo}:${y.hi}`;
    let r = cache.get(key);
    if (r !== undefined) return r;
    if (((x.hi - x.lo) / sx + 1) * ((y.hi - y.lo) / sy + 1) > MAX_CLEAR_LOOKUP_DOMAIN) {
      // The ops compile splits into chunks have ranges in closed form.
      r = n.op === undefined ? undefined : chunkedOpRange(n.op, x, y);
      if (r !== undefined) { cache.set(key, r); return r; }
      throw new BoundsError(`${nodeName(n)} ${n.label}: its operands range over [${x.lo}, ${x.hi}] × [${y.lo}, ${y.hi}], ` +
        `too many pairs to bound f (at most ${MAX_CLEAR_LOOKUP_DOMAIN}); ` +
        truncationAdvice({ ...x, shift: Math.log2(sx) }, { ...y, shift: Math.log2(sy) }, maxLutBits), n.id);
    }
    let lo = Infinity, hi = -Infinity;
    for (let a = x.lo; a <= x.hi; a += sx) {
      for (let b = y.lo; b <= y.hi; b += sy) {
        const v = n.fn(a, b);
        if (!Number.isSafeInteger(v) && (n.op === "shl" || n.op === "shr") && b >= 0) {
          throw new BoundsError(`${nodeName(n)} ${n.op}: ${a} << ${b} is not a safe integer; clip the shift amount first: ` +
            `x.leftShift(y.clip(0, ${Math.max(0, SHIFTED_BITS - bitWidth(x.lo, x.hi).bits)}))`, n.id);
        }
        if (!Number.isSafeInteger(v)) throw new EvaluationError(`${nodeName(n)} ${n.label}: f(${a}, ${b}) = ${v} is not a safe integer (round in f)`, n.id);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    r = { lo, hi };
    cache.set(key, r);
    return r;
  });
}

/**
 * The range of a chunkable op over a box (undefined when f is not defined on all of it: a negative shift).
 * Products, shifts: monotone in each argument on a box of one sign, so the extremes are at corners. Bitwise
 * ops stay within the two's complement width of both operands ([0, min] for `and` of non-negatives).
 */
function chunkedOpRange(op: ChunkedOp, x: Interval, y: Interval): Interval | undefined {
  const corners = (f: (a: number, b: number) => number): Interval => {
    const v = [f(x.lo, y.lo), f(x.lo, y.hi), f(x.hi, y.lo), f(x.hi, y.hi)];
    return { lo: Math.min(...v) + 0, hi: Math.max(...v) + 0 };
  };
  if (op === "mul") return corners((a, b) => a * b);
  if (op === "shl" || op === "shr") {
    if (y.lo < 0 || (op === "shl" && !Number.isSafeInteger(Math.max(-x.lo, x.hi) * 2 ** y.hi))) return undefined;
    return corners(op === "shl" ? (a, b) => a * 2 ** b : (a, b) => Math.floor(a / 2 ** b));
  }
  if (x.lo >= 0 && y.lo >= 0) {
    const [, whi] = rangeOfWidth(bitWidth(0, Math.max(x.hi, y.hi)).bits, false);
    return op === "and" ? { lo: 0, hi: Math.min(x.hi, y.hi) } : { lo: 0, hi: whi };
  }
  const [lo, hi] = rangeOfWidth(bitWidth(Math.min(x.lo, y.lo), Math.max(x.hi, y.hi)).bits, true);
  return { lo, hi };
}

/**
 * The table of a lookup on clear values: f over its input's whole sound range (bounded domain). It bounds
 * the outputs, and it is what a deployed server evaluates (clear inputs outside their accepted ranges are
 * refused by client and server, so no accepted input leaves it).
 */
function clearLookupTable(n: Extract<Node, { kind: "lut" }>, input: NodeRanges): LutTable {
  if (input.max - input.min + 1 > MAX_CLEAR_LOOKUP_DOMAIN) {
    throw new BoundsError(`${nodeName(n)} ${n.label}: its clear input ranges over [${input.min}, ${input.max}], too wide ` +
      `to tabulate f (at most ${MAX_CLEAR_LOOKUP_DOMAIN} values). The range follows from the clear inputs' accepted ranges ` +
      "(their inputset ranges with the margin): narrow those in the inputset (a clip of a clear value is itself such a lookup)", n.id);
  }
  const values = new Float64Array(input.max - input.min + 1);
  for (let i = 0; i < values.length; i++) {
    const v = input.min + i, r = n.fn(v);
    if (!Number.isSafeInteger(r)) {
      throw new EvaluationError(`${nodeName(n)} ${n.label}: f(${v}) = ${r} is not a safe integer (round in f)`, n.id);
    }
    values[i] = r;
  }
  return { min: input.min, step: 1, values };
}

/**
 * Whether an exact round(x, lsbs) of x ∈ [min, max] (low `zeroLsbs` bits known zero) is done by bit
 * extraction — its input too wide for one lookup over it — and from which bit; undefined when one lookup
 * computes it (the correction x − round(x) over x's whole range).
 */
export function roundExtraction(min: number, max: number, zeroLsbs: number, lsbs: number, maxLutBits: number, extract = false): { fromBit: number } | undefined {
  const z = Math.min(zeroLsbs, lsbs), step = 2 ** z;
  const entries = Math.floor((max - Math.floor(min / step) * step) / step) + 1;
  return extract || Math.ceil(Math.log2(entries) - 1e-12) > Math.min(maxLutBits, MAX_LOOKUP_CIRCUIT_BITS) ? { fromBit: z } : undefined;
}

/** Fewest low bits to round away so that [min, max] fits maxLutBits (rounding up may add a top value). */
function suggestLsbs(min: number, max: number, zeroLsbs: number, maxLutBits: number): number {
  for (let l = zeroLsbs + 1; l <= 52; l++) {
    const step = 2 ** l;
    if (bitWidth(k.roundLsbs(min, l) / step, k.roundLsbs(max, l) / step).bits <= maxLutBits) return l;
  }
  return 52;
}

/** The table of an encrypted lookup over its (margined) input range, aligned to the known zero low bits. */
function buildTable(n: Extract<Node, { kind: "lut" }>, input: { readonly min: number; readonly max: number }, zeroLsbs: number, maxLutBits: number): { -readonly [K in keyof LutBounds]: LutBounds[K] } {
  const step = 2 ** Math.max(zeroLsbs, n.readLsbs ?? 0);
  // Values with known zero low bits are multiples of 2^zeroLsbs: the range shrinks to the multiples inside it
  // (the chunk t mod 2^(ci) of a radix decomposition ends at 2^(ci) − 2^(c(i−1)), not 2^(ci) − 1).
  const z = 2 ** Math.min(zeroLsbs, 52);
  const dmin = Math.floor(Math.ceil(input.min / z) * z / step) * step;
  const dmax = Math.max(dmin, Math.ceil(Math.floor(input.max / z) * z / step) * step);
  const { bits, signed } = bitWidth(dmin / step, dmax / step);
  if (bits > maxLutBits) {
    const what = `${nodeName(n)} ${n.label}: its input %${n.args[0]} ranges over [${dmin}, ${dmax}]` +
      (step > 1 ? ` in steps of ${step}` : "") + `, ${bits} bits${signed ? " (signed)" : ""}`;
    const lsbs = suggestLsbs(input.min, input.max, zeroLsbs, maxLutBits);
    // An exact round is itself a lookup over its whole input; past maxLutBits only an approximate one fits.
    const exactFits = bitWidth(Math.floor(input.min / 2 ** zeroLsbs), Math.ceil(input.max / 2 ** zeroLsbs)).bits <= maxLutBits;
    throw new BoundsError(`${what}, above maxLutBits = ${maxLutBits}; shrink it before the lookup with ` +
      (exactFits ? `round(x, ${lsbs})` : `round(x, ${lsbs}, { approximate: true }) (one PBS reading the top bits; ` +
        `an exact round(x, ${lsbs}) of a value this wide extracts its ${lsbs} low bits, one PBS each)`) +
      " (or rescale the computation feeding it)", n.id);
  }
  const values = new Float64Array((dmax - dmin) / step + 1);
  for (let i = 0; i < values.length; i++) {
    const v = dmin + i * step;
    const r = n.fn(v);
    if (!Number.isSafeInteger(r)) {
      throw new EvaluationError(`${nodeName(n)} ${n.label}: f(${v}) = ${r} is not a safe integer (the table covers [${dmin}, ${dmax}]; round in f)`, n.id);
    }
    values[i] = r;
  }
  return { node: n.id, inputMin: dmin, inputMax: dmax, step, inputBits: bits, signed, norm2: 0, table: { min: dmin, step, values } };
}

/** Lookup tables by node id (encrypted and clear lookups), for `attachTables`. */
export function tablesOf(bounds: Bounds): Map<number, LutTable> {
  return new Map([...bounds.clearTables, ...bounds.luts.map((l) => [l.node, l.table] as const)]);
}

/**
 * Run-time guard: throws InputOutOfRangeError when an input lies outside its inputset range (with the
 * margin), or when an intermediate value leaves its lookup table or its bit width, naming input or node.
 */
export function checkInRange(graph: Graph, bounds: Bounds, inputs: readonly (TensorLike | Tensor)[]): void {
  if (bounds.nodes.length !== graph.nodes.length) throw new GraphError("these bounds belong to another graph");
  const bound = bindInputs(graph, inputs);
  graph.inputs.forEach((id, i) => {
    const node = graph.nodes[id] as Extract<Node, { kind: "input" }>;
    const { min, max } = bounds.nodes[id]!;
    bound[i]!.data.forEach((v, j) => {
      if (v < min || v > max) {
        const what = node.encrypted
          ? "the bit width of the inputset's range (with the margin)" : "the inputset's range of this clear input (with the margin)";
        throw new InputOutOfRangeError(`input "${node.name}" element ${j} = ${v} is outside [${min}, ${max}], ${what}; ` +
          "add such values to the inputset or widen the margin", node.name, v);
      }
    });
  });
  const values = evaluateAll(graph, bound);
  const tables = new Map(bounds.luts.map((l) => [l.node, l]));
  graph.nodes.forEach((node) => {
    const lut = tables.get(node.id);
    if (lut !== undefined) {
      for (const v of values[node.args[0]!]!.data) {
        if (v < lut.inputMin || v > lut.inputMax) {
          throw new InputOutOfRangeError(`${nodeName(node)}: lookup input ${v} is outside its table [${lut.inputMin}, ${lut.inputMax}]`, nodeName(node), v);
        }
      }
    }
    if (!node.encrypted) return;
    // The message space holds each node's whole bit width (encoding.ts), so a value inside its width
    // decrypts right even outside the measured range; a value beyond the width would wrap.
    const b = bounds.nodes[node.id]!;
    const [rmin, rmax] = rangeOfWidth(b.bits, b.signed);
    for (const v of values[node.id]!.data) {
      if (v < rmin || v > rmax) {
        throw new InputOutOfRangeError(`${nodeName(node)}: value ${v} does not fit its ${b.signed ? "i" : "u"}${b.bits} width [${rmin}, ${rmax}]`, nodeName(node), v);
      }
    }
    // round's correction is a lookup over its input's measured range [min, max] (encoding.ts).
    if (node.kind === "round") {
      const x = bounds.nodes[node.args[0]!]!;
      for (const v of values[node.args[0]!]!.data) {
        if (v < x.min || v > x.max) {
          throw new InputOutOfRangeError(`${nodeName(node)}: input ${v} is outside [${x.min}, ${x.max}], the range its lookup was built for`, nodeName(node), v);
        }
      }
    }
  });
}
