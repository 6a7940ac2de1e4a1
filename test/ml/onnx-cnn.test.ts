// Convolutional networks imported from ONNX (the NCHW tensor path): small graphs built here with seeded
// weights, one per feature of Conv and the pools (stride, padding incl. auto_pad, dilation, group, bias,
// count_include_pad, 1-D), checked in float against onnxruntime-node, then quantized after training: the
// clear integers close to float, the simulation equal to the clear integers on many rows, and real FHE at
// real parameters equal to them on a small model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracy, importOnnx, MlInputError, MlUnsupportedError, OnnxTensorModel } from "../../src/ml/index.js";
import { readFileSync } from "node:fs";
import { buildOnnx, type NodeSpec, runOrt } from "./onnx-build.js";
import { fixturePath, loadCsv, trainTestSplit } from "./helpers.js";

/** Seeded values in [lo, hi) (xorshift32). */
function uniform(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}
const rowsOf = (n: number, F: number, seed: number, lo = 0, hi = 1): number[][] => Array.from({ length: n }, (_, i) => uniform(F, seed + 977 * i, lo, hi));

type Init = Record<string, { dims: number[]; data: number[]; type?: "int64" }>;
const t = (dims: number[], seed: number, scale = 1): { dims: number[]; data: number[] } => ({ dims, data: uniform(dims.reduce((a, b) => a * b, 1), seed).map((v) => v * scale) });

interface Case {
  readonly inputDims: number[];
  readonly nodes: NodeSpec[];
  readonly init: Init;
  readonly outputs: number;
  /** Stages the graph lowers to. */
  readonly stages: string[];
  readonly task: "classifier" | "regressor";
  /** Quantization for the clear-vs-float check, and how close it must be. */
  readonly bits?: { inputs: number; weights: number; activations: number };
  readonly lookupBits?: number;
  readonly tolerance: number;
  readonly opset?: number;
}

const CASES: Record<string, Case> = {
  // Conv 3×3 (padding 1, bias) → MaxPool 2 → Relu → Flatten → Gemm: the common small CNN (F.relu(F.max_pool2d(…))),
  // the Relu moved before the pooling.
  "conv-relu-maxpool-gemm": {
    inputDims: [1, 8, 8], outputs: 3, task: "classifier", tolerance: 0.9,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "MaxPool", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Relu", inputs: ["p"], outputs: ["r"] },
      { op: "Flatten", inputs: ["r"], outputs: ["f"], attrs: { axis: 1 } },
      { op: "Gemm", inputs: ["f", "W2", "b2"], outputs: ["y"], attrs: { transB: 1 } },
    ],
    init: { W1: t([4, 1, 3, 3], 1), b1: t([4], 2, 0.1), W2: t([3, 64], 3, 0.3), b2: t([3], 4, 0.1) },
    stages: ["conv 1×8×8 → 4×8×8", "relu", "maxpool → 4×4×4", "dense 64 → 3"],
  },
  // Stride 2 with auto_pad SAME_UPPER (asymmetric: 0 before, 1 after), BatchNormalization folded into the
  // Conv, LeakyRelu, AveragePool over padding without counting it, Reshape and MatMul + Add.
  "same-upper-batchnorm-avgpool": {
    // Random weights on uniform inputs use a small part of each channel's sound range (the error falls to
    // 0.017 of the spread with 8-bit lookups and codes and 10-bit weights).
    inputDims: [2, 8, 8], outputs: 2, task: "regressor", tolerance: 0.08, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "W1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_UPPER" } },
      { op: "BatchNormalization", inputs: ["c", "g", "be", "mu", "var"], outputs: ["n"], attrs: { epsilon: 1e-3 } },
      { op: "LeakyRelu", inputs: ["n"], outputs: ["r"], attrs: { alpha: 0.1 } },
      { op: "AveragePool", inputs: ["r"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 } },
      { op: "Reshape", inputs: ["p", "shape"], outputs: ["f"] },
      { op: "MatMul", inputs: ["f", "W2"], outputs: ["m"] },
      { op: "Add", inputs: ["m", "b2"], outputs: ["y"] },
    ],
    init: {
      W1: t([3, 2, 3, 3], 5), g: { dims: [3], data: [1.5, 0.5, 1] }, be: { dims: [3], data: [0.2, -0.1, 0] },
      mu: { dims: [3], data: [0.1, -0.2, 0.3] }, var: { dims: [3], data: [0.5, 2, 1] },
      shape: { dims: [2], data: [-1, 27], type: "int64" }, W2: t([27, 2], 6, 0.5), b2: t([2], 7),
    },
    stages: ["conv 2×8×8 → 3×4×4", "leakyrelu(0.1)", "avgpool → 3×3×3", "dense 27 → 2"],
  },
  // Grouped, dilated Conv with symmetric padding 2, Tanh, AveragePool counting its padding, Conv again,
  // GlobalAveragePool, Gemm and a final Softmax (applied by the client).
  "group-dilation-tanh-gap-softmax": {
    inputDims: [2, 8, 8], outputs: 3, task: "classifier", tolerance: 0.8, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], group: 2, dilations: [2, 2], pads: [2, 2, 2, 2] } },
      { op: "Tanh", inputs: ["c"], outputs: ["h"] },
      { op: "AveragePool", inputs: ["h"], outputs: ["p"], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 } },
      { op: "Conv", inputs: ["p", "W2"], outputs: ["c2"], attrs: { kernel_shape: [2, 2] } },
      { op: "Relu", inputs: ["c2"], outputs: ["r2"] },
      { op: "GlobalAveragePool", inputs: ["r2"], outputs: ["g"] },
      { op: "Flatten", inputs: ["g"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W3", "b3"], outputs: ["z"] },
      { op: "Softmax", inputs: ["z"], outputs: ["y"], attrs: { axis: 1 } },
    ],
    init: { W1: t([4, 1, 3, 3], 8), b1: t([4], 9, 0.2), W2: t([3, 4, 2, 2], 10), W3: t([3, 3], 11), b3: t([3], 12, 0.1) },
    stages: ["conv 2×8×8 → 4×8×8", "tanh", "avgpool → 4×4×4", "conv 4×4×4 → 3×3×3", "relu", "avgpool → 3×1×1", "dense 3 → 3"],
  },
  // 1-D: Conv1d (padding 1, stride 1) → Relu → MaxPool1d → Conv1d with SAME_LOWER (even kernel: the odd pad
  // before) → Clip (ReLU6) → Flatten → Gemm → Sigmoid (a binary classifier's link).
  "conv1d-clip-sigmoid": {
    inputDims: [2, 12], outputs: 1, task: "classifier", tolerance: 0.9, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { pads: [1, 1] } },
      { op: "Relu", inputs: ["c"], outputs: ["r"] },
      { op: "MaxPool", inputs: ["r"], outputs: ["p"], attrs: { kernel_shape: [2], strides: [2] } },
      { op: "Conv", inputs: ["p", "W2"], outputs: ["c2"], attrs: { auto_pad: "SAME_LOWER" } },
      { op: "Clip", inputs: ["c2", "lo", "hi"], outputs: ["k"] },
      { op: "Flatten", inputs: ["k"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W3", "b3"], outputs: ["z"] },
      { op: "Sigmoid", inputs: ["z"], outputs: ["y"] },
    ],
    init: {
      W1: t([3, 2, 3], 13), b1: t([3], 14, 0.1), W2: t([2, 3, 2], 15), lo: { dims: [], data: [0] }, hi: { dims: [], data: [0.5] },
      W3: t([12, 1], 16), b3: t([1], 17, 0.1),
    },
    stages: ["conv 2×1×12 → 3×1×12", "relu", "maxpool → 3×1×6", "conv 3×1×6 → 2×1×6", "clip(0, 0.5)", "dense 12 → 1"],
  },
  // MaxPool straight after a Conv, with no activation: the accumulators are requantized (one lookup per
  // element) before the maxima; MaxPool padding of more than half the kernel goes in as clear zeros.
  "conv-maxpool-no-activation": {
    // (0.050 of the spread here, 0.011 with 8-bit codes and lookups and 10-bit weights.)
    inputDims: [1, 6, 6], outputs: 2, task: "regressor", tolerance: 0.06, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "W1"], outputs: ["c"], attrs: { kernel_shape: [2, 2] } },
      { op: "MaxPool", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [2, 2, 2, 2] } },
      { op: "Flatten", inputs: ["p"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W2"], outputs: ["y"] },
    ],
    init: { W1: t([2, 1, 2, 2], 18), W2: t([32, 2], 19) },
    stages: ["conv 1×6×6 → 2×5×5", "maxpool → 2×4×4", "dense 32 → 2"],
  },
  // PyTorch's x.view(x.size(0), -1) before the dense head: the target shape computed from the input's
  // (Shape → Gather → Unsqueeze, Concat with −1), folded at import; Elu (from the shared element-wise table)
  // after a MaxPool, non-decreasing so moved before it.
  "dynamic-flatten-elu-maxpool": {
    inputDims: [1, 8, 8], outputs: 3, task: "classifier", tolerance: 0.9,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "MaxPool", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Elu", inputs: ["p"], outputs: ["r"], attrs: { alpha: 0.5 } },
      { op: "Shape", inputs: ["r"], outputs: ["s"] },
      { op: "Constant", inputs: [], outputs: ["i0"], attrs: { value: { tensor: { dims: [], data: [0], type: "int64" } } } },
      { op: "Gather", inputs: ["s", "i0"], outputs: ["n"], attrs: { axis: 0 } },
      { op: "Unsqueeze", inputs: ["n", "ax"], outputs: ["n1"] },
      { op: "Concat", inputs: ["n1", "minus1"], outputs: ["shape"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["r", "shape"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W2", "b2"], outputs: ["y"], attrs: { transB: 1 } },
    ],
    init: {
      W1: t([4, 1, 3, 3], 23), b1: t([4], 24, 0.1), W2: t([3, 64], 25, 0.3), b2: t([3], 26, 0.1),
      ax: { dims: [1], data: [0], type: "int64" }, minus1: { dims: [1], data: [-1], type: "int64" },
    },
    stages: ["conv 1×8×8 → 4×8×8", "elu", "maxpool → 4×4×4", "dense 64 → 3"],
  },
  // GELU is not monotone (its minimum is near −0.75): after a MaxPool it must stay after it, or the float
  // network would differ from onnxruntime. HardSwish (also not monotone) after a Conv, then PRelu with one
  // slope per channel (composed: one lookup); x.reshape(x.shape[0], -1) as Shape → Slice → Concat.
  "gelu-after-maxpool-hardswish-prelu": {
    // (0.103 of the spread: 0.099 with HardSwish and PRelu as two lookups.)
    inputDims: [2, 8, 8], outputs: 2, task: "regressor", tolerance: 0.12, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7, opset: 20,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "MaxPool", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Gelu", inputs: ["p"], outputs: ["g"] },
      { op: "Conv", inputs: ["g", "W2"], outputs: ["c2"], attrs: { kernel_shape: [3, 3] } },
      { op: "HardSwish", inputs: ["c2"], outputs: ["h"] },
      { op: "PRelu", inputs: ["h", "slope"], outputs: ["r"] },
      { op: "Shape", inputs: ["r"], outputs: ["s"] },
      { op: "Slice", inputs: ["s", "zero", "one"], outputs: ["n1"] },
      { op: "Concat", inputs: ["n1", "minus1"], outputs: ["shape"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["r", "shape"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W3", "b3"], outputs: ["y"] },
    ],
    init: {
      W1: t([3, 2, 3, 3], 27), b1: t([3], 28, 0.3), W2: t([3, 3, 3, 3], 29, 0.5), slope: { dims: [3, 1, 1], data: [0.1, -0.2, 0.3] },
      zero: { dims: [1], data: [0], type: "int64" }, one: { dims: [1], data: [1], type: "int64" }, minus1: { dims: [1], data: [-1], type: "int64" },
      W3: t([12, 2], 30, 0.5), b3: t([2], 31, 0.1),
    },
    stages: ["conv 2×8×8 → 3×8×8", "maxpool → 3×4×4", "gelu", "conv 3×4×4 → 3×2×2", "prelu(hardswish)", "dense 12 → 2"],
  },
  // SiLU as PyTorch exports it before opset 20 (x·Sigmoid(x)) after a MaxPool: one lookup of the product,
  // not monotone, so after the pooling; Relu then Tanh after the Conv compose into one lookup.
  "silu-after-maxpool-relu-tanh": {
    inputDims: [1, 8, 8], outputs: 2, task: "regressor", tolerance: 0.1, bits: { inputs: 8, weights: 6, activations: 6 }, lookupBits: 7,
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "MaxPool", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Sigmoid", inputs: ["p"], outputs: ["s"] },
      { op: "Mul", inputs: ["p", "s"], outputs: ["q"] },
      { op: "Conv", inputs: ["q", "W2"], outputs: ["c2"], attrs: { kernel_shape: [3, 3] } },
      { op: "Relu", inputs: ["c2"], outputs: ["r"] },
      { op: "Dropout", inputs: ["r"], outputs: ["d"] },
      { op: "Tanh", inputs: ["d"], outputs: ["h"] },
      { op: "Flatten", inputs: ["h"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W3", "b3"], outputs: ["y"] },
    ],
    init: { W1: t([3, 1, 3, 3], 32, 2), b1: t([3], 33, 0.5), W2: t([2, 3, 3, 3], 34, 0.5), W3: t([8, 2], 35), b3: t([2], 36, 0.1) },
    stages: ["conv 1×8×8 → 3×8×8", "maxpool → 3×4×4", "mul(x, sigmoid)", "conv 3×4×4 → 2×2×2", "tanh(relu)", "dense 8 → 2"],
  },
};

function bytesOf(c: Case): Uint8Array {
  return buildOnnx({ features: 0, inputDims: c.inputDims, nodes: c.nodes, initializers: c.init, outputs: [{ name: "y" }], ...(c.opset === undefined ? {} : { opset: c.opset }) });
}

function asTensorModel(m: ReturnType<typeof importOnnx>): OnnxTensorModel {
  assert.ok(m instanceof OnnxTensorModel, "a convolutional network import");
  return m;
}

for (const [name, c] of Object.entries(CASES)) {
  test(`ONNX CNN ${name}: float = onnxruntime; quantized clear close to float; simulate = clear on 40 rows`, async () => {
    const bytes = bytesOf(c), F = c.inputDims.reduce((a, b) => a * b, 1);
    const X = rowsOf(60, F, 31), calib = rowsOf(200, F, 101);
    const ort = (await runOrt(bytes, X, c.inputDims)).y!;
    const m = asTensorModel(importOnnx(bytes, { task: c.task }));
    assert.deepEqual(m.stages, c.stages);
    assert.deepEqual(m.inputShape, c.inputDims);
    const out = m.outputsFloat(X);
    assert.equal(ort.length, X.length * c.outputs);
    out.forEach((r, i) => r.forEach((v, k) => {
      const want = ort[i * c.outputs + k]!;
      assert.ok(Math.abs(v - want) <= 1e-4 * Math.max(1, Math.abs(want)), `row ${i} output ${k}: ${v} vs onnxruntime ${want}`);
    }));
    m.compile(calib, { ...(c.bits === undefined ? {} : { nBits: c.bits }), ...(c.lookupBits === undefined ? {} : { roundingThresholdBits: c.lookupBits }) });
    try {
      const held = X.slice(0, 40);
      if (c.task === "classifier") {
        const p = await m.predict(held), f = m.predictFloat(held);
        const agree = p.filter((v, i) => v === f[i]).length / held.length;
        assert.ok(agree >= c.tolerance, `quantized labels agree with float on ${agree} of the rows`);
      } else {
        const q = (await m.decisionFunction(held)).flat(), f = m.outputsFloat(held).flat();
        const spread = Math.max(...f) - Math.min(...f), err = Math.max(...q.map((v, i) => Math.abs(v - f[i]!)));
        assert.ok(err <= c.tolerance * spread, `largest quantized error ${err} on a spread of ${spread}`);
      }
      assert.deepEqual(await m.decisionFunction(held, { fhe: "simulate" }), await m.decisionFunction(held), "simulate = clear integers");
    } finally {
      await m.close();
    }
  });
}

test("ONNX CNN in FHE at real parameters (1×8×8, two 3×3 channels, stride 2, max pooling, dense head): FHE = simulate = clear integers", async () => {
  // Hand-made kernels (a Laplacian and an edge detector) whose 3-bit weights on 2-bit inputs keep every
  // accumulator within 5 bits: no rounding before the lookups, so FHE must equal the clear integers exactly.
  const W1 = [0, 1, 0, 1, -4, 1, 0, 1, 0, 0, 2, 0, 1, 0, -1, 0, -2, 0];
  const bytes = buildOnnx({
    features: 0, inputDims: [1, 8, 8], outputs: [{ name: "y" }],
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { op: "Relu", inputs: ["c"], outputs: ["r"] },
      { op: "MaxPool", inputs: ["r"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Flatten", inputs: ["p"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "W2", "b2"], outputs: ["y"] },
    ],
    initializers: { W1: { dims: [2, 1, 3, 3], data: W1 }, b1: { dims: [2], data: [0.1, -0.1] }, W2: t([8, 3], 21), b2: t([3], 22, 0.1) },
  });
  const m = asTensorModel(importOnnx(bytes));
  const calib = rowsOf(100, 64, 5), X = rowsOf(30, 64, 77);
  m.compile(calib, { nBits: { inputs: 2, weights: 3, activations: 2 }, roundingThresholdBits: 5 });
  try {
    const lookups = m.quantized.filter((s) => s.kind === "lookup");
    assert.equal(lookups.length, 1);
    assert.deepEqual(lookups[0]!.kind === "lookup" && lookups[0]!.units.map((u) => u.lsbs), [0, 0], "no rounding before the lookups");
    assert.equal(m.lookupsPerRow, 32);
    const stats = m.statistics;
    assert.equal(stats.pbsCount, 32 + 2 * 4 * 3, "a lookup per conv output, three maxima per pooling window");
    assert.ok(stats.pbsByPrecision.every((p) => p.bits <= 5), JSON.stringify(stats.pbsByPrecision));
    const clear = await m.decisionFunction(X);
    assert.deepEqual(await m.decisionFunction(X, { fhe: "simulate" }), clear, "simulate = clear on 30 rows");
    const fhe = await m.decisionFunction(X.slice(0, 2), { fhe: "execute", threads: 2 });
    assert.deepEqual(fhe, clear.slice(0, 2), "FHE = clear");
    // Different rows give different logits (the check is not of a constant).
    assert.notDeepEqual(clear[0], clear[1]);
  } finally {
    await m.close();
  }
});

test("ONNX CNN inputs and errors: nested samples = flattened rows; unsupported operators, attributes and graphs name the node", async () => {
  const c = CASES["conv-relu-maxpool-gemm"]!;
  const m = asTensorModel(importOnnx(bytesOf(c)));
  const X = rowsOf(3, 64, 9);
  const image = (r: number[]): number[][] => Array.from({ length: 8 }, (_, h) => r.slice(8 * h, 8 * h + 8));
  // One sample as [C][H][W], or [H][W] when there is one channel: the same as its row in C order.
  assert.deepEqual(m.outputsFloat(X.map((r) => [image(r)])), m.outputsFloat(X));
  assert.deepEqual(m.outputsFloat(X.map(image)), m.outputsFloat(X));
  assert.throws(() => m.outputsFloat([image(X[0]!).slice(1)]), (e: unknown) => e instanceof MlInputError && /X\[0\]: expected 8 entries, got 7/.test(e.message));
  assert.throws(() => m.outputsFloat([X[0]!.slice(1)]), MlInputError);
  assert.throws(() => m.compile(), MlInputError);

  const graph = (nodes: NodeSpec[], init: Init = c.init): Uint8Array => buildOnnx({ features: 0, inputDims: [1, 8, 8], nodes, initializers: init, outputs: [{ name: "y" }] });
  const conv: NodeSpec = { op: "Conv", inputs: ["x", "W1", "b1"], outputs: ["c"], name: "conv0", attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } };
  const head: NodeSpec[] = [{ op: "Flatten", inputs: ["p"], outputs: ["f"] }, { op: "Gemm", inputs: ["f", "W2", "b2"], outputs: ["y"], attrs: { transB: 1 } }];
  const refused = (nodes: NodeSpec[], pattern: RegExp, init?: Init): void => {
    const b = graph(nodes, init);
    assert.throws(() => importOnnx(b), (e: unknown) => e instanceof MlUnsupportedError && pattern.test(e.message), String(pattern));
  };
  refused([conv, { op: "LpPool", name: "lp1", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }, ...head], /ONNX node lp1 \(LpPool\): operator not supported/);
  refused([conv, { op: "MaxPool", name: "mp1", inputs: ["c"], outputs: ["p"], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } }, ...head], /ONNX node mp1 \(MaxPool\): ceil_mode = 1/);
  // A residual connection: the sum reads the first Conv's output past the Relu and the second Conv.
  refused([conv, { op: "Relu", inputs: ["c"], outputs: ["r"] }, { op: "Conv", name: "conv1", inputs: ["r", "Wc"], outputs: ["c1"], attrs: { kernel_shape: [1, 1] } },
    { op: "Add", name: "add2", inputs: ["c1", "c"], outputs: ["p"] }, ...head], /ONNX node add2 \(Add\): the graph is not a chain/, { ...c.init, Wc: t([4, 4, 1, 1], 3) });
  // A constant Mul folds into the Conv in place: a Sigmoid of the Conv's output read after it would read the folded weights.
  refused([conv, { op: "Sigmoid", inputs: ["c"], outputs: ["p"] }, { op: "Mul", inputs: ["c", "two"], outputs: ["m"] }, { ...head[0]!, name: "flat1" }, head[1]!],
    /ONNX node flat1 \(Flatten\): the graph is not a chain/, { ...c.init, two: { dims: [], data: [2] } });
  refused([conv, { op: "Sqrt", name: "sqrt1", inputs: ["c"], outputs: ["p"] }, ...head], /ONNX node sqrt1 \(Sqrt\): is undefined or infinite on part of the line/);
  // A computed shape that moves the batch size off the first axis.
  refused([conv, { op: "Shape", inputs: ["c"], outputs: ["s"] }, { op: "Slice", inputs: ["s", "zero", "one"], outputs: ["n1"] },
    { op: "Concat", inputs: ["minus1", "n1"], outputs: ["shape"], attrs: { axis: 0 } }, { op: "Reshape", name: "rs1", inputs: ["c", "shape"], outputs: ["p"] }, ...head],
  /ONNX node rs1 \(Reshape\): reshape of \[N, 4,8,8\] to \[-1,N\]: the batch size must stay first/,
  { ...c.init, zero: { dims: [1], data: [0], type: "int64" }, one: { dims: [1], data: [1], type: "int64" }, minus1: { dims: [1], data: [-1], type: "int64" } });
  refused([conv, { op: "Flatten", inputs: ["c"], outputs: ["fc"] }, { op: "Add", name: "add1", inputs: ["c", "fc"], outputs: ["p"] }, ...head], /ONNX node add1 \(Add\): combines two different tensors/);
  refused([{ ...conv, attrs: { kernel_shape: [3, 3], group: 3 } }, { op: "Relu", inputs: ["c"], outputs: ["p"] }, ...head], /ONNX node conv0 \(Conv\): 1 input channels, weights \[4,1,3,3\] and group = 3/);
  // An average over padding that does not count it gives each border position its own scale: a Conv after it cannot fold them.
  const avg = graph([
    conv, { op: "AveragePool", inputs: ["c"], outputs: ["a"], attrs: { kernel_shape: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2] } },
    { op: "Conv", name: "conv2", inputs: ["a", "Wc"], outputs: ["p"], attrs: { kernel_shape: [1, 1] } }, ...head,
  ], { ...c.init, Wc: t([4, 4, 1, 1], 3), W2: t([3, 100], 3, 0.3) });
  const m2 = asTensorModel(importOnnx(avg));
  assert.equal(m2.outputsFloat(X)[0]!.length, 3);
  assert.throws(() => m2.compile(rowsOf(20, 64, 1)), (e: unknown) => e instanceof MlUnsupportedError && /ONNX node conv2: a convolution needs one scale per channel/.test(e.message));
});

test("cnn_digits.onnx (trained by scripts/train-cnn-digits.mjs): float = onnxruntime, 0.967 on the digits test split; quantized 0.960 with 144 4-bit lookups; simulate = clear", async () => {
  const bytes = new Uint8Array(readFileSync(fixturePath("cnn_digits.onnx")));
  const d = loadCsv("digits.csv");
  const { Xtrain, Xtest, ytest } = trainTestSplit(d.X, d.y, 0.25, 42);
  const m = asTensorModel(importOnnx(bytes));
  assert.deepEqual(m.stages, ["affine", "conv 1×8×8 → 4×6×6", "relu", "avgpool → 4×3×3", "dense 36 → 10"]);
  const ort = (await runOrt(bytes, Xtest, [1, 8, 8])).logits!;
  m.outputsFloat(Xtest).forEach((r, i) => r.forEach((v, k) => assert.ok(Math.abs(v - ort[10 * i + k]!) <= 1e-4 * Math.max(1, Math.abs(v)), `row ${i} logit ${k}`)));
  assert.equal(accuracy(ytest, m.predictFloat(Xtest)), 434 / 449);
  // The benchmark's setting (bench/sections/ml-cnn.ts), calibrated on the training rows.
  m.compile(Xtrain, { nBits: { inputs: 6, weights: 5, activations: 4 }, roundingThresholdBits: 4 });
  try {
    assert.equal(accuracy(ytest, await m.predict(Xtest)), 431 / 449);
    assert.equal(m.statistics.pbsCount, 144);
    assert.deepEqual(m.statistics.pbsByPrecision, [{ bits: 4, count: 144 }]);
    const rows = Xtest.slice(0, 60);
    assert.deepEqual(await m.decisionFunction(rows, { fhe: "simulate" }), await m.decisionFunction(rows));
  } finally {
    await m.close();
  }
});
