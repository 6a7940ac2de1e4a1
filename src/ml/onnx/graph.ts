// The float semantics of the supported ONNX operators on [rows × cols] feature tensors, and the lowering of
// a graph to a chain of affine layers separated by element-wise functions: Gemm and MatMul by constant
// weights compose with the element-wise Add/Sub/Mul/Div by constants and BatchNormalization around them (a
// standardization before the first layer folds into its weights). Every value between two affine maps is
// tracked as a function of one unit of the last affine map (its "root"): univariate operators (elementwise.ts)
// and products or sums of such functions of the same unit (x·Φ(x) of GELU, x·σ(x) of SiLU) compose into one
// function, which the encrypted network evaluates as one lookup per unit. Constant and shape subgraphs fold
// first (constants.ts).
import type { Label } from "../decode.js";
import { MlUnsupportedError } from "../errors.js";
import { type Dim, foldNode, type Known, axesOf, reshapeDims } from "./constants.js";
import { type ColumnFn, PARTIAL_OPS, UNARY_OPS, unaryFunction } from "./elementwise.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "./parse.js";

export const SUPPORTED_OPS: readonly string[] = [
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Max", "Min", ...Object.keys(UNARY_OPS), "Softmax", "LogSoftmax", "BatchNormalization",
  "Dropout", "Identity", "Cast", "Flatten", "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Constant", "Shape", "Gather", "Concat", "Slice", "ArgMax",
  "ai.onnx.ml.Scaler", "ai.onnx.ml.Imputer", "ai.onnx.ml.Normalizer", "ai.onnx.ml.ZipMap", "ai.onnx.ml.ArrayFeatureExtractor",
  "ai.onnx.ml.LinearRegressor", "ai.onnx.ml.LinearClassifier", "ai.onnx.ml.TreeEnsembleRegressor", "ai.onnx.ml.TreeEnsembleClassifier",
];

/** How the last layer's outputs become the graph's, applied by the client after decryption. */
export type LinkKind = "sigmoid" | "ovr" | "softmax" | "logsoftmax";

export interface LayerActivation {
  /** "elementwise": a univariate function per unit (one lookup each); a link: the last layer's, in the clear. */
  readonly kind: "elementwise" | LinkKind;
  /** The node that ends the layer. */
  readonly node: string;
  /** elementwise only: the operators composed, in order, and their function of the unit's accumulator. */
  readonly ops?: readonly string[];
  readonly f?: ColumnFn;
}

export type ActivationKind = LayerActivation["kind"];

export interface AffineLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** [inputs × outputs], row-major. */
  readonly W: Float64Array;
  readonly b: Float64Array;
  /** The function after the layer, and the node that applies it. */
  readonly activation?: LayerActivation;
}

/**
 * value = h·A + c on the current segment's input h (n columns), as a tensor [N, 1, …, 1, m] of `rank`
 * dimensions (2 when absent). `diag` says it is column-wise s·of + t of another affine value.
 */
interface Affine {
  readonly kind: "affine"; readonly seg: number; readonly n: number; readonly m: number; readonly A: Float64Array; readonly c: Float64Array;
  readonly rank?: number; readonly diag?: { readonly of: Affine; readonly s: Float64Array; readonly t: Float64Array };
}

/** value_k = f(of_k, k): a univariate function of each unit of a root affine value. */
interface Pointwise {
  readonly kind: "pointwise"; readonly seg: number; readonly of: Affine; readonly f: ColumnFn; readonly ops: string[]; readonly nodes: string[];
  readonly rank?: number;
  /** Set while the function is exactly σ of `of`: as the graph's output, the client's link. */
  readonly sigmoid?: boolean;
}

/** A function of the whole row (softmax) or a client-side link: only as the graph's output. */
interface LinkValue { readonly kind: "link"; readonly link: LinkKind; readonly of: Affine; readonly node: string }

type Value =
  | Affine | Pointwise | LinkValue | Known
  /** Class labels: the argmax of another value's columns, named by `classes` when known. */
  | { readonly kind: "labels"; readonly of: string; readonly classes?: Label[] }
  /** ZipMap's sequence of maps, standing for its input. */
  | { readonly kind: "map"; readonly of: string }
  /** 1 − p of a one-column sigmoid p: only as the first half of the binary pair Concat(1 − p, p). */
  | { readonly kind: "complement"; readonly of: string };

/** The graph as affine layers, the class labels a classifier names, and an imputation of missing inputs. */
export interface LoweredGraph {
  readonly layers: AffineLayer[];
  readonly classes?: Label[];
  /** ai.onnx.ml Imputer on the input: each feature equal to `replaced` (NaN: missing) becomes values[j]. */
  readonly impute?: { readonly values: Float64Array; readonly replaced: number };
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
  return { kind: "affine", seg: v.seg, n: v.n, m: p, A, c, ...(v.rank === undefined ? {} : { rank: v.rank }) };
}

/** Element-wise x ↦ x·s + t per column; the result remembers its root (see Affine.diag). */
function scaleShift(v: Affine, s: Float64Array, t: Float64Array): Affine {
  const A = Float64Array.from(v.A, (a, k) => a * s[k % v.m]!);
  const c = Float64Array.from(v.c, (a, k) => a * s[k]! + t[k]!);
  const r = rootOf(v);
  const diag = { of: r.of, s: r.s.map((x, k) => x * s[k]!), t: r.t.map((x, k) => x * s[k]! + t[k]!) };
  return { kind: "affine", seg: v.seg, n: v.n, m: v.m, A, c, diag, ...(v.rank === undefined ? {} : { rank: v.rank }) };
}

/** v = s·of + t per column, with `of` a root (an affine value that is not itself a column-wise map of another). */
function rootOf(v: Affine): { of: Affine; s: Float64Array; t: Float64Array } {
  return v.diag ?? { of: v, s: new Float64Array(v.m).fill(1), t: new Float64Array(v.m) };
}

/** A feature value as a function of its root's units (the common ground of two values that are combined). */
function lift(v: Affine | Pointwise): { of: Affine; f: ColumnFn; ops: string[]; nodes: string[] } {
  const { of, s, t } = rootOf(v.kind === "pointwise" ? v.of : v);
  if (v.kind === "pointwise") {
    const f = v.f;
    return { of, f: v.of === of ? f : (x, k) => f(s[k]! * x + t[k]!, k), ops: v.ops, nodes: v.nodes };
  }
  return { of, f: (x, k) => s[k]! * x + t[k]!, ops: [], nodes: [] };
}

function identity(n: number, seg: number, rank?: number): Affine {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) A[i * n + i] = 1;
  return { kind: "affine", seg, n, m: n, A, c: new Float64Array(n), ...(rank === undefined || rank === 2 ? {} : { rank }) };
}

/** Column selection: the affine map keeping columns idx (in that order) of v. */
function selectColumns(v: Affine, idx: ArrayLike<number>, node: OnnxNode): Affine {
  const p = idx.length, B = new Float64Array(v.m * p);
  for (let j = 0; j < p; j++) {
    const k = idx[j]! < 0 ? idx[j]! + v.m : idx[j]!;
    if (!(Number.isInteger(k) && k >= 0 && k < v.m)) throw unsupported(node, `column ${idx[j]} of ${v.m}`);
    B[k * p + j] = 1;
  }
  return compose(v, { rows: v.m, cols: p, data: B }, undefined, node);
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

const BINARY: Readonly<Record<string, (x: number, y: number) => number>> = {
  Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Div: (x, y) => x / y, Pow: Math.pow, Max: Math.max, Min: Math.min,
};

/** Cast targets that keep a float value as it is (float, double, float16, bfloat16). */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

/** The graph as affine layers; the last one has no activation or a link (applied by the client). */
export function lowerGraph(g: OnnxGraph): LoweredGraph {
  let classes: Label[] | undefined;
  let impute: LoweredGraph["impute"];
  const values = new Map<string, Value>();
  for (const [name, t] of g.initializers) values.set(name, { kind: "const", t });
  const input = identity(g.input.features, 0);
  values.set(g.input.name, input);
  const layers: AffineLayer[] = [];
  const closed = new WeakMap<Pointwise, Affine>();

  /** Ends the current layer with p's function (one lookup per unit); the next segment starts at its output. */
  const close = (p: Pointwise, node: OnnxNode): Affine => {
    const done = closed.get(p);
    if (done !== undefined) return done;
    if (p.seg !== layers.length) throw unsupported(node, "the graph is not a chain of layers (an input skips an activation)");
    layers.push({ inputs: p.of.n, outputs: p.of.m, W: p.of.A, b: p.of.c, activation: { kind: "elementwise", node: p.nodes[p.nodes.length - 1]!, ops: p.ops, f: p.f } });
    const next = identity(p.of.m, layers.length, p.rank);
    closed.set(p, next);
    return next;
  };

  for (const node of g.nodes) {
    const ml = node.domain === "ai.onnx.ml";
    if (node.domain !== "" && node.domain !== "ai.onnx" && !ml) throw unsupported(node, `operator domain "${node.domain}" is not supported`);
    const has = (k: number): boolean => (node.inputs[k] ?? "") !== "";
    const arg = (k: number): Value => {
      const v = values.get(node.inputs[k] ?? "");
      if (v === undefined) throw unsupported(node, `input ${k} (${node.inputs[k]}) is not computed before it`);
      return v;
    };
    const isFeature = (v: Value): v is Affine | Pointwise => v.kind === "affine" || v.kind === "pointwise";
    const shapeOf = (v: Value | undefined): Dim[] | undefined =>
      v !== undefined && isFeature(v) ? ["N", ...new Array<number>((v.rank ?? 2) - 2).fill(1), v.kind === "affine" ? v.m : v.of.m] : undefined;
    // Constants and shapes: evaluated now.
    const known = node.inputs.map((name) => {
      const v = values.get(name);
      return v?.kind === "const" || v?.kind === "shape" ? v : undefined;
    });
    const folded = foldNode(node, known, (k) => shapeOf(values.get(node.inputs[k] ?? "")));
    if (folded !== undefined) {
      values.set(node.outputs[0]!, folded);
      continue;
    }
    /** A feature value of the current segment (element-wise functions and affine maps alike). */
    const feature = (v: Value): Affine | Pointwise => {
      if (v.kind === "link") throw unsupported(node, `reads the output of node ${v.node} (${v.link}), which is supported only as the graph's output`);
      if (!isFeature(v)) throw unsupported(node, v.kind === "labels" ? "reads a classifier's labels" : v.kind === "map" ? "reads a ZipMap" : v.kind === "complement" ? "reads 1 − σ outside the binary pair Concat(1 − σ, σ)" : "expects the feature tensor as its first input");
      // Values are functions of the current layer's input only: a skip connection to an earlier layer is refused.
      if (v.seg !== layers.length) throw unsupported(node, "the graph is not a chain of layers (an input skips an activation)");
      return v;
    };
    /** The affine map of the current segment (closing an element-wise function: the input of a mixing operator). */
    const affine = (v: Value): Affine => {
      const f = feature(v);
      return f.kind === "pointwise" ? close(f, node) : f;
    };
    const constant = (v: Value, m: number, what: string): Float64Array => {
      const r = v.kind === "const" ? rowVector(v.t, m) : undefined;
      if (r === undefined) throw unsupported(node, `${what} must be a constant scalar or one value per column (${m})`);
      return r;
    };
    const attr = (name: string): number | undefined => {
      const a = node.attributes.get(name);
      return a === undefined ? undefined : a.f ?? a.i;
    };
    /** x ↦ s·x + t per column on a feature value. */
    const diagonal = (v: Affine | Pointwise, s: Float64Array, t: Float64Array): Affine | Pointwise => {
      if (v.kind === "affine") return scaleShift(v, s, t);
      const f = v.f;
      const { sigmoid: _s, ...rest } = v;
      return { ...rest, f: (x, k) => s[k]! * f(x, k) + t[k]!, ops: [...v.ops, node.opType], nodes: [...v.nodes, node.name] };
    };
    /** u ↦ h(u, k) on a feature value: a univariate function of the units of the affine value it reads. */
    const pointwise = (v: Affine | Pointwise, h: ColumnFn): Pointwise => {
      const rank = v.rank === undefined ? {} : { rank: v.rank };
      if (v.kind === "affine") {
        return { kind: "pointwise", seg: v.seg, of: v, f: h, ops: [node.opType], nodes: [node.name], ...rank, ...(node.opType === "Sigmoid" ? { sigmoid: true } : {}) };
      }
      const f = v.f;
      return { kind: "pointwise", seg: v.seg, of: v.of, f: (x, k) => h(f(x, k), k), ops: [...v.ops, node.opType], nodes: [...v.nodes, node.name], ...rank };
    };
    const postTransform = (): string => node.attributes.get("post_transform")?.s ?? "NONE";
    const op = ml ? `ai.onnx.ml.${node.opType}` : node.opType;
    let out: Value;
    switch (op) {
      case "ai.onnx.ml.Scaler": {
        // Y = (X − offset)·scale, each a scalar or one value per column.
        const a = feature(arg(0)), n = lift(a).of.m;
        const per = (name: string, fallback: number): Float64Array => {
          const f = node.attributes.get(name)?.floats ?? [fallback];
          if (f.length !== 1 && f.length !== n) throw unsupported(node, `${name} has ${f.length} values for ${n} columns`);
          return Float64Array.from({ length: n }, (_, k) => f[f.length === 1 ? 0 : k]!);
        };
        const offset = per("offset", 0), scale = per("scale", 1);
        out = diagonal(a, scale, offset.map((o, k) => -o * scale[k]!));
        break;
      }
      case "ai.onnx.ml.Imputer": {
        // Missing inputs are replaced by the client before encryption: only on the graph input itself.
        if (arg(0) !== input) throw unsupported(node, "an Imputer is supported only on the graph input (the client imputes before encrypting)");
        const F = g.input.features, v = node.attributes.get("imputed_value_floats")?.floats ?? [];
        if (v.length !== 1 && v.length !== F) throw unsupported(node, `${v.length} imputed values for ${F} features (imputed_value_floats)`);
        impute = { values: Float64Array.from({ length: F }, (_, j) => v[v.length === 1 ? 0 : j]!), replaced: node.attributes.get("replaced_value_float")?.f ?? 0 };
        out = input;
        break;
      }
      case "ai.onnx.ml.Normalizer": {
        const v = arg(0), norm = node.attributes.get("norm")?.s ?? "MAX";
        // Probabilities (softmax, the binary pair [1 − σ, σ]) already sum to 1; one-vs-rest sigmoids are normalized by the client.
        if (v.kind !== "link" || norm !== "L1" || v.link === "logsoftmax") throw unsupported(node, `norm ${norm} of a value that is not a classifier's probabilities (supported: L1 after LOGISTIC or SOFTMAX)`);
        out = v.link === "sigmoid" && v.of.m > 1 ? { ...v, link: "ovr" } : v;
        // The classifier's labels name its scores: their probabilities are the normalized ones from now on.
        values.set(node.inputs[0]!, out);
        break;
      }
      case "ai.onnx.ml.ZipMap":
        out = { kind: "map", of: node.inputs[0]! };
        break;
      case "ai.onnx.ml.ArrayFeatureExtractor": case "Gather": {
        const [x, idx] = [arg(0), arg(1)];
        // The class labels indexed by an argmax (skl2onnx's label output).
        if (x.kind === "const" && idx.kind === "labels") {
          out = { kind: "labels", of: idx.of, classes: x.t.strings ?? Array.from(x.t.data) };
          break;
        }
        if (idx.kind !== "const") throw unsupported(node, "the indices must be constant");
        if (op === "Gather" && ![1, -1].includes(attr("axis") ?? 0)) throw unsupported(node, "Gather of feature columns only (axis 1)");
        out = selectColumns(affine(x), idx.t.data, node);
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
        const labels: Label[] = node.attributes.get("classlabels_ints")?.ints ?? node.attributes.get("classlabels_strings")?.strings ?? [];
        const rows = (node.attributes.get("intercepts")?.floats ?? []).length || (node.attributes.get("coefficients")?.floats ?? []).length / a.m;
        // One row of coefficients for two labels: the binary form, label = [score > 0] (scores [1 − s, s]).
        if (!(labels.length >= 2 && (rows === labels.length || (rows === 1 && labels.length === 2)))) {
          throw unsupported(node, `${rows} coefficient row(s) for ${labels.length} class label(s)`);
        }
        const { W, b } = mlLinear(node, a, rows);
        let scores = compose(a, { rows: a.m, cols: rows, data: W }, b, node);
        const pt = postTransform();
        if (pt !== "NONE" && pt !== "LOGISTIC" && !(pt === "SOFTMAX" && rows > 1)) {
          throw unsupported(node, `post_transform ${pt} with ${rows} score column(s) is not supported (NONE, LOGISTIC, SOFTMAX)`);
        }
        // skl2onnx's binary form: rows (−w, −b) and (w, b); LOGISTIC gives [σ(−s), σ(s)] = [1 − σ(s), σ(s)], the one-score form.
        const complement = rows === 2 && W.every((w, k) => (k % 2 === 0 ? w === -W[k + 1]! : true)) && b[0] === -b[1]!;
        if (complement && pt === "LOGISTIC") scores = selectColumns(scores, [1], node);
        out = pt === "NONE" ? scores : { kind: "link", link: pt === "SOFTMAX" ? "softmax" : "sigmoid", of: scores, node: node.name };
        classes = labels;
        values.set(node.outputs[1] ?? "", out);
        values.set(node.outputs[0]!, { kind: "labels", of: node.outputs[1] ?? "", classes: labels });
        continue;
      }
      case "ai.onnx.ml.TreeEnsembleRegressor": case "ai.onnx.ml.TreeEnsembleClassifier":
        throw unsupported(node, "a tree ensemble must be the graph's only node (imported as a tree model)");
      case "Gemm": {
        const a = affine(arg(0)), b = arg(1);
        if (b.kind !== "const") throw unsupported(node, "only constant weights (B) are supported");
        if ((attr("transA") ?? 0) !== 0) throw unsupported(node, "transA = 1 (the feature rows transposed) is not supported");
        const alpha = attr("alpha") ?? 1, beta = attr("beta") ?? 1;
        const B = matrix(b.t, node, (attr("transB") ?? 0) !== 0);
        const scaled = { ...B, data: Float64Array.from(B.data, (w) => alpha * w) };
        let d: Float64Array | undefined;
        if (has(2)) d = constant(arg(2), B.cols, "C").map((v) => beta * v);
        out = compose(a, scaled, d, node);
        break;
      }
      case "MatMul": {
        const a = affine(arg(0)), b = arg(1);
        if (b.kind !== "const") throw unsupported(node, "only constant weights (the second input) are supported");
        out = compose(a, matrix(b.t, node, false), undefined, node);
        break;
      }
      case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Max": case "Min": {
        if (node.inputs.length !== 2) throw unsupported(node, `${node.inputs.length} inputs (two are supported)`);
        const [x, y] = [arg(0), arg(1)], fn = BINARY[op]!;
        // skl2onnx's binary probabilities: Concat(1 − σ, σ) on the axis of the classes (below).
        if (op === "Sub" && x.kind === "const" && x.t.data.length === 1 && x.t.data[0] === 1 && ((y.kind === "link" && y.link === "sigmoid") || (y.kind === "pointwise" && y.sigmoid === true)) && y.of.m === 1) {
          out = { kind: "complement", of: node.inputs[1]! };
          break;
        }
        if (x.kind === "const" || y.kind === "const") {
          const first = x.kind !== "const", v = feature(first ? x : y), m = lift(v).of.m;
          const r = constant(first ? y : x, m, "the constant operand");
          const ones = new Float64Array(m).fill(1), zeros = new Float64Array(m);
          // Affine by a constant: folds into the map; anything else is a univariate function of the unit.
          if (op === "Add") out = diagonal(v, ones, r);
          else if (op === "Sub") out = first ? diagonal(v, ones, r.map((t) => -t)) : diagonal(v, ones.map(() => -1), r);
          else if (op === "Mul") out = diagonal(v, r, zeros);
          else if (op === "Div" && first) out = diagonal(v, r.map((t) => 1 / t), zeros);
          else out = pointwise(v, first ? (u, k) => fn(u, r[k]!) : (u, k) => fn(r[k]!, u));
          break;
        }
        const [u, v] = [feature(x), feature(y)];
        if (u.kind === "affine" && v.kind === "affine" && (op === "Add" || op === "Sub") && u.m === v.m) {
          // A sum of two affine maps of the same input is affine (a skip connection within a layer).
          const sign = op === "Add" ? 1 : -1;
          out = { kind: "affine", seg: u.seg, n: u.n, m: u.m, A: u.A.map((w, k) => w + sign * v.A[k]!), c: u.c.map((w, k) => w + sign * v.c[k]!) };
          break;
        }
        const [lu, lv] = [lift(u), lift(v)];
        if (lu.of !== lv.of) throw unsupported(node, "combines two different linear maps of the features: not a function of one unit (only x·g(x)-like products of the same unit are element-wise)");
        const [fu, fv] = [lu.f, lv.f];
        out = {
          kind: "pointwise", seg: u.seg, of: lu.of, f: (z, k) => fn(fu(z, k), fv(z, k)), ops: [...lu.ops, ...lv.ops, op], nodes: [...lu.nodes, ...lv.nodes, node.name],
          ...(u.rank === undefined ? {} : { rank: u.rank }),
        };
        break;
      }
      case "Concat": {
        // The binary pair [1 − σ(s), σ(s)] is the one-score sigmoid link; other concatenations of features are not supported.
        const [c, v] = [arg(0), node.inputs.length === 2 ? arg(1) : undefined];
        if (c.kind === "complement" && v !== undefined && values.get(c.of) === v && [1, -1].includes(attr("axis") ?? 0)) {
          out = v;
          break;
        }
        throw unsupported(node, "a concatenation of feature tensors (only the binary probabilities [1 − σ, σ] are supported)");
      }
      case "Softmax": case "LogSoftmax": {
        const a = affine(arg(0)), rank = a.rank ?? 2, axis = attr("axis") ?? (g.opset < 13 ? 1 : -1);
        if (axis !== -1 && axis !== rank - 1) throw unsupported(node, `${node.opType} over axis ${axis}: over the feature axis only`);
        out = { kind: "link", link: op === "Softmax" ? "softmax" : "logsoftmax", of: a, node: node.name };
        break;
      }
      case "BatchNormalization": {
        // Inference mode: y = (x − mean)/√(var + ε)·scale + B per channel (the columns of [N, C]).
        const v = feature(arg(0)), m = lift(v).of.m;
        if ((v.rank ?? 2) !== 2) throw unsupported(node, "batch normalization of a [N, C] tensor only");
        if ((attr("training_mode") ?? 0) !== 0) throw unsupported(node, "training_mode = 1 (export the model in eval mode)");
        const eps = attr("epsilon") ?? 1e-5;
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => constant(arg(k), m, `input ${k}`)) as [Float64Array, Float64Array, Float64Array, Float64Array];
        const s = scale.map((x, k) => x / Math.sqrt(variance[k]! + eps));
        out = diagonal(v, s, bias.map((b, k) => b - mean[k]! * s[k]!));
        break;
      }
      default: {
        const x = arg(0);
        if (x.kind === "labels" && ["Identity", "Cast", "Reshape", "Squeeze", "Unsqueeze", "Flatten"].includes(op)) {
          out = x;
          break;
        }
        if (UNARY_OPS[op] !== undefined) {
          const v = feature(x), m = lift(v).of.m;
          const fn = unaryFunction({ node, opset: g.opset, columns: m, attr, constInput: (k) => (has(k) ? constant(arg(k), m, `input ${k}`) : undefined) })!;
          out = pointwise(v, fn);
          break;
        }
        out = structural(node, op, x);
      }
    }
    values.set(node.outputs[0]!, out);
  }

  /** Operators that keep the [rows × features] tensor as it is (or only add or remove unit dimensions). */
  function structural(node: OnnxNode, op: string, x: Value): Value {
    const attr = (name: string): number | undefined => node.attributes.get(name)?.f ?? node.attributes.get(name)?.i;
    if (x.kind === "map" || x.kind === "labels" || x.kind === "const" || x.kind === "shape" || x.kind === "link" || x.kind === "complement") {
      if ((op === "Identity" || op === "Cast" || op === "Dropout") && x.kind !== "const" && x.kind !== "shape") return x;
      if (x.kind === "labels" && op === "ArgMax") throw unsupported(node, "ArgMax of labels");
    }
    if (x.kind === "link" && op === "ArgMax") return { kind: "labels", of: node.inputs[0]! };
    if (x.kind !== "affine" && x.kind !== "pointwise") {
      throw unsupported(node, UNARY_OPS[op] !== undefined || SUPPORTED_OPS.includes(op) ? "expects the feature tensor as its first input" : `operator${node.domain === "ai.onnx.ml" ? " of the ai.onnx.ml domain" : ""} not supported (supported: ${SUPPORTED_OPS.join(", ")})`);
    }
    if (x.seg !== layers.length) throw unsupported(node, "the graph is not a chain of layers (an input skips an activation)");
    const rank = x.rank ?? 2, m = x.kind === "affine" ? x.m : x.of.m;
    const withRank = (r: number): Value => {
      const copy: Affine | Pointwise = { ...(x as Affine | Pointwise) };
      delete (copy as { rank?: number }).rank;
      return r <= 2 ? copy : { ...copy, rank: r };
    };
    switch (op) {
      case "Identity": case "Dropout":
        return x;
      case "Cast":
        if (!FLOAT_TYPES.has(attr("to") ?? 1)) throw unsupported(node, `a cast of the features to type ${attr("to")} (float types only)`);
        return x;
      case "Flatten": {
        const axis = attr("axis") ?? 1;
        if (axis !== 1 && axis !== 1 - rank) throw unsupported(node, "Flatten with axis ≠ 1");
        return withRank(2);
      }
      case "Reshape": {
        const s = values.get(node.inputs[1] ?? "");
        const target: Dim[] | undefined = s?.kind === "const" ? Array.from(s.t.data) : s?.kind === "shape" ? s.dims : undefined;
        if (target === undefined) throw unsupported(node, "the shape must be constant (or computed from the input's shape)");
        const inDims: Dim[] = ["N", ...new Array<number>(rank - 2).fill(1), m];
        // The batch dimension stays first (the symbol, 0: copied, or −1 with the rest spanning the features).
        const [first, ...rest] = target;
        if (rest.includes("N") || !(first === "N" || first === 0 || (first === -1 && !rest.includes(-1)))) throw unsupported(node, `a reshape to [${target}] mixes rows and features`);
        const restDims = reshapeDims(rest as number[], inDims.slice(1) as number[], node);
        if (restDims.filter((d) => d !== 1).length > 1 || (m > 1 && restDims[restDims.length - 1] !== m)) {
          throw unsupported(node, `only a reshape to [batch, …, features] is supported (got [${target}] for ${m} features)`);
        }
        return withRank(target.length);
      }
      case "Transpose": {
        const perm = node.attributes.get("perm")?.ints ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
        if (perm[0] !== 0 || (m > 1 && perm[rank - 1] !== rank - 1)) throw unsupported(node, `a transpose [${perm}] of the feature tensor (only permutations of unit dimensions are no-ops)`);
        return x;
      }
      case "Unsqueeze": case "Squeeze": {
        const list = axesOf(node, node.inputs.map((n) => {
          const v = values.get(n);
          return v?.kind === "const" ? v : undefined;
        }));
        if (op === "Squeeze" && list === undefined) return withRank(2);
        const r = op === "Unsqueeze" ? rank + list!.length : rank;
        const at = list!.map((a) => (a < 0 ? a + r : a));
        // New or removed dimensions must lie between the batch and the features (or the features are one column).
        if (at.some((a) => a <= 0 || a >= r || (a === r - 1 && m > 1))) throw unsupported(node, `axes [${list}] of the feature tensor (only unit dimensions between rows and features)`);
        return withRank(op === "Unsqueeze" ? r : rank - at.length);
      }
      case "ArgMax": {
        const axis = attr("axis") ?? 0;
        if (axis !== rank - 1 && axis !== -1) throw unsupported(node, "ArgMax over the feature axis only");
        if ((attr("select_last_index") ?? 0) !== 0) throw unsupported(node, "select_last_index = 1");
        return { kind: "labels", of: node.inputs[0]! };
      }
      default:
        throw unsupported(node, `operator${node.domain === "ai.onnx.ml" ? " of the ai.onnx.ml domain" : ""} not supported (supported: ${SUPPORTED_OPS.join(", ")})`);
    }
  }

  let last = values.get(g.output);
  // A label output stands for the scores it is the argmax of (named by its classes when known).
  while (last?.kind === "labels" || last?.kind === "map") {
    if (last.kind === "labels" && last.classes !== undefined) classes = last.classes;
    last = values.get(last.of);
  }
  if (last === undefined || !(last.kind === "affine" || last.kind === "pointwise" || last.kind === "link")) throw new MlUnsupportedError(`ONNX: the output ${g.output} is not computed from the input`);
  const tail: OnnxNode = { opType: "output", name: g.output, domain: "", inputs: [], outputs: [], attributes: new Map() };
  // σ of an affine map as the output: the client applies σ.
  if (last.kind === "pointwise" && last.sigmoid === true) last = { kind: "link", link: "sigmoid", of: last.of, node: last.nodes[0]! };
  if (last.kind === "link") {
    const of = last.of;
    if (of.seg !== layers.length) throw new MlUnsupportedError("ONNX: the graph is not a chain of layers");
    layers.push({ inputs: of.n, outputs: of.m, W: of.A, b: of.c, activation: { kind: last.link, node: last.node } });
  } else {
    // An element-wise function as the output is one more lookup, read by an identity layer.
    const a = last.kind === "pointwise" ? close(last, tail) : last;
    if (a.seg !== layers.length) throw new MlUnsupportedError("ONNX: the graph is not a chain of layers");
    layers.push({ inputs: a.n, outputs: a.m, W: a.A, b: a.c });
  }
  return { layers, ...(classes === undefined ? {} : { classes }), ...(impute === undefined ? {} : { impute }) };
}

/** The element-wise operators of a lowered network whose float function is undefined on part of the line. */
export function partialOps(L: AffineLayer): string[] {
  return (L.activation?.ops ?? []).filter((o) => PARTIAL_OPS.has(o));
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
      if (finalActivation || l < layers.length - 1) applyActivation(L.activation, out.subarray(i * L.outputs, (i + 1) * L.outputs));
    }
    a = out;
  }
  return a;
}

/** The layer's function on one row of its accumulators, in place. */
export function applyActivation(act: LayerActivation | undefined, v: Float64Array): void {
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
  switch (act?.kind) {
    case undefined:
      return;
    case "elementwise":
      for (let k = 0; k < v.length; k++) v[k] = act.f!(v[k]!, k);
      return;
    case "sigmoid": case "ovr": {
      let z = 0;
      for (let k = 0; k < v.length; k++) z += (v[k] = sigmoid(v[k]!));
      if (act.kind === "ovr") for (let k = 0; k < v.length; k++) v[k]! /= z;
      return;
    }
    case "softmax": case "logsoftmax": {
      const m = Math.max(...v);
      let z = 0;
      for (let k = 0; k < v.length; k++) z += Math.exp(v[k]! - m);
      for (let k = 0; k < v.length; k++) v[k] = act.kind === "softmax" ? Math.exp(v[k]! - m) / z : v[k]! - m - Math.log(z);
    }
  }
}
