// Tracing: a plain TS function runs once on Tracer objects; each method call records a node. Shapes and
// argument kinds are checked as the node is created, so a shape error points at the user's call.
// Data-movement ops that the IR has no dedicated node for (transpose, fancy indexing, negative steps,
// windows) become one `gather` node with an index map computed here (indexing.ts).
import { GraphError } from "../runtime/errors.js";
import {
  type AxisSelection, type IndexMap, isPositiveBasic, normalizeArray, normalizeInt, normalizeRange, selectionMap,
  transposeMap,
} from "./indexing.js";
import { type BoundOp, type ChunkedOp, type Graph, type Node, type OpAttrs, type Visibility, deriveNode, verify } from "../runtime/ir.js";
import { type AvgDivisor, type Conv2dOptions, type Pool2dOptions, avgpool2d, conv2d, maxpool2d } from "./nn.js";
import { eliminateDeadNodes } from "./passes.js";
import { type Shape, assertShape, broadcastMap, broadcastShapes, canBroadcastTo, formatShape, sameShape, sizeOf } from "../runtime/shape.js";
import { type TensorLike, toTensor } from "../runtime/tensor.js";

/** Anything an op accepts as an operand: a traced value or a clear constant. */
export type Operand = Tracer | TensorLike;

/** One axis of a slice: an index (drops the axis), `null` (whole axis), or `[start?, stop?, step?]` (step may be negative). */
export type SliceSpec = number | null | readonly [start?: number | null, stop?: number | null, step?: number];

/** A NumPy-style range for `index`/`at`: `{ start: 1, step: -1 }` is `1::-1`. */
export interface Range {
  readonly start?: number | null;
  readonly stop?: number | null;
  readonly step?: number;
}

/** Integer positions along one axis (fancy indexing): a flat or nested array, or an Int32Array. */
export type IndexArray = Int32Array | readonly (number | IndexArray)[];

/** One axis of `index`/`at`: a position (drops the axis), `null` (whole axis), a Range, or an index array. */
export type IndexSpec = number | null | Range | IndexArray;

/** A nested JS array of traced values and numbers, for `Tracer.array`. */
export type NestedOperand = Tracer | number | readonly NestedOperand[];

/** @internal Records nodes during one trace; reached only through Tracer objects. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: number[] = [];
  closed = false;

  push(op: OpAttrs, args: readonly Tracer[], shape?: Shape): Tracer {
    if (this.closed) throw new GraphError(`${op.kind}: tracer used after trace() returned`);
    for (const a of args) {
      if (a.builder !== this) throw new GraphError(`${op.kind}: operand %${a.id} belongs to another trace`);
    }
    const id = this.nodes.length;
    const where = `%${id} = ${op.kind}(${args.map((a) => `%${a.id}: ${formatShape(a.shape)}`).join(", ")})`;
    const d = deriveNode(op, args.map((a) => this.nodes[a.id]!), shape, where);
    this.nodes.push({ ...op, id, args: args.map((a) => a.id), shape: d.shape, encrypted: d.encrypted } as Node);
    return new Tracer(this, id);
  }

  operand(x: Operand): Tracer {
    if (x instanceof Tracer) return x;
    const t = toTensor(x, { what: "constant operand" });
    return this.push({ kind: "constant", value: t.data }, [], t.shape);
  }
}

/** The traces in progress (innermost last): where `Tracer.zeros` and other operand-less constructors record. */
const active: GraphBuilder[] = [];

function currentBuilder(what: string): GraphBuilder {
  const b = active[active.length - 1];
  if (b === undefined) throw new GraphError(`${what}: called outside a traced function (there is no trace to record into)`);
  return b;
}

/** The builder of the first traced value among `xs`, else the current trace's. */
function builderOf(xs: readonly unknown[], what: string): GraphBuilder {
  for (const x of xs) if (x instanceof Tracer) return x.builder;
  return currentBuilder(what);
}

function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new GraphError(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Distinct axes, sorted; `undefined`/`null` means every axis. */
function normalizeAxes(axis: number | readonly number[] | null | undefined, rank: number, what: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(a, rank, what));
  if (new Set(out).size !== out.length) throw new GraphError(`${what}: repeated axis in [${list.join(", ")}]`);
  return out.sort((a, b) => a - b);
}

const INDEX_KEY = /^-?\d+$/;

function coercionError(t: Tracer, hint: string): GraphError {
  return new GraphError(
    `%${t.id}: a traced value was used as a ${hint === "default" ? "primitive" : hint} (a comparison operator, ` +
    "arithmetic operator, string concatenation, Number() or a template string): its value is only known at run " +
    "time, so the trace would silently follow one branch. Use x.gt(y), x.lt(y), x.ge(y), x.le(y), x.eq(y), x.ne(y) " +
    "for comparisons, x.add(y)/x.sub(y)/x.mul(y) for arithmetic, and where(cond, a, b) for if-then-else. " +
    "(`if (x)`, `x ? a : b` and `!x` on a tracer cannot be detected: a tracer is an object, always true.)");
}

/**
 * The root of Tracer's prototype chain, so only reached for properties a Tracer does not have (existing
 * properties and methods resolve before it, at full speed). Assignment (`y[1] = v`) would add a property to
 * the JS object and change nothing in the circuit, and `y[1]` would read `undefined`: both throw a GraphError
 * pointing to the functional forms. An ordinary [[Set]] of a missing property walks the prototype chain, so
 * the trap runs in sloppy-mode code too, where a frozen object would ignore the write silently.
 */
const MISSING: object = new Proxy(Object.prototype, {
  set(_target, key, _value, receiver: Tracer) {
    const k = String(key);
    const idx = INDEX_KEY.test(k) ? k : JSON.stringify(k);
    throw new GraphError(`%${receiver.id}: cannot assign into a traced value (y[${idx}] = v changes nothing in the circuit): ` +
      `use y = y.at(${INDEX_KEY.test(k) ? k : "…"}).set(v), which returns a new traced value`);
  },
  get(target, key, receiver: Tracer) {
    if (typeof key === "string" && INDEX_KEY.test(key)) {
      throw new GraphError(`%${receiver.id}: y[${key}] reads nothing from a traced value: use y.index(${key})`);
    }
    return Reflect.get(target, key, receiver) as unknown;
  },
});

export class Tracer {
  /** @internal Created by trace() and by ops; user code never constructs one. */
  constructor(readonly builder: GraphBuilder, readonly id: number) {
    // Frozen: Object.defineProperty and writes to id/builder fail; other writes reach MISSING.
    Object.freeze(this);
  }

  get shape(): Shape {
    return this.builder.nodes[this.id]!.shape;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** True when the value depends on an encrypted input. */
  get encrypted(): boolean {
    return this.builder.nodes[this.id]!.encrypted;
  }

  /**
   * Throws: a tracer has no value at trace time. Catches `x > 1`, `x + 1`, `` `${x}` ``, `Number(x)`, `x == 1`.
   * JS calls nothing for `if (x)`, `x ? a : b`, `!x` or `x === 1`, so those cannot be caught: use `where`.
   */
  [Symbol.toPrimitive](hint: string): never {
    throw coercionError(this, hint);
  }
  /** Throws, as `Symbol.toPrimitive` does: comparisons of traced values are `gt/lt/ge/le/eq/ne`. */
  valueOf(): never {
    throw coercionError(this, "number");
  }
  /** A description for debugging, e.g. `Tracer(%3: encrypted [2,2])`. */
  toString(): string {
    return `Tracer(%${this.id}: ${this.encrypted ? "encrypted" : "clear"} ${formatShape(this.shape)})`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  private binary(kind: "add" | "sub" | "mul" | "matmul", other: Operand): Tracer {
    return this.builder.push({ kind }, [this, this.builder.operand(other)]);
  }
  /** One `gather` node (or a reshape when the map is the identity). */
  private gatherMap(map: IndexMap): Tracer {
    const { shape, indices } = map;
    if (indices.length === this.size && indices.every((v, i) => v === i)) {
      return sameShape(shape, this.shape) ? this : this.reshape(shape);
    }
    return this.builder.push({ kind: "gather", indices }, [this], shape);
  }

  add(other: Operand): Tracer {
    return this.binary("add", other);
  }
  sub(other: Operand): Tracer {
    return this.binary("sub", other);
  }
  /**
   * Element-wise product. By a clear value it is one linear op. Encrypted × encrypted is a bivariate
   * lookup that compile lowers once the ranges are known (passes.ts lowerBivariateLookups): two lookups per
   * element, x·y = ⌊(x+y)²/4⌋ − ⌊(x−y)²/4⌋ (exact: x + y and x − y have the same parity, so their squares
   * agree mod 4), and x·x one, while they fit a table; beyond that, partial products of chunks (radix.ts).
   */
  mul(other: Operand): Tracer {
    const o = this.builder.operand(other);
    if (!(this.encrypted && o.encrypted)) return this.binary("mul", o);
    return this.builder.push({ kind: "lut2", fn: (a, b) => a * b + 0, label: "mul", op: "mul" }, [this, o]);
  }
  neg(): Tracer {
    return this.builder.push({ kind: "neg" }, [this]);
  }
  /**
   * this @ other with NumPy's matmul rules: a 1-D operand is a row (left) or a column (right) vector, and
   * operands of rank > 2 are stacks of matrices over the leading (batch) dimensions, which broadcast. With
   * one side clear it is linear (one matmul node when a side has no batch dimensions); with both encrypted
   * it is the element-wise products (two lookups each, see `mul`) summed over the inner axis.
   */
  matmul(other: Operand): Tracer {
    const o = this.builder.operand(other);
    const [a, b] = [this.shape, o.shape];
    if (a.length <= 2 && b.length <= 2) {
      if (!(this.encrypted && o.encrypted)) return this.binary("matmul", o);
      return this.encryptedMatmul(o);
    }
    return this.batchedMatmul(o);
  }
  /** Dot product of vectors, or the matrix product for ranks ≤ 2 (as NumPy's dot). */
  dot(other: Operand): Tracer {
    return this.matmul(other);
  }

  private encryptedMatmul(o: Tracer): Tracer {
    const [a, b] = [this.shape, o.shape];
    const ka = a[a.length - 1], kb = b.length === 2 ? b[0] : b[0];
    if (a.length < 1 || a.length > 2 || b.length < 1 || b.length > 2 || ka !== kb) {
      throw new GraphError(`matmul of %${this.id}: shapes ${formatShape(a)} and ${formatShape(b)} do not multiply (ranks 1–2, inner dimensions equal)`);
    }
    if (a.length === 1 && b.length === 1) return this.mul(o).sum();
    if (a.length === 2 && b.length === 1) return this.mul(o).sum(1);
    if (a.length === 1) return this.reshape([ka!, 1]).mul(o).sum(0);
    return this.reshape([a[0]!, ka!, 1]).mul(o.reshape([1, ka!, b[1]!])).sum(1);
  }

  private batchedMatmul(o: Tracer): Tracer {
    const fail = (): never => {
      throw new GraphError(`matmul of %${this.id}: shapes ${formatShape(this.shape)} and ${formatShape(o.shape)} do not multiply ` +
        "(NumPy matmul: inner dimensions equal, batch dimensions broadcast, no scalars)");
    };
    if (this.ndim === 0 || o.ndim === 0) fail();
    // NumPy promotes a 1-D left operand to a row and a 1-D right one to a column, then drops that axis.
    const x = this.ndim === 1 ? this.reshape([1, this.size]) : this;
    const y = o.ndim === 1 ? o.reshape([o.size, 1]) : o;
    const [M, K] = x.shape.slice(-2) as [number, number];
    const [K2, N] = y.shape.slice(-2) as [number, number];
    const bx = x.shape.slice(0, -2), by = y.shape.slice(0, -2);
    const batch = broadcastShapes(bx, by);
    if (K !== K2 || batch === null) fail();
    let out: Tracer;
    if (x.encrypted && y.encrypted) {
      // [..., M, K, 1] · [..., 1, K, N] summed over K.
      out = x.reshape([...bx, M, K, 1]).mul(y.reshape([...by, 1, K, N])).sum(-2);
    } else if (by.length === 0) {
      // Matrices times one matrix: a single [B·M, K] @ [K, N] product.
      out = x.reshape([sizeOf(bx) * M, K]).matmul(y).reshape([...bx, M, N]);
    } else if (bx.length === 0) {
      // One matrix times matrices: [M, K] @ [K, B·N] on the stack laid side by side, then back.
      const r = by.length;
      const side = y.transpose([r, ...by.map((_, i) => i), r + 1]).reshape([K, sizeOf(by) * N]);
      const prod = x.matmul(side).reshape([M, ...by, N]);
      out = prod.transpose([...by.map((_, i) => i + 1), 0, r + 1]);
    } else {
      // Both batched: one product per batch element.
      const B = sizeOf(batch!);
      const xs = x.broadcastTo([...batch!, M, K]).reshape([B, M, K]);
      const ys = y.broadcastTo([...batch!, K, N]).reshape([B, K, N]);
      out = Tracer.stack(Array.from({ length: B }, (_, i) => xs.index(i).matmul(ys.index(i))), 0).reshape([...batch!, M, N]);
    }
    if (o.ndim === 1) out = out.squeeze(-1);
    if (this.ndim === 1) out = out.squeeze(-2 + (o.ndim === 1 ? 1 : 0));
    return out;
  }

  /**
   * Sum over an axis or axes (negative counts from the end), or over everything (no axis), as NumPy's sum.
   * With `keepdims`, reduced axes stay as dimensions of size 1.
   */
  sum(axis?: number | readonly number[] | null, keepdims = false): Tracer {
    const what = `sum of %${this.id}`;
    const axes = normalizeAxes(axis, this.ndim, what);
    let out: Tracer = this;
    if (axis === undefined || axis === null) out = this.builder.push({ kind: "sum", axis: null }, [this]);
    // Highest axis first, so the lower axis numbers stay valid.
    else for (const ax of [...axes].reverse()) out = out.builder.push({ kind: "sum", axis: ax }, [out]);
    return keepdims ? out.reshape(this.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : out;
  }
  /**
   * Maximum over an axis or axes (all when omitted), as NumPy's amax: a pairwise tree of `max`, one lookup
   * per pair (n − 1 per reduced group), depth ⌈log₂ n⌉.
   */
  amax(axis?: number | readonly number[] | null, keepdims = false): Tracer {
    return this.reduceTree(axis, keepdims, (a, b) => a.max(b), "amax");
  }
  /** Minimum over an axis or axes (all when omitted), as NumPy's amin; see `amax` for the cost. */
  amin(axis?: number | readonly number[] | null, keepdims = false): Tracer {
    return this.reduceTree(axis, keepdims, (a, b) => a.min(b), "amin");
  }

  private reduceTree(axis: number | readonly number[] | null | undefined, keepdims: boolean, pair: (a: Tracer, b: Tracer) => Tracer, name: string): Tracer {
    const axes = normalizeAxes(axis, this.ndim, `${name} of %${this.id}`);
    const rest = this.shape.flatMap((_, i) => (axes.includes(i) ? [] : [i]));
    const restShape = rest.map((i) => this.shape[i]!);
    const n = sizeOf(axes.map((i) => this.shape[i]!));
    // Reduced axes first, flattened to one: [n, ...rest].
    const moved = this.transpose([...axes, ...rest]);
    let t = moved.ndim === 1 + restShape.length && moved.shape[0] === n ? moved : moved.reshape([n, ...restShape]);
    let len = n;
    while (len > 1) {
      const h = Math.floor(len / 2);
      const m = pair(t.slice([0, h]), t.slice([h, 2 * h]));
      t = len % 2 === 1 ? Tracer.concat([m, t.slice([2 * h, len])], 0) : m;
      len = h + (len % 2);
    }
    return t.reshape(keepdims ? this.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : restShape);
  }

  /** Reshape; one dimension may be -1 (inferred). */
  reshape(shape: readonly number[]): Tracer {
    const free = shape.filter((d) => d === -1).length;
    let target = [...shape];
    if (free === 1) {
      const known = sizeOf(shape.filter((d) => d !== -1));
      if (known > 0 && this.size % known === 0) target = shape.map((d) => (d === -1 ? this.size / known : d));
    }
    return this.builder.push({ kind: "reshape" }, [this], target);
  }
  flatten(): Tracer {
    return this.reshape([this.size]);
  }
  broadcastTo(shape: readonly number[]): Tracer {
    return this.builder.push({ kind: "broadcast" }, [this], [...shape]);
  }
  /** Inserts axes of size 1 at the given positions of the result (NumPy's expand_dims). */
  expandDims(axis: number | readonly number[]): Tracer {
    const list = typeof axis === "number" ? [axis] : [...axis];
    const rank = this.ndim + list.length;
    const at = new Set(list.map((a) => normalizeAxis(a, rank, `expandDims of %${this.id}`)));
    if (at.size !== list.length) throw new GraphError(`expandDims of %${this.id}: repeated axis in [${list.join(", ")}]`);
    const dims = [...this.shape];
    const shape = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : dims.shift()!));
    return this.reshape(shape);
  }
  /** Removes axes of size 1: the given ones (each must have size 1), or all of them (NumPy's squeeze). */
  squeeze(axis?: number | readonly number[]): Tracer {
    const what = `squeeze of %${this.id}`;
    const axes = axis === undefined ? this.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(axis, this.ndim, what);
    for (const a of axes) {
      if (this.shape[a] !== 1) throw new GraphError(`${what}: axis ${a} has size ${this.shape[a]}, not 1`);
    }
    return this.reshape(this.shape.filter((_, i) => !axes.includes(i)));
  }
  /** Permutes the axes (NumPy's transpose): output axis i is input axis axes[i]; reverses them by default. */
  transpose(axes?: readonly number[]): Tracer {
    const rank = this.ndim;
    const perm = axes === undefined ? Array.from({ length: rank }, (_, i) => rank - 1 - i) : axes.map((a) => normalizeAxis(a, rank, `transpose of %${this.id}`));
    return this.gatherMap(transposeMap(this.shape, perm));
  }
  /** The transpose (axes reversed), as NumPy's `.T`. */
  get T(): Tracer {
    return this.transpose();
  }

  /**
   * NumPy-style basic slicing with static ranges; missing trailing axes are taken whole. A negative step
   * walks backwards (`[null, null, -1]` reverses an axis) with NumPy's defaults and clamping.
   */
  slice(...specs: SliceSpec[]): Tracer {
    const what = `slice of %${this.id}`;
    if (specs.length > this.ndim) throw new GraphError(`${what}: ${specs.length} indices for shape ${formatShape(this.shape)}`);
    const sels = this.shape.map((d, ax): AxisSelection => {
      const s = specs[ax] ?? null;
      if (typeof s === "number") return normalizeInt(d, s, what);
      if (s !== null && !Array.isArray(s)) throw new GraphError(`${what}: axis ${ax}: expected a number, null or [start, stop, step], got ${typeof s}`);
      const [lo, hi, st] = s ?? [];
      return normalizeRange(d, lo, hi, st ?? 1, `${what}, axis ${ax}`);
    });
    return this.select(sels, what);
  }
  /**
   * NumPy indexing, one spec per axis (missing trailing axes are taken whole): a number picks a position
   * (negative counts from the end) and drops the axis; `null` takes the axis whole; a Range `{ start, stop,
   * step }` slices; an integer array (nested for several dimensions) picks those positions (fancy
   * indexing). Several arrays broadcast together and pick element-wise (x.index([0, 1], [2, 0]) is
   * [x[0, 2], x[1, 0]]); their dimensions replace the indexed axes when those are adjacent, else go first.
   * Note that arrays mean positions: use `slice` or a Range for a range.
   */
  index(...specs: IndexSpec[]): Tracer {
    const what = `index of %${this.id}`;
    return this.select(this.selections(specs, what), what);
  }
  /**
   * Functional update (JAX's `x.at[i].set(v)`): `y.at(1).set(v)` is a new traced value equal to y with y[1]
   * replaced by v (broadcast to the selected shape). Traced values cannot be assigned into (`y[1] = v`
   * throws), since the assignment could not change the circuit. With repeated fancy indices the last write
   * wins.
   */
  at(...specs: IndexSpec[]): { set(value: Operand): Tracer } {
    const what = `at(…).set of %${this.id}`;
    const map = selectionMap(this.shape, this.selections(specs, what), what);
    return { set: (value: Operand) => this.scatter(map, value, what) };
  }

  private scatter(map: IndexMap, value: Operand, what: string): Tracer {
    const v = this.builder.operand(value);
    if (!canBroadcastTo(v.shape, map.shape)) {
      throw new GraphError(`${what}: a value of shape ${formatShape(v.shape)} does not broadcast to the selected shape ${formatShape(map.shape)}`);
    }
    // Gather from [this..., v...]: selected positions read v (through its broadcast), the others this.
    const vmap = broadcastMap(v.shape, map.shape);
    const indices = Int32Array.from({ length: this.size }, (_, i) => i);
    map.indices.forEach((pos, j) => { indices[pos] = this.size + vmap[j]!; });
    const both = Tracer.concat([this.reshape([this.size]), v.reshape([v.size])], 0);
    return both.gatherMap({ shape: this.shape, indices });
  }

  private selections(specs: readonly IndexSpec[], what: string): AxisSelection[] {
    if (specs.length > this.ndim) throw new GraphError(`${what}: ${specs.length} indices for shape ${formatShape(this.shape)}`);
    return this.shape.map((d, ax): AxisSelection => {
      const s = specs[ax] ?? null;
      const where = `${what}, axis ${ax}`;
      if (typeof s === "number") return normalizeInt(d, s, where);
      if (s === null) return normalizeRange(d, null, null, 1, where);
      if (s instanceof Tracer) throw new GraphError(`${where}: indices must be clear numbers (an encrypted index would need a lookup per position)`);
      if (s instanceof Int32Array || Array.isArray(s)) {
        const { shape, flat } = nestedIndices(s as IndexArray, where);
        return normalizeArray(d, flat, shape, where);
      }
      if (typeof s === "object") {
        const r = s as Range;
        return normalizeRange(d, r.start, r.stop, r.step ?? 1, where);
      }
      throw new GraphError(`${where}: expected a number, null, a Range or an index array, got ${typeof s}`);
    });
  }

  /** A slice node for positive-step basic selections (kept for their readable form), else a gather. */
  private select(sels: readonly AxisSelection[], what: string): Tracer {
    if (!isPositiveBasic(sels)) return this.gatherMap(selectionMap(this.shape, sels, what));
    const starts: number[] = [], stops: number[] = [], steps: number[] = [], kept: number[] = [];
    sels.forEach((s, ax) => {
      if (s.kind === "int") {
        starts.push(s.index), stops.push(s.index + 1), steps.push(1);
      } else if (s.kind === "range") {
        starts.push(s.start), stops.push(s.start + Math.max(0, (s.length - 1) * s.step + 1)), steps.push(s.step);
        kept.push(ax);
      }
    });
    const sliced = this.builder.push({ kind: "slice", starts, stops, steps }, [this]);
    if (kept.length === sels.length) return sliced;
    return sliced.reshape(kept.map((ax) => sliced.shape[ax]!));
  }

  /** Joins tensors along an existing axis (NumPy's concatenate). */
  static concat(parts: readonly Tracer[], axis = 0): Tracer {
    if (parts.length === 0) throw new GraphError("concat: no tensors");
    const first = parts[0]!;
    const ax = normalizeAxis(axis, first.ndim, "concat");
    return first.builder.push({ kind: "concat", axis: ax }, parts);
  }
  /** Joins tensors of one shape along a new axis (NumPy's stack); numbers and clear arrays may be mixed in. */
  static stack(parts: readonly Operand[], axis = 0): Tracer {
    if (parts.length === 0) throw new GraphError("stack: no tensors");
    const b = builderOf(parts, "stack");
    const ts = parts.map((p) => b.operand(p));
    const shape = ts[0]!.shape;
    const bad = ts.find((t) => !sameShape(t.shape, shape));
    if (bad !== undefined) throw new GraphError(`stack: shapes ${formatShape(shape)} and ${formatShape(bad.shape)} differ (stack needs equal shapes)`);
    const ax = normalizeAxis(axis, shape.length + 1, "stack");
    return Tracer.concat(ts.map((t) => t.expandDims(ax)), ax);
  }
  /**
   * A tensor from a nested JS array of traced values and numbers (Concrete's `fhe.array`): leaves are
   * scalars, or tensors that all have one shape (it becomes the trailing dimensions). Encrypted as soon as
   * one leaf is; needs at least one traced leaf, or a trace in progress.
   */
  static array(nested: NestedOperand): Tracer {
    if (nested instanceof Tracer) return nested;
    const leaves: (Tracer | number)[] = [];
    const outer = nestedOperandShape(nested, leaves);
    const b = builderOf(leaves, "array");
    const ts = leaves.map((l) => b.operand(l));
    const leafShape = ts.find((t) => t.ndim > 0)?.shape ?? [];
    const parts = ts.map((t) => {
      if (t.ndim === 0 && leafShape.length > 0) return t.broadcastTo(leafShape);
      if (!sameShape(t.shape, leafShape)) throw new GraphError(`array: leaves of shapes ${formatShape(leafShape)} and ${formatShape(t.shape)} differ`);
      return t;
    });
    if (parts.length === 1) return parts[0]!.reshape([...outer, ...leafShape]);
    return Tracer.concat(parts.map((t) => t.reshape([1, ...leafShape])), 0).reshape([...outer, ...leafShape]);
  }
  /** A clear tensor of zeros in the current trace; it becomes encrypted once encrypted values are set into it. */
  static zeros(shape: readonly number[]): Tracer {
    return Tracer.full(shape, 0);
  }
  /** A clear tensor of ones in the current trace. */
  static ones(shape: readonly number[]): Tracer {
    return Tracer.full(shape, 1);
  }
  /** A clear tensor filled with one integer, in the current trace (NumPy's full). */
  static full(shape: readonly number[], value: number): Tracer {
    assertShape(shape, "full");
    if (!Number.isSafeInteger(value)) throw new GraphError(`full: ${value} is not a safe integer`);
    return currentBuilder("zeros/ones/full").push({ kind: "constant", value: new Float64Array(sizeOf(shape)).fill(value) }, [], [...shape]);
  }
  /**
   * Element-wise if-then-else on a condition in {0, 1} (NumPy's where with a 0/1 condition): computed as
   * b + cond·(a − b), so an encrypted cond with an encrypted a − b costs the encrypted product (two
   * lookups per element), and a clear factor a single linear op. Other condition values give b + cond·(a − b).
   * Operands broadcast. JS's `cond ? a : b` cannot be traced: it would pick one branch at trace time.
   */
  static where(cond: Operand, a: Operand, b: Operand): Tracer {
    const builder = builderOf([cond, a, b], "where");
    const [c, ta, tb] = [cond, a, b].map((x) => builder.operand(x)) as [Tracer, Tracer, Tracer];
    return tb.add(c.mul(ta.sub(tb)));
  }

  /**
   * 2-D convolution as PyTorch's conv2d: input NCHW (or CHW), weight OIHW with I = C / groups, optional
   * bias [O]; stride, zero padding and dilation per spatial axis (a number for both). Lowered to gathers of
   * the input windows (im2col) and one matmul per group with the weight: linear when the weight is clear.
   */
  conv2d(weight: Operand, options: Conv2dOptions = {}): Tracer {
    return conv2d(this, this.builder.operand(weight), options);
  }
  /**
   * 2-D max pooling as PyTorch's max_pool2d (NCHW or CHW; stride defaults to the kernel; padding never wins
   * a window, as with PyTorch's −∞ padding). A pairwise max tree: kernel area − 1 lookups per output.
   */
  maxpool2d(options: Pool2dOptions): Tracer {
    return maxpool2d(this, options);
  }
  /**
   * 2-D average pooling (NCHW or CHW) with integer semantics: `divisor: "round"` (default) gives
   * ⌊sum / area + 1/2⌋ with one lookup per output; `"floor"` gives ⌊sum / area⌋; `"none"` gives the window
   * sum with no lookup (fold 1/area into the next layer's scale). Zero padding counts in the area (PyTorch's
   * count_include_pad).
   */
  avgpool2d(options: Pool2dOptions & { readonly divisor?: AvgDivisor }): Tracer {
    return avgpool2d(this, options);
  }

  /** Table lookup of any univariate integer function, applied element-wise. */
  lut(f: (v: number) => number, label?: string): Tracer {
    if (typeof f !== "function") throw new GraphError(`lut of %${this.id}: f must be a function`);
    return this.builder.push({ kind: "lut", fn: f, label: label ?? (f.name || "f") }, [this]);
  }
  /**
   * Table lookup of a function of two values, element-wise with broadcasting: f(this, other). On encrypted
   * values it costs one PBS per element, of a packed index whose precision is the sum of the operands'
   * widths (see ir.ts `lut2`); with a number it is a univariate lookup.
   */
  lut2(other: Operand, f: (x: number, y: number) => number, label?: string): Tracer {
    return this.bivariate(other, f, label ?? (f.name || "f"), undefined);
  }

  private bivariate(other: Operand, f: (x: number, y: number) => number, name: string, op: ChunkedOp | undefined): Tracer {
    if (typeof f !== "function") throw new GraphError(`lut2 of %${this.id}: f must be a function`);
    if (typeof other === "number") return this.lut((v) => f(v, other), `${name}(v, ${other})`);
    return this.builder.push({ kind: "lut2", fn: f, label: name, ...(op !== undefined ? { op } : {}) }, [this, this.builder.operand(other)]);
  }
  /**
   * Bitwise and of integers (two's complement for negative values), as NumPy's bitwise_and. Of two
   * encrypted values: one lookup of the packed pair while it fits a table, else one per chunk pair (radix.ts).
   */
  bitwiseAnd(other: Operand): Tracer {
    return this.bivariate(other, (x, y) => Number(BigInt(x) & BigInt(y)), "and", "and");
  }
  /** Bitwise or, as NumPy's bitwise_or (chunked as `bitwiseAnd`). */
  bitwiseOr(other: Operand): Tracer {
    return this.bivariate(other, (x, y) => Number(BigInt(x) | BigInt(y)), "or", "or");
  }
  /** Bitwise exclusive or, as NumPy's bitwise_xor (chunked as `bitwiseAnd`). */
  bitwiseXor(other: Operand): Tracer {
    return this.bivariate(other, (x, y) => Number(BigInt(x) ^ BigInt(y)), "xor", "xor");
  }
  /**
   * x · 2^y for shift amounts y ≥ 0 (a negative shift is an EvaluationError), as NumPy's left_shift. With y
   * encrypted and x too wide to pack with y in one table: one lookup per chunk of x, each paired with y.
   */
  leftShift(other: Operand): Tracer {
    return this.bivariate(other, (x, y) => (y >= 0 ? x * 2 ** y : NaN), "shl", "shl");
  }
  /** ⌊x / 2^y⌋ for y ≥ 0 (arithmetic shift), as NumPy's right_shift (chunked as `leftShift`). */
  rightShift(other: Operand): Tracer {
    return this.bivariate(other, (x, y) => (y >= 0 ? Math.floor(x / 2 ** y) : NaN), "shr", "shr");
  }
  /** Nearest multiple of 2^lsbs: shrinks the precision a later lookup sees by lsbs bits. */
  /**
   * The multiple of 2^lsbs at or below the value (floor; exact): as `round`, one lookup over a narrow
   * input, or bit extraction for a wide one. Comparisons of wide values use it (compile lowers them).
   */
  truncate(lsbs: number): Tracer {
    return this.builder.push({ kind: "round", lsbs, truncate: true }, [this]);
  }
  round(lsbs: number, options: RoundOptions = {}): Tracer {
    if (options.approximate !== true) return this.builder.push({ kind: "round", lsbs }, [this]);
    return this.builder.push({ kind: "round", lsbs, approximate: true }, [this]);
  }

  relu(): Tracer {
    return this.lut((v) => Math.max(v, 0), "relu");
  }
  abs(): Tracer {
    return this.lut((v) => Math.abs(v), "abs");
  }
  clip(lo: number, hi: number): Tracer {
    if (!(lo <= hi)) throw new GraphError(`clip of %${this.id}: lo ${lo} > hi ${hi}`);
    return this.lut((v) => Math.min(Math.max(v, lo), hi), `clip(${lo}, ${hi})`);
  }

  /** 0/1 comparison: a lookup on x against a number, or on the difference x − other otherwise. */
  private compare(other: Operand, op: string, test: (d: number) => boolean): Tracer {
    if (typeof other === "number") return this.lut((v) => (test(v - other) ? 1 : 0), `v ${op} ${other}`);
    return this.sub(other).lut((d) => (test(d) ? 1 : 0), `d ${op} 0`);
  }
  gt(other: Operand): Tracer {
    return this.compare(other, ">", (d) => d > 0);
  }
  ge(other: Operand): Tracer {
    return this.compare(other, ">=", (d) => d >= 0);
  }
  lt(other: Operand): Tracer {
    return this.compare(other, "<", (d) => d < 0);
  }
  le(other: Operand): Tracer {
    return this.compare(other, "<=", (d) => d <= 0);
  }
  eq(other: Operand): Tracer {
    return this.compare(other, "==", (d) => d === 0);
  }
  ne(other: Operand): Tracer {
    return this.compare(other, "!=", (d) => d !== 0);
  }
  /** Element-wise minimum: one lookup with a number, else a − relu(a − b) (one lookup, on the difference). For the reduction, `amin`. */
  min(other: Operand): Tracer {
    if (other === undefined) throw new GraphError(`min of %${this.id}: x.min(other) is element-wise; for the minimum over axes use x.amin(axis?, keepdims?)`);
    if (typeof other === "number") return this.lut((v) => Math.min(v, other), `min(v, ${other})`);
    const o = this.builder.operand(other);
    return this.bound("min", this.sub(this.sub(o).relu()), o);
  }
  /** Element-wise maximum: one lookup with a number, else b + relu(a − b). For the reduction, `amax`. */
  max(other: Operand): Tracer {
    if (other === undefined) throw new GraphError(`max of %${this.id}: x.max(other) is element-wise; for the maximum over axes use x.amax(axis?, keepdims?)`);
    if (typeof other === "number") return this.lut((v) => Math.max(v, other), `max(v, ${other})`);
    const o = this.builder.operand(other);
    return this.bound("max", this.sub(o).relu().add(o), o);
  }

  /** Marks `value` as equal to op(this, other), so the range analysis keeps op's exact range (ir.ts). */
  private bound(op: BoundOp, value: Tracer, other: Tracer): Tracer {
    return this.builder.push({ kind: "bound", op }, [value, this, other]);
  }
}

Object.setPrototypeOf(Tracer.prototype, MISSING);

/** Shape and row-major values of a nested index array. */
function nestedIndices(a: IndexArray, what: string): { shape: number[]; flat: number[] } {
  if (a instanceof Int32Array) return { shape: [a.length], flat: Array.from(a) };
  const flat: number[] = [];
  const walk = (v: number | IndexArray, depth: number, shape: number[]): void => {
    if (typeof v !== "number" && !Array.isArray(v) && !(v instanceof Int32Array)) {
      throw new GraphError(`${what}: index arrays hold integers, got ${typeof v}`);
    }
    if (typeof v === "number") {
      if (depth !== shape.length) throw new GraphError(`${what}: ragged index array`);
      flat.push(v);
      return;
    }
    const len = v.length;
    if (depth === shape.length) {
      if (flat.length > 0) throw new GraphError(`${what}: ragged index array`);
      shape.push(len);
    } else if (shape[depth] !== len) {
      throw new GraphError(`${what}: ragged index array`);
    }
    for (const e of v as Iterable<number | IndexArray>) walk(e, depth + 1, shape);
  };
  const shape: number[] = [];
  walk(a, 0, shape);
  return { shape, flat };
}

/** The outer shape of a nested operand array; collects its leaves in row-major order. */
function nestedOperandShape(n: NestedOperand, leaves: (Tracer | number)[]): number[] {
  if (n instanceof Tracer || typeof n === "number") {
    leaves.push(n);
    return [];
  }
  if (!Array.isArray(n) || n.length === 0) throw new GraphError("array: expected traced values, numbers or non-empty nested arrays of them");
  const inner = nestedOperandShape(n[0]!, leaves);
  for (const e of n.slice(1)) {
    if (!sameShape(nestedOperandShape(e as NestedOperand, leaves), inner)) throw new GraphError("array: ragged nested array");
  }
  return [n.length, ...inner];
}

/**
 * `round` options. Exact (the default) rounds to nearest, ties up, in every mode; it costs one lookup over
 * the input's whole range, so the input must itself fit a lookup (≤ maxLutBits). Approximate costs one PBS
 * reading only the input's top bits, whatever its width (Concrete's approximate rounding): the result is
 * the nearest multiple of 2^lsbs, or near a tie the other neighbour.
 */
export interface RoundOptions {
  readonly approximate?: boolean;
}

/** Parameter names and their visibility, in the function's parameter order (as Concrete's dict). */
export type InputSpec = Readonly<Record<string, Visibility>>;
export type TraceFn = (...args: Tracer[]) => Tracer | readonly Tracer[];

/**
 * Traces `fn` into a verified graph. Inputs are created in the key order of `spec`; `shapes` gives each
 * input's shape (scalar [] when absent). Nodes no output depends on are dropped.
 */
export function trace(fn: TraceFn, spec: InputSpec, shapes: Readonly<Record<string, Shape>> = {}): Graph {
  const names = Object.keys(spec);
  if (fn.length !== 0 && fn.length !== names.length) {
    throw new GraphError(`the function takes ${fn.length} parameter(s) but the spec names ${names.length}: ${names.join(", ")}`);
  }
  for (const n of Object.keys(shapes)) if (!(n in spec)) throw new GraphError(`shape given for unknown input "${n}"`);
  const b = new GraphBuilder();
  const args = names.map((name) => {
    const shape = shapes[name] ?? [];
    assertShape(shape, `input "${name}"`);
    const t = b.push({ kind: "input", name, visibility: spec[name]! }, [], [...shape]);
    b.inputs.push(t.id);
    return t;
  });
  active.push(b);
  let result: ReturnType<TraceFn>;
  try {
    result = fn(...args);
  } finally {
    active.pop();
    b.closed = true;
  }
  const outs = Array.isArray(result) ? result : [result];
  const outputs = outs.map((o, i) => {
    if (!(o instanceof Tracer) || o.builder !== b) throw new GraphError(`output ${i} is not a traced value of this function`);
    return o.id;
  });
  const graph: Graph = { nodes: b.nodes, inputs: b.inputs, outputs };
  verify(graph);
  return eliminateDeadNodes(graph);
}
