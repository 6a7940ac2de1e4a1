// k-nearest neighbours in the clear: votes against a majority count written here, held-out accuracy on iris
// and breast_cancer, the quantized vote close to the float one, FHE modes refused with the measured reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KNeighborsClassifier, MlInputError, MlUnsupportedError, NotFittedError } from "../../src/ml/index.js";
import { loadCsv, trainTestSplit } from "./helpers.js";

const iris = loadCsv("iris.csv");
const cancer = loadCsv("breast_cancer.csv");

test("KNeighborsClassifier: the majority of the k nearest rows; k = 1 on the training rows returns their labels", async () => {
  const s = trainTestSplit(iris.X, iris.y, 0.25, 7);
  const m = new KNeighborsClassifier({ nNeighbors: 5 }).fit(s.Xtrain, s.ytrain);
  const p = m.predictFloat(s.Xtest);
  s.Xtest.forEach((x, i) => {
    const d = s.Xtrain.map((t, r) => ({ r, d: Math.hypot(...t.map((v, j) => v - x[j]!)) }));
    const kth = d.map((e) => e.d).sort((a, b) => a - b)[4]!;
    // Rows strictly nearer than the 5th distance always vote; p must be a majority label among the 5 nearest.
    const near = d.filter((e) => e.d < kth).map((e) => s.ytrain[e.r]!), tie = d.filter((e) => e.d === kth).map((e) => s.ytrain[e.r]!);
    const counts = [0, 1, 2].map((c) => near.filter((v) => v === c).length + Math.min(5 - near.length, tie.filter((v) => v === c).length));
    assert.ok(counts[p[i] as number]! === Math.max(...counts), `row ${i}: ${p[i]} with counts ${counts}`);
  });
  assert.ok(p.filter((v, i) => v === s.ytest[i]).length / s.ytest.length >= 0.94);
  const one = new KNeighborsClassifier({ nNeighbors: 1 }).fit(cancer.X, cancer.y);
  assert.deepEqual(one.predictFloat(cancer.X.slice(0, 50)), cancer.y.slice(0, 50));
  const w = new KNeighborsClassifier({ nNeighbors: 7, weights: "distance" }).fit(cancer.X, cancer.y);
  assert.deepEqual(w.predictFloat(cancer.X.slice(0, 50)), cancer.y.slice(0, 50), "an exact match wins the distance-weighted vote");
});

test("KNeighborsClassifier on breast_cancer: quantized (8-bit) accuracy close to float; FHE refused with the reason; JSON round trip", async () => {
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 7);
  const m = new KNeighborsClassifier().fit(s.Xtrain, s.ytrain).compile();
  const fl = m.predictFloat(s.Xtest).filter((v, i) => v === s.ytest[i]).length / s.ytest.length;
  const q = await m.score(s.Xtest, s.ytest);
  assert.ok(fl >= 0.9 && Math.abs(q - fl) <= 0.03, `float ${fl}, quantized ${q}`);
  await assert.rejects(m.predict(s.Xtest.slice(0, 1), { fhe: "execute" }), (e: unknown) => e instanceof MlUnsupportedError && /clear only/.test(e.message));
  await assert.rejects(m.predict(s.Xtest.slice(0, 1), { fhe: "simulate" }), MlUnsupportedError);
  // describe() says what the model is and that it has no circuit, with the same reason.
  assert.match(m.describe(), /^KNeighborsClassifier: k = 5 \(uniform weights\), 427 stored rows × 30 features, 2 classes; features quantized to 8 bits\nno circuit: KNeighborsClassifier runs in the clear only/);
  const back = KNeighborsClassifier.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.deepEqual(await back.predict(s.Xtest), await m.predict(s.Xtest));
});

test("KNeighborsClassifier errors", async () => {
  assert.throws(() => new KNeighborsClassifier({ nNeighbors: 0 }), MlInputError);
  assert.throws(() => new KNeighborsClassifier({ weights: "gaussian" as never }), MlInputError);
  assert.throws(() => new KNeighborsClassifier({ nNeighbors: 10 }).fit([[1], [2]], [0, 1]), MlInputError);
  const m = new KNeighborsClassifier({ nNeighbors: 1 });
  assert.throws(() => m.predictFloat([[1]]), NotFittedError);
  m.fit([[0, 0], [1, 1]], ["a", "b"]);
  await assert.rejects(m.predict([[0, 0]]), NotFittedError);
  m.compile();
  assert.throws(() => m.predictFloat([[1]]), MlInputError);
  await assert.rejects(m.score([[0, 0]], ["c"]), MlInputError);
  await assert.rejects(m.predict([[5, 0]], { outOfRange: "refuse" }), MlInputError);
});
