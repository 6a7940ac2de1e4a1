// Tracing: a plain TS function runs once on Tracer objects; each method call records a node. Shapes and
// argument kinds are checked as the node is created, so a shape error points at the user's call.
import { GraphError } from "./errors.js";
import { type BoundOp, type Graph, type Node, type OpAttrs, type Visibility, deriveNode, verify } from "./ir.js";
import { eliminateDeadNodes } from "./passes.js";
import { type Shape, assertShape, formatShape, sizeOf } from "./shape.js";
import { type TensorLike, toTensor } from "./tensor.js";

/** Anything an op accepts as an operand: a traced value or a clear constant. */
export type Operand = Tracer | TensorLike;

/** One axis of a slice: an index (drops the axis), `null` (whole axis), or `[start?, stop?, step?]`. */
export type SliceSpec = number | null | readonly [start?: number | null, stop?: number | null, step?: number];

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

function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new GraphError(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

export class Tracer {
  /** @internal Created by trace() and by ops; user code never constructs one. */
  constructor(readonly builder: GraphBuilder, readonly id: number) {}

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

  private binary(kind: "add" | "sub" | "mul" | "matmul", other: Operand): Tracer {
    return this.builder.push({ kind }, [this, this.builder.operand(other)]);
  }

  add(other: Operand): Tracer {
    return this.binary("add", other);
  }
  sub(other: Operand): Tracer {
    return this.binary("sub", other);
  }
  /**
   * Element-wise product. By a clear value it is one linear op; encrypted × encrypted costs two lookups
   * per element: x·y = ⌊(x+y)²/4⌋ − ⌊(x−y)²/4⌋ (exact: x + y and x − y have the same parity, so their
   * squares agree mod 4), and x·x is one lookup.
   */
  mul(other: Operand): Tracer {
    const o = this.builder.operand(other);
    if (!(this.encrypted && o.encrypted)) return this.binary("mul", o);
    if (o.id === this.id) return this.lut((v) => v * v, "square");
    const quarterSquare = (v: number): number => Math.floor((v * v) / 4);
    return this.bound("mul", this.add(o).lut(quarterSquare, "⌊v²/4⌋").sub(this.sub(o).lut(quarterSquare, "⌊v²/4⌋")), o);
  }
  neg(): Tracer {
    return this.builder.push({ kind: "neg" }, [this]);
  }
  /**
   * this @ other (NumPy rules for ranks 1 and 2). With one side clear it is one linear op; with both
   * encrypted it is the element-wise products (two lookups each, see `mul`) summed over the inner axis.
   */
  matmul(other: Operand): Tracer {
    const o = this.builder.operand(other);
    if (!(this.encrypted && o.encrypted)) return this.binary("matmul", o);
    return this.encryptedMatmul(o);
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
  /** Sum over one axis (negative counts from the end), or over everything to a scalar. */
  sum(axis?: number): Tracer {
    const ax = axis === undefined ? null : normalizeAxis(axis, this.ndim, `sum of %${this.id}`);
    return this.builder.push({ kind: "sum", axis: ax }, [this]);
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
  /** NumPy-style basic slicing with static ranges; missing trailing axes are taken whole. */
  slice(...specs: SliceSpec[]): Tracer {
    const shape = this.shape;
    if (specs.length > shape.length) throw new GraphError(`slice of %${this.id}: ${specs.length} indices for shape ${formatShape(shape)}`);
    const starts: number[] = [], stops: number[] = [], steps: number[] = [], kept: number[] = [];
    shape.forEach((d, ax) => {
      const s = specs[ax] ?? null;
      if (typeof s === "number") {
        const i = s < 0 ? s + d : s;
        if (!Number.isInteger(i) || i < 0 || i >= d) throw new GraphError(`slice of %${this.id}: index ${s} out of range for axis ${ax} of size ${d}`);
        starts.push(i), stops.push(i + 1), steps.push(1);
        return;
      }
      const [lo, hi, st] = s ?? [];
      const step = st ?? 1;
      if (!Number.isInteger(step) || step < 1) throw new GraphError(`slice of %${this.id}: step ${step} on axis ${ax} must be a positive integer`);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      starts.push(clamp(lo ?? 0)), stops.push(clamp(hi ?? d)), steps.push(step);
      kept.push(ax);
    });
    const sliced = this.builder.push({ kind: "slice", starts, stops, steps }, [this]);
    if (kept.length === shape.length) return sliced;
    return sliced.reshape(kept.map((ax) => sliced.shape[ax]!));
  }
  /** Integer indexing: x.index(1, 2) is x[1, 2]. */
  index(...indices: number[]): Tracer {
    return this.slice(...indices);
  }
  static concat(parts: readonly Tracer[], axis = 0): Tracer {
    if (parts.length === 0) throw new GraphError("concat: no tensors");
    const first = parts[0]!;
    const ax = normalizeAxis(axis, first.ndim, "concat");
    return first.builder.push({ kind: "concat", axis: ax }, parts);
  }

  /** Table lookup of any univariate integer function, applied element-wise. */
  lut(f: (v: number) => number, label?: string): Tracer {
    if (typeof f !== "function") throw new GraphError(`lut of %${this.id}: f must be a function`);
    return this.builder.push({ kind: "lut", fn: f, label: label ?? (f.name || "f") }, [this]);
  }
  /** Nearest multiple of 2^lsbs: shrinks the precision a later lookup sees by lsbs bits. */
  round(lsbs: number): Tracer {
    return this.builder.push({ kind: "round", lsbs }, [this]);
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
  /** Element-wise minimum: one lookup with a number, else a − relu(a − b) (one lookup, on the difference). */
  min(other: Operand): Tracer {
    if (typeof other === "number") return this.lut((v) => Math.min(v, other), `min(v, ${other})`);
    const o = this.builder.operand(other);
    return this.bound("min", this.sub(this.sub(o).relu()), o);
  }
  /** Element-wise maximum: one lookup with a number, else b + relu(a − b). */
  max(other: Operand): Tracer {
    if (typeof other === "number") return this.lut((v) => Math.max(v, other), `max(v, ${other})`);
    const o = this.builder.operand(other);
    return this.bound("max", this.sub(o).relu().add(o), o);
  }

  /** Marks `value` as equal to op(this, other), so the range analysis keeps op's exact range (ir.ts). */
  private bound(op: BoundOp, value: Tracer, other: Tracer): Tracer {
    return this.builder.push({ kind: "bound", op }, [value, this, other]);
  }
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
  const result = fn(...args);
  b.closed = true;
  const outs = Array.isArray(result) ? result : [result];
  const outputs = outs.map((o, i) => {
    if (!(o instanceof Tracer) || o.builder !== b) throw new GraphError(`output ${i} is not a traced value of this function`);
    return o.id;
  });
  const graph: Graph = { nodes: b.nodes, inputs: b.inputs, outputs };
  verify(graph);
  return eliminateDeadNodes(graph);
}
