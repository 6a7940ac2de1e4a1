// Trees trained here: CART's splits against a brute-force search written in the test, boosting's leaf weights
// against XGBoost's formula, accuracy on held-out rows, and the circuit (comparisons, path counts, one lookup
// per leaf, packed leaf values) in simulation and in FHE at real parameters against the clear walk.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AffineQuantizer, DecisionTreeClassifier, DecisionTreeRegressor, MlInputError, NotFittedError, RandomForestClassifier,
  RandomForestRegressor, XGBClassifier, XGBRegressor, accuracy, r2Score, toMatrix,
} from "../../src/ml/index.js";
import { loadCsv, trainTestSplit } from "./helpers.js";

const iris = loadCsv("iris.csv");
const cancer = loadCsv("breast_cancer.csv");
const diabetes = loadCsv("diabetes.csv");

/** Best (feature, threshold) of one split by exhaustive search: impurity(y of the rows with q ≤ t, the others). */
function bruteForceSplit(q: Int32Array, F: number, n: number, cost: (left: number[], right: number[]) => number): { f: number; t: number; cost: number } {
  let best = { f: -1, t: -1, cost: Infinity };
  for (let f = 0; f < F; f++) {
    for (let t = 0; t < 15; t++) {
      const left: number[] = [], right: number[] = [];
      for (let i = 0; i < n; i++) (q[i * F + f]! <= t ? left : right).push(i);
      if (left.length === 0 || right.length === 0) continue;
      const c = cost(left, right);
      if (c < best.cost - 1e-9) best = { f, t, cost: c };
    }
  }
  return best;
}

test("CART stumps pick the split an exhaustive search finds (Gini, squared error) and boosting's leaf is −ηG/(H + λ)", () => {
  const X = toMatrix(iris.X), q = AffineQuantizer.fit(X, 4).quantize(X).q, n = iris.y.length;
  const gini = (rows: number[]): number => {
    const c = [0, 0, 0];
    rows.forEach((i) => c[iris.y[i]!]!++);
    return rows.length * (1 - c.reduce((s, v) => s + (v / rows.length) ** 2, 0));
  };
  const best = bruteForceSplit(q, 4, n, (l, r) => gini(l) + gini(r));
  const stump = new DecisionTreeClassifier({ maxDepth: 1 }).fit(iris.X, iris.y);
  const tree = (stump.toJSON().ensemble.trees[0]!);
  assert.deepEqual([tree.feature[0], tree.threshold[0]], [best.f, best.t]);
  // The root's children hold the class distributions of each side.
  const leftRows = iris.y.map((_, i) => i).filter((i) => q[i * 4 + best.f]! <= best.t);
  const leftDist = [0, 1, 2].map((k) => leftRows.filter((i) => iris.y[i] === k).length / leftRows.length);
  assert.deepEqual(tree.value.slice(tree.left[0]! * 3, tree.left[0]! * 3 + 3), leftDist);

  const D = toMatrix(diabetes.X), qd = AffineQuantizer.fit(D, 4).quantize(D).q;
  const sse = (rows: number[]): number => {
    const m = rows.reduce((s, i) => s + diabetes.y[i]!, 0) / rows.length;
    return rows.reduce((s, i) => s + (diabetes.y[i]! - m) ** 2, 0);
  };
  const bestR = bruteForceSplit(qd, 10, diabetes.y.length, (l, r) => sse(l) + sse(r));
  const reg = new DecisionTreeRegressor({ maxDepth: 1 }).fit(diabetes.X, diabetes.y).toJSON().ensemble.trees[0]!;
  assert.deepEqual([reg.feature[0], reg.threshold[0]], [bestR.f, bestR.t]);

  // One boosting round of squared error from the mean: g = ŷ − y, h = 1; leaf = −η·Σg/(Σh + λ).
  const xgb = new XGBRegressor({ nEstimators: 1, maxDepth: 1, learningRate: 0.5, lambda: 2 }).fit(diabetes.X, diabetes.y).toJSON();
  const t0 = xgb.ensemble.trees[0]!, mean = xgb.ensemble.base[0]!;
  assert.ok(Math.abs(mean - diabetes.y.reduce((a, b) => a + b, 0) / diabetes.y.length) < 1e-9);
  const rows = diabetes.y.map((_, i) => i).filter((i) => qd[i * 10 + t0.feature[0]!]! <= t0.threshold[0]!);
  const G = rows.reduce((s, i) => s + (mean - diabetes.y[i]!), 0);
  assert.ok(Math.abs(t0.value[t0.left[0]!]! - (-0.5 * G) / (rows.length + 2)) < 1e-9);
});

test("tree models on held-out rows: accuracy/R² of the quantized models near float ones", async () => {
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 3);
  for (const m of [new DecisionTreeClassifier(), new RandomForestClassifier(), new XGBClassifier()]) {
    m.fit(s.Xtrain, s.ytrain).compile(s.Xtrain);
    const af = accuracy(s.ytest, m.predictFloat(s.Xtest)), aq = await m.score(s.Xtest, s.ytest);
    assert.ok(af >= 0.9 && aq >= af - 0.02, `${m.constructor.name}: float ${af}, quantized ${aq}`);
    await m.close();
  }
  const d = trainTestSplit(diabetes.X, diabetes.y, 0.25, 3);
  for (const m of [new DecisionTreeRegressor({ maxDepth: 3 }), new RandomForestRegressor(), new XGBRegressor({ learningRate: 0.1 })]) {
    m.fit(d.Xtrain, d.ytrain).compile();
    const rf = r2Score(d.ytest, m.predictFloat(d.Xtest)), rq = await m.score(d.Xtest, d.ytest);
    assert.ok(rf > (m instanceof DecisionTreeRegressor ? 0.1 : 0.3) && rq > rf - 0.05, `${m.constructor.name}: R² float ${rf}, quantized ${rq}`);
    await m.close();
  }
  const ir = trainTestSplit(iris.X, iris.y, 0.3, 9);
  const xm = new XGBClassifier({ nEstimators: 10 }).fit(ir.Xtrain, ir.ytrain).compile();
  assert.ok(await xm.score(ir.Xtest, ir.ytest) >= 0.9);
  const proba = await xm.predictProba(ir.Xtest);
  proba.forEach((p) => assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9));
});

test("trees in FHE at real parameters: execute = simulate = the clear walk (classifier, forest, boosting), JSON round trip", async () => {
  const ir = trainTestSplit(iris.X, iris.y, 0.3, 4);
  const dt = new DecisionTreeClassifier({ maxDepth: 2, nBits: 3 }).fit(ir.Xtrain, ir.ytrain).compile(ir.Xtrain, { batchSize: 2 });
  const d = trainTestSplit(diabetes.X, diabetes.y, 0.25, 5);
  const rf = new RandomForestRegressor({ nEstimators: 2, maxDepth: 2, nBits: 3 }).fit(d.Xtrain, d.ytrain).compile();
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 6);
  const xgb = new XGBClassifier({ nEstimators: 2, maxDepth: 2, nBits: 3 }).fit(s.Xtrain, s.ytrain).compile();
  try {
    // Per row: 2 comparisons and 2 parents of leaves, whose two leaf indicators share one blind rotation.
    assert.equal(dt.statistics.pbsCount, 2 * 4, dt.describe());
    assert.equal(dt.statistics.fusedLookups, 2);
    assert.equal(dt.statistics.bits, 3);
    const rows = ir.Xtest.slice(0, 2);
    const clear = await dt.predictProba(rows);
    assert.deepEqual(await dt.predictProba(rows, { fhe: "simulate" }), clear);
    const progress: number[] = [];
    assert.deepEqual(await dt.predictProba(rows, { fhe: "execute", threads: 2, onProgress: (p) => progress.push(p.done) }), clear);
    assert.deepEqual(progress, [2]);
    const back = DecisionTreeClassifier.fromJSON(JSON.parse(JSON.stringify(dt)));
    assert.deepEqual(await back.predictProba(ir.Xtest), await dt.predictProba(ir.Xtest));

    const rrows = d.Xtest.slice(0, 1);
    assert.deepEqual(await rf.predict(rrows, { fhe: "execute" }), await rf.predict(rrows));
    const xrows = s.Xtest.slice(0, 1);
    const margins = await xgb.predictProba(xrows);
    assert.deepEqual(await xgb.predictProba(xrows, { fhe: "execute", threads: 2 }), margins);
    assert.deepEqual(await xgb.predictProba(s.Xtest, { fhe: "simulate" }), await xgb.predictProba(s.Xtest));
    assert.match(xgb.describe(), /distinct comparisons/);
    assert.ok(xgb.statistics.fusedLookups >= 2 && xgb.statistics.pbsCount < 5 + 6, xgb.describe());
  } finally {
    await Promise.all([dt.close(), rf.close(), xgb.close()]);
  }
});

test("tree models: errors for NaN, wrong shapes, calls out of order, bad hyper-parameters", async () => {
  const m = new RandomForestClassifier({ nEstimators: 2 });
  assert.throws(() => m.predictFloat([[1]]), NotFittedError);
  assert.throws(() => m.fit([[1, NaN], [0, 1]], [0, 1]), /X\[0\]\[1\] is NaN/);
  assert.throws(() => new RandomForestClassifier({ maxFeatures: "log2" as "sqrt" }), /maxFeatures/);
  assert.throws(() => new XGBClassifier({ learningRate: -1 }), /learningRate/);
  assert.throws(() => new DecisionTreeClassifier({ nBits: 9 }), /nBits/);
  m.fit(iris.X, iris.y);
  await assert.rejects(m.predict(iris.X.slice(0, 1)), /call compile\(\)/);
  m.compile();
  await assert.rejects(m.predict([[1, 2, 3]]), /expected 4 features per row/);
  await assert.rejects(m.predict([[5, 3, 3, 100]], { outOfRange: "refuse" }), MlInputError);
  await m.predict([[5, 3, 3, 100]]);
  assert.equal(m.lastClipped, 1);
  await assert.rejects(m.score(iris.X.slice(0, 1), [5]), /label unseen at fit/);
});
