// `umbra compile` on imported models, as a user runs it: an ONNX network and an XGBoost JSON model with
// --calibration, and an ai.onnx.ml linear model whose bundles predict (encrypted, through the bundle's
// client and server halves) as the model imported in process does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelClient, ModelServer } from "../../src/deploy/index.js";
import { importOnnx, LogisticRegression } from "../../src/ml/index.js";
import { CLI, run } from "../deploy/helpers.js";
import { buildOnnx, float32Bytes } from "./onnx-build.js";
import { fixturePath, loadCsv, readJson } from "./helpers.js";

const csv = (X: number[][]): string => X.map((r) => r.join(",")).join("\n") + "\n";

test("umbra compile model.onnx | xgboost.json --calibration data.csv --out dir: bundles that predict as the imported model", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-cli-import-"));
  try {
    // An ai.onnx.ml LinearClassifier (no lookups): the full encrypted round trip through the bundles.
    const iris = loadCsv("iris.csv");
    const lr = new LogisticRegression().fit(iris.X, iris.y);
    const bytes = buildOnnx({
      features: 4, outputs: [{ name: "label", type: "int64" }, { name: "proba" }],
      nodes: [{ op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "proba"], attrs: { coefficients: { floats: [0, 1, 2].flatMap((k) => lr.coef.map((r) => r[k]!)) }, intercepts: { floats: lr.intercept }, classlabels_ints: [0, 1, 2], post_transform: "SOFTMAX" } }],
    });
    writeFileSync(join(dir, "iris.onnx"), bytes);
    writeFileSync(join(dir, "iris.csv"), csv(iris.X));
    const c = await run(CLI, ["compile", join(dir, "iris.onnx"), "--calibration", join(dir, "iris.csv"), "--out", join(dir, "iris"), "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).linearOnly, true);
    const client = await ModelClient.load(join(dir, "iris"));
    client.keygen();
    const server = await ModelServer.load(join(dir, "iris"));
    const X = iris.X.slice(45, 55);
    const got = client.deserializeDecryptDequantize(await server.run(client.quantizeEncryptSerialize(X)));
    const model = importOnnx(bytes).compile(iris.X);
    assert.deepEqual(got, await model.predict(X));

    // The PyTorch network: quantized on the calibration rows; without them, a message saying so.
    copyFileSync(fixturePath("mlp_breast_cancer.onnx"), join(dir, "mlp.onnx"));
    const exp = readJson<{ X: number[][] }>("mlp_breast_cancer.expected.json");
    writeFileSync(join(dir, "cancer.csv"), csv(loadCsv("breast_cancer.csv").X));
    const m = await run(CLI, ["compile", join(dir, "mlp.onnx"), "--calibration", join(dir, "cancer.csv"), "--out", join(dir, "mlp"), "--json"]);
    assert.equal(m.code, 0, m.stderr);
    const summary = JSON.parse(m.stdout);
    assert.equal(summary.linearOnly, false);
    assert.match(summary.parameters, /p6/, "6-bit lookups by default");
    const mlpClient = await ModelClient.load(join(dir, "mlp"));
    assert.equal(mlpClient.model?.spec.features, exp.X[0]!.length);
    assert.equal(mlpClient.linearOnly, false);
    const none = await run(CLI, ["compile", join(dir, "mlp.onnx"), "--out", join(dir, "mlp2")]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /mlp\.onnx: an ONNX network is quantized after training: pass --calibration/);
    assert.ok(!existsSync(join(dir, "mlp2")));

    // XGBoost JSON with calibration rows (counted for clipping; the rank encoding needs none).
    copyFileSync(fixturePath("xgb_iris.json"), join(dir, "xgb.json"));
    const x = await run(CLI, ["compile", join(dir, "xgb.json"), "--calibration", join(dir, "iris.csv"), "--out", join(dir, "xgb"), "--json"]);
    assert.equal(x.code, 0, x.stderr);
    assert.equal(JSON.parse(x.stdout).linearOnly, false);

    // Bytes that are neither JSON nor named .onnx.
    writeFileSync(join(dir, "model.bin"), readFileSync(join(dir, "mlp.onnx")));
    const bin = await run(CLI, ["compile", join(dir, "model.bin"), "--out", join(dir, "bin")]);
    assert.equal(bin.code, 1);
    assert.match(bin.stderr, /model\.bin: not JSON .*an ONNX model must be named \*\.onnx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("umbra compile: an skl2onnx-style pipeline (Imputer, centering, LinearClassifier) with its weights in a file beside the model; the bundle's client imputes NaN; UBJSON named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-cli-import-"));
  try {
    const iris = loadCsv("iris.csv");
    const lr = new LogisticRegression().fit(iris.X, iris.y);
    const mean = [0, 1, 2, 3].map((j) => iris.X.reduce((a, r) => a + r[j]!, 0) / iris.X.length);
    // The centering constants in an external file, as exporters store large tensors.
    writeFileSync(join(dir, "mean.bin"), float32Bytes(mean));
    const bytes = buildOnnx({
      features: 4, outputs: [{ name: "label", type: "int64" }, { name: "proba" }], initializers: { mu: { dims: [4], data: mean, external: { location: "mean.bin", offset: 0 } } },
      nodes: [
        { op: "Imputer", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["imp"], attrs: { imputed_value_floats: { floats: mean }, replaced_value_float: NaN } },
        { op: "Sub", inputs: ["imp", "mu"], outputs: ["centered"] },
        { op: "LinearClassifier", domain: "ai.onnx.ml", inputs: ["centered"], outputs: ["label", "proba"], attrs: { coefficients: { floats: [0, 1, 2].flatMap((k) => lr.coef.map((r) => r[k]!)) }, intercepts: { floats: [0, 1, 2].map((k) => lr.intercept[k]! + lr.coef.reduce((a, r, j) => a + r[k]! * mean[j]!, 0)) }, classlabels_ints: [0, 1, 2], post_transform: "SOFTMAX" } },
      ],
    });
    writeFileSync(join(dir, "pipe.onnx"), bytes);
    writeFileSync(join(dir, "iris.csv"), csv(iris.X));
    const c = await run(CLI, ["compile", join(dir, "pipe.onnx"), "--calibration", join(dir, "iris.csv"), "--out", join(dir, "pipe"), "--json"]);
    assert.equal(c.code, 0, c.stderr);
    const client = await ModelClient.load(join(dir, "pipe"));
    client.keygen();
    const server = await ModelServer.load(join(dir, "pipe"));
    const X = iris.X.slice(45, 53).map((r, i) => r.map((v, j) => (i % 3 === 0 && j === i % 4 ? NaN : v)));
    const got = client.deserializeDecryptDequantize(await server.run(client.quantizeEncryptSerialize(X)));
    const model = importOnnx(bytes, { externalData: () => float32Bytes(mean) }).compile(iris.X);
    assert.deepEqual(got, await model.predict(X));

    writeFileSync(join(dir, "model.ubj"), new Uint8Array([0x7b, 0x55, 0x07, ...new TextEncoder().encode("learner"), 0x7b]));
    const ubj = await run(CLI, ["compile", join(dir, "model.ubj"), "--out", join(dir, "ubj")]);
    assert.equal(ubj.code, 1);
    assert.match(ubj.stderr, /UBJSON.*save the model as JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("umbra compile cnn.onnx with quantization flags: the bundle is the model compiled with those options and predicts as it does in FHE; the flags are refused for non-network models", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-cli-ptq-"));
  try {
    const digits = loadCsv("digits.csv");
    const calib = digits.X.slice(0, 300);
    writeFileSync(join(dir, "calib.csv"), csv(calib));
    const onnx = fixturePath("cnn_digits.onnx").pathname;
    const flags = ["--input-bits", "6", "--weight-bits", "5", "--activation-bits", "4", "--rounding-bits", "4"];
    const c = await run(CLI, ["compile", onnx, "--calibration", join(dir, "calib.csv"), "--out", join(dir, "cnn"), ...flags, "--json"]);
    assert.equal(c.code, 0, c.stderr);
    const inProcess = importOnnx(new Uint8Array(readFileSync(onnx))).compile(calib, { nBits: { inputs: 6, weights: 5, activations: 4 }, roundingThresholdBits: 4 });
    assert.equal(JSON.parse(c.stdout).parameters, inProcess.statistics.parameters.name, "the flags reach the quantization");
    const defaults = await run(CLI, ["compile", onnx, "--calibration", join(dir, "calib.csv"), "--out", join(dir, "cnn-default"), "--json"]);
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.notEqual(JSON.parse(defaults.stdout).parameters, JSON.parse(c.stdout).parameters, "4-bit lookups choose other parameters than the default 6");
    const client = await ModelClient.load(join(dir, "cnn"));
    client.keygen();
    const server = await ModelServer.load(join(dir, "cnn"));
    try {
      const X = digits.X.slice(1500, 1501);
      const got = client.deserializeDecryptDequantize(await server.run(client.quantizeEncryptSerialize(X), client.evaluationKeys()!));
      assert.deepEqual(got, await inProcess.predict(X));
    } finally {
      await inProcess.close();
    }
    // On a model without network layers the flags are an error, not silently ignored.
    writeFileSync(join(dir, "xgb.json"), readFileSync(fixturePath("xgb_iris.json")));
    const bad = await run(CLI, ["compile", join(dir, "xgb.json"), "--out", join(dir, "xgb"), "--rounding-bits", "4"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /apply to ONNX networks only/);
    const badBits = await run(CLI, ["compile", onnx, "--calibration", join(dir, "calib.csv"), "--out", join(dir, "x"), "--input-bits", "zero"]);
    assert.equal(badBits.code, 1);
    assert.match(badBits.stderr, /--input-bits "zero": expected a positive integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
