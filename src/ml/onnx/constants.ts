// Constant folding of the nodes whose inputs are all known before any row is seen: constants (initializers,
// Constant nodes) and shapes. Exporters leave such subgraphs in place — PyTorch's flatten computes its
// target shape as Shape → Gather → Unsqueeze → Concat from the input, opset 13 moves Squeeze's axes to an
// input, weights get Transpose/Cast/Unsqueeze nodes — so the importer evaluates them once here. A shape
// may hold the batch size, which is only known at prediction: it stays the symbol "N".
import { MlUnsupportedError } from "../errors.js";
import { UNARY_OPS } from "./elementwise.js";
import type { OnnxNode, OnnxTensor } from "./parse.js";

/** An entry of a shape: a number, or the batch size. */
export type Dim = number | "N";

/** A known value: a constant tensor, or a 1-D integer tensor with the batch size among its entries. */
export type Known = { readonly kind: "const"; readonly t: OnnxTensor } | { readonly kind: "shape"; readonly dims: Dim[] };

function unsupported(node: OnnxNode, why: string): MlUnsupportedError {
  return new MlUnsupportedError(`ONNX node ${node.name} (${node.opType}): ${why}`);
}

const tensor = (dims: number[], data: ArrayLike<number>): OnnxTensor => ({ dims, data: Float64Array.from(data) });
const size = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

/** The ints of an attribute, or undefined. */
export function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  return node.attributes.get(name)?.ints;
}

/** Numpy-style broadcasting of two constants through f. */
function broadcast(a: OnnxTensor, b: OnnxTensor, f: (x: number, y: number) => number, node: OnnxNode): OnnxTensor {
  const r = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]): number[] => [...new Array<number>(r - d.length).fill(1), ...d];
  const da = pad(a.dims), db = pad(b.dims);
  const dims = da.map((x, i) => {
    const y = db[i]!;
    if (x !== y && x !== 1 && y !== 1) throw unsupported(node, `shapes [${a.dims}] and [${b.dims}] do not broadcast`);
    return Math.max(x, y);
  });
  const n = size(dims), out = new Float64Array(n);
  const strides = (d: number[]): number[] => {
    const s = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      s[i] = d[i] === 1 ? 0 : acc;
      acc *= d[i]!;
    }
    return s;
  };
  const sa = strides(da), sb = strides(db);
  for (let k = 0; k < n; k++) {
    let rem = k, ia = 0, ib = 0;
    for (let i = r - 1; i >= 0; i--) {
      const c = rem % dims[i]!;
      rem = Math.floor(rem / dims[i]!);
      ia += c * sa[i]!;
      ib += c * sb[i]!;
    }
    out[k] = f(a.data[ia]!, b.data[ib]!);
  }
  return { dims, data: out };
}

function transpose(t: OnnxTensor, perm: number[]): OnnxTensor {
  const r = t.dims.length, dims = perm.map((p) => t.dims[p]!), n = t.data.length, out = new Float64Array(n);
  const inStride = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) inStride[i] = inStride[i + 1]! * t.dims[i + 1]!;
  for (let k = 0; k < n; k++) {
    let rem = k, src = 0;
    for (let i = r - 1; i >= 0; i--) {
      const c = rem % dims[i]!;
      rem = Math.floor(rem / dims[i]!);
      src += c * inStride[perm[i]!]!;
    }
    out[k] = t.data[src]!;
  }
  return { dims, data: out };
}

/** Axes normalized to [0, rank). */
function axes(list: number[], rank: number, node: OnnxNode): number[] {
  return list.map((a) => {
    const b = a < 0 ? a + rank : a;
    if (!(b >= 0 && b < rank)) throw unsupported(node, `axis ${a} of a rank-${rank} tensor`);
    return b;
  });
}

/** The dims of a Reshape target against the input dims (0 copies, −1 infers). */
export function reshapeDims(target: readonly number[], input: readonly number[], node: OnnxNode): number[] {
  const allowZero = (node.attributes.get("allowzero")?.i ?? 0) === 1;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? input[i]! : d));
  const known = dims.filter((d) => d !== -1).reduce((a, d) => a * d, 1), free = dims.filter((d) => d === -1).length;
  if (free > 1) throw unsupported(node, "more than one −1 in the shape");
  if (free === 1) dims[dims.indexOf(-1)] = size(input) / known;
  if (size(dims) !== size(input) || dims.some((d) => !Number.isInteger(d))) throw unsupported(node, `cannot reshape [${input}] to [${target}]`);
  return dims;
}

/** The axes of Squeeze/Unsqueeze/Reduce*: an attribute before opset 13, an input from it on. */
export function axesOf(node: OnnxNode, inputs: readonly (Known | undefined)[]): number[] | undefined {
  const fromInput = inputs[1];
  if (fromInput !== undefined) {
    if (fromInput.kind !== "const") throw unsupported(node, "the axes must be constant");
    return Array.from(fromInput.t.data);
  }
  return intsAttr(node, "axes");
}

/** A constant made of a Constant node's attribute. */
function constantNode(node: OnnxNode): OnnxTensor {
  const a = node.attributes;
  const t = a.get("value")?.t;
  if (t !== undefined) return t;
  const f = a.get("value_float")?.f, fs = a.get("value_floats")?.floats, i = a.get("value_int")?.i, is = a.get("value_ints")?.ints;
  if (f !== undefined) return tensor([], [f]);
  if (i !== undefined) return tensor([], [i]);
  if (fs !== undefined) return tensor([fs.length], fs);
  if (is !== undefined) return tensor([is.length], is);
  throw unsupported(node, "a Constant with a sparse or string value is not supported");
}

const BINARY: Readonly<Record<string, (x: number, y: number) => number>> = {
  Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Div: (x, y) => x / y, Pow: (x, y) => Math.pow(x, y),
  Max: Math.max, Min: Math.min,
};

/** Entries of a shape value or an integer constant. */
function dimsOf(k: Known): Dim[] {
  return k.kind === "shape" ? k.dims : Array.from(k.t.data);
}

/**
 * The node's output when every input it reads is known (or, for Shape, when only its input's shape is),
 * or undefined when the node needs the rows. `shapeOf` gives the shape of a feature value ("N" first).
 */
export function foldNode(node: OnnxNode, inputs: readonly (Known | undefined)[], shapeOf: (k: number) => Dim[] | undefined): Known | undefined {
  const op = node.opType;
  if (op === "Constant") return { kind: "const", t: constantNode(node) };
  if (op === "Shape") {
    const dims = inputs[0] === undefined ? shapeOf(0) : inputs[0].kind === "const" ? inputs[0].t.dims : [inputs[0].dims.length];
    if (dims === undefined) return undefined;
    const start = node.attributes.get("start")?.i ?? 0, end = node.attributes.get("end")?.i;
    return { kind: "shape", dims: dims.slice(start, end) };
  }
  const present = inputs.filter((_, k) => node.inputs[k] !== "");
  if (present.length === 0 || present.some((k) => k === undefined)) return undefined;
  const x = inputs[0]!;
  // Shapes: the few operators the shape subgraphs of exporters use.
  if (inputs.some((k) => k?.kind === "shape")) {
    switch (op) {
      case "Identity": case "Cast": case "Unsqueeze": case "Squeeze":
        return { kind: "shape", dims: dimsOf(x) };
      case "Concat":
        return { kind: "shape", dims: inputs.flatMap((k) => dimsOf(k!)) };
      case "Gather": {
        const idx = inputs[1]!;
        if (idx.kind !== "const") return undefined;
        const d = dimsOf(x);
        return { kind: "shape", dims: Array.from(idx.t.data, (i) => d[i < 0 ? i + d.length : i]!) };
      }
      case "Slice": {
        const d = dimsOf(x), s = inputs[1], e = inputs[2];
        const start = node.attributes.get("starts")?.ints?.[0] ?? (s?.kind === "const" ? s.t.data[0]! : 0);
        const end = node.attributes.get("ends")?.ints?.[0] ?? (e?.kind === "const" ? e.t.data[0]! : d.length);
        return { kind: "shape", dims: d.slice(start, Math.min(end, d.length)) };
      }
      default:
        return undefined;
    }
  }
  const t = (k: number): OnnxTensor => (inputs[k] as { t: OnnxTensor }).t;
  const a = t(0);
  switch (op) {
    case "Identity": case "Cast": case "Dropout":
      return { kind: "const", t: a };
    case "Reshape":
      return { kind: "const", t: { dims: reshapeDims(Array.from(t(1).data), a.dims, node), data: a.data } };
    case "Flatten": {
      const ax = node.attributes.get("axis")?.i ?? 1, r = a.dims.length, at = ax < 0 ? ax + r : ax;
      return { kind: "const", t: { dims: [size(a.dims.slice(0, at)), size(a.dims.slice(at))], data: a.data } };
    }
    case "Transpose": {
      const perm = intsAttr(node, "perm") ?? a.dims.map((_, i) => a.dims.length - 1 - i);
      return { kind: "const", t: transpose(a, perm) };
    }
    case "Unsqueeze": {
      const list = axesOf(node, inputs) ?? [];
      const r = a.dims.length + list.length, at = axes(list, r, node), dims: number[] = [];
      for (let i = 0, j = 0; i < r; i++) dims.push(at.includes(i) ? 1 : a.dims[j++]!);
      return { kind: "const", t: { dims, data: a.data } };
    }
    case "Squeeze": {
      const list = axesOf(node, inputs);
      const at = list === undefined ? a.dims.flatMap((d, i) => (d === 1 ? [i] : [])) : axes(list, a.dims.length, node);
      return { kind: "const", t: { dims: a.dims.filter((_, i) => !at.includes(i)), data: a.data } };
    }
    case "Gather": {
      const axis = node.attributes.get("axis")?.i ?? 0, idx = t(1);
      if (axis !== 0 && a.dims.length > 1) return undefined;
      const row = size(a.dims.slice(1));
      const data = Array.from(idx.data).flatMap((i) => Array.from(a.data.subarray((i < 0 ? i + a.dims[0]! : i) * row, ((i < 0 ? i + a.dims[0]! : i) + 1) * row)));
      return { kind: "const", t: tensor([...idx.dims, ...a.dims.slice(1)], data) };
    }
    case "Concat": {
      const ts = inputs.map((k) => (k as { t: OnnxTensor }).t);
      if (ts.every((u) => u.dims.length <= 1)) return { kind: "const", t: tensor([ts.reduce((s, u) => s + u.data.length, 0)], ts.flatMap((u) => Array.from(u.data))) };
      return undefined;
    }
    default:
  }
  const bin = BINARY[op];
  if (bin !== undefined && inputs.length === 2) return { kind: "const", t: broadcast(a, t(1), bin, node) };
  const unary = UNARY_OPS[op];
  if (unary !== undefined && inputs.length === 1) {
    const f = unary.f({ node, opset: 0, columns: 1, attr: (n) => node.attributes.get(n)?.f ?? node.attributes.get(n)?.i, constInput: () => undefined });
    return { kind: "const", t: { dims: a.dims, data: a.data.map((v) => f(v, 0)) } };
  }
  return undefined;
}
