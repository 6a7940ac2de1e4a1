// Neural nets trained here with quantization-aware training: the training's forward pass is the integer
// network, the integer reference is the compiler's clear run of the circuit, accuracy on held-out rows, the
// lookups read ≤ 6 bits, and FHE at real parameters against the clear integers (equal away from rounding
// ties; near one the approximate round may land one step off, which bounds the output's deviation).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, type Tensor } from "../../src/compiler/index.js";
import { AffineQuantizer, LogisticRegression, MlInputError, NeuralNetClassifier, NeuralNetRegressor, NotFittedError, toMatrix } from "../../src/ml/index.js";
import { codeJump, integerForward, networkCircuit } from "../../src/ml/nn/integer.js";
import { quantizedForward, trainQat } from "../../src/ml/nn/train.js";
import { loadCsv, tieFreeRows, trainTestSplit } from "./helpers.js";

const cancer = loadCsv("breast_cancer.csv");
const iris = loadCsv("iris.csv");
const diabetes = loadCsv("diabetes.csv");

test("QAT: the training forward pass is the integer network, and the integer network is the circuit's clear run", () => {
  const rows = 40, F = 5;
  const q = Int32Array.from({ length: rows * F }, (_, k) => (k * 7919) % 16);
  const t = Float64Array.from({ length: rows }, (_, i) => (q[i * F]! + q[i * F + 1]! > 15 ? 1 : 0));
  const o = { inputBits: 4, weightBits: 3, activationBits: 2, lookupBits: 4 };
  const p = trainQat(q, t, rows, { ...o, sizes: [F, 6, 3, 1], epochs: 30, batchSize: 8, learningRate: 0.02, weightDecay: 0, seed: 3, loss: "logistic" });
  const { net, out } = quantizedForward(p, o, q, rows);
  const acc = integerForward(net.layers, q, rows);
  acc.forEach((a, i) => assert.ok(Math.abs(net.outScale * a + net.outBias[0]! - out[i]!) < 1e-9, `row ${i}`));
  // Weights on their grid, activations on theirs.
  for (const L of net.layers) for (const w of L.Q) assert.ok(Math.abs(w) <= 3);
  const c = compile(networkCircuit(net.layers), { x: "encrypted" }, [[{ shape: [1, F], data: new Float64Array(F) }], [{ shape: [1, F], data: new Float64Array(F).fill(15) }]], { shapes: { x: [1, F] } });
  try {
    for (let i = 0; i < rows; i++) {
      const x: Tensor = { shape: [1, F], data: Float64Array.from(q.subarray(i * F, (i + 1) * F)) };
      assert.equal(c.runClear(x)[0]!.data[0], acc[i], `row ${i}: circuit's clear run`);
    }
    assert.ok(c.encoding.groups.every((g) => g.bits <= 4), `lookups at ${c.encoding.groups.map((g) => g.bits)} bits`);
  } finally {
    c.dispose();
  }
});

test("NeuralNetClassifier on breast_cancer and iris: held-out accuracy of float and quantized, 6-bit lookups", () => {
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 7);
  const m = new NeuralNetClassifier().fit(s.Xtrain, s.ytrain).compile();
  return (async () => {
    try {
      const fl = s.ytest.filter((y, i) => y === m.predictFloat(s.Xtest)[i]).length / s.ytest.length;
      const qa = await m.score(s.Xtest, s.ytest);
      assert.ok(qa >= 0.94 && fl >= 0.93, `breast_cancer float ${fl}, quantized ${qa}`);
      assert.equal(m.lookupsPerRow, 16);
      assert.equal(m.statistics.pbsCount, 16);
      const d = m.describe();
      assert.match(d, /30 → 16 → 1/);
      assert.match(d, /16 × 6 bits/, "every lookup reads 6 bits");
      const p = await m.predictProba(s.Xtest.slice(0, 3));
      p.forEach((r) => assert.ok(Math.abs(r[0]! + r[1]! - 1) < 1e-12));
      const si = trainTestSplit(iris.X, iris.y, 0.25, 7);
      const mi = new NeuralNetClassifier().fit(si.Xtrain, si.ytrain).compile();
      assert.ok(await mi.score(si.Xtest, si.ytest) >= 0.94);
      assert.equal((await mi.predictProba(si.Xtest.slice(0, 1)))[0]!.length, 3);
      await mi.close();
    } finally {
      await m.close();
    }
  })();
});

test("NeuralNetClassifier with tuned QAT (6-bit weights, 4-bit activations, weight decay) is at least as accurate as LogisticRegression on breast_cancer over three splits", async () => {
  // The integer models in the clear (fhe: "disable", what FHE computes); accuracy averaged over splits
  // because one split of 142 rows moves either model by a point or two.
  const nn: number[] = [], lr: number[] = [];
  for (const seed of [1, 2, 3]) {
    const s = trainTestSplit(cancer.X, cancer.y, 0.25, seed);
    const m = new NeuralNetClassifier({ hiddenLayerSizes: [8], weightBits: 6, activationBits: 4, learningRate: 0.003, weightDecay: 0.001 }).fit(s.Xtrain, s.ytrain).compile(s.Xtrain);
    const l = new LogisticRegression().fit(s.Xtrain, s.ytrain).compile(s.Xtrain);
    nn.push(await m.score(s.Xtest, s.ytest));
    lr.push(await l.score(s.Xtest, s.ytest));
    await Promise.all([m.close(), l.close()]);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(nn) >= mean(lr), `NN ${nn.map((v) => v.toFixed(3))} vs LogisticRegression ${lr.map((v) => v.toFixed(3))}`);
});

test("NeuralNetClassifier 64 → 32 → 10 on digits: ≥ 95% held out with 4-bit inputs and weights and 5-bit lookups", async () => {
  // FHE runs of this network are in the ML benchmark (about 1.5 s per row on 2 workers by the latency
  // model); FHE = quantized for these circuits is tested on a smaller network below.
  const digits = loadCsv("digits.csv");
  const s = trainTestSplit(digits.X, digits.y, 0.25, 42);
  const m = new NeuralNetClassifier({ hiddenLayerSizes: [32], nBits: 4, weightBits: 4, activationBits: 3, lookupBits: 5, epochs: 30 }).fit(s.Xtrain, s.ytrain).compile(s.Xtrain);
  try {
    const quantized = await m.predict(s.Xtest);
    const acc = quantized.filter((p, i) => p === s.ytest[i]).length / s.ytest.length;
    assert.ok(acc >= 0.95, `quantized accuracy ${acc}`);
    assert.deepEqual(m.statistics.pbsByPrecision, [{ bits: 5, count: 32 }], "one 5-bit lookup per hidden unit");
    assert.deepEqual(await m.predict(s.Xtest.slice(0, 20), { fhe: "simulate" }), quantized.slice(0, 20));
  } finally {
    await m.close();
  }
});

test("NeuralNetRegressor on diabetes: quantized R² close to float; toJSON/fromJSON gives the same integers", async () => {
  const s = trainTestSplit(diabetes.X, diabetes.y, 0.25, 7);
  const m = new NeuralNetRegressor({ hiddenLayerSizes: [8], epochs: 60 }).fit(s.Xtrain, s.ytrain).compile(undefined, { batchSize: 2 });
  const r2q = await m.score(s.Xtest, s.ytest);
  const pf = m.predictFloat(s.Xtest), mean = s.ytest.reduce((a, v) => a + v, 0) / s.ytest.length;
  const r2f = 1 - s.ytest.reduce((a, v, i) => a + (v - pf[i]!) ** 2, 0) / s.ytest.reduce((a, v) => a + (v - mean) ** 2, 0);
  assert.ok(r2q > 0.35 && Math.abs(r2q - r2f) < 0.1, `R² quantized ${r2q}, float ${r2f}`);
  const back = NeuralNetRegressor.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.deepEqual(await back.predict(s.Xtest), await m.predict(s.Xtest));
  assert.deepEqual(back.predictFloat(s.Xtest.slice(0, 5)), m.predictFloat(s.Xtest.slice(0, 5)));
  await Promise.all([m.close(), back.close()]);
});

test("NeuralNetClassifier in FHE at real parameters: execute against the clear integers (within one rounding step per hidden unit), deployment halves", async () => {
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 7);
  const m = new NeuralNetClassifier({ hiddenLayerSizes: [4], lookupBits: 4, epochs: 40 }).fit(s.Xtrain, s.ytrain).compile(undefined, { batchSize: 2 });
  try {
    assert.deepEqual(m.statistics.pbsByPrecision, [{ bits: 4, count: 8 }], "4 lookups per row, 2 rows per run, at 4 bits");
    const rows = s.Xtest.slice(0, 8);
    const clear = await m.decisionFunction(rows) as number[];
    const progress: number[] = [];
    const fhe = await m.decisionFunction(rows, { fhe: "execute", threads: 2, onProgress: (p) => progress.push(p.done) }) as number[];
    assert.deepEqual(progress, [2, 4, 6, 8], "one progress call per batch of 2 rows");
    assert.equal(m.statistics.measured?.threads, 2);
    // Near a tie the approximate round may land one step (2^k) off: a hidden code then moves by at most
    // codeJump = ⌈M·2^k⌉ (≤ amax), and the logit by scale·Σ_j |Q_out,j|·codeJump_j; away from ties, by 0.
    const j = m.toJSON();
    const { net } = quantizedForward({ sizes: j.sizes, W: j.W.map((w) => Float64Array.from(w)), b: j.b.map((b) => Float64Array.from(b)), alpha: Float64Array.from(j.alpha) },
      { inputBits: 6, weightBits: 4, activationBits: 3, lookupBits: 4 }, new Int32Array(30), 1);
    const jump = codeJump(net.layers[0]!.activation!);
    const bound = net.outScale * jump * net.layers[1]!.Q.reduce((a, w) => a + Math.abs(w), 0);
    fhe.forEach((v, i) => assert.ok(Math.abs(v - clear[i]!) <= bound + 1e-9, `row ${i}: FHE ${v}, clear ${clear[i]}`));
    // `threads` is per call: another count replaces the pool (fresh encryptions: the same bound holds).
    const one = await m.decisionFunction(rows.slice(0, 2), { fhe: "execute", threads: 1 }) as number[];
    one.forEach((v, i) => assert.ok(Math.abs(v - clear[i]!) <= bound + 1e-9, `1 worker, row ${i}: FHE ${v}, clear ${clear[i]}`));
    assert.equal(m.statistics.measured?.threads, 1);
    assert.match(m.describe(), /PBS: 8 /);
    const q = AffineQuantizer.fromJSON(j.encoder).quantize(toMatrix(rows)).q;
    const free = tieFreeRows(net.layers[0]!, q, rows.length);
    assert.ok(free.some((f) => f), "some rows are away from every tie");
    free.forEach((f, i) => f && assert.equal(fhe[i], clear[i], `row ${i} (no tie): FHE = clear`));
    const { client, server } = m.deployment();
    const dq = client.spec.dequantizer;
    assert.ok(dq.kind === "affine" && dq.scale[0] === net.outScale);
    client.keygen();
    const keys = server.loadKeys(client.serializedEvaluationKeys()!);
    try {
      const enc = client.encrypt(rows.slice(0, 2));
      const scores = client.decryptScores(enc.requests.map((r) => server.run(r, keys)), enc.rows);
      scores.data.forEach((v, i) => assert.ok(Math.abs(v - clear[i]!) <= bound + 1e-9, `deployed row ${i}: ${v} vs clear ${clear[i]} (FHE ${fhe[i]}), bound ${bound}`));
    } finally {
      keys?.free();
    }
  } finally {
    await m.close();
  }
});

test("NeuralNetRegressor with exact rounding: FHE at real parameters equals the quantized model on every row (no tie tolerance)", async () => {
  const s = trainTestSplit(diabetes.X, diabetes.y, 0.25, 7);
  const opts = { hiddenLayerSizes: [3], lookupBits: 4, epochs: 30, rounding: "exact" } as const;
  const m = new NeuralNetRegressor(opts).fit(s.Xtrain, s.ytrain).compile(undefined, { batchSize: 1 });
  try {
    assert.equal(m.rounding, "exact");
    assert.match(m.describe(), /round [0-9]/, "the description names an exact round (no ~)");
    const rows = s.Xtest.slice(0, 3);
    const clear = await m.predict(rows) as number[];
    assert.deepEqual(await m.predict(s.Xtest, { fhe: "simulate" }), await m.predict(s.Xtest), "simulate = quantized on the whole split");
    assert.deepEqual(await m.predict(rows, { fhe: "execute" }), clear, "FHE = quantized, exactly");
    // The option survives serialization; an approximate twin of the same weights reads fewer PBS.
    const back = NeuralNetRegressor.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    assert.equal(back.rounding, "exact");
    assert.deepEqual(await back.predict(s.Xtest), await m.predict(s.Xtest));
    const approx = new NeuralNetRegressor({ ...opts, rounding: "approximate" }).fit(s.Xtrain, s.ytrain).compile(undefined, { batchSize: 1 });
    assert.ok(approx.statistics.pbsCount < m.statistics.pbsCount, `approximate ${approx.statistics.pbsCount} PBS, exact ${m.statistics.pbsCount}`);
    await Promise.all([back.close(), approx.close()]);
  } finally {
    await m.close();
  }
  assert.throws(() => new NeuralNetRegressor({ rounding: "nearest" as "exact" }), (e: unknown) => e instanceof MlInputError && /rounding: expected "approximate" or "exact", got "nearest"/.test(e.message));
});

test("NeuralNet errors: bad hyper-parameters, calls out of order, wrong feature counts, unseen labels", async () => {
  assert.throws(() => new NeuralNetClassifier({ hiddenLayerSizes: [0] }), MlInputError);
  assert.throws(() => new NeuralNetClassifier({ weightBits: 1 }), MlInputError);
  assert.throws(() => new NeuralNetClassifier({ lookupBits: 9 }), MlInputError);
  assert.throws(() => new NeuralNetClassifier({ learningRate: -1 }), MlInputError);
  const m = new NeuralNetClassifier({ hiddenLayerSizes: [3], epochs: 2 });
  await assert.rejects(m.predict([[1, 2, 3, 4]]), NotFittedError);
  m.fit(iris.X, iris.y);
  await assert.rejects(m.predict([[1, 2, 3, 4]]), NotFittedError);
  m.compile();
  await assert.rejects(m.predict([[1, 2, 3]]), MlInputError);
  await assert.rejects(m.predict([[1, 2, 3, 4]], { fhe: "yes" as never }), MlInputError);
  await assert.rejects(m.score([[1, 2, 3, 4]], [7]), MlInputError);
  await assert.rejects(m.predict([[100, 2, 3, 4]], { outOfRange: "refuse" }), /outside the quantization range/);
  assert.throws(() => NeuralNetClassifier.fromJSON({ ...m.toJSON(), W: [[1]] }), MlInputError);
  await m.close();
});
