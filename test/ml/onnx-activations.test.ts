// Element-wise functions in imported ONNX networks: every univariate operator of the table (and the GELU,
// SiLU and hard-swish patterns that exporters write as several nodes) between two layers, against
// onnxruntime-node in float; then the quantized network, whose lookups apply the composed function, close to
// the float one, one lookup per hidden unit, simulate = clear; and FHE at real parameters on a row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importOnnx, MlUnsupportedError } from "../../src/ml/index.js";
import { asNet, buildOnnx, type NodeSpec, rows, runOrt, type TensorSpec, weights } from "./onnx-build.js";



/** Equal within float32 rounding (NaN equals NaN, as onnxruntime returns it outside a function's domain). */
function close(a: number, b: number, what: string, tol = 1e-4): void {
  if (Number.isNaN(b)) return assert.ok(Number.isNaN(a), `${what}: ${a} vs onnxruntime NaN`);
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs onnxruntime ${b}`);
}

const F = 5, H = 6;
const consts: Record<string, TensorSpec> = {
  W1: { dims: [F, H], data: weights(F * H, 21) }, b1: { dims: [H], data: weights(H, 22) },
  W2: { dims: [H, 3], data: weights(H * 3, 23) }, b2: { dims: [3], data: weights(3, 24) },
  slope: { dims: [H], data: weights(H, 25).map((v) => v / 4) }, lo: { dims: [], data: [-0.5] }, hi: { dims: [], data: [1.5] },
  zero: { dims: [], data: [0] }, six: { dims: [], data: [6] }, one: { dims: [], data: [1] }, half: { dims: [], data: [0.5] },
  sqrt2: { dims: [], data: [Math.SQRT2] }, two: { dims: [], data: [2] },
};

/** x·W1 + b1 → the activation (nodes reading "hb", writing "a") → a·W2 + b2. */
function net(act: NodeSpec[], opset = 13): Uint8Array {
  const nodes: NodeSpec[] = [
    { op: "MatMul", inputs: ["x", "W1"], outputs: ["h"] }, { op: "Add", inputs: ["h", "b1"], outputs: ["hb"] },
    ...act, { op: "Gemm", inputs: ["a", "W2", "b2"], outputs: ["y"] },
  ];
  const used = new Set(nodes.flatMap((n) => n.inputs));
  return buildOnnx({ features: F, nodes, opset, initializers: Object.fromEntries(Object.entries(consts).filter(([k]) => used.has(k))), outputs: [{ name: "y" }] });
}
const one = (op: string, attrs?: NodeSpec["attrs"], extra: string[] = []): NodeSpec[] => [{ op, inputs: ["hb", ...extra], outputs: ["a"], ...(attrs === undefined ? {} : { attrs }) }];

// tol: the largest quantized error allowed, as a fraction of an output's spread; steep functions (Exp at the
// top of its range, √ near 0) lose more to the rounding of their input.
const CASES: Record<string, { nodes: NodeSpec[]; opset?: number; tol?: number }> = {
  LeakyRelu: { nodes: one("LeakyRelu", { alpha: 0.1 }) },
  PRelu: { nodes: one("PRelu", undefined, ["slope"]) },
  Elu: { nodes: one("Elu", { alpha: 0.7 }) },
  Selu: { nodes: one("Selu") },
  Celu: { nodes: one("Celu", { alpha: 1.3 }) },
  ThresholdedRelu: { nodes: one("ThresholdedRelu", { alpha: 0.4 }) },
  HardSigmoid: { nodes: one("HardSigmoid", { alpha: 0.3, beta: 0.4 }) },
  HardSwish: { nodes: one("HardSwish"), opset: 14 },
  Softplus: { nodes: one("Softplus") },
  Softsign: { nodes: one("Softsign") },
  Mish: { nodes: one("Mish"), opset: 18 },
  Sigmoid: { nodes: one("Sigmoid") },
  Tanh: { nodes: one("Tanh") },
  Abs: { nodes: one("Abs") },
  Neg: { nodes: one("Neg") },
  Exp: { nodes: one("Exp"), tol: 0.1 },
  Erf: { nodes: one("Erf") },
  "Clip (opset 13: bounds as inputs)": { nodes: one("Clip", undefined, ["lo", "hi"]) },
  "Clip (opset 10: bounds as attributes)": { nodes: one("Clip", { min: -0.5, max: 1.5 }), opset: 10 },
  "Relu6 (Clip 0, 6)": { nodes: one("Clip", undefined, ["zero", "six"]) },
  "Gelu (opset 20)": { nodes: one("Gelu"), opset: 20 },
  "Gelu tanh (opset 20)": { nodes: one("Gelu", { approximate: "tanh" }), opset: 20 },
  "GELU as PyTorch exports it: x·0.5·(1 + Erf(x/√2))": {
    nodes: [
      { op: "Div", inputs: ["hb", "sqrt2"], outputs: ["d"] }, { op: "Erf", inputs: ["d"], outputs: ["e"] },
      { op: "Add", inputs: ["e", "one"], outputs: ["e1"] }, { op: "Mul", inputs: ["hb", "e1"], outputs: ["m"] }, { op: "Mul", inputs: ["m", "half"], outputs: ["a"] },
    ],
  },
  "SiLU: x·Sigmoid(x)": { nodes: [{ op: "Sigmoid", inputs: ["hb"], outputs: ["s"] }, { op: "Mul", inputs: ["hb", "s"], outputs: ["a"] }] },
  "hard swish: x·HardSigmoid(x)": { nodes: [{ op: "HardSigmoid", inputs: ["hb"], outputs: ["s"], attrs: { alpha: 1 / 6, beta: 0.5 } }, { op: "Mul", inputs: ["s", "hb"], outputs: ["a"] }] },
  "Sqrt(Abs(x))": { nodes: [{ op: "Abs", inputs: ["hb"], outputs: ["s"] }, { op: "Sqrt", inputs: ["s"], outputs: ["a"] }], tol: 0.2 },
  "Log(Softplus(x))": { nodes: [{ op: "Softplus", inputs: ["hb"], outputs: ["s"] }, { op: "Log", inputs: ["s"], outputs: ["a"] }], tol: 0.12 },
  "Pow(x, 2)": { nodes: one("Pow", undefined, ["two"]) },
  "Max(x, 0)": { nodes: one("Max", undefined, ["zero"]) },
  "Relu then Neg then Tanh (one lookup)": { nodes: [{ op: "Relu", inputs: ["hb"], outputs: ["r"] }, { op: "Neg", inputs: ["r"], outputs: ["n"] }, { op: "Tanh", inputs: ["n"], outputs: ["a"] }], tol: 0.08 },
};

const X = rows(80, F, 9);

test("ONNX element-wise operators between layers: float = onnxruntime; quantized close to float with one lookup per unit; simulate = clear", async () => {
  for (const [name, c] of Object.entries(CASES)) {
    const bytes = net(c.nodes, c.opset);
    const ort = (await runOrt(bytes, X)).y!;
    const m = asNet(importOnnx(bytes, { task: "regressor" }));
    m.outputsFloat(X).forEach((r, i) => r.forEach((v, k) => close(v, ort[i * 3 + k]!, `${name} row ${i} output ${k}`)));
    m.compile(X, { nBits: { activations: 6 }, roundingThresholdBits: 7 });
    try {
      assert.equal(m.lookupsPerRow, H, `${name}: one lookup per hidden unit`);
      const q = await m.decisionFunction(X), f = m.outputsFloat(X);
      // Within a few percent of each output's spread (6-bit codes of the function, 7-bit lookups).
      for (let k = 0; k < 3; k++) {
        const col = f.map((r) => r[k]!), spread = Math.max(...col) - Math.min(...col);
        const err = Math.max(...q.map((r, i) => Math.abs(r[k]! - col[i]!)));
        assert.ok(err <= (c.tol ?? 0.05) * spread, `${name} output ${k}: largest quantized error ${err} on a spread of ${spread}`);
      }
      assert.deepEqual(await m.decisionFunction(X.slice(0, 4), { fhe: "simulate" }), q.slice(0, 4), `${name}: simulate = clear`);
    } finally {
      await m.close();
    }
  }
});

test("ONNX Sqrt/Log on a range that leaves their domain: float as onnxruntime (NaN), compile refuses naming the node", async () => {
  const bytes = net([{ op: "Sqrt", inputs: ["hb"], outputs: ["a"], name: "root3" }]);
  const ort = (await runOrt(bytes, X.slice(0, 10))).y!;
  const m = asNet(importOnnx(bytes, { task: "regressor" }));
  m.outputsFloat(X.slice(0, 10)).forEach((r, i) => r.forEach((v, k) => close(v, ort[i * 3 + k]!, `row ${i}`)));
  assert.ok(ort.some(Number.isNaN), "some rows leave Sqrt's domain");
  assert.throws(() => m.compile(X), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node root3 \(Sqrt\): undefined \(NaN\) at .* inside the range/.test(e.message));
  // Two different linear maps multiplied are not element-wise: refused, naming the node.
  const quad = buildOnnx({
    features: F, outputs: [{ name: "y" }], initializers: { W1: consts.W1!, W3: { dims: [F, H], data: weights(F * H, 31) } },
    nodes: [{ op: "MatMul", inputs: ["x", "W1"], outputs: ["p"] }, { op: "MatMul", inputs: ["x", "W3"], outputs: ["q"] }, { op: "Mul", inputs: ["p", "q"], outputs: ["y"], name: "outer" }],
  });
  assert.throws(() => importOnnx(quad), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node outer \(Mul\): combines two different linear maps/.test(e.message));
});

test("ONNX outputs through a function: a final Relu (one more lookup), σ after a scaling (the client's link), LogSoftmax (labels as onnxruntime's ArgMax)", async () => {
  const W = { dims: [F, 2], data: weights(2 * F, 41) };
  const relu = buildOnnx({ features: F, outputs: [{ name: "y" }], initializers: { W }, nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["h"] }, { op: "Relu", inputs: ["h"], outputs: ["y"] }] });
  const o1 = (await runOrt(relu, X)).y!;
  const r = asNet(importOnnx(relu, { task: "regressor" }));
  r.outputsFloat(X).forEach((row, i) => row.forEach((v, k) => close(v, o1[2 * i + k]!, `relu row ${i}`)));
  r.compile(X, { nBits: { activations: 6 }, roundingThresholdBits: 7 });
  assert.equal(r.lookupsPerRow, 2);
  const spread = Math.max(...o1);
  (await r.decisionFunction(X)).forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - o1[2 * i + k]!) <= 0.05 * spread, `relu row ${i}: ${v} vs ${o1[2 * i + k]}`)));
  await r.close();

  const w1 = { dims: [F, 1], data: weights(F, 42) }, two = { dims: [], data: [2] };
  const sig = buildOnnx({ features: F, outputs: [{ name: "y" }], initializers: { w1, two }, nodes: [{ op: "MatMul", inputs: ["x", "w1"], outputs: ["h"] }, { op: "Mul", inputs: ["h", "two"], outputs: ["s"] }, { op: "Sigmoid", inputs: ["s"], outputs: ["y"] }] });
  const o2 = (await runOrt(sig, X)).y!;
  const s = asNet(importOnnx(sig));
  assert.equal(s.task, "classifier");
  s.outputsFloat(X).forEach((row, i) => close(row[0]!, o2[i]!, `σ row ${i}`));
  assert.deepEqual(s.predictFloat(X), o2.map((p) => (p > 0.5 ? 1 : 0)));
  s.compile(X);
  assert.equal(s.lookupsPerRow, 0, "σ is applied by the client");
  await s.close();

  const W3 = { dims: [F, 3], data: weights(3 * F, 43) };
  const log = buildOnnx({
    features: F, outputs: [{ name: "label", type: "int64" }, { name: "y" }], initializers: { W3 },
    nodes: [{ op: "MatMul", inputs: ["x", "W3"], outputs: ["h"] }, { op: "LogSoftmax", inputs: ["h"], outputs: ["y"], attrs: { axis: -1 } }, { op: "ArgMax", inputs: ["y"], outputs: ["label"], attrs: { axis: 1, keepdims: 0 } }],
  });
  const o3 = await runOrt(log, X);
  const l = asNet(importOnnx(log));
  assert.deepEqual(l.predictFloat(X), o3.label);
  l.outputsFloat(X).forEach((row, i) => row.forEach((v, k) => close(v, o3.y![3 * i + k]!, `log-softmax row ${i}`)));
});
