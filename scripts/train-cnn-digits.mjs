// Trains the small CNN of test/fixtures/cnn_digits.onnx on the digits training split (75%, seed 42: the
// split of the tests and the ML benchmark) in float, with our own loop, and writes it as an ONNX model laid
// out as a PyTorch export: x [N, 1, 8, 8] → Div(16) → Conv 3×3 (C channels, no padding) → Relu →
// AveragePool 2×2 → Flatten → Gemm → logits [N, 10].
// Usage (after npm run build): node scripts/train-cnn-digits.mjs [channels = 4] [out = test/fixtures/cnn_digits.onnx]
// Deterministic: seeded initialization (xorshift32, Box–Muller) and batch order; softmax cross-entropy, Adam.
import { readFileSync, writeFileSync } from "node:fs";
import { onnxModelType } from "../dist/src/ml/onnx/schema.js";

const C = Number(process.argv[2] ?? 4), OUT = process.argv[3] ?? "test/fixtures/cnn_digits.onnx";
const EPOCHS = 60, BATCH = 32, LR = 0.01, K = 10, P = 3 * 3, HID = C * P;

let s = 12345;
const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

// The split of test/ml/helpers.ts and bench/sections/ml-data.ts: xorshift32 Fisher–Yates, seed 42, 25% held out.
const lines = readFileSync("test/fixtures/digits.csv", "utf8").trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
const idx = lines.map((_, i) => i);
let t = 42;
const shuffle = () => { t ^= t << 13; t >>>= 0; t ^= t >>> 17; t ^= t << 5; t >>>= 0; return t / 2 ** 32; };
for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(shuffle() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
const nTest = Math.round(lines.length * 0.25);
const train = idx.slice(nTest).map((i) => lines[i]), test = idx.slice(0, nTest).map((i) => lines[i]);

const W = Float64Array.from({ length: C * 9 }, () => gauss() * Math.sqrt(2 / 9)), b = new Float64Array(C);
const V = Float64Array.from({ length: HID * K }, () => gauss() * Math.sqrt(1 / HID)), c = new Float64Array(K);
const params = [W, b, V, c], m1 = params.map((p) => new Float64Array(p.length)), m2 = params.map((p) => new Float64Array(p.length));

function forward(row) {
  const x = row.slice(0, 64).map((v) => v / 16);
  const z = new Float64Array(C * 36);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
    let a = b[ch];
    for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) a += W[ch * 9 + kh * 3 + kw] * x[(i + kh) * 8 + j + kw];
    z[ch * 36 + i * 6 + j] = a;
  }
  const p = new Float64Array(HID);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let a = 0;
    for (let di = 0; di < 2; di++) for (let dj = 0; dj < 2; dj++) a += Math.max(0, z[ch * 36 + (2 * i + di) * 6 + 2 * j + dj]);
    p[ch * 9 + i * 3 + j] = a / 4;
  }
  const logits = Float64Array.from(c);
  for (let h = 0; h < HID; h++) for (let k = 0; k < K; k++) logits[k] += p[h] * V[h * K + k];
  return { x, z, p, logits };
}

const argmax = (v) => v.indexOf(Math.max(...v));
const accuracyOf = (rows) => rows.filter((r) => argmax(Array.from(forward(r).logits)) === r[64]).length / rows.length;

let step = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const order = train.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  for (let start = 0; start < order.length; start += BATCH) {
    const grads = params.map((p) => new Float64Array(p.length));
    const batch = order.slice(start, start + BATCH);
    for (const r of batch) {
      const row = train[r], { x, z, p, logits } = forward(row);
      const mx = Math.max(...logits), e = logits.map((l) => Math.exp(l - mx)), sum = e.reduce((a, v) => a + v, 0);
      const dl = e.map((v, k) => v / sum - (k === row[64] ? 1 : 0));
      const dp = new Float64Array(HID);
      for (let h = 0; h < HID; h++) for (let k = 0; k < K; k++) { grads[2][h * K + k] += p[h] * dl[k]; dp[h] += V[h * K + k] * dl[k]; }
      for (let k = 0; k < K; k++) grads[3][k] += dl[k];
      for (let ch = 0; ch < C; ch++) for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
        const zi = ch * 36 + i * 6 + j;
        if (z[zi] <= 0) continue;
        const dz = dp[ch * 9 + Math.floor(i / 2) * 3 + Math.floor(j / 2)] / 4;
        grads[1][ch] += dz;
        for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) grads[0][ch * 9 + kh * 3 + kw] += dz * x[(i + kh) * 8 + j + kw];
      }
    }
    step++;
    params.forEach((p, q) => {
      for (let k = 0; k < p.length; k++) {
        const g = grads[q][k] / batch.length;
        m1[q][k] = 0.9 * m1[q][k] + 0.1 * g;
        m2[q][k] = 0.999 * m2[q][k] + 0.001 * g * g;
        p[k] -= (LR * (m1[q][k] / (1 - 0.9 ** step))) / (Math.sqrt(m2[q][k] / (1 - 0.999 ** step)) + 1e-8);
      }
    });
  }
}
console.log(`channels ${C}: train accuracy ${accuracyOf(train).toFixed(4)}, test accuracy ${accuracyOf(test).toFixed(4)} (${test.length} rows)`);

// ONNX, as torch.onnx.export lays out such a module (opset 13, float32 initializers, a dynamic batch).
const FLOAT = 1;
const tensor = (name, dims, data) => ({ name, dims, dataType: FLOAT, floatData: Array.from(data) });
const attr = (name, ints) => ({ name, type: 7, ints });
const model = {
  irVersion: 8, producerName: "umbra-train-cnn-digits", opsetImport: [{ domain: "", version: 13 }],
  graph: {
    name: "cnn_digits",
    node: [
      { input: ["input", "scale"], output: ["x"], name: "/Div", opType: "Div" },
      { input: ["x", "conv.weight", "conv.bias"], output: ["h"], name: "/conv/Conv", opType: "Conv", attribute: [attr("kernel_shape", [3, 3]), attr("pads", [0, 0, 0, 0]), attr("strides", [1, 1])] },
      { input: ["h"], output: ["r"], name: "/Relu", opType: "Relu" },
      { input: ["r"], output: ["p"], name: "/pool/AveragePool", opType: "AveragePool", attribute: [attr("kernel_shape", [2, 2]), attr("strides", [2, 2]), attr("pads", [0, 0, 0, 0])] },
      { input: ["p"], output: ["f"], name: "/Flatten", opType: "Flatten", attribute: [{ name: "axis", type: 2, i: 1 }] },
      { input: ["f", "fc.weight", "fc.bias"], output: ["logits"], name: "/fc/Gemm", opType: "Gemm", attribute: [{ name: "transB", type: 2, i: 1 }] },
    ],
    initializer: [
      tensor("scale", [], [16]), tensor("conv.weight", [C, 1, 3, 3], W), tensor("conv.bias", [C], b),
      // PyTorch's Linear stores [out × in] and exports Gemm with transB = 1.
      tensor("fc.weight", [K, HID], Array.from({ length: K * HID }, (_, q) => V[(q % HID) * K + Math.floor(q / HID)])), tensor("fc.bias", [K], c),
    ],
    input: [{ name: "input", type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: 1 }, { dimValue: 8 }, { dimValue: 8 }] } } } }],
    output: [{ name: "logits", type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: K }] } } } }],
  },
};
writeFileSync(OUT, onnxModelType.encode(onnxModelType.fromObject(model)).finish());
console.log(`wrote ${OUT}`);
