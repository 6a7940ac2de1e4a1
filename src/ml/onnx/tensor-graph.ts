// Convolutional networks (PyTorch exports on NCHW tensors) as a chain of float stages on one sample's
// [C, H, W] tensor: Conv, pooling, element-wise activations (the dense path's table, elementwise.ts),
// per-channel affine maps and a fully connected head on the flattened tensor (C order, as Flatten defines
// it). 1-D tensors [C, L] are [C, 1, L] here and flat ones [F, 1, 1]. Constant and shape subgraphs fold first
// (constants.ts). Constant affine operators after a Conv or Gemm (BatchNormalization, Add, Mul, …) fold into
// its weights; a non-decreasing activation after a MaxPool moves before it (f∘max = max∘f exactly for those
// f), so that pooling reads small activation codes rather than wide accumulators.
import { MlUnsupportedError } from "../errors.js";
import { type Dim, foldNode, type Known } from "./constants.js";
import { isNonDecreasing, type OpContext, PARTIAL_OPS, UNARY_OPS, unaryFunction } from "./elementwise.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "./parse.js";
import { taps, type Window, windowOutput } from "./tensor-window.js";

export type Shape3 = readonly [number, number, number];

/** An element-wise operator (one lookup per element) as a float function of a value and its channel. */
export interface Activation {
  readonly op: string;
  readonly f: (x: number, channel: number) => number;
  /** Non-decreasing: commutes with max pooling. */
  readonly monotone: boolean;
}

export type TensorStage =
  | {
    readonly kind: "conv"; readonly node: string; readonly in: Shape3; readonly out: Shape3;
    /** Weights [O, C/group, KH, KW], row-major, and one bias per output channel. */
    readonly W: Float64Array; readonly b: Float64Array; readonly group: number; readonly window: Window;
  }
  | { readonly kind: "dense"; readonly node: string; readonly in: number; readonly out: number; /** [in × out] */ readonly W: Float64Array; readonly b: Float64Array }
  /** x ↦ scale_c·x + shift_c per channel. */
  | { readonly kind: "affine"; readonly node: string; readonly shape: Shape3; readonly scale: Float64Array; readonly shift: Float64Array }
  | { readonly kind: "act"; readonly node: string; readonly shape: Shape3; readonly act: Activation }
  | { readonly kind: "maxpool"; readonly node: string; readonly in: Shape3; readonly out: Shape3; readonly window: Window }
  /** Mean over each window's taps inside the input (countPad: over the whole kernel, padding counted as 0). */
  | { readonly kind: "avgpool"; readonly node: string; readonly in: Shape3; readonly out: Shape3; readonly window: Window; readonly countPad: boolean };

export interface TensorGraph {
  /** The input tensor of one sample as [C, H, W], and as the graph declares it (without the batch). */
  readonly input: Shape3;
  readonly inputDims: readonly number[];
  readonly stages: TensorStage[];
  readonly outputs: number;
  /** A final Sigmoid (one output) or Softmax, applied by the client after decryption. */
  readonly tail?: { readonly kind: "sigmoid" | "softmax"; readonly node: string };
}

/** The operators of the tensor path: the univariate ones are elementwise.ts's, less those undefined on part of the line. */
export const TENSOR_OPS = [
  "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", ...Object.keys(UNARY_OPS).filter((op) => !PARTIAL_OPS.has(op)),
  "Add", "Sub", "Mul", "Div", "Gemm", "MatMul", "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Shape", "Gather", "Unsqueeze", "Concat", "Cast", "Softmax",
] as const;

/** Operators that only the tensor path imports: a graph with one of them (or an input of rank > 2) goes there. */
export const SPATIAL_OPS: ReadonlySet<string> = new Set(["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]);

function unsupported(node: OnnxNode, why: string): MlUnsupportedError {
  return new MlUnsupportedError(`ONNX node ${node.name} (${node.opType}): ${why}`);
}

/** A float32 attribute as it was written (0.1, not 0.10000000149011612). */
const fmt = (v: number): string => String(Number(v.toPrecision(7)));

/** The node's element-wise function from the shared table (constant inputs one value per channel), or undefined. */
function activationOf(node: OnnxNode, opset: number, channels: number, perChannelInput: (k: number) => Float64Array | undefined): Activation | undefined {
  if (UNARY_OPS[node.opType] === undefined) return undefined;
  if (PARTIAL_OPS.has(node.opType)) throw unsupported(node, "is undefined or infinite on part of the line, which a convolutional network's lookups do not support");
  const c: OpContext = {
    node, opset, columns: channels, constInput: perChannelInput,
    attr: (name) => node.attributes.get(name)?.f ?? node.attributes.get(name)?.i,
  };
  const f = unaryFunction(c)!, monotone = isNonDecreasing(c);
  // The stage names the parameters of the common clamps (f(±∞) are Clip's bounds).
  const op = node.opType === "LeakyRelu" ? `leakyrelu(${fmt(c.attr("alpha") ?? 0.01)})`
    : node.opType === "Clip" ? `clip(${fmt(f(-Infinity, 0))}, ${fmt(f(Infinity, 0))})` : node.opType.toLowerCase();
  return { op, f, monotone };
}

/** A feature tensor: its dims after the batch, and how many stages existed when it was made. */
interface Feature { readonly kind: "x"; readonly dims: readonly number[]; readonly at: number; readonly fresh: boolean; readonly pw?: Pointwise }
/**
 * An element-wise function of a computed tensor (its root), not yet a stage: unary operators compose into it
 * and products or sums of two such functions of the same root (x·σ(x) of SiLU) combine, so the chain is one
 * lookup per element, made a stage when another operator reads it.
 */
interface Pointwise { readonly root: Feature; readonly act: Activation; readonly node: string }
/** Constants and shapes are folded as the dense path folds them (constants.ts). */
type Value = Feature | Known;

const prod = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

function shape3(dims: readonly number[]): Shape3 {
  if (dims.length === 1) return [dims[0]!, 1, 1];
  if (dims.length === 2) return [dims[0]!, 1, dims[1]!];
  return [dims[0]!, dims[1]!, dims[2]!];
}

/**
 * A constant that broadcasts against [N, ...dims] with one value per channel (axis 1) or one for all: those
 * values per channel; undefined if it varies along another axis.
 */
function perChannel(t: OnnxTensor, dims: readonly number[]): Float64Array | undefined {
  const C = dims[0]!, full = [1, ...dims];
  if (t.dims.length > full.length) return undefined;
  const aligned = [...new Array<number>(full.length - t.dims.length).fill(1), ...t.dims];
  if (!aligned.every((d, ax) => d === 1 || (ax === 1 && d === C))) return undefined;
  return t.data.length === 1 ? new Float64Array(C).fill(t.data[0]!) : Float64Array.from(t.data);
}

/** The spatial attributes of Conv and the pools on a value of 1 or 2 spatial axes, as a 2-D window. */
function windowOf(node: OnnxNode, dims: readonly number[], kernel: readonly number[]): Window {
  const k = dims.length - 1;
  const ints = (name: string, fallback: number[]): number[] => {
    const v = node.attributes.get(name)?.ints;
    if (v === undefined) return fallback;
    if (v.length !== fallback.length) throw unsupported(node, `${name} has ${v.length} values for ${k} spatial axes`);
    return v;
  };
  const stride = ints("strides", new Array<number>(k).fill(1)), dilation = ints("dilations", new Array<number>(k).fill(1));
  if (![...stride, ...dilation].every((v) => Number.isInteger(v) && v >= 1)) throw unsupported(node, `strides [${stride}] and dilations [${dilation}] must be positive`);
  let pads = ints("pads", new Array<number>(2 * k).fill(0));
  const autoPad = node.attributes.get("auto_pad")?.s ?? "NOTSET";
  const spatial = dims.slice(1);
  if (autoPad === "VALID") pads = new Array<number>(2 * k).fill(0);
  else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    // Output ⌈in/stride⌉; the total padding split in two, the odd one at the end (UPPER) or the start (LOWER).
    pads = new Array<number>(2 * k).fill(0);
    spatial.forEach((n, a) => {
      const out = Math.ceil(n / stride[a]!);
      const total = Math.max(0, (out - 1) * stride[a]! + (kernel[a]! - 1) * dilation[a]! + 1 - n);
      const begin = autoPad === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
      pads[a] = begin;
      pads[a + k] = total - begin;
    });
  } else if (autoPad !== "NOTSET") throw unsupported(node, `auto_pad "${autoPad}" is not an ONNX value`);
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw unsupported(node, `pads [${pads}] must be non-negative`);
  const two = (v: number[]): [number, number] => (k === 1 ? [1, v[0]!] : [v[0]!, v[1]!]);
  return {
    kernel: two([...kernel]), stride: two(stride), dilation: two(dilation),
    pads: k === 1 ? [0, pads[0]!, 0, pads[1]!] : [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
  };
}

/** The dims after the batch of a pooling or convolution output with `channels` channels. */
function outDims(dims: readonly number[], channels: number, out: readonly [number, number]): number[] {
  return dims.length === 2 ? [channels, out[1]] : [channels, out[0], out[1]];
}

const BINARY: Readonly<Record<string, (x: number, y: number) => number>> = {
  Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Div: (x, y) => x / y,
};

export function lowerTensorGraph(g: OnnxGraph): TensorGraph {
  const inputDims = g.input.shape;
  const stages: TensorStage[] = [];
  // A value's `at`: the stages made and the folds into them when it was computed. A fold changes the stage
  // that made its input in place, so every value read after one must be computed after it.
  let folds = 0;
  const now = (): number => stages.length + folds;
  /** An element-wise function made a lookup stage after its root's. */
  const materialize = (pw: Pointwise): Feature => {
    const dims = pw.root.dims;
    // f∘maxpool = maxpool∘f for non-decreasing f: the lookup goes before the pooling.
    let at = stages.length;
    while (pw.act.monotone && at > 0 && stages[at - 1]!.kind === "maxpool") at--;
    const shape = at === stages.length ? shape3(dims) : (stages[at] as { in: Shape3 }).in;
    stages.splice(at, 0, { kind: "act", node: pw.node, shape, act: pw.act });
    return { kind: "x", dims, at: now(), fresh: false };
  };
  const values = new Map<string, Value>();
  for (const [name, t] of g.initializers) values.set(name, { kind: "const", t });
  values.set(g.input.name, { kind: "x", dims: inputDims, at: 0, fresh: false });
  let tail: TensorGraph["tail"];
  for (const node of g.nodes) {
    if (node.domain !== "" && node.domain !== "ai.onnx") throw unsupported(node, `operator domain "${node.domain}" is not supported`);
    if (tail !== undefined) throw unsupported(node, `follows ${tail.node} (${tail.kind}), which must be the last operator`);
    // Constant and shape subgraphs (PyTorch's x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat): evaluated now.
    const known = node.inputs.map((name) => {
      const v = values.get(name);
      return v?.kind === "const" || v?.kind === "shape" ? v : undefined;
    });
    const folded = foldNode(node, known, (k) => {
      const v = values.get(node.inputs[k] ?? "");
      return v?.kind === "x" ? ["N" as Dim, ...v.dims] : undefined;
    });
    if (folded !== undefined) {
      values.set(node.outputs[0]!, folded);
      continue;
    }
    const arg = (k: number): Value => {
      const v = values.get(node.inputs[k] ?? "");
      if (v === undefined) throw unsupported(node, `input ${k} (${node.inputs[k]}) is not computed before it`);
      return v;
    };
    const constant = (k: number): OnnxTensor | undefined => {
      const v = values.get(node.inputs[k] ?? "");
      return v?.kind === "const" ? v.t : undefined;
    };
    /** The element-wise function that v is of its root (the identity for a computed tensor). */
    const lift = (v: Value): Pointwise => {
      if (v.kind !== "x") throw unsupported(node, "expects the feature tensor as its first input");
      // Values are functions of the last stage's output only: a branch (skip connection) is refused.
      if (v.at !== now()) throw unsupported(node, "the graph is not a chain (an input skips a later operator)");
      return v.pw ?? { root: v, act: { op: "x", f: (z) => z, monotone: true }, node: node.name };
    };
    /** A computed tensor: an element-wise function read here becomes its lookup stage. */
    const feature = (v: Value): Feature => {
      lift(v);
      const { pw } = v as Feature;
      if (pw === undefined) return v as Feature;
      const materialized = materialize(pw);
      for (const [name, u] of values) if (u === v) values.set(name, materialized);
      return materialized;
    };
    const spatial = (v: Feature): void => {
      if (v.dims.length < 2) throw unsupported(node, `expects a [C, L] or [C, H, W] tensor, got [${v.dims}] (after a Flatten)`);
    };
    const flat = (v: Feature): number => {
      if (v.dims.length !== 1) throw unsupported(node, `expects a flat tensor, got [${v.dims}]: add a Flatten before it`);
      return v.dims[0]!;
    };
    const set = (dims: readonly number[], fresh = false): void => {
      values.set(node.outputs[0]!, { kind: "x", dims, at: now(), fresh });
    };
    const attrInt = (name: string): number | undefined => node.attributes.get(name)?.i;
    const last = stages[stages.length - 1];
    // x ↦ a_c·x + c_c per channel, folded into the stage that made x when x is its fresh output.
    const channelAffine = (x: Feature, a: Float64Array, c: Float64Array): void => {
      if (x.fresh && (last?.kind === "conv" || last?.kind === "dense")) {
        const O = last.b.length, per = last.W.length / O;
        if (last.kind === "conv") for (let k = 0; k < last.W.length; k++) last.W[k]! *= a[Math.floor(k / per)]!;
        else for (let k = 0; k < last.W.length; k++) last.W[k]! *= a[k % O]!;
        for (let o = 0; o < O; o++) last.b[o] = a[o]! * last.b[o]! + c[o]!;
        folds++;
      } else if (x.fresh && last?.kind === "affine") {
        for (let o = 0; o < a.length; o++) {
          last.scale[o]! *= a[o]!;
          last.shift[o] = a[o]! * last.shift[o]! + c[o]!;
        }
        folds++;
      } else {
        stages.push({ kind: "affine", node: node.name, shape: shape3(x.dims), scale: Float64Array.from(a), shift: Float64Array.from(c) });
      }
      set(x.dims, true);
    };
    if (UNARY_OPS[node.opType] !== undefined) {
      const x = arg(0), inner = lift(x), dims = (x as Feature).dims, C = dims[0]!;
      const act = activationOf(node, g.opset, C, (k) => {
        if ((node.inputs[k] ?? "") === "") return undefined;
        const t = constant(k), v = t === undefined ? undefined : perChannel(t, dims);
        if (v === undefined || (v.length !== 1 && v.length !== C)) throw unsupported(node, `input ${k} must be a constant scalar or one value per channel of [${dims}]`);
        return v.length === 1 ? new Float64Array(C).fill(v[0]!) : v;
      })!;
      const f = inner.act.f;
      const composed: Activation = inner.act.op === "x" ? act
        : { op: `${act.op}(${inner.act.op})`, f: (z, c) => act.f(f(z, c), c), monotone: act.monotone && inner.act.monotone };
      values.set(node.outputs[0]!, { kind: "x", dims, at: now(), fresh: false, pw: { root: inner.root, act: composed, node: node.name } });
      continue;
    }
    switch (node.opType) {
      case "Conv": {
        const x = feature(arg(0));
        spatial(x);
        const w = constant(1);
        if (w === undefined) throw unsupported(node, "only constant weights are supported");
        const k = x.dims.length - 1, C = x.dims[0]!;
        if (w.dims.length !== 2 + k) throw unsupported(node, `weights of dims [${w.dims}] on a tensor of ${k} spatial axes`);
        const [O, Cg] = w.dims as [number, number], kernel = w.dims.slice(2);
        const ks = node.attributes.get("kernel_shape")?.ints;
        if (ks !== undefined && ks.join() !== kernel.join()) throw unsupported(node, `kernel_shape [${ks}] differs from the weights' [${kernel}]`);
        const group = attrInt("group") ?? 1;
        if (!(group >= 1 && C % group === 0 && O % group === 0 && Cg === C / group)) {
          throw unsupported(node, `${C} input channels, weights [${w.dims}] and group = ${group} do not fit`);
        }
        const window = windowOf(node, x.dims, kernel);
        const inS = shape3(x.dims), out = windowOutput(inS, window, false);
        if (out === undefined) throw unsupported(node, `the kernel does not fit the padded input [${x.dims}]`);
        let b = new Float64Array(O);
        if ((node.inputs[2] ?? "") !== "") {
          const bt = constant(2);
          if (bt === undefined || bt.data.length !== O) throw unsupported(node, `the bias must be a constant of ${O} values`);
          b = Float64Array.from(bt.data);
        }
        const dims = outDims(x.dims, O, out);
        stages.push({ kind: "conv", node: node.name, in: inS, out: shape3(dims), W: Float64Array.from(w.data), b, group, window });
        set(dims, true);
        break;
      }
      case "MaxPool": case "AveragePool": {
        const x = feature(arg(0));
        spatial(x);
        if (node.outputs.length > 1 && node.outputs[1] !== "") throw unsupported(node, "the Indices output is not supported");
        const kernel = node.attributes.get("kernel_shape")?.ints;
        if (kernel === undefined || kernel.length !== x.dims.length - 1) throw unsupported(node, `kernel_shape must give ${x.dims.length - 1} sizes`);
        const window = windowOf(node, x.dims, kernel);
        const inS = shape3(x.dims), out = windowOutput(inS, window, false);
        if (out === undefined) throw unsupported(node, `the kernel does not fit the padded input [${x.dims}]`);
        if ((attrInt("ceil_mode") ?? 0) !== 0) {
          const up = windowOutput(inS, window, true)!;
          if (up[0] !== out[0] || up[1] !== out[1]) throw unsupported(node, "ceil_mode = 1 adds a partial window here (export with ceil_mode = 0)");
        }
        if (taps(inS, window).inside.some((n) => n === 0)) throw unsupported(node, "a window lies entirely in the padding");
        const dims = outDims(x.dims, x.dims[0]!, out);
        const at = { node: node.name, in: inS, out: shape3(dims), window };
        if (node.opType === "MaxPool") {
          if ((attrInt("storage_order") ?? 0) !== 0) throw unsupported(node, "storage_order = 1 is not supported");
          stages.push({ kind: "maxpool", ...at });
        } else stages.push({ kind: "avgpool", ...at, countPad: (attrInt("count_include_pad") ?? 0) !== 0 });
        set(dims);
        break;
      }
      case "GlobalAveragePool": case "GlobalMaxPool": {
        const x = feature(arg(0));
        spatial(x);
        const inS = shape3(x.dims);
        const window: Window = { kernel: [inS[1], inS[2]], stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0] };
        const dims = x.dims.map((d, a) => (a === 0 ? d : 1));
        const at = { node: node.name, in: inS, out: [inS[0], 1, 1] as Shape3, window };
        stages.push(node.opType === "GlobalMaxPool" ? { kind: "maxpool", ...at } : { kind: "avgpool", ...at, countPad: false });
        set(dims);
        break;
      }
      case "BatchNormalization": {
        const x = feature(arg(0));
        if ((attrInt("training_mode") ?? 0) !== 0 || node.outputs.slice(1).some((o) => o !== "")) throw unsupported(node, "training mode is not supported (export the model in eval mode)");
        const eps = node.attributes.get("epsilon")?.f ?? 1e-5;
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => {
          // The statistics are 1-D, one value per channel (axis 1 of the input).
          const t = constant(k);
          if (t === undefined || t.dims.length !== 1 || t.data.length !== x.dims[0]) throw unsupported(node, `input ${k} must be a constant of one value per channel`);
          return t.data;
        }) as [Float64Array, Float64Array, Float64Array, Float64Array];
        // y = γ·(x − μ)/√(σ² + ε) + β.
        const a = scale.map((s, c) => s / Math.sqrt(variance[c]! + eps));
        channelAffine(x, a, bias.map((b, c) => b - a[c]! * mean[c]!));
        break;
      }
      case "Add": case "Sub": case "Mul": case "Div": {
        const [p, q] = [arg(0), arg(1)];
        if (p.kind === "x" && q.kind === "x") {
          // Two element-wise functions of the same tensor: their sum, product, … is one too (x·σ(x)).
          const [u, v] = [lift(p), lift(q)];
          if (u.root !== v.root) throw unsupported(node, "combines two different tensors: only element-wise functions of the same tensor (x·σ(x)) are supported");
          const bin = BINARY[node.opType]!, fu = u.act.f, fv = v.act.f;
          const act: Activation = {
            op: `${node.opType.toLowerCase()}(${u.act.op}, ${v.act.op})`, f: (z, c) => bin(fu(z, c), fv(z, c)),
            monotone: node.opType === "Add" && u.act.monotone && v.act.monotone,
          };
          values.set(node.outputs[0]!, { kind: "x", dims: p.dims, at: now(), fresh: false, pw: { root: u.root, act, node: node.name } });
          break;
        }
        const first = p.kind === "x";
        const xv = first ? p : q, kv = first ? q : p;
        if (xv.kind !== "x" || kv.kind !== "const") throw unsupported(node, "one input must be the features and the other a constant");
        const x = feature(xv), C = x.dims[0]!;
        const v = perChannel(kv.t, x.dims);
        if (v === undefined || v.length !== C) throw unsupported(node, `constant of dims [${kv.t.dims}] is not one value per channel of [${x.dims}]`);
        const ones = new Float64Array(C).fill(1), zeros = new Float64Array(C);
        if (node.opType === "Add") channelAffine(x, ones, v);
        else if (node.opType === "Sub") channelAffine(x, first ? ones : ones.map(() => -1), first ? v.map((t) => -t) : v);
        else if (node.opType === "Mul") channelAffine(x, v, zeros);
        else if (first) channelAffine(x, v.map((t) => 1 / t), zeros);
        else throw unsupported(node, "division of a constant by the features is not affine");
        break;
      }
      case "Gemm": case "MatMul": {
        const x = feature(arg(0)), n = flat(x), wt = constant(1);
        if (wt === undefined || wt.dims.length !== 2) throw unsupported(node, "only constant 2-D weights are supported");
        const gemm = node.opType === "Gemm";
        if (gemm && (attrInt("transA") ?? 0) !== 0) throw unsupported(node, "transA = 1 is not supported");
        const trans = gemm && (attrInt("transB") ?? 0) !== 0;
        const [r, c] = wt.dims as [number, number], rows = trans ? c : r, m = trans ? r : c;
        if (rows !== n) throw unsupported(node, `weights [${wt.dims}] on ${n} features`);
        const alpha = gemm ? node.attributes.get("alpha")?.f ?? 1 : 1, beta = gemm ? node.attributes.get("beta")?.f ?? 1 : 1;
        const W = new Float64Array(n * m);
        for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) W[i * m + j] = alpha * wt.data[trans ? j * n + i : i * m + j]!;
        let b = new Float64Array(m);
        if (gemm && (node.inputs[2] ?? "") !== "") {
          const ct = constant(2), v = ct === undefined ? undefined : perChannel(ct, [m]);
          if (v === undefined || v.length !== m) throw unsupported(node, "C must be a constant row vector");
          b = v.map((t) => beta * t);
        }
        stages.push({ kind: "dense", node: node.name, in: n, out: m, W, b });
        set([m], true);
        break;
      }
      case "Flatten": {
        const x = feature(arg(0));
        if ((attrInt("axis") ?? 1) !== 1) throw unsupported(node, "Flatten with axis ≠ 1");
        set([prod(x.dims)], x.fresh);
        break;
      }
      case "Reshape": {
        const x = feature(arg(0)), s = values.get(node.inputs[1] ?? "");
        if (s?.kind !== "const" && s?.kind !== "shape") throw unsupported(node, "the shape must be a constant or computed from shapes (PyTorch: torch.flatten(x, 1), x.view(x.size(0), -1))");
        // A shape computed from the input's keeps the batch size "N" first: a copy of the batch dim, like 0.
        const dims = s.kind === "shape" ? s.dims : Array.from(s.t.data);
        if (dims.slice(1).includes("N")) throw unsupported(node, `reshape of [N, ${x.dims}] to [${dims}]: the batch size must stay first`);
        const want = dims.map((d) => (d === "N" ? 0 : d)), n = prod(x.dims);
        // The first dim is the batch: −1 or 0 (copy), or the exported batch size when the rest holds every feature.
        let rest = want.slice(1).map((d, a) => (d === 0 && (node.attributes.get("allowzero")?.i ?? 0) === 0 ? x.dims[a] ?? NaN : d));
        if (want[0] !== -1 && rest.filter((d) => d === -1).length === 1) {
          const known = prod(rest.filter((d) => d !== -1));
          rest = rest.map((d) => (d === -1 ? n / known : d));
        }
        if (want.length < 2 || want.length > 4 || !rest.every((d) => Number.isInteger(d) && d > 0) || prod(rest) !== n || !(want[0] === -1 || want[0] === 0 || want[0]! > 0)) {
          throw unsupported(node, `reshape of [N, ${x.dims}] to [${want}]: only reshapes keeping the batch first are supported`);
        }
        set(rest, x.fresh && rest.length === 1);
        break;
      }
      case "Identity": case "Dropout": {
        // The same value (an element-wise function stays one, of the same tensor).
        const x = arg(0);
        lift(x);
        if (node.opType === "Dropout" && node.outputs.slice(1).some((o) => o !== "")) throw unsupported(node, "the mask output is not supported");
        values.set(node.outputs[0]!, x);
        break;
      }
      case "Softmax": {
        const x = feature(arg(0));
        flat(x);
        if (![undefined, -1, 1].includes(attrInt("axis"))) throw unsupported(node, "softmax over the feature axis only");
        tail = { kind: "softmax", node: node.name };
        set(x.dims);
        break;
      }
      default:
        throw unsupported(node, `operator not supported in a convolutional network (supported: ${TENSOR_OPS.join(", ")})`);
    }
  }
  const result = values.get(g.output);
  const out = result?.kind === "x" && result.pw !== undefined && result.at === now() ? materialize(result.pw) : result;
  if (out === undefined || out.kind !== "x" || out.at !== now()) throw new MlUnsupportedError(`ONNX: the output ${g.output} is not the last value computed from the input`);
  const end = stages[stages.length - 1];
  // A final Sigmoid on one output is the binary classifier's link, applied by the client.
  if (tail === undefined && end?.kind === "act" && end.act.op === "sigmoid" && prod(out.dims) === 1) {
    stages.pop();
    tail = { kind: "sigmoid", node: end.node };
  }
  if (stages.length === 0) throw new MlUnsupportedError("ONNX: the graph computes nothing from its input");
  const graph = { input: shape3(inputDims), inputDims, stages, outputs: prod(out.dims) };
  return tail === undefined ? graph : { ...graph, tail };
}
