// Every supported ONNX operator against onnxruntime-node: the PyTorch fixture, small graphs built here (one
// per operator of the ai.onnx domain), and ai.onnx.ml models made from our own trained linear models and
// from the XGBoost fixtures (converted to TreeEnsembleClassifier/Regressor). Float evaluation against
// onnxruntime, then the quantized model in the clear against the float one, and FHE where it is cheap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  importOnnx, LinearRegression, LogisticRegression, MlInputError, MlUnsupportedError, OnnxTreeModel,
} from "../../src/ml/index.js";
import { asNet, type Attr, buildOnnx, type GraphSpec, type NodeSpec, rows, runOrt, weights } from "./onnx-build.js";
import { fixturePath, loadCsv, readJson, trainTestSplit } from "./helpers.js";

/** |a − b| within float32 rounding of values of this size. */
function close(a: number, b: number, what: string, tol = 1e-4): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs onnxruntime ${b}`);
}

const asTrees = (m: ReturnType<typeof importOnnx>): OnnxTreeModel => {
  assert.ok(m instanceof OnnxTreeModel, "a tree-ensemble import");
  return m;
};


test("mlp_breast_cancer.onnx: the import's float logits equal onnxruntime's on the 143 held-out rows", async () => {
  const bytes = new Uint8Array(readFileSync(fixturePath("mlp_breast_cancer.onnx")));
  const exp = readJson<{ X: number[][]; predictions: number[] }>("mlp_breast_cancer.expected.json");
  const ort = (await runOrt(bytes, exp.X)).logits!;
  const m = asNet(importOnnx(bytes));
  m.outputsFloat(exp.X).forEach((r, i) => r.forEach((v, k) => close(v, ort[2 * i + k]!, `row ${i} logit ${k}`)));
  assert.deepEqual(m.predictFloat(exp.X), exp.predictions);
});

// One graph per operator of the ai.onnx domain, each around a first layer (MatMul or Gemm) so that it has
// weights to fold into; "hidden" marks graphs with an activation between two layers.
const F = 5, H = 6;
const base = {
  W1: { dims: [F, H], data: weights(F * H, 11) }, b1: { dims: [H], data: weights(H, 12) },
  W2: { dims: [H, 3], data: weights(H * 3, 13) }, b2: { dims: [1, 3], data: weights(3, 14) },
  W2t: { dims: [3, H], data: weights(H * 3, 15) },
  c: { dims: [F], data: weights(F, 16).map((v) => v + 3) }, one: { dims: [], data: [0.5] }, shape: { dims: [2], data: [-1, H] },
};
const hidden = (act: string): NodeSpec[] => [
  { op: "MatMul", inputs: ["x", "W1"], outputs: ["h"] }, { op: "Add", inputs: ["h", "b1"], outputs: ["hb"] },
  { op: act, inputs: ["hb"], outputs: ["a"] }, { op: "Gemm", inputs: ["a", "W2", "b2"], outputs: ["y"] },
];
const GRAPHS: Record<string, { nodes: NodeSpec[]; compiles: boolean; hidden?: boolean }> = {
  Gemm: { nodes: [{ op: "Gemm", inputs: ["x", "W1", "b1"], outputs: ["h"], attrs: { alpha: 0.75, beta: 1.5 } }, { op: "Relu", inputs: ["h"], outputs: ["a"] }, { op: "Gemm", inputs: ["a", "W2t", "b2"], outputs: ["y"], attrs: { transB: 1 } }], compiles: true, hidden: true },
  MatMul: { nodes: [{ op: "MatMul", inputs: ["x", "W1"], outputs: ["y"] }], compiles: true },
  Add: { nodes: [{ op: "Add", inputs: ["x", "c"], outputs: ["s"] }, { op: "MatMul", inputs: ["s", "W1"], outputs: ["h"] }, { op: "Add", inputs: ["b1", "h"], outputs: ["y"] }], compiles: true },
  Sub: { nodes: [{ op: "Sub", inputs: ["x", "c"], outputs: ["s"] }, { op: "Sub", inputs: ["one", "s"], outputs: ["t"] }, { op: "MatMul", inputs: ["t", "W1"], outputs: ["y"] }], compiles: true },
  Mul: { nodes: [{ op: "Mul", inputs: ["x", "c"], outputs: ["s"] }, { op: "Mul", inputs: ["one", "s"], outputs: ["t"] }, { op: "MatMul", inputs: ["t", "W1"], outputs: ["y"] }], compiles: true },
  Div: { nodes: [{ op: "Div", inputs: ["x", "c"], outputs: ["s"] }, { op: "MatMul", inputs: ["s", "W1"], outputs: ["y"] }], compiles: true },
  Relu: { nodes: hidden("Relu"), compiles: true, hidden: true },
  Sigmoid: { nodes: hidden("Sigmoid"), compiles: true, hidden: true },
  Tanh: { nodes: hidden("Tanh"), compiles: true, hidden: true },
  Softmax: { nodes: [{ op: "MatMul", inputs: ["x", "W1"], outputs: ["h"] }, { op: "Softmax", inputs: ["h"], outputs: ["y"], attrs: { axis: 1 } }], compiles: true },
  Flatten: { nodes: [{ op: "Flatten", inputs: ["x"], outputs: ["f"], attrs: { axis: 1 } }, { op: "MatMul", inputs: ["f", "W1"], outputs: ["y"] }], compiles: true },
  Reshape: { nodes: [{ op: "MatMul", inputs: ["x", "W1"], outputs: ["h"] }, { op: "Reshape", inputs: ["h", "shape"], outputs: ["y"] }], compiles: true },
  Identity: { nodes: [{ op: "Identity", inputs: ["x"], outputs: ["i"] }, { op: "MatMul", inputs: ["i", "W1"], outputs: ["h"] }, { op: "Relu", inputs: ["h"], outputs: ["r"] }, { op: "Identity", inputs: ["r"], outputs: ["s"] }, { op: "Gemm", inputs: ["s", "W2", "b2"], outputs: ["y"] }], compiles: true, hidden: true },
};

function graphOf(nodes: NodeSpec[]): Uint8Array {
  const used = new Set(nodes.flatMap((n) => n.inputs));
  // Reshape's shape is an int64 tensor.
  const initializers = Object.fromEntries(Object.entries(base).filter(([k]) => used.has(k)).map(([k, t]) => [k, k === "shape" ? { ...t, type: "int64" as const } : t]));
  const spec: GraphSpec = { features: F, nodes, initializers, outputs: [{ name: "y" }] };
  return buildOnnx(spec);
}

// Calibration rows and the rows compared (post-training quantization clips what lies beyond the calibration
// ranges, so the comparison stays inside them: see the errors test for clipping).
const X = rows(80, F, 7);
const calib = X, held = X.slice(0, 40);

for (const [op, g] of Object.entries(GRAPHS)) {
  test(`ONNX ${op}: float evaluation equals onnxruntime's; ${g.compiles ? "quantized clear close to float" : "compile refuses it clearly"}`, async () => {
    const bytes = graphOf(g.nodes);
    const ort = (await runOrt(bytes, X)).y!;
    const m = asNet(importOnnx(bytes, { task: op === "Softmax" ? "classifier" : "regressor" }));
    const out = m.outputsFloat(X), K = out[0]!.length;
    assert.equal(ort.length, X.length * K);
    out.forEach((r, i) => r.forEach((v, k) => close(v, ort[i * K + k]!, `${op} row ${i} output ${k}`)));
    if (!g.compiles) {
      assert.throws(() => m.compile(calib), (e: unknown) => e instanceof MlUnsupportedError && /ONNX/.test(e.message));
      return;
    }
    // Random weights on uncorrelated inputs use little of a hidden unit's sound range: finer codes and
    // lookups than the defaults (clear only here; the defaults are measured on the PyTorch fixture).
    m.compile(calib, g.hidden === true ? { nBits: { activations: 6 }, roundingThresholdBits: 7 } : {});
    try {
      if (op === "Softmax") {
        const p = await m.predict(held), f = m.predictFloat(held);
        assert.ok(p.filter((v, i) => v === f[i]).length >= 18, `${op}: quantized labels ${p} vs float ${f}`);
        return;
      }
      // Regression outputs: the quantized values within a few percent of the outputs' spread.
      const q = await m.predict(held) as number[], f = m.predictFloat(held) as number[];
      const spread = Math.max(...f) - Math.min(...f);
      const err = Math.max(...q.map((v, i) => Math.abs(v - f[i]!)));
      assert.ok(err <= (g.hidden === true ? 0.04 : 0.01) * spread, `${op}: largest quantized error ${err} on a spread of ${spread}`);
    } finally {
      await m.close();
    }
  });
}

test("ONNX errors: an unsupported operator or domain names the operator and the node; onnxruntime runs the same graph", async () => {
  const conv = graphOf([{ op: "MatMul", inputs: ["x", "W1"], outputs: ["h"] }, { op: "Hardmax", inputs: ["h"], outputs: ["y"], name: "act7" }]);
  assert.equal((await runOrt(conv, X.slice(0, 2))).y!.length, 2 * H, "a valid graph for onnxruntime");
  assert.throws(() => importOnnx(conv), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node act7 \(Hardmax\): operator not supported/.test(e.message));
  const svm = buildOnnx({ features: F, nodes: [{ op: "SVMClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], name: "svm1" }], outputs: [{ name: "y" }] });
  assert.throws(() => importOnnx(svm), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node svm1 \(SVMClassifier\): operator of the ai\.onnx\.ml domain not supported/.test(e.message));
  const norm = buildOnnx({ features: F, nodes: [{ op: "Normalizer", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], name: "norm1", attrs: { norm: "L2" } }], outputs: [{ name: "y" }] });
  assert.throws(() => importOnnx(norm), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node norm1 \(Normalizer\): norm L2 of a value that is not a classifier's probabilities/.test(e.message));
});

test("ai.onnx.ml Scaler + LinearRegressor from our LinearRegression on diabetes: = onnxruntime in float, quantized close, FHE = clear (no lookups)", async () => {
  const d = loadCsv("diabetes.csv");
  const { Xtrain, ytrain, Xtest } = trainTestSplit(d.X, d.y, 0.2, 3);
  const lr = new LinearRegression().fit(Xtrain, ytrain);
  const coef = lr.coef.map((r) => r[0]!), offset = Array.from({ length: 10 }, (_, j) => j / 100), scale = Array.from({ length: 10 }, (_, j) => 1 + j / 10);
  const bytes = buildOnnx({
    features: 10, outputs: [{ name: "y" }],
    nodes: [
      { op: "Scaler", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["s"], attrs: { offset: { floats: offset }, scale: { floats: scale } } },
      // Undo the scaling in the coefficients and intercept, so the graph is our model again.
      { op: "LinearRegressor", domain: "ai.onnx.ml", inputs: ["s"], outputs: ["y"], attrs: { coefficients: { floats: coef.map((c, j) => c / scale[j]!) }, intercepts: { floats: [lr.intercept[0]! + coef.reduce((a, c, j) => a + c * offset[j]!, 0)] } } },
    ],
  });
  const ort = (await runOrt(bytes, Xtest)).y!;
  const m = asNet(importOnnx(bytes));
  assert.equal(m.task, "regressor");
  const f = m.predictFloat(Xtest) as number[];
  f.forEach((v, i) => close(v, ort[i]!, `row ${i}`));
  const mine = lr.predictFloat(Xtest);
  f.forEach((v, i) => close(v, mine[i]!, `our LinearRegression row ${i}`, 1e-4));
  m.compile(Xtrain);
  try {
    const q = await m.predict(Xtest) as number[];
    const spread = Math.max(...f) - Math.min(...f);
    assert.ok(Math.max(...q.map((v, i) => Math.abs(v - f[i]!))) <= 0.03 * spread);
    assert.equal(m.lookupsPerRow, 0);
    assert.deepEqual(await m.predict(Xtest.slice(0, 3), { fhe: "execute", threads: 1 }), q.slice(0, 3));
  } finally {
    await m.close();
  }
});

test("ai.onnx.ml LinearClassifier from our LogisticRegression: multinomial on iris (SOFTMAX) and binary on breast_cancer (one row, LOGISTIC) = onnxruntime", async () => {
  const iris = loadCsv("iris.csv");
  const lr = new LogisticRegression().fit(iris.X, iris.y);
  const K = 3, coef = Array.from({ length: K }, (_, k) => lr.coef.map((r) => r[k]!)).flat();
  const labels = [10, 20, 30];
  const multi = buildOnnx({
    features: 4, outputs: [{ name: "label", type: "int64" }, { name: "proba" }],
    nodes: [{ op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "proba"], name: "lin", attrs: { coefficients: { floats: coef }, intercepts: { floats: lr.intercept }, classlabels_ints: labels, multi_class: 1, post_transform: "SOFTMAX" } }],
  });
  const ort = await runOrt(multi, iris.X);
  const m = asNet(importOnnx(multi));
  assert.deepEqual(m.classes, labels);
  assert.deepEqual(m.predictFloat(iris.X), ort.label);
  m.outputsFloat(iris.X).forEach((r, i) => r.forEach((p, k) => close(p, ort.proba![i * K + k]!, `iris row ${i} class ${k}`)));
  m.compile(iris.X);
  try {
    const q = await m.predict(iris.X);
    const agree = q.filter((v, i) => v === ort.label![i]).length;
    assert.ok(agree >= 147, `quantized labels = onnxruntime's on ${agree}/150 of iris`);
    assert.deepEqual(await m.predict(iris.X.slice(0, 4), { fhe: "execute", threads: 1 }), q.slice(0, 4));
  } finally {
    await m.close();
  }

  const cancer = loadCsv("breast_cancer.csv");
  const bin = new LogisticRegression().fit(cancer.X, cancer.y);
  const bytes = buildOnnx({
    features: 30, outputs: [{ name: "label", type: "int64" }, { name: "proba" }],
    nodes: [{ op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "proba"], attrs: { coefficients: { floats: bin.coef.map((r) => r[0]!) }, intercepts: { floats: bin.intercept }, classlabels_ints: [0, 1], post_transform: "LOGISTIC" } }],
  });
  const o2 = await runOrt(bytes, cancer.X);
  const b = asNet(importOnnx(bytes));
  assert.deepEqual(b.predictFloat(cancer.X), o2.label);
  // onnxruntime's binary scores are [1 − σ(s), σ(s)]; ours is σ(s).
  b.outputsFloat(cancer.X).forEach((r, i) => close(r[0]!, o2.proba![2 * i + 1]!, `cancer row ${i}`));
  assert.deepEqual(bin.predictFloat(cancer.X), o2.label, "the graph is our model");
});

interface XgbTree { left_children: number[]; right_children: number[]; split_indices: number[]; split_conditions: number[]; default_left: number[] }
interface XgbJson { learner: { objective: { name: string }; learner_model_param: { base_score: string; num_class: string }; gradient_booster: { model: { tree_info: number[]; trees: XgbTree[] } } } }

/** An XGBoost JSON model as ai.onnx.ml tree-ensemble attributes (the split x < t in one of four equivalent modes). */
function treeAttrs(json: XgbJson, modes: "LT" | "mixed", prefix: "class" | "target"): Record<string, Attr> {
  const { trees, tree_info } = json.learner.gradient_booster.model;
  const a = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[], modes: [] as string[], values: [] as number[], trues: [] as number[], falses: [] as number[], tracks: [] as number[] };
  const leaves = { treeids: [] as number[], nodeids: [] as number[], ids: [] as number[], weights: [] as number[] };
  const prev32 = (v: number): number => {
    const f = new Float32Array([v]), u = new Uint32Array(f.buffer);
    u[0]! += v > 0 ? -1 : 1;
    return f[0]!;
  };
  let k = 0;
  trees.forEach((t, tid) => {
    t.left_children.forEach((l, i) => {
      a.treeids.push(tid); a.nodeids.push(i); a.featureids.push(l === -1 ? 0 : t.split_indices[i]!);
      if (l === -1) {
        a.modes.push("LEAF"); a.values.push(0); a.trues.push(0); a.falses.push(0); a.tracks.push(0);
        leaves.treeids.push(tid); leaves.nodeids.push(i); leaves.ids.push(tree_info[tid]!); leaves.weights.push(t.split_conditions[i]!);
        return;
      }
      const thr = Math.fround(t.split_conditions[i]!), m = modes === "LT" ? 0 : k++ % 4;
      // x < t  ⇔  x ≤ prev(t)  ⇔  ¬(x ≥ t)  ⇔  ¬(x > prev(t)), for float32 x.
      const [mode, v, swap] = ([["BRANCH_LT", thr, false], ["BRANCH_LEQ", prev32(thr), false], ["BRANCH_GTE", thr, true], ["BRANCH_GT", prev32(thr), true]] as const)[m]!;
      a.modes.push(mode); a.values.push(v);
      a.trues.push(swap ? t.right_children[i]! : l); a.falses.push(swap ? l : t.right_children[i]!);
      // XGBoost's default direction is left; left is the true branch unless swapped.
      a.tracks.push(Number(t.default_left[i] === 1) ^ Number(swap));
    });
  });
  return {
    nodes_treeids: { ints: a.treeids }, nodes_nodeids: { ints: a.nodeids }, nodes_featureids: { ints: a.featureids }, nodes_modes: a.modes,
    nodes_values: { floats: a.values }, nodes_truenodeids: { ints: a.trues }, nodes_falsenodeids: { ints: a.falses },
    nodes_missing_value_tracks_true: { ints: a.tracks },
    [`${prefix}_treeids`]: { ints: leaves.treeids }, [`${prefix}_nodeids`]: { ints: leaves.nodeids }, [`${prefix}_ids`]: { ints: leaves.ids },
    [`${prefix}_weights`]: { floats: leaves.weights },
  };
}

test("ai.onnx.ml TreeEnsembleClassifier from the XGBoost fixtures (iris: SOFTMAX, 3 classes; breast_cancer: binary LOGISTIC): = onnxruntime and XGBoost, quantized and simulated", async () => {
  for (const [name, K] of [["xgb_iris", 3], ["xgb_breast_cancer", 1]] as const) {
    const json = readJson<XgbJson>(`${name}.json`), exp = readJson<{ X: number[][]; predictions: number[]; proba: number[][] }>(`${name}.expected.json`);
    const b0 = Number(json.learner.learner_model_param.base_score);
    const baseValue = K === 1 ? Math.log(b0 / (1 - b0)) : b0;
    const bytes = buildOnnx({
      features: exp.X[0]!.length, outputs: [{ name: "label", type: "int64" }, { name: "proba" }],
      nodes: [{
        op: "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "proba"],
        attrs: { ...treeAttrs(json, "mixed", "class"), classlabels_int64s: { ints: K === 1 ? [0, 1] : [0, 1, 2] }, post_transform: K === 1 ? "LOGISTIC" : "SOFTMAX", base_values: { floats: new Array<number>(K).fill(baseValue) } },
      }],
    });
    const ort = await runOrt(bytes, exp.X);
    assert.deepEqual(ort.label, exp.predictions, `${name}: onnxruntime = XGBoost on the converted model`);
    const m = asTrees(importOnnx(bytes)).compile();
    assert.deepEqual(m.predictFloat(exp.X), ort.label);
    const C = K === 1 ? 2 : K;
    (await m.predictProba(exp.X.slice(0, 20), { fhe: "disable" })).forEach((r, i) => r.forEach((p, k) => assert.ok(Math.abs(p - ort.proba![i * C + k]!) < 0.06, `${name} row ${i}: quantized proba ${p} vs ${ort.proba![i * C + k]}`)));
    try {
      const q = await m.predict(exp.X);
      assert.ok(q.filter((v, i) => v === ort.label![i]).length >= Math.ceil(0.99 * exp.X.length), `${name}: quantized agreement`);
      assert.deepEqual(await m.predict(exp.X, { fhe: "simulate" }), q);
    } finally {
      await m.close();
    }
  }
});

test("ai.onnx.ml TreeEnsembleRegressor (all four branch modes, base value, AVERAGE): = onnxruntime in float, NaN the way onnxruntime sends it, simulate = clear", async () => {
  const json = readJson<XgbJson>("xgb_breast_cancer.json"), exp = readJson<{ X: number[][] }>("xgb_breast_cancer.expected.json");
  for (const aggregate of ["SUM", "AVERAGE"]) {
    const bytes = buildOnnx({
      features: 30, outputs: [{ name: "y" }],
      nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs: { ...treeAttrs(json, "mixed", "target"), n_targets: 1, base_values: { floats: [0.25] }, aggregate_function: aggregate } }],
    });
    // Every node of this model sends NaN the same way per feature, so missing values are followed.
    const rowsNaN = exp.X.slice(0, 30).map((r, i) => r.map((v, j) => (i % 3 === 0 && j === 22 ? NaN : v)));
    const ort = (await runOrt(bytes, rowsNaN)).y!;
    const m = asTrees(importOnnx(bytes));
    (m.predictFloat(rowsNaN) as number[]).forEach((v, i) => close(v, ort[i]!, `${aggregate} row ${i}`, 1e-5));
    if (aggregate === "AVERAGE") continue;
    m.compile();
    try {
      // Leaves quantized to 4 bits: within a few steps of the float sum (FHE runs trees in xgboost.test).
      const q = await m.predict(rowsNaN) as number[];
      q.forEach((v, i) => assert.ok(Math.abs(v - ort[i]!) < 0.5, `quantized leaves: ${v} vs ${ort[i]}`));
      assert.deepEqual(await m.predict(rowsNaN, { fhe: "simulate" }), q);
    } finally {
      await m.close();
    }
  }
});

test("ai.onnx.ml tree ensembles: what cannot be represented is refused, naming the node", () => {
  const json = readJson<XgbJson>("xgb_breast_cancer.json");
  const attrs = treeAttrs(json, "LT", "target");
  const build = (a: Record<string, Attr>): Uint8Array => buildOnnx({ features: 30, outputs: [{ name: "y" }], nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", name: "trees", inputs: ["x"], outputs: ["y"], attrs: a }] });
  const eq = { ...attrs, nodes_modes: (attrs.nodes_modes as string[]).map((m, i) => (i === 0 ? "BRANCH_EQ" : m)) };
  assert.throws(() => importOnnx(build(eq)), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node trees \(TreeEnsembleRegressor\): node 0 of tree 0: mode BRANCH_EQ is not supported/.test(e.message));
  assert.throws(() => importOnnx(build({ ...attrs, aggregate_function: "MAX" })), (e: unknown) => e instanceof MlUnsupportedError && /aggregate_function MAX/.test(e.message));
  // Mixed NaN directions on one feature: importable, a NaN there is refused at prediction.
  const tracks = (attrs.nodes_missing_value_tracks_true as { ints: number[] }).ints.map((t, i) => (i === 0 ? 1 - t : t));
  const mixed = asTrees(importOnnx(build({ ...attrs, nodes_missing_value_tracks_true: { ints: tracks } })));
  const f0 = (attrs.nodes_featureids as { ints: number[] }).ints[0]!;
  assert.throws(() => mixed.predictFloat([Array.from({ length: 30 }, (_, j) => (j === f0 ? NaN : 1))]), MlInputError);
});
