// The circuit IR: a DAG of integer tensor ops with static shapes. Nodes are stored in topological order
// (every argument id is smaller than the node's id), which makes acyclicity a local check. The same
// `deriveNode` computes shape and encryptedness when tracing and when verifying, so they cannot disagree.
import { GraphError } from "./errors.js";
import {
  type Shape, broadcastShapes, canBroadcastTo, formatShape, isShape, matmulShape, sameShape, sizeOf,
} from "./shape.js";
import { firstUnsafe } from "./tensor.js";

export type Visibility = "encrypted" | "clear";

/** A lookup table over the domain min, min + step, …, min + (values.length − 1)·step. */
export interface LutTable {
  readonly min: number;
  readonly step: number;
  readonly values: Float64Array;
}

export type OpAttrs =
  | { readonly kind: "input"; readonly name: string; readonly visibility: Visibility }
  | { readonly kind: "constant"; readonly value: Float64Array }
  | { readonly kind: "add" | "sub" | "mul" | "matmul" | "neg" | "reshape" | "broadcast" }
  | { readonly kind: "sum"; readonly axis: number | null }
  | {
      readonly kind: "slice";
      readonly starts: readonly number[];
      readonly stops: readonly number[];
      readonly steps: readonly number[];
    }
  | { readonly kind: "concat"; readonly axis: number }
  | {
      readonly kind: "gather";
      /** Output element i (row-major, output shape = the node's shape) is input element indices[i]. */
      readonly indices: Int32Array;
    }
  | {
      readonly kind: "lut";
      /** The univariate function; a table replaces it for evaluation once bounds are known. */
      readonly fn: (v: number) => number;
      /** A short name for printing (e.g. "relu", "gt(3)"). */
      readonly label: string;
      readonly table?: LutTable;
      /**
       * Approximate reading: the table is indexed by the input rounded to a multiple of 2^readLsbs, and in
       * FHE the PBS does that rounding itself, reading only the input's top bits (one PBS, whatever the
       * input's width). Near a tie it may read either neighbour; the clear interpreter rounds ties up.
       */
      readonly readLsbs?: number;
    }
  | {
      readonly kind: "round";
      readonly lsbs: number;
      /**
       * Approximate: one PBS reading the input's top bits (the rounding is the PBS's own), whatever the
       * input's width; near a tie either neighbour. Exact (default): a lookup over the whole input.
       */
      readonly approximate?: boolean;
      /** Truncate (floor to a multiple of 2^lsbs) instead of rounding to nearest; exact only. */
      readonly truncate?: boolean;
      /**
       * Compile-time choice: bit extraction even where one lookup over the input would fit (a radix
       * decomposition's chunks, whose other lookups are narrower than that one would be). Not serialized:
       * the server follows the circuit's extraction plans.
       */
      readonly extract?: boolean;
    }
  | {
      /**
       * A lookup of two values, f(x, y), element-wise with broadcasting. On encrypted values `compile`
       * lowers it to one `lut` of the packed index (x − x_min)·|y| + (y − y_min) once the ranges are known
       * (compiler/passes.ts `lowerBivariateLookups`); on clear values it is a plain function call.
       */
      readonly kind: "lut2";
      readonly fn: (x: number, y: number) => number;
      readonly label: string;
      /**
       * What fn is, when it is one of the ops compile can split into chunks (compiler/radix.ts) once the
       * packed index would be too wide for one lookup: the product, bitwise and/or/xor, shifts.
       */
      readonly op?: ChunkedOp;
    }
  | {
      /**
       * The identity on its first argument, which the tracer lowered from `op(x, y)` on the other two
       * (x·y by quarter squares, max as y + relu(x − y), ...). It costs nothing at run time; it tells the
       * range analysis the exact range of op over x's and y's ranges, which the lowered form loses.
       */
      readonly kind: "bound";
      readonly op: BoundOp;
    };

/** Bivariate lookups compile can evaluate by chunks (radix decomposition) when they are too wide for one table. */
export type ChunkedOp = "mul" | "and" | "or" | "xor" | "shl" | "shr";
export const CHUNKED_OPS: readonly ChunkedOp[] = ["mul", "and", "or", "xor", "shl", "shr"];

/** Bivariate ops whose range the `bound` node restores. */
export type BoundOp = "mul" | "min" | "max" | "mod";
export const BOUND_OPS: readonly BoundOp[] = ["mul", "min", "max", "mod"];

export type NodeKind = OpAttrs["kind"];

export type Node = OpAttrs & {
  readonly id: number;
  readonly args: readonly number[];
  readonly shape: Shape;
  /** True when the value depends on an encrypted input (it is a ciphertext at run time). */
  readonly encrypted: boolean;
};

export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>;

export interface Graph {
  readonly nodes: readonly Node[];
  /** Input node ids in parameter order. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** Largest `round` shift: beyond it 2^lsbs is not a safe step between integers. */
export const MAX_ROUND_LSBS = 52;

const ARITY: Record<NodeKind, number | "many"> = {
  input: 0, constant: 0, add: 2, sub: 2, mul: 2, matmul: 2, neg: 1, sum: 1, reshape: 1, broadcast: 1,
  slice: 1, concat: "many", gather: 1, lut: 1, lut2: 2, round: 1, bound: 3,
};

/**
 * The kinds that only move elements (each output element is a copy of one input element, or of one
 * element of one of the concatenated inputs): an analysis can handle all of them by evaluating the op on a
 * tensor of element indices.
 */
export const MOVE_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(["reshape", "broadcast", "slice", "concat", "gather"]);

/** `%3 (add)`, or `%0 (input "x")`: how errors name a node. */
export function nodeName(node: { id: number } & OpAttrs): string {
  return node.kind === "input" ? `%${node.id} (input "${node.name}")` : `%${node.id} (${node.kind})`;
}

/**
 * Checks one operation on its arguments and returns its shape and encryptedness. `shape` is the requested
 * shape for input, constant, reshape, broadcast and gather (it is an attribute of those ops). Throws GraphError
 * prefixed with `where`.
 */
export function deriveNode(
  op: OpAttrs,
  args: readonly Pick<Node, "shape" | "encrypted">[],
  shape: Shape | undefined,
  where: string,
): { shape: Shape; encrypted: boolean } {
  const fail = (msg: string): never => {
    throw new GraphError(`${where}: ${msg}`);
  };
  const arity = ARITY[op.kind];
  if (arity === "many" ? args.length < 1 : args.length !== arity) {
    fail(`expects ${arity === "many" ? "at least 1" : arity} argument(s), got ${args.length}`);
  }
  const anyEnc = args.some((a) => a.encrypted);
  const needShape = (): Shape => {
    if (!isShape(shape)) return fail(`${JSON.stringify(shape)} is not a shape (positive integer dimensions)`);
    return shape;
  };
  switch (op.kind) {
    case "input": {
      if (typeof op.name !== "string" || op.name.length === 0) fail("input needs a non-empty name");
      if (op.visibility !== "encrypted" && op.visibility !== "clear") fail(`visibility ${String(op.visibility)}`);
      return { shape: needShape(), encrypted: op.visibility === "encrypted" };
    }
    case "constant": {
      const s = needShape();
      if (!(op.value instanceof Float64Array) || op.value.length !== sizeOf(s)) {
        fail(`constant data has ${op.value?.length} elements for shape ${formatShape(s)}`);
      }
      const bad = firstUnsafe(op.value);
      if (bad >= 0) fail(`constant element ${bad} = ${op.value[bad]} is not a safe integer`);
      return { shape: s, encrypted: false };
    }
    case "add":
    case "sub":
    case "mul": {
      const [a, b] = args as [Pick<Node, "shape" | "encrypted">, Pick<Node, "shape" | "encrypted">];
      const s = broadcastShapes(a.shape, b.shape);
      if (s === null) fail(`shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
      if (op.kind === "mul" && a.encrypted && b.encrypted) {
        fail("both operands are encrypted: a mul node takes one clear operand (Tracer.mul lowers encrypted × " +
          "encrypted products to lookups)");
      }
      return { shape: s!, encrypted: anyEnc };
    }
    case "matmul": {
      const [a, b] = args as [Pick<Node, "shape" | "encrypted">, Pick<Node, "shape" | "encrypted">];
      if (a.encrypted && b.encrypted) fail("both operands are encrypted; one matrix must be clear");
      const s = matmulShape(a.shape, b.shape);
      if (s === null) fail(`shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not multiply (ranks 1–2, inner dimensions equal)`);
      return { shape: s!, encrypted: anyEnc };
    }
    case "neg":
    case "round": {
      if (op.kind === "round" && !(Number.isInteger(op.lsbs) && op.lsbs >= 0 && op.lsbs <= MAX_ROUND_LSBS)) {
        fail(`lsbs = ${op.lsbs} must be an integer in [0, ${MAX_ROUND_LSBS}]`);
      }
      if (op.kind === "round" && op.truncate === true && op.approximate === true) fail("a truncation is exact: approximate applies to rounding only");
      if (op.kind === "round" && op.extract === true && op.approximate === true) fail("bit extraction is exact: approximate rounds read the top bits");
      return { shape: args[0]!.shape, encrypted: anyEnc };
    }
    case "lut2": {
      if (typeof op.fn !== "function") fail("lookup needs a function");
      if (op.op !== undefined && !CHUNKED_OPS.includes(op.op)) fail(`unknown chunked op ${String(op.op)}`);
      const s = broadcastShapes(args[0]!.shape, args[1]!.shape);
      if (s === null) fail(`shapes ${formatShape(args[0]!.shape)} and ${formatShape(args[1]!.shape)} do not broadcast`);
      return { shape: s!, encrypted: anyEnc };
    }
    case "lut": {
      if (typeof op.fn !== "function") fail("lookup needs a function");
      if (op.readLsbs !== undefined && !(Number.isInteger(op.readLsbs) && op.readLsbs >= 1 && op.readLsbs <= MAX_ROUND_LSBS)) {
        fail(`readLsbs = ${op.readLsbs} must be an integer in [1, ${MAX_ROUND_LSBS}]`);
      }
      if (op.table !== undefined) {
        const t = op.table;
        if (!Number.isSafeInteger(t.min) || !Number.isSafeInteger(t.step) || t.step < 1) fail("table min/step must be integers, step ≥ 1");
        if (!(t.values instanceof Float64Array) || t.values.length < 1) fail("table has no values");
        const bad = firstUnsafe(t.values);
        if (bad >= 0) fail(`table value ${bad} = ${t.values[bad]} is not a safe integer`);
      }
      return { shape: args[0]!.shape, encrypted: anyEnc };
    }
    case "bound": {
      if (!BOUND_OPS.includes(op.op)) fail(`unknown bound op ${String(op.op)}`);
      const [v, x, y] = args as [Pick<Node, "shape" | "encrypted">, Pick<Node, "shape" | "encrypted">, Pick<Node, "shape" | "encrypted">];
      const s = broadcastShapes(x.shape, y.shape);
      if (s === null || !sameShape(s, v.shape)) fail(`${op.op}(x, y) of shapes ${formatShape(x.shape)} and ${formatShape(y.shape)} is not the value's shape ${formatShape(v.shape)}`);
      return { shape: v.shape, encrypted: v.encrypted };
    }
    case "sum": {
      const a = args[0]!.shape;
      if (op.axis === null) return { shape: [], encrypted: anyEnc };
      if (!Number.isInteger(op.axis) || op.axis < 0 || op.axis >= a.length) fail(`axis ${op.axis} out of range for shape ${formatShape(a)}`);
      return { shape: a.filter((_, i) => i !== op.axis), encrypted: anyEnc };
    }
    case "reshape": {
      const s = needShape();
      if (sizeOf(s) !== sizeOf(args[0]!.shape)) fail(`cannot reshape ${formatShape(args[0]!.shape)} to ${formatShape(s)}`);
      return { shape: s, encrypted: anyEnc };
    }
    case "broadcast": {
      const s = needShape();
      if (!canBroadcastTo(args[0]!.shape, s)) fail(`cannot broadcast ${formatShape(args[0]!.shape)} to ${formatShape(s)}`);
      return { shape: s, encrypted: anyEnc };
    }
    case "slice": {
      const a = args[0]!.shape;
      const { starts, stops, steps } = op;
      if (starts.length !== a.length || stops.length !== a.length || steps.length !== a.length) {
        fail(`slice needs one range per axis of ${formatShape(a)}`);
      }
      const out = a.map((d, i) => {
        const [lo, hi, st] = [starts[i]!, stops[i]!, steps[i]!];
        if (![lo, hi, st].every(Number.isInteger) || st < 1 || lo < 0 || hi > d || lo >= hi) {
          fail(`axis ${i}: range ${lo}:${hi}:${st} is empty or outside [0, ${d}]`);
        }
        return Math.ceil((hi - lo) / st);
      });
      return { shape: out, encrypted: anyEnc };
    }
    case "gather": {
      const s = needShape();
      const idx = op.indices;
      if (!(idx instanceof Int32Array) || idx.length !== sizeOf(s)) {
        fail(`gather has ${idx?.length} indices for output shape ${formatShape(s)}`);
      }
      const n = sizeOf(args[0]!.shape);
      for (let i = 0; i < idx.length; i++) {
        if (idx[i]! < 0 || idx[i]! >= n) fail(`index ${i} = ${idx[i]} is outside the input's ${n} elements`);
      }
      return { shape: s, encrypted: anyEnc };
    }
    case "concat": {
      const first = args[0]!.shape;
      const ax = op.axis;
      if (!Number.isInteger(ax) || ax < 0 || ax >= first.length) fail(`axis ${ax} out of range for shape ${formatShape(first)}`);
      let total = 0;
      for (const a of args) {
        const ok = a.shape.length === first.length && a.shape.every((d, i) => i === ax || d === first[i]);
        if (!ok) fail(`shapes ${args.map((x) => formatShape(x.shape)).join(", ")} differ outside axis ${ax}`);
        total += a.shape[ax]!;
      }
      return { shape: first.map((d, i) => (i === ax ? total : d)), encrypted: anyEnc };
    }
  }
}

/**
 * Checks a whole graph: ids, topological order (hence acyclicity), arities, attributes, shapes, argument
 * kinds (no encrypted × encrypted), the input list and the outputs. Run after tracing and after each pass.
 */
export function verify(graph: Graph): void {
  const names = new Set<string>();
  const listed = new Set(graph.inputs); // one lookup per input node: linear in the number of inputs
  graph.nodes.forEach((node, i) => {
    if (node.id !== i) throw new GraphError(`node at position ${i} has id %${node.id}`);
    const where = nodeName(node);
    for (const a of node.args) {
      if (!Number.isInteger(a) || a < 0 || a >= i) {
        throw new GraphError(`${where}: argument %${a} is not an earlier node (the graph must be acyclic and topologically ordered)`);
      }
    }
    const d = deriveNode(node, node.args.map((a) => graph.nodes[a]!), node.shape, where);
    if (!sameShape(d.shape, node.shape)) {
      throw new GraphError(`${where}: recorded shape ${formatShape(node.shape)} but the arguments give ${formatShape(d.shape)}`);
    }
    if (d.encrypted !== node.encrypted) throw new GraphError(`${where}: recorded encrypted = ${node.encrypted}, derived ${d.encrypted}`);
    if (node.kind === "input") {
      if (names.has(node.name)) throw new GraphError(`${where}: duplicate input name`);
      names.add(node.name);
      if (!listed.has(i)) throw new GraphError(`${where}: not listed in graph.inputs`);
    }
  });
  for (const id of graph.inputs) {
    if (graph.nodes[id]?.kind !== "input") throw new GraphError(`graph.inputs lists %${id}, which is not an input node`);
  }
  if (listed.size !== graph.inputs.length) throw new GraphError("graph.inputs has duplicates");
  if (graph.outputs.length === 0) throw new GraphError("graph has no outputs");
  for (const id of graph.outputs) {
    if (!Number.isInteger(id) || graph.nodes[id] === undefined) throw new GraphError(`output %${id} is not a node`);
  }
}

/** Ids of the nodes that contribute to an output (inputs are always kept: they are the signature). */
export function liveNodes(graph: Graph): Set<number> {
  const live = new Set<number>(graph.inputs);
  const stack = [...graph.outputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live.has(id) && graph.nodes[id]!.kind !== "input") continue;
    live.add(id);
    for (const a of graph.nodes[id]!.args) if (!live.has(a)) stack.push(a);
  }
  return live;
}
