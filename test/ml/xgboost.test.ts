// The XGBoost importer on real models exported by xgboost 1.7.4 (test/fixtures), against XGBoost's own
// predictions and probabilities stored with them, and against an evaluator of the JSON written here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importXGBoost, MlInputError, MlUnsupportedError, XGBoostModel } from "../../src/ml/index.js";
import { readJson } from "./helpers.js";

interface Expected { X: number[][]; predictions: number[]; proba: number[][]; y_true: number[]; accuracy: number }
// The fixture's structure, as far as the reference evaluator reads it.
type XgbJson = { learner: { objective: { name: string }; learner_model_param: { base_score: string; num_class: string };
  gradient_booster: { model: { tree_info: number[]; trees: { left_children: number[]; right_children: number[]; split_indices: number[]; split_conditions: number[]; default_left: number[] }[] } } } };

/** XGBoost's prediction rule, straight from the JSON: float32 x < threshold goes left, NaN goes the default way. */
function referenceProba(model: XgbJson, x: number[]): number[] {
  const lm = model.learner.learner_model_param, K = Math.max(1, Number(lm.num_class)), base = Number(lm.base_score);
  const margin = new Array<number>(K).fill(model.learner.objective.name === "binary:logistic" ? Math.log(base / (1 - base)) : base);
  const { trees, tree_info } = model.learner.gradient_booster.model;
  trees.forEach((t, k) => {
    let i = 0;
    while (t.left_children[i] !== -1) {
      const v = x[t.split_indices[i]!]!;
      const left = Number.isNaN(v) ? t.default_left[i] === 1 : Math.fround(v) < Math.fround(t.split_conditions[i]!);
      i = left ? t.left_children[i]! : t.right_children[i]!;
    }
    margin[tree_info[k]!]! += t.split_conditions[i]!;
  });
  if (K === 1) {
    const p = 1 / (1 + Math.exp(-margin[0]!));
    return [1 - p, p];
  }
  const m = Math.max(...margin), e = margin.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

for (const name of ["xgb_breast_cancer", "xgb_iris"]) {
  test(`${name}: float, quantized and simulated predictions equal XGBoost's on every held-out row; FHE on a few rows`, async () => {
    const json = readJson<XgbJson>(`${name}.json`), exp = readJson<Expected>(`${name}.expected.json`);
    // The reference evaluator agrees with XGBoost's stored probabilities (float32 sums: ~1e-7).
    exp.X.forEach((x, i) => referenceProba(json, x).forEach((p, k) => assert.ok(Math.abs(p - exp.proba[i]![k]!) < 1e-6)));
    const model = importXGBoost(JSON.stringify(json)).compile();
    try {
      assert.ok(model.isClassifier);
      model.predictProbaFloat(exp.X).forEach((p, i) => p.forEach((v, k) => assert.ok(Math.abs(v - exp.proba[i]![k]!) < 1e-6, `row ${i}`)));
      assert.deepEqual(model.predictFloat(exp.X), exp.predictions);
      // The rank encoding is exact: the quantized model only rounds leaf values.
      const quantized = await model.predict(exp.X);
      assert.deepEqual(quantized, exp.predictions);
      assert.deepEqual(await model.predict(exp.X, { fhe: "simulate" }), quantized);
      assert.equal(await model.score(exp.X, exp.y_true), exp.accuracy);
      const rows = exp.X.slice(0, name === "xgb_iris" ? 2 : 1); // FHE: seconds per row at real parameters
      assert.deepEqual(await model.decisionFunction(rows, { fhe: "execute", threads: 2 }), await model.decisionFunction(rows));
      // JSON round trip of the imported model.
      const back = XGBoostModel.fromJSON(JSON.parse(JSON.stringify(model)));
      assert.deepEqual(await back.predict(exp.X), exp.predictions);
      await back.close();
    } finally {
      await model.close();
    }
  });
}

test("missing values: the default direction when a feature's nodes agree, a clear error when they do not", async () => {
  const json = readJson<XgbJson>("xgb_breast_cancer.json"), exp = readJson<Expected>("xgb_breast_cancer.expected.json");
  // Every node of this model sends missing values left; make feature 21's nodes all go right, and feature 27's mixed.
  let flipped27 = false;
  for (const t of json.learner.gradient_booster.model.trees) {
    t.split_indices.forEach((f, i) => {
      if (t.left_children[i] === -1) return;
      if (f === 21) t.default_left[i] = 0;
      if (f === 27 && !flipped27) {
        t.default_left[i] = 0;
        flipped27 = true;
      }
    });
  }
  const model = importXGBoost(json).compile();
  const rows = exp.X.slice(0, 20).map((r, i) => r.map((v, j) => ((j === 22 && i % 2 === 0) || (j === 21 && i % 3 === 0) ? NaN : v)));
  const ref = rows.map((r) => referenceProba(json, r));
  model.predictProbaFloat(rows).forEach((p, i) => p.forEach((v, k) => assert.ok(Math.abs(v - ref[i]![k]!) < 1e-6)));
  assert.deepEqual(await model.predict(rows), ref.map((p) => (p[1]! > 0.5 ? 1 : 0)));
  const bad = exp.X.slice(0, 1).map((r) => r.map((v, j) => (j === 27 ? NaN : v)));
  await assert.rejects(model.predict(bad), (e: unknown) => e instanceof MlInputError && /X\[0\]\[27\] is missing \(NaN\).*feature 27 send missing values different ways/.test(e.message));
  await model.close();
});

test("importXGBoost refuses what it cannot represent, naming it", () => {
  const json = readJson<XgbJson>("xgb_iris.json");
  assert.throws(() => importXGBoost({ ...json, learner: { ...json.learner, objective: { name: "rank:pairwise" } } }), (e: unknown) => e instanceof MlUnsupportedError && /objective rank:pairwise is not supported/.test(e.message));
  assert.throws(() => importXGBoost("{"), /not JSON/);
  assert.throws(() => importXGBoost({}), /no `learner`/);
  const cat = readJson<XgbJson & { learner: { gradient_booster: { model: { trees: { split_type: number[] }[] } } } }>("xgb_iris.json");
  cat.learner.gradient_booster.model.trees[3]!.split_type[0] = 1;
  assert.throws(() => importXGBoost(cat), /tree 3, node 0: categorical split/);
  const wrong = readJson<XgbJson>("xgb_iris.json");
  wrong.learner.gradient_booster.model.trees[0]!.split_indices[0] = 9;
  assert.throws(() => importXGBoost(wrong), /split on feature 9 of 4/);
  const model = importXGBoost(readJson("xgb_iris.json"));
  assert.throws(() => model.predictFloat([[1, 2, 3]]), /expected 4 features per row/);
  assert.throws(() => model.predictFloat([[1, 2, 3, "4" as unknown as number]]), /the string "4"/);
});

test("reg:squarederror with best_iteration: base_score added as is, later rounds ignored, FHE = clear", async () => {
  // Two rounds of one stump each on feature 0 (x < 0.5) and feature 1 (x < 2); best_iteration 0 keeps round 0.
  const tree = (f: number, t: number, l: number, r: number) => ({
    left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [f, 0, 0], split_conditions: [t, l, r],
    default_left: [0, 0, 0], split_type: [0, 0, 0], tree_param: { size_leaf_vector: "0" },
  });
  const json = (best?: number) => ({
    learner: {
      ...(best === undefined ? {} : { attributes: { best_iteration: String(best) } }),
      objective: { name: "reg:squarederror" },
      learner_model_param: { base_score: "1.5E1", num_class: "0", num_feature: "2", num_target: "1" },
      gradient_booster: { name: "gbtree", model: { gbtree_model_param: { num_parallel_tree: "1" }, tree_info: [0, 0], trees: [tree(0, 0.5, -2, 3), tree(1, 2, 0.25, -0.75)] } },
    },
  });
  const X = [[0, 0], [1, 0], [0, 5], [1, 5], [NaN, 1]];
  const full = importXGBoost(json()).compile();
  // Missing values go right at every node here (default_left 0): rank = all thresholds.
  assert.deepEqual(full.predictFloat(X), [15 - 2 + 0.25, 15 + 3 + 0.25, 15 - 2 - 0.75, 15 + 3 - 0.75, 15 + 3 + 0.25]);
  const q = await full.predict(X);
  assert.deepEqual(await full.predict(X, { fhe: "execute" }), q);
  (q as number[]).forEach((v, i) => assert.ok(Math.abs(v - (full.predictFloat(X) as number[])[i]!) <= 5 / 15 / 2 + 1e-9, `leaf rounding within half a step: ${v}`));
  assert.equal(full.isClassifier, false);
  await full.close();
  const first = importXGBoost(json(0));
  assert.deepEqual(first.predictFloat(X), [13, 18, 13, 18, 18]);
  assert.throws(() => first.predictProbaFloat(X), /regressor/);
});
