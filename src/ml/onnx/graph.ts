// The float semantics of the supported ONNX operators on [rows × cols] feature tensors, and the lowering of
// a graph to a chain of affine layers separated by element-wise activations: Gemm and MatMul by constant
// weights compose with the element-wise Add/Sub/Mul/Div by constants around them (a standardization
// before the first layer folds into its weights), Relu/Sigmoid/Tanh end a layer.
import { MlUnsupportedError } from "../errors.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "./parse.js";

export const SUPPORTED_OPS = [
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "Identity", "Flatten", "Reshape",
  "ai.onnx.ml.Scaler", "ai.onnx.ml.LinearRegressor", "ai.onnx.ml.LinearClassifier",
  "ai.onnx.ml.TreeEnsembleRegressor", "ai.onnx.ml.TreeEnsembleClassifier",
] as const;

export type ActivationKind = "relu" | "sigmoid" | "tanh" | "softmax";

export interface AffineLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** [inputs × outputs], row-major. */
  readonly W: Float64Array;
  readonly b: Float64Array;
  /** The element-wise function after the layer, and the node that applies it. */
  readonly activation?: { readonly kind: ActivationKind; readonly node: string };
}

/** value = h·A + c on the current segment's input h (n columns). */
interface Affine { readonly kind: "affine"; readonly seg: number; readonly n: number; readonly m: number; readonly A: Float64Array; readonly c: Float64Array }

type Value = Affine | { readonly kind: "const"; readonly t: OnnxTensor } | { readonly kind: "labels"; readonly of: string };

/** The graph as affine layers, and the class labels an ai.onnx.ml classifier names (its first output). */
export interface LoweredGraph {
  readonly layers: AffineLayer[];
  readonly classes?: (number | string)[];
}

function unsupported(node: OnnxNode, why: string): MlUnsupportedError {
  return new MlUnsupportedError(`ONNX node ${node.name} (${node.opType}): ${why}`);
}

/** A constant as a row vector over m columns (scalar, [m] or [1, m]), or undefined if it is not one. */
function rowVector(t: OnnxTensor, m: number): Float64Array | undefined {
  const n = t.data.length;
  const shapeOk = t.dims.length === 0 || t.dims.slice(0, -1).every((d) => d === 1);
  if (!shapeOk) return undefined;
  if (n === 1) return new Float64Array(m).fill(t.data[0]!);
  return n === m ? Float64Array.from(t.data) : undefined;
}

function matrix(t: OnnxTensor, node: OnnxNode, transpose: boolean): { rows: number; cols: number; data: Float64Array } {
  if (t.dims.length !== 2) throw unsupported(node, `expected 2-D constant weights, got dims [${t.dims}]`);
  const [r, c] = t.dims as [number, number];
  if (!transpose) return { rows: r, cols: c, data: t.data };
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j]!;
  return { rows: c, cols: r, data };
}

/** (h·A + c)·B + d: the composition with constant weights B [m × p]. */
function compose(v: Affine, B: { rows: number; cols: number; data: Float64Array }, d: Float64Array | undefined, node: OnnxNode): Affine {
  if (B.rows !== v.m) throw unsupported(node, `weights of ${B.rows} rows on ${v.m} columns`);
  const p = B.cols, A = new Float64Array(v.n * p), c = d === undefined ? new Float64Array(p) : Float64Array.from(d);
  for (let i = 0; i < v.n; i++) {
    for (let k = 0; k < v.m; k++) {
      const a = v.A[i * v.m + k]!;
      if (a === 0) continue;
      for (let j = 0; j < p; j++) A[i * p + j]! += a * B.data[k * p + j]!;
    }
  }
  for (let k = 0; k < v.m; k++) for (let j = 0; j < p; j++) c[j]! += v.c[k]! * B.data[k * p + j]!;
  return { kind: "affine", seg: v.seg, n: v.n, m: p, A, c };
}

/** Element-wise x ↦ x·s + t per column. */
function scaleShift(v: Affine, s: Float64Array, t: Float64Array): Affine {
  const A = Float64Array.from(v.A, (a, k) => a * s[k % v.m]!);
  const c = Float64Array.from(v.c, (a, k) => a * s[k]! + t[k]!);
  return { kind: "affine", seg: v.seg, n: v.n, m: v.m, A, c };
}

function identity(n: number, seg: number): Affine {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) A[i * n + i] = 1;
  return { kind: "affine", seg, n, m: n, A, c: new Float64Array(n) };
}

/** The linear models of ai.onnx.ml: their weights as [features × outputs] and intercepts. */
function mlLinear(node: OnnxNode, v: Affine, outputs: number): { W: Float64Array; b: Float64Array } {
  const coef = node.attributes.get("coefficients")?.floats ?? [], icpt = node.attributes.get("intercepts")?.floats;
  if (coef.length !== outputs * v.m) throw unsupported(node, `${coef.length} coefficients for ${outputs} output(s) of ${v.m} features`);
  if (icpt !== undefined && icpt.length !== outputs) throw unsupported(node, `${icpt.length} intercepts for ${outputs} output(s)`);
  // coefficients are [outputs × features], row-major; the layer wants [features × outputs].
  const W = new Float64Array(v.m * outputs);
  for (let k = 0; k < outputs; k++) for (let j = 0; j < v.m; j++) W[j * outputs + k] = coef[k * v.m + j]!;
  return { W, b: Float64Array.from(icpt ?? new Array<number>(outputs).fill(0)) };
}

/** The graph as affine layers; the last one has no activation or a final Sigmoid/Softmax (applied by the client). */
export function lowerGraph(g: OnnxGraph): LoweredGraph {
  let classes: (number | string)[] | undefined;
  const values = new Map<string, Value>();
  for (const [name, t] of g.initializers) values.set(name, { kind: "const", t });
  values.set(g.input.name, identity(g.input.features, 0));
  const layers: AffineLayer[] = [];
  for (const node of g.nodes) {
    const ml = node.domain === "ai.onnx.ml";
    if (node.domain !== "" && node.domain !== "ai.onnx" && !ml) throw unsupported(node, `operator domain "${node.domain}" is not supported`);
    const arg = (k: number): Value => {
      const v = values.get(node.inputs[k] ?? "");
      if (v === undefined) throw unsupported(node, `input ${k} (${node.inputs[k]}) is not computed before it`);
      return v;
    };
    const affine = (v: Value): Affine => {
      if (v.kind !== "affine") throw unsupported(node, v.kind === "labels" ? "reads a classifier's labels" : "expects the feature tensor as its first input");
      // Values are affine in the current layer's input only: a skip connection to an earlier layer is refused.
      if (v.seg !== layers.length) throw unsupported(node, "the graph is not a chain of layers (an input skips an activation)");
      return v;
    };
    const attr = (name: string): number | undefined => {
      const a = node.attributes.get(name);
      return a === undefined ? undefined : a.f ?? a.i;
    };
    const postTransform = (): string => node.attributes.get("post_transform")?.s ?? "NONE";
    let out: Value;
    switch (ml ? `ai.onnx.ml.${node.opType}` : node.opType) {
      case "ai.onnx.ml.Scaler": {
        // Y = (X − offset)·scale, each a scalar or one value per column.
        const a = affine(arg(0)), n = a.m;
        const per = (name: string, fallback: number): Float64Array => {
          const f = node.attributes.get(name)?.floats ?? [fallback];
          if (f.length !== 1 && f.length !== n) throw unsupported(node, `${name} has ${f.length} values for ${n} columns`);
          return Float64Array.from({ length: n }, (_, k) => f[f.length === 1 ? 0 : k]!);
        };
        const offset = per("offset", 0), scale = per("scale", 1);
        out = scaleShift(a, scale, offset.map((o, k) => -o * scale[k]!));
        break;
      }
      case "ai.onnx.ml.LinearRegressor": {
        const a = affine(arg(0)), targets = attr("targets") ?? 1;
        if (postTransform() !== "NONE") throw unsupported(node, `post_transform ${postTransform()} is not supported (NONE only)`);
        const { W, b } = mlLinear(node, a, targets);
        out = compose(a, { rows: a.m, cols: targets, data: W }, b, node);
        break;
      }
      case "ai.onnx.ml.LinearClassifier": {
        const a = affine(arg(0));
        const labels: (number | string)[] = node.attributes.get("classlabels_ints")?.ints ?? node.attributes.get("classlabels_strings")?.strings ?? [];
        const rows = (node.attributes.get("intercepts")?.floats ?? []).length || (node.attributes.get("coefficients")?.floats ?? []).length / a.m;
        // One row of coefficients for two labels: the binary form, label = [score > 0] (scores [1 − s, s]).
        if (!(labels.length >= 2 && (rows === labels.length || (rows === 1 && labels.length === 2)))) {
          throw unsupported(node, `${rows} coefficient row(s) for ${labels.length} class label(s)`);
        }
        const { W, b } = mlLinear(node, a, rows);
        const scores = compose(a, { rows: a.m, cols: rows, data: W }, b, node);
        const pt = postTransform();
        if (pt !== "NONE" && !(pt === "LOGISTIC" && rows === 1) && !(pt === "SOFTMAX" && rows > 1)) {
          throw unsupported(node, `post_transform ${pt} with ${rows} score column(s) is not supported (NONE; LOGISTIC on a binary model; SOFTMAX)`);
        }
        if (pt === "NONE") out = scores;
        else {
          layers.push({ inputs: scores.n, outputs: scores.m, W: scores.A, b: scores.c, activation: { kind: pt === "LOGISTIC" ? "sigmoid" : "softmax", node: node.name } });
          out = identity(scores.m, layers.length);
        }
        classes = labels;
        values.set(node.outputs[1] ?? "", out);
        values.set(node.outputs[0]!, { kind: "labels", of: node.outputs[1] ?? "" });
        continue;
      }
      case "ai.onnx.ml.TreeEnsembleRegressor": case "ai.onnx.ml.TreeEnsembleClassifier":
        throw unsupported(node, "a tree ensemble must be the graph's only node (imported as a tree model)");
      case "Gemm": {
        const a = affine(arg(0)), b = arg(1);
        if (b.kind !== "const") throw unsupported(node, "only constant weights (B) are supported");
        if ((attr("transA") ?? 0) !== 0) throw unsupported(node, "transA = 1 is not supported");
        const alpha = attr("alpha") ?? 1, beta = attr("beta") ?? 1;
        const B = matrix(b.t, node, (attr("transB") ?? 0) !== 0);
        const scaled = { ...B, data: Float64Array.from(B.data, (w) => alpha * w) };
        let d: Float64Array | undefined;
        if (node.inputs.length > 2 && node.inputs[2] !== "") {
          const cv = arg(2);
          const row = cv.kind === "const" ? rowVector(cv.t, B.cols) : undefined;
          if (row === undefined) throw unsupported(node, "C must be a constant row vector");
          d = Float64Array.from(row, (v) => beta * v);
        }
        out = compose(a, scaled, d, node);
        break;
      }
      case "MatMul": {
        const a = affine(arg(0)), b = arg(1);
        if (b.kind !== "const") throw unsupported(node, "only constant weights (the second input) are supported");
        out = compose(a, matrix(b.t, node, false), undefined, node);
        break;
      }
      case "Add": case "Sub": case "Mul": case "Div": {
        const [x, y] = [arg(0), arg(1)];
        const v = x.kind === "affine" ? x : y.kind === "affine" ? y : undefined;
        const k = x.kind === "const" ? x : y.kind === "const" ? y : undefined;
        if (v === undefined || k === undefined) throw unsupported(node, "one input must be the features and the other a constant");
        const r = rowVector(k.t, v.m);
        if (r === undefined) throw unsupported(node, `constant of dims [${k.t.dims}] does not broadcast over ${v.m} columns`);
        const ones = new Float64Array(v.m).fill(1), zeros = new Float64Array(v.m);
        const first = x.kind === "affine";
        if (node.opType === "Add") out = scaleShift(v, ones, r);
        else if (node.opType === "Sub") out = first ? scaleShift(v, ones, r.map((t) => -t)) : scaleShift(v, ones.map(() => -1), r);
        else if (node.opType === "Mul") out = scaleShift(v, r, zeros);
        else if (first) out = scaleShift(v, r.map((t) => 1 / t), zeros);
        else throw unsupported(node, "division of a constant by the features is not affine");
        break;
      }
      case "Relu": case "Sigmoid": case "Tanh": case "Softmax": {
        const a = affine(arg(0));
        if (node.opType === "Softmax" && ![undefined, -1, 1].includes(attr("axis"))) throw unsupported(node, "softmax over the feature axis only");
        const activation = { kind: node.opType.toLowerCase() as ActivationKind, node: node.name };
        layers.push({ inputs: a.n, outputs: a.m, W: a.A, b: a.c, activation });
        out = identity(a.m, layers.length);
        break;
      }
      case "Identity": case "Flatten": case "Reshape": {
        const a = affine(arg(0));
        if (node.opType === "Flatten" && (attr("axis") ?? 1) !== 1) throw unsupported(node, "Flatten with axis ≠ 1");
        if (node.opType === "Reshape") {
          const s = arg(1);
          if (s.kind !== "const" || s.t.data.length !== 2 || !(s.t.data[1] === a.m || s.t.data[1] === -1)) throw unsupported(node, "only a reshape to [batch, features] is supported");
        }
        out = a;
        break;
      }
      default:
        throw unsupported(node, `operator${ml ? " of the ai.onnx.ml domain" : ""} not supported (supported: ${SUPPORTED_OPS.join(", ")})`);
    }
    values.set(node.outputs[0]!, out);
  }
  let last = values.get(g.output);
  // A classifier's label output stands for its scores (the labels are their argmax).
  if (last?.kind === "labels") last = values.get(last.of);
  if (last === undefined || last.kind !== "affine") throw new MlUnsupportedError(`ONNX: the output ${g.output} is not computed from the input`);
  if (last.seg !== layers.length) throw new MlUnsupportedError("ONNX: the graph is not a chain of layers");
  // An output after an activation is that layer's; otherwise the trailing affine map is one more layer.
  const identityTail = layers.length > 0 && last.n === last.m && last.A.every((a, k) => a === (k % (last.n + 1) === 0 ? 1 : 0)) && last.c.every((c) => c === 0);
  if (!identityTail) layers.push({ inputs: last.n, outputs: last.m, W: last.A, b: last.c });
  layers.forEach((L, l) => {
    const k = L.activation?.kind;
    if (l < layers.length - 1 && k === "softmax") throw new MlUnsupportedError(`ONNX node ${L.activation!.node} (Softmax): only as the last operator`);
  });
  return classes === undefined ? { layers } : { layers, classes };
}

/** The lowered network in float on rows (row-major [rows × inputs]): the graph's output. */
export function evaluateLayers(layers: readonly AffineLayer[], x: Float64Array, rows: number, finalActivation = true): Float64Array {
  let a = x;
  for (const [l, L] of layers.entries()) {
    const out = new Float64Array(rows * L.outputs);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < L.outputs; k++) {
        let s = L.b[k]!;
        for (let j = 0; j < L.inputs; j++) s += a[i * L.inputs + j]! * L.W[j * L.outputs + k]!;
        out[i * L.outputs + k] = s;
      }
      if (finalActivation || l < layers.length - 1) applyActivation(L.activation?.kind, out.subarray(i * L.outputs, (i + 1) * L.outputs));
    }
    a = out;
  }
  return a;
}

export function applyActivation(kind: ActivationKind | undefined, v: Float64Array): void {
  if (kind === "relu") for (let k = 0; k < v.length; k++) v[k] = Math.max(0, v[k]!);
  else if (kind === "sigmoid") for (let k = 0; k < v.length; k++) v[k] = 1 / (1 + Math.exp(-v[k]!));
  else if (kind === "tanh") for (let k = 0; k < v.length; k++) v[k] = Math.tanh(v[k]!);
  else if (kind === "softmax") {
    const m = Math.max(...v);
    let z = 0;
    for (let k = 0; k < v.length; k++) z += (v[k] = Math.exp(v[k]! - m));
    for (let k = 0; k < v.length; k++) v[k]! /= z;
  }
}
