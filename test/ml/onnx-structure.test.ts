// What real exports put around the layers: PyTorch's Constant nodes, the dynamic-batch flatten subgraph
// (Shape → Gather → Unsqueeze → Concat → Reshape), Unsqueeze/Squeeze with axes as attributes (opset 11) or
// inputs (opset 13), Cast, Transpose of weights, BatchNormalization, Dropout, Gemm with alpha/beta/transB,
// weights as raw_data, double_data and an external file; skl2onnx's classifier tails (Imputer and Scaler in
// front; Normalizer, ZipMap, Cast, ArgMax and label lookups behind; string and int64 labels). Float against
// onnxruntime-node, quantized and simulated against the float model, FHE at real parameters on a few rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importOnnx, LogisticRegression, MlUnsupportedError, ModelClient, OnnxModel } from "../../src/ml/index.js";
import { CircuitServer } from "../../src/compiler/index.js";
import { asNet, buildOnnx, float32Bytes, type NodeSpec, rows, runOrt, type TensorSpec, weights } from "./onnx-build.js";
import { loadCsv, trainTestSplit } from "./helpers.js";

function close(a: number, b: number, what: string, tol = 1e-4): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs onnxruntime ${b}`);
}

const F = 5, H = 6, K = 3;
const X = rows(80, F, 5);

/** A PyTorch-like classifier: every structural operator above around a GELU (as exported: Div, Erf, Add, Mul, Mul). */
function pytorchLike(opset: 11 | 13, external?: string): { nodes: NodeSpec[]; initializers: Record<string, TensorSpec> } {
  const W1t = weights(H * F, 51), axes = (name: string): Record<string, TensorSpec> => (opset >= 13 ? { [name]: { dims: [1], data: [1], type: "int64" } } : {});
  const squeezeAxes = (op: string, i: string, o: string): NodeSpec => (opset >= 13 ? { op, inputs: [i, "ax1"], outputs: [o] } : { op, inputs: [i], outputs: [o], attrs: { axes: [1] } });
  const nodes: NodeSpec[] = [
    { op: "Constant", inputs: [], outputs: ["mu"], attrs: { value: { tensor: { dims: [F], data: weights(F, 52).map((v) => v / 3) } } } },
    { op: "Sub", inputs: ["x", "mu"], outputs: ["x0"] },
    squeezeAxes("Unsqueeze", "x0", "x1"), squeezeAxes("Squeeze", "x1", "x2"),
    { op: "Cast", inputs: ["x2"], outputs: ["x3"], attrs: { to: 1 } },
    { op: "Shape", inputs: ["x3"], outputs: ["shp"] },
    { op: "Constant", inputs: [], outputs: ["i0"], attrs: { value: { tensor: { dims: [], data: [0], type: "int64" } } } },
    { op: "Gather", inputs: ["shp", "i0"], outputs: ["n"], attrs: { axis: 0 } },
    opset >= 13 ? { op: "Unsqueeze", inputs: ["n", "ax0"], outputs: ["n1"] } : { op: "Unsqueeze", inputs: ["n"], outputs: ["n1"], attrs: { axes: [0] } },
    { op: "Concat", inputs: ["n1", "minus1"], outputs: ["target"], attrs: { axis: 0 } },
    { op: "Reshape", inputs: ["x3", "target"], outputs: ["x4"] },
    { op: "Transpose", inputs: ["W1t"], outputs: ["W1"], attrs: { perm: [1, 0] } },
    { op: "Cast", inputs: ["b1d"], outputs: ["b1"], attrs: { to: 1 } },
    { op: "MatMul", inputs: ["x4", "W1"], outputs: ["h"] }, { op: "Add", inputs: ["h", "b1"], outputs: ["hb"] },
    { op: "BatchNormalization", inputs: ["hb", "gamma", "beta", "mean", "var"], outputs: ["bn"], attrs: { epsilon: 1e-3 } },
    { op: "Dropout", inputs: ["bn"], outputs: ["dr"] },
    { op: "Div", inputs: ["dr", "sqrt2"], outputs: ["d"] }, { op: "Erf", inputs: ["d"], outputs: ["e"] },
    { op: "Add", inputs: ["e", "one"], outputs: ["e1"] }, { op: "Mul", inputs: ["dr", "e1"], outputs: ["m"] }, { op: "Mul", inputs: ["m", "half"], outputs: ["a"] },
    { op: "Gemm", inputs: ["a", "W2t", "b2"], outputs: ["logits"], attrs: { transB: 1, alpha: 0.5, beta: 2.5 } },
    { op: "Softmax", inputs: ["logits"], outputs: ["proba"], attrs: { axis: 1 } },
    { op: "ArgMax", inputs: ["logits"], outputs: ["label"], attrs: { axis: 1, keepdims: 0 } },
  ];
  const initializers: Record<string, TensorSpec> = {
    ...axes("ax1"), ...(opset >= 13 ? { ax0: { dims: [1], data: [0], type: "int64" } } : {}),
    minus1: { dims: [1], data: [-1], type: "int64", raw: true },
    W1t: external === undefined ? { dims: [H, F], data: W1t, raw: true } : { dims: [H, F], data: W1t, external: { location: external, offset: 16 } },
    b1d: { dims: [H], data: weights(H, 53), type: "double" },
    gamma: { dims: [H], data: weights(H, 54).map((v) => 1 + v / 4) }, beta: { dims: [H], data: weights(H, 55) },
    mean: { dims: [H], data: weights(H, 56).map((v) => v / 2) }, var: { dims: [H], data: weights(H, 57).map((v) => 1 + Math.abs(v)) },
    sqrt2: { dims: [], data: [Math.SQRT2] }, one: { dims: [], data: [1] }, half: { dims: [], data: [0.5] },
    W2t: { dims: [K, H], data: weights(K * H, 58) }, b2: { dims: [K], data: weights(K, 59), raw: true },
  };
  return { nodes, initializers };
}

test("PyTorch-style structure (opset 11 and 13): float = onnxruntime (probabilities, labels), one lookup per unit, quantized and simulated labels as float", async () => {
  for (const opset of [11, 13] as const) {
    const { nodes, initializers } = pytorchLike(opset);
    for (const first of ["proba", "label"] as const) {
      const outputs = first === "proba" ? [{ name: "proba" }, { name: "label", type: "int64" as const }] : [{ name: "label", type: "int64" as const }, { name: "proba" }];
      const bytes = buildOnnx({ features: F, opset, nodes, initializers, outputs });
      const ort = await runOrt(bytes, X);
      const m = asNet(importOnnx(bytes));
      assert.equal(m.task, "classifier");
      assert.deepEqual(m.predictFloat(X), ort.label, `opset ${opset}, ${first} first: labels`);
      // The labels' scores are the logits (ArgMax reads them); their softmax is the probability output.
      const softmax = (r: number[]): number[] => r.map((v) => Math.exp(v) / r.reduce((a, u) => a + Math.exp(u), 0));
      m.outputsFloat(X).forEach((r, i) => (first === "proba" ? r : softmax(r)).forEach((v, k) => close(v, ort.proba![i * K + k]!, `opset ${opset} row ${i} class ${k}`)));
      if (first === "label" && opset === 13) {
        m.compile(X, { nBits: { activations: 6 }, roundingThresholdBits: 7 });
        try {
          assert.equal(m.lookupsPerRow, H);
          const q = await m.predict(X);
          assert.ok(q.filter((v, i) => v === ort.label![i]).length >= 76, `quantized labels = onnxruntime's on ${q.filter((v, i) => v === ort.label![i]).length}/80`);
          assert.deepEqual(await m.predict(X.slice(0, 10), { fhe: "simulate" }), q.slice(0, 10));
        } finally {
          await m.close();
        }
      }
    }
  }
});

test("weights in an external file: read beside the model (as onnxruntime reads them), a clear error without a reader", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-onnx-"));
  try {
    const { nodes, initializers } = pytorchLike(13, "weights.bin");
    const data = initializers.W1t!.data as number[];
    const file = new Uint8Array(16 + 4 * data.length);
    file.set(float32Bytes(data), 16);
    writeFileSync(join(dir, "weights.bin"), file);
    const bytes = buildOnnx({ features: F, opset: 13, nodes, initializers, outputs: [{ name: "proba" }] });
    writeFileSync(join(dir, "model.onnx"), bytes);
    const ort = (await runOrt(join(dir, "model.onnx"), X)).proba!;
    assert.throws(() => importOnnx(bytes), (e: unknown) => e instanceof MlUnsupportedError && /tensor W1t keeps its data in an external file \(weights\.bin\)/.test(e.message));
    const m = asNet(importOnnx(bytes, { externalData: (loc) => (assert.equal(loc, "weights.bin"), file) }));
    m.outputsFloat(X).forEach((r, i) => r.forEach((v, k) => close(v, ort[i * K + k]!, `row ${i} class ${k}`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("FHE at real parameters: the PyTorch-style GELU network on 2 rows equals the quantized clear model", async () => {
  const { nodes, initializers } = pytorchLike(13);
  const m = asNet(importOnnx(buildOnnx({ features: F, opset: 13, nodes, initializers, outputs: [{ name: "label", type: "int64" }, { name: "proba" }] })));
  // Exact rounding before the lookups: FHE = clear on every row, not only away from ties.
  m.compile(X, { nBits: { inputs: 5, weights: 4, activations: 3 }, roundingThresholdBits: { bits: 4, method: "exact" } });
  try {
    const r = X.slice(0, 2);
    assert.deepEqual(await m.decisionFunction(r, { fhe: "execute", threads: 2 }), await m.decisionFunction(r));
  } finally {
    await m.close();
  }
});

/** Our LogisticRegression's weights as skl2onnx writes a LinearClassifier (coefficients [classes × features]). */
function linearAttrs(lr: LogisticRegression, K: number, labels: { ints: number[] } | string[], post: string, complement: boolean): NodeSpec["attrs"] {
  const cols = complement ? [0] : Array.from({ length: K }, (_, k) => k);
  let coef = cols.flatMap((k) => lr.coef.map((r) => r[k]!)), icpt = cols.map((k) => lr.intercept[k]!);
  // skl2onnx's binary form: the rows (−w, −b) and (w, b).
  if (complement) [coef, icpt] = [[...coef.map((v) => -v), ...coef], [...icpt.map((v) => -v), ...icpt]];
  return { coefficients: { floats: coef }, intercepts: { floats: icpt }, post_transform: post, ...(Array.isArray(labels) ? { classlabels_strings: labels } : { classlabels_ints: labels.ints }) };
}

test("skl2onnx binary classifier: Imputer (NaN) → Scaler → LinearClassifier (complement rows, LOGISTIC, string labels) → ZipMap: = onnxruntime; deployed client imputes; FHE = clear", async () => {
  const cancer = loadCsv("breast_cancer.csv");
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 5);
  const mean = Array.from({ length: 30 }, (_, j) => s.Xtrain.reduce((a, r) => a + r[j]!, 0) / s.Xtrain.length);
  const sd = Array.from({ length: 30 }, (_, j) => Math.sqrt(s.Xtrain.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / s.Xtrain.length));
  const std = (X: number[][]): number[][] => X.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
  const lr = new LogisticRegression().fit(std(s.Xtrain), s.ytrain);
  const labels = ["malignant", "benign"];
  const bytes = buildOnnx({
    features: 30, inputName: "float_input", outputs: [{ name: "output_label", type: "string" }, { name: "output_probability", type: "map" }, { name: "probability_tensor" }],
    nodes: [
      { op: "Imputer", domain: "ai.onnx.ml", inputs: ["float_input"], outputs: ["imputed"], attrs: { imputed_value_floats: { floats: mean }, replaced_value_float: NaN } },
      { op: "Scaler", domain: "ai.onnx.ml", inputs: ["imputed"], outputs: ["scaled"], attrs: { offset: { floats: mean }, scale: { floats: sd.map((v) => 1 / v) } } },
      { op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["scaled"], outputs: ["label", "probability_tensor"], attrs: linearAttrs(lr, 2, labels, "LOGISTIC", true) },
      { op: "Identity", inputs: ["label"], outputs: ["output_label"] },
      { op: "ZipMap", domain: "ai.onnx.ml", inputs: ["probability_tensor"], outputs: ["output_probability"], attrs: { classlabels_strings: labels } },
    ],
  });
  // Some missing values, replaced by the training means in the graph and by our client.
  const Xt = s.Xtest.map((r, i) => r.map((v, j) => (i % 4 === 0 && j % 7 === i % 7 ? NaN : v)));
  const ort = await runOrt(bytes, Xt, undefined, ["output_label", "probability_tensor"]);
  const m = asNet(importOnnx(bytes));
  assert.deepEqual(m.classes, labels);
  assert.deepEqual(m.predictFloat(Xt), ort.output_label);
  m.outputsFloat(Xt).forEach((r, i) => close(r[0]!, ort.probability_tensor![2 * i + 1]!, `row ${i}`));
  m.compile(s.Xtrain);
  try {
    const q = await m.predict(Xt);
    assert.ok(q.filter((v, i) => v === ort.output_label![i]).length >= Xt.length - 1, "quantized labels = onnxruntime's");
    assert.equal(m.lookupsPerRow, 0);
    const few = Xt.slice(0, 3);
    assert.deepEqual(await m.predict(few, { fhe: "execute", threads: 1 }), q.slice(0, 3));
    // The deployed client replaces NaN before encrypting, as the model does.
    const { client: c0, server } = m.deployment();
    const client = ModelClient.deserialize(c0.serialize());
    client.keygen();
    const remote = CircuitServer.deserialize(server.serialize());
    const { requests, rows: n } = client.encrypt(few);
    assert.deepEqual(client.predict(requests.map((r) => remote.run(r, undefined)), n), q.slice(0, 3));
  } finally {
    await m.close();
  }
});

test("skl2onnx multiclass tails on iris: one-vs-rest LOGISTIC + Normalizer L1, SOFTMAX + Normalizer, the double path (MatMul, Add, ArgMax, label lookup, Softmax), Cast of int64 labels", async () => {
  const iris = loadCsv("iris.csv");
  const lr = new LogisticRegression().fit(iris.X, iris.y);
  const classes = { ints: [10, 20, 30] };
  for (const post of ["LOGISTIC", "SOFTMAX"]) {
    const bytes = buildOnnx({
      features: 4, outputs: [{ name: "output_label", type: "int64" }, { name: "output_probability", type: "map" }, { name: "probabilities" }],
      nodes: [
        { op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "probability_tensor"], attrs: { ...linearAttrs(lr, 3, classes, post, false), multi_class: 1 } },
        { op: "Normalizer", domain: "ai.onnx.ml", inputs: ["probability_tensor"], outputs: ["probabilities"], attrs: { norm: "L1" } },
        { op: "Cast", inputs: ["label"], outputs: ["output_label"], attrs: { to: 7 } },
        { op: "ZipMap", domain: "ai.onnx.ml", inputs: ["probabilities"], outputs: ["output_probability"], attrs: { classlabels_int64s: classes.ints } },
      ],
    });
    const ort = await runOrt(bytes, iris.X, undefined, ["output_label", "probabilities"]);
    const m = asNet(importOnnx(bytes));
    assert.deepEqual(m.predictFloat(iris.X), ort.output_label, post);
    m.outputsFloat(iris.X).forEach((r, i) => r.forEach((p, k) => close(p, ort.probabilities![3 * i + k]!, `${post} row ${i} class ${k}`)));
    m.compile(iris.X);
    try {
      // The client's link gives the graph's probabilities.
      (await m.predictProba(iris.X.slice(0, 20))).forEach((r, i) => r.forEach((p, k) => assert.ok(Math.abs(p - ort.probabilities![3 * i + k]!) < 0.05, `${post} quantized proba row ${i}`)));
      assert.ok((await m.predict(iris.X)).filter((v, i) => v === ort.output_label![i]).length >= 147);
    } finally {
      await m.close();
    }
  }
  // skl2onnx's double path: scores by MatMul and Add, labels by ArgMax and a lookup in the class list.
  const coef = Array.from({ length: 4 * 3 }, (_, k) => lr.coef[Math.floor(k / 3)]![k % 3]!);
  const bytes = buildOnnx({
    features: 4, outputs: [{ name: "output_label", type: "int64" }, { name: "probabilities" }],
    initializers: { coef: { dims: [4, 3], data: coef, type: "double", raw: true }, intercept: { dims: [1, 3], data: lr.intercept, type: "double" }, classes: { dims: [3], data: classes.ints, type: "int64" } },
    nodes: [
      { op: "Cast", inputs: ["x"], outputs: ["xd"], attrs: { to: 11 } },
      { op: "MatMul", inputs: ["xd", "coef"], outputs: ["mm"] }, { op: "Add", inputs: ["mm", "intercept"], outputs: ["raw"] },
      { op: "ArgMax", inputs: ["raw"], outputs: ["idx"], attrs: { axis: 1, keepdims: 0 } },
      { op: "ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: ["classes", "idx"], outputs: ["output_label"] },
      { op: "Softmax", inputs: ["raw"], outputs: ["pd"], attrs: { axis: -1 } }, { op: "Cast", inputs: ["pd"], outputs: ["probabilities"], attrs: { to: 1 } },
    ],
  });
  const ort = await runOrt(bytes, iris.X);
  const m = asNet(importOnnx(bytes));
  assert.deepEqual(m.classes, classes.ints);
  assert.deepEqual(m.predictFloat(iris.X), ort.output_label);
});

test("skl2onnx LinearSVC-style binary: raw complement scores (NONE) and the positive column by ArrayFeatureExtractor = onnxruntime", async () => {
  const cancer = loadCsv("breast_cancer.csv");
  const lr = new LogisticRegression().fit(cancer.X, cancer.y);
  const bytes = buildOnnx({
    features: 30, outputs: [{ name: "label", type: "int64" }, { name: "probabilities" }], initializers: { pos: { dims: [], data: [1], type: "int64" } },
    nodes: [
      { op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "raw"], attrs: linearAttrs(lr, 2, { ints: [0, 1] }, "NONE", true) },
      { op: "ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: ["raw", "pos"], outputs: ["probabilities"] },
    ],
  });
  const ort = await runOrt(bytes, cancer.X);
  const m = asNet(importOnnx(bytes));
  assert.deepEqual(m.predictFloat(cancer.X), ort.label);
  // The labels' scores: [−s, s] as onnxruntime computes them; the graph's second output is s.
  m.outputsFloat(cancer.X).forEach((r, i) => close(r[1]!, ort.probabilities![i]!, `row ${i}`));
});

test("skl2onnx MLPClassifier (binary: Concat(1 − σ, σ); multiclass: Softmax) and MLPRegressor (Reshape to [−1, 1]) with tanh/logistic hidden layers, int32 class lists: = onnxruntime, quantized labels as float", async () => {
  const mlp = (classes: number, hidden: string, out: string): Uint8Array => {
    const outs = classes <= 2 ? 1 : classes;
    const nodes: NodeSpec[] = [
      { op: "Cast", inputs: ["x"], outputs: ["xc"], attrs: { to: 1 } },
      { op: "MatMul", inputs: ["xc", "c0"], outputs: ["m0"] }, { op: "Add", inputs: ["m0", "i0"], outputs: ["a0"] }, { op: hidden, inputs: ["a0"], outputs: ["h0"] },
      { op: "MatMul", inputs: ["h0", "c1"], outputs: ["m1"] }, { op: "Add", inputs: ["m1", "i1"], outputs: ["a1"] }, { op: out, inputs: ["a1"], outputs: ["y"] },
    ];
    const initializers: Record<string, TensorSpec> = {
      c0: { dims: [F, H], data: weights(F * H, 61) }, i0: { dims: [1, H], data: weights(H, 62) },
      c1: { dims: [H, outs], data: weights(H * outs, 63) }, i1: { dims: [1, outs], data: weights(outs, 64) },
      classes: { dims: [classes], data: Array.from({ length: classes }, (_, k) => 7 * k + 1), type: "int32" },
    };
    if (classes === 0) {
      nodes.push({ op: "Reshape", inputs: ["y", "shape"], outputs: ["variable"] });
      initializers.shape = { dims: [2], data: [-1, 1], type: "int64" };
      return buildOnnx({ features: F, nodes, initializers: Object.fromEntries(Object.entries(initializers).filter(([k]) => k !== "classes")), outputs: [{ name: "variable" }] });
    }
    if (classes === 2) {
      nodes.push({ op: "Sub", inputs: ["unity", "y"], outputs: ["neg"] }, { op: "Concat", inputs: ["neg", "y"], outputs: ["probabilities"], attrs: { axis: 1 } });
      initializers.unity = { dims: [], data: [1] };
    } else nodes.push({ op: "Identity", inputs: ["y"], outputs: ["probabilities"] });
    nodes.push(
      { op: "ArgMax", inputs: ["probabilities"], outputs: ["idx"], attrs: { axis: 1 } },
      { op: "ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: ["classes", "idx"], outputs: ["lab"] },
      { op: "Reshape", inputs: ["lab", "flat"], outputs: ["lab1"] }, { op: "Cast", inputs: ["lab1"], outputs: ["label"], attrs: { to: 7 } },
    );
    initializers.flat = { dims: [1], data: [-1], type: "int64" };
    return buildOnnx({ features: F, nodes, initializers, outputs: [{ name: "label", type: "int64" }, { name: "probabilities" }] });
  };
  for (const [classes, hidden, out] of [[2, "Tanh", "Sigmoid"], [3, "Sigmoid", "Softmax"]] as const) {
    const bytes = mlp(classes, hidden, out);
    const ort = await runOrt(bytes, X);
    const m = asNet(importOnnx(bytes));
    assert.deepEqual(m.classes, Array.from({ length: classes }, (_, k) => 7 * k + 1));
    assert.deepEqual(m.predictFloat(X), ort.label, `${classes} classes`);
    const P = m.outputsFloat(X);
    P.forEach((r, i) => (classes === 2 ? [1 - r[0]!, r[0]!] : r).forEach((p, k) => close(p, ort.probabilities![classes * i + k]!, `${classes} classes row ${i}`)));
    m.compile(X, { nBits: { activations: 6 }, roundingThresholdBits: 7 });
    try {
      assert.equal(m.lookupsPerRow, H);
      const q = await m.predict(X);
      assert.ok(q.filter((v, i) => v === ort.label![i]).length >= 74, `${classes} classes: quantized labels = onnxruntime's on ${q.filter((v, i) => v === ort.label![i]).length}/80`);
    } finally {
      await m.close();
    }
  }
  const reg = mlp(0, "Relu", "Identity");
  const o = (await runOrt(reg, X)).variable!;
  const r = asNet(importOnnx(reg));
  assert.equal(r.task, "regressor");
  (r.predictFloat(X) as number[]).forEach((v, i) => close(v, o[i]!, `regressor row ${i}`));
});

test("skl2onnx tree pipeline: Imputer → Cast → TreeEnsembleClassifier → ZipMap and Cast of the label = onnxruntime (NaN imputed); what cannot surround the trees is refused", async () => {
  // A random-forest-like pair of stumps on 3 classes: leaf weights are class probabilities / 2, summed (post NONE);
  // no two classes tie on any pair of leaves, so 4-bit leaves keep every label.
  const leaf = (tree: number, node: number, p: number[]) => p.map((w, k) => ({ tree, node, k, w: w / 2 }));
  const leaves = [...leaf(0, 1, [0.9, 0.1, 0]), ...leaf(0, 2, [0.1, 0.3, 0.6]), ...leaf(1, 1, [0.5, 0.5, 0]), ...leaf(1, 2, [0, 0.4, 0.6])];
  const trees = {
    nodes_treeids: { ints: [0, 0, 0, 1, 1, 1] }, nodes_nodeids: { ints: [0, 1, 2, 0, 1, 2] }, nodes_featureids: { ints: [0, 0, 0, 2, 0, 0] },
    nodes_modes: ["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"], nodes_values: { floats: [0.25, 0, 0, -0.5, 0, 0] },
    nodes_truenodeids: { ints: [1, 0, 0, 1, 0, 0] }, nodes_falsenodeids: { ints: [2, 0, 0, 2, 0, 0] },
    class_treeids: { ints: leaves.map((l) => l.tree) }, class_nodeids: { ints: leaves.map((l) => l.node) }, class_ids: { ints: leaves.map((l) => l.k) },
    class_weights: { floats: leaves.map((l) => l.w) }, classlabels_int64s: { ints: [3, 5, 9] }, post_transform: "NONE",
  };
  const nodes = (front: NodeSpec[]): NodeSpec[] => [
    ...front,
    { op: "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: ["xf"], outputs: ["label", "probabilities"], attrs: trees },
    { op: "Cast", inputs: ["label"], outputs: ["output_label"], attrs: { to: 7 } },
    { op: "ZipMap", domain: "ai.onnx.ml", inputs: ["probabilities"], outputs: ["output_probability"], attrs: { classlabels_int64s: { ints: [3, 5, 9] } } },
  ];
  const imputer: NodeSpec = { op: "Imputer", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["xi"], attrs: { imputed_value_floats: { floats: [0.3, 0, -1, 0, 0] }, replaced_value_float: NaN } };
  const bytes = buildOnnx({
    features: F, outputs: [{ name: "output_label", type: "int64" }, { name: "output_probability", type: "map" }, { name: "probabilities" }],
    nodes: nodes([imputer, { op: "Cast", inputs: ["xi"], outputs: ["xf"], attrs: { to: 1 } }]),
  });
  const Xn = X.map((r, i) => r.map((v, j) => (i % 5 === 0 && (j === 0 || j === 2) ? NaN : v)));
  const ort = await runOrt(bytes, Xn, undefined, ["output_label", "probabilities"]);
  const m = importOnnx(bytes);
  assert.ok(!(m instanceof OnnxModel), "a tree import");
  assert.deepEqual(m.predictFloat(Xn), ort.output_label);
  m.compile();
  try {
    const q = await m.predict(Xn);
    assert.deepEqual(q, ort.output_label, "quantized leaves: labels as onnxruntime's");
    assert.deepEqual(await m.predict(Xn, { fhe: "simulate" }), q);
  } finally {
    await m.close();
  }
  const scaled = buildOnnx({
    features: F, outputs: [{ name: "output_label", type: "int64" }],
    nodes: nodes([{ op: "Scaler", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["xf"], name: "scale1", attrs: { scale: { floats: [2] } } }]),
  });
  assert.throws(() => importOnnx(scaled), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node scale1 \(Scaler\): before a tree ensemble, only an Imputer, Identity or Cast/.test(e.message));
});
