// The errors of the list on imported models (an ONNX network, an ONNX tree ensemble, an XGBoost
// model): wrong feature count, NaN/Infinity, strings, predicting before compile, labels the model does not
// know, inputs beyond the calibration range (clipped and counted by default, refused on request), and a
// string in a numeric column of the CLI's calibration CSV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importOnnx, importXGBoost, MlInputError, NotFittedError, OnnxModel, OnnxTreeModel } from "../../src/ml/index.js";
import { CLI, run } from "../deploy/helpers.js";
import { buildOnnx } from "./onnx-build.js";
import { fixturePath, loadCsv, readJson } from "./helpers.js";

const cancer = loadCsv("breast_cancer.csv");
const exp = readJson<{ X: number[][]; y_true: number[] }>("mlp_breast_cancer.expected.json");

function onnxTree(): OnnxTreeModel {
  // One stump on feature 1: x1 ≤ 0.5 → 1, else 3; NaN tracks the true branch.
  const bytes = buildOnnx({
    features: 3, outputs: [{ name: "y" }],
    nodes: [{ op: "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attrs: {
      nodes_treeids: { ints: [0, 0, 0] }, nodes_nodeids: { ints: [0, 1, 2] }, nodes_featureids: { ints: [1, 0, 0] }, nodes_modes: ["BRANCH_LEQ", "LEAF", "LEAF"],
      nodes_values: { floats: [0.5, 0, 0] }, nodes_truenodeids: { ints: [1, 0, 0] }, nodes_falsenodeids: { ints: [2, 0, 0] }, nodes_missing_value_tracks_true: { ints: [1, 0, 0] },
      target_treeids: { ints: [0, 0] }, target_nodeids: { ints: [1, 2] }, target_ids: { ints: [0, 0] }, target_weights: { floats: [1, 3] },
    } }],
  });
  const m = importOnnx(bytes);
  assert.ok(m instanceof OnnxTreeModel);
  return m;
}

test("imported models: feature count, NaN/Infinity, strings and calls before compile are typed errors that say what was passed", async () => {
  const net = importOnnx(new Uint8Array(readFileSync(fixturePath("mlp_breast_cancer.onnx"))));
  assert.ok(net instanceof OnnxModel);
  const trees = onnxTree();
  const xgb = importXGBoost(readFileSync(fixturePath("xgb_breast_cancer.json"), "utf8"));
  const row = exp.X[0]!;
  for (const [name, m] of [["OnnxModel", net], ["OnnxTreeModel", trees], ["XGBoostModel", xgb]] as const) {
    await assert.rejects(m.predict([row]), (e: unknown) => e instanceof NotFittedError && /compile/.test(e.message), `${name}: predict before compile`);
  }
  net.compile(cancer.X);
  trees.compile();
  xgb.compile();
  try {
    const cases: [string, OnnxModel | OnnxTreeModel | typeof xgb, number[][], RegExp][] = [
      ["OnnxModel", net, [row.slice(1)], /expected 30 features per row.*got 29/],
      ["OnnxModel", net, [row.map((v, j) => (j === 3 ? NaN : v))], /X\[0\]\[3\] is NaN: features must be finite/],
      ["OnnxModel", net, [row.map((v, j) => (j === 4 ? Infinity : v))], /X\[0\]\[4\] is Infinity/],
      ["OnnxModel", net, [row.map((v, j) => (j === 5 ? ("12.5" as unknown as number) : v))], /X\[0\]\[5\] is .*"12\.5".*expected a number/],
      ["OnnxTreeModel", trees, [[1, 2]], /expected 3 features per row.*got 2/],
      ["OnnxTreeModel", trees, [[1, -Infinity, 0]], /X\[0\]\[1\] is -Infinity/],
      ["OnnxTreeModel", trees, [[1, "a" as unknown as number, 0]], /X\[0\]\[1\] is .*"a".*expected a number/],
      ["XGBoostModel", xgb, [row.slice(0, 10)], /expected 30 features per row.*got 10/],
    ];
    for (const [name, m, X, re] of cases) await assert.rejects(m.predict(X), (e: unknown) => e instanceof MlInputError && re.test(e.message), `${name}: ${re}`);
    // NaN is a missing value for tree models (the true branch here), a refused value for networks.
    assert.deepEqual(await trees.predict([[0, NaN, 0], [0, 0.25, 0], [0, 0.75, 0]]), [1, 1, 3]);
    // Labels the model does not know, in score.
    await assert.rejects(net.score(exp.X.slice(0, 3), [0, 1, 7]), (e: unknown) => e instanceof MlInputError && /7/.test(e.message));
    await assert.rejects(xgb.score(exp.X.slice(0, 2), ["benign", 1] as never), (e: unknown) => e instanceof MlInputError && /benign/.test(e.message));
  } finally {
    await Promise.all([net.close(), trees.close(), xgb.close()]);
  }
});

test("inputs beyond the calibration range: clipped to it and counted (default) or refused with outOfRange: \"refuse\"", async () => {
  const net = importOnnx(new Uint8Array(readFileSync(fixturePath("mlp_breast_cancer.onnx"))));
  assert.ok(net instanceof OnnxModel);
  net.compile(cancer.X);
  try {
    const far = [exp.X[0]!.map((v, j) => (j === 2 ? v * 100 : v))];
    const clipped = await net.predict(far);
    assert.equal(net.lastClipped, 1, "one value clipped and counted");
    assert.deepEqual(clipped, await net.predict([exp.X[0]!.map((v, j) => (j === 2 ? Math.max(...cancer.X.map((r) => r[2]!)) : v))]), "as the range's end");
    await assert.rejects(net.predict(far, { outOfRange: "refuse" }), (e: unknown) => e instanceof MlInputError && /X\[0\]\[2\] = .* is outside the quantization range \[.*\] of feature 2/.test(e.message));
  } finally {
    await net.close();
  }
});

test("umbra compile: a string in a numeric column of the calibration CSV fails naming the line and field", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-import-errors-"));
  try {
    writeFileSync(join(dir, "mlp.onnx"), readFileSync(fixturePath("mlp_breast_cancer.onnx")));
    const rows = cancer.X.slice(0, 5).map((r) => r.join(","));
    rows[3] = rows[3]!.replace(/^[^,]*/, "abc");
    writeFileSync(join(dir, "calib.csv"), rows.join("\n") + "\n");
    const r = await run(CLI, ["compile", join(dir, "mlp.onnx"), "--calibration", join(dir, "calib.csv"), "--out", join(dir, "out")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /calib\.csv: line 4 field 1 is "abc", not a number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
