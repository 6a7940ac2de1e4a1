// Sound value ranges of every node, derived from the ranges the client accepts for the inputs — never from
// the inputset alone. A value that the run-time guard accepts at the inputs therefore stays inside every
// node's range, every lookup table covers its input, and every encrypted value fits the message space.
//
// Each element is kept as an affine form over sources, c + Σ_s w_s·s, with interval coefficients (affine
// arithmetic, Comba & Stolfi 1993): a source is one element of an input, a lookup, a round or any value
// the analysis cannot follow linearly, and has an interval of its own. The range of a form is
// c + Σ w_s·[lo_s, hi_s]. Forms make linear maps exact: x − x is 0 and a matmul's range is Σ|w|·span,
// where plain interval arithmetic would lose the correlation and widen every accumulator.
import { EvaluationError } from "../runtime/errors.js";
import { type Graph, MOVE_KINDS, type Node, nodeName } from "../runtime/ir.js";
import { BOUND_FNS, evalNode } from "../runtime/clear-node.js";
import { broadcastMap, sizeOf } from "../runtime/shape.js";
import { roundNode } from "../runtime/tensor-ops.js";
import type { Tensor } from "../runtime/tensor.js";

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** Ranges of a node's elements (row-major), and their union. */
export interface NodeRanges {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly min: number;
  readonly max: number;
}

/** A form with more terms is replaced by a fresh source of the same range (bounds work and memory). */
const MAX_TERMS = 4096;

interface Form {
  readonly c: Interval;
  readonly terms: ReadonlyMap<number, Interval>;
}

export interface RangeHooks {
  /** The range of each element of an input node (the accepted range). */
  input(node: Extract<Node, { kind: "input" }>): Interval;
  /**
   * Ranges of a lookup's outputs, given its input's element ranges (the table is built over their union
   * here, so an error about a too-wide lookup is raised by the hook).
   */
  lookup(node: Extract<Node, { kind: "lut" }>, input: NodeRanges): Interval[];
  /** Low bits known zero in every value of a node (bounds.ts); 0 when absent. */
  zeroLsbs?(id: number): number;
  /** Ranges of a bivariate lookup's outputs, given the (broadcast) box of each output element's operands. */
  lookup2(node: Extract<Node, { kind: "lut2" }>, boxes: readonly (readonly [Interval, Interval])[]): Interval[];
}

const point = (v: number): Interval => ({ lo: v, hi: v });
const ZERO = point(0);

function mulI(a: Interval, b: Interval): Interval {
  if (a.lo === a.hi && b.lo === b.hi) return point(a.lo * b.lo + 0);
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  return { lo: Math.min(...p) + 0, hi: Math.max(...p) + 0 };
}

const addI = (a: Interval, b: Interval): Interval => ({ lo: a.lo + b.lo, hi: a.hi + b.hi });

export class RangeAnalysis {
  readonly #sources: Interval[] = [];
  readonly #forms: Form[][] = [];
  readonly ranges: NodeRanges[] = [];

  constructor(readonly graph: Graph, readonly hooks: RangeHooks) {
    for (const n of graph.nodes) {
      const forms = this.#node(n);
      this.#forms.push(forms);
      this.ranges.push(this.#rangesOf(n, forms));
    }
  }

  #fresh(r: Interval): Form {
    this.#sources.push(r);
    return { c: ZERO, terms: new Map([[this.#sources.length - 1, point(1)]]) };
  }

  #range(f: Form): Interval {
    let lo = f.c.lo, hi = f.c.hi;
    for (const [s, w] of f.terms) {
      const r = mulI(w, this.#sources[s]!);
      lo += r.lo;
      hi += r.hi;
    }
    return { lo: lo + 0, hi: hi + 0 };
  }

  #rangesOf(n: Node, forms: readonly Form[]): NodeRanges {
    const lo = new Float64Array(forms.length), hi = new Float64Array(forms.length);
    let min = Infinity, max = -Infinity;
    forms.forEach((f, i) => {
      const r = this.#range(f);
      if (!Number.isSafeInteger(r.lo) || !Number.isSafeInteger(r.hi)) {
        throw new EvaluationError(`${nodeName(n)}: its values can reach [${r.lo}, ${r.hi}], beyond the safe integers (|v| < 2^53)`, n.id);
      }
      lo[i] = r.lo;
      hi[i] = r.hi;
      min = Math.min(min, r.lo);
      max = Math.max(max, r.hi);
    });
    return { lo, hi, min, max };
  }

  /** Σ of scaled forms: out = Σ_t w_t · f_t (w_t an interval). */
  #combine(parts: readonly (readonly [Form, Interval])[]): Form {
    let c = ZERO;
    const terms = new Map<number, Interval>();
    for (const [f, w] of parts) {
      c = addI(c, mulI(f.c, w));
      for (const [s, v] of f.terms) {
        const add = mulI(v, w);
        const prev = terms.get(s);
        terms.set(s, prev === undefined ? add : addI(prev, add));
      }
    }
    const out = { c, terms };
    return terms.size > MAX_TERMS ? this.#fresh(this.#range(out)) : out;
  }

  /** x·y for one element pair: exact when one side is a known number, else x scaled by y's range. */
  #product(x: Form, y: Form): (readonly [Form, Interval])[] {
    if (y.terms.size === 0) return [[x, y.c]];
    if (x.terms.size === 0) return [[y, x.c]];
    // Both vary: w·(c + Σ a_s s) with w ∈ range(y) taken independently per term is a superset (sound).
    return [[x, this.#range(y)]];
  }

  #node(n: Node): Form[] {
    const size = sizeOf(n.shape);
    const args = n.args.map((a) => this.#forms[a]!);
    const shapeOf = (i: number) => this.graph.nodes[n.args[i]!]!.shape;
    switch (n.kind) {
      case "input": {
        const r = this.hooks.input(n);
        return Array.from({ length: size }, () => this.#fresh(r));
      }
      case "constant": return Array.from(n.value, (v) => ({ c: point(v), terms: new Map() }));
      case "neg": return args[0]!.map((f) => this.#combine([[f, point(-1)]]));
      case "add": case "sub": case "mul": {
        const ma = broadcastMap(shapeOf(0), n.shape), mb = broadcastMap(shapeOf(1), n.shape);
        const [a, b] = args as [Form[], Form[]];
        return Array.from({ length: size }, (_, i) => {
          const x = a[ma[i]!]!, y = b[mb[i]!]!;
          if (n.kind === "mul") return this.#combine(this.#product(x, y));
          return this.#combine([[x, point(1)], [y, point(n.kind === "sub" ? -1 : 1)]]);
        });
      }
      case "matmul": {
        const [sa, sb] = [shapeOf(0), shapeOf(1)];
        const [a, b] = args as [Form[], Form[]];
        const m = sa.length === 2 ? sa[0]! : 1, kk = sa[sa.length - 1]!, cols = sb.length === 2 ? sb[1]! : 1;
        const out: Form[] = [];
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < cols; j++) {
            const parts: (readonly [Form, Interval])[] = [];
            for (let l = 0; l < kk; l++) parts.push(...this.#product(a[i * kk + l]!, b[l * cols + j]!));
            out.push(this.#combine(parts));
          }
        }
        return out;
      }
      case "sum": {
        const src = args[0]!, shape = shapeOf(0);
        if (n.axis === null) return [this.#combine(src.map((f) => [f, point(1)] as const))];
        const len = shape[n.axis]!, inner = sizeOf(shape.slice(n.axis + 1));
        return Array.from({ length: size }, (_, o) => {
          const outer = Math.floor(o / inner), r = o % inner;
          const parts: (readonly [Form, Interval])[] = [];
          for (let t = 0; t < len; t++) parts.push([src[(outer * len + t) * inner + r]!, point(1)]);
          return this.#combine(parts);
        });
      }
      case "lut": {
        const input = this.ranges[n.args[0]!]!;
        const out = this.hooks.lookup(n, input);
        return out.map((r) => this.#fresh(r));
      }
      case "lut2": {
        const [x, y] = n.args.map((a) => this.ranges[a]!) as [NodeRanges, NodeRanges];
        const mx = broadcastMap(shapeOf(0), n.shape), my = broadcastMap(shapeOf(1), n.shape);
        const boxes = Array.from({ length: size }, (_, i) => [
          { lo: x.lo[mx[i]!]!, hi: x.hi[mx[i]!]! }, { lo: y.lo[my[i]!]!, hi: y.hi[my[i]!]! },
        ] as const);
        return this.hooks.lookup2(n, boxes).map((r) => this.#fresh(r));
      }
      case "bound": {
        // op(x, y) over the box of x's and y's element ranges is exact where the lowered form is not.
        const f = BOUND_FNS[n.op];
        const [v, x, y] = n.args.map((a) => this.ranges[a]!) as [NodeRanges, NodeRanges, NodeRanges];
        const mx = broadcastMap(shapeOf(1), n.shape), my = broadcastMap(shapeOf(2), n.shape);
        return args[0]!.map((form, i) => {
          const [xl, xh, yl, yh] = [x.lo[mx[i]!]!, x.hi[mx[i]!]!, y.lo[my[i]!]!, y.hi[my[i]!]!];
          // mul, min and max are monotone in each argument on a box: the extremes are at corners. x mod y
          // (y ≥ 1) lies in [0, y − 1], and in [0, y − 2^z] when x and y are multiples of 2^z (a chunk).
          const z = 2 ** Math.min(this.hooks.zeroLsbs?.(n.args[1]!) ?? 0, this.hooks.zeroLsbs?.(n.args[2]!) ?? 0, 52);
          const corners = n.op === "mod" ? (yl >= 1 ? [0, yh - z] : [-Infinity, Infinity]) : [f(xl, yl), f(xl, yh), f(xh, yl), f(xh, yh)];
          const lo = Math.max(Math.min(...corners), v.lo[i]!), hi = Math.min(Math.max(...corners), v.hi[i]!);
          return lo > v.lo[i]! || hi < v.hi[i]! ? this.#fresh({ lo, hi }) : form;
        });
      }
      case "round": {
        const { lo, hi } = this.ranges[n.args[0]!]!;
        // Approximate: near a tie either neighbour, so the range spans both.
        const step = 2 ** n.lsbs;
        return Array.from({ length: size }, (_, i) => this.#fresh(n.approximate === true
          ? { lo: Math.floor(lo[i]! / step) * step, hi: Math.ceil(hi[i]! / step) * step }
          : { lo: roundNode(lo[i]!, n), hi: roundNode(hi[i]!, n) })); // monotone
      }
      default: {
        if (!MOVE_KINDS.has(n.kind)) throw new Error(`range analysis: no rule for ${nodeName(n)}`);
        // Run the op on the indices of the concatenated arguments' elements: it says where each comes from.
        let offset = 0;
        const idx: Tensor[] = n.args.map((_, p) => {
          const count = args[p]!.length;
          const t = { shape: shapeOf(p), data: Float64Array.from({ length: count }, (_, i) => i + offset) };
          offset += count;
          return t;
        });
        const all = args.flat();
        const moved = evalNode(n, idx, () => { throw new Error("unreachable"); });
        return Array.from(moved.data, (i) => all[i]!);
      }
    }
  }
}
