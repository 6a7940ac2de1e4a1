// Deployment: the model client (text) and the compiler's server half (bytes) decoded afresh, keys made on
// the client, evaluation keys and ciphertexts the only things the server receives; predictions equal the
// model's own, at real parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitServer } from "../../src/compiler/index.js";
import { importXGBoost, LogisticRegression, MlInputError, ModelClient, PoissonRegressor } from "../../src/ml/index.js";
import { loadCsv, readJson, trainTestSplit } from "./helpers.js";

function serve(server: CircuitServer, client: ModelClient, X: number[][]): { responses: Uint8Array[]; rows: number } {
  const remote = CircuitServer.deserialize(server.serialize());
  const evk = client.serializedEvaluationKeys();
  const keys = evk === undefined ? undefined : remote.loadKeys(evk);
  try {
    const { requests, rows } = client.encrypt(X);
    return { responses: requests.map((r) => remote.run(r, keys)), rows };
  } finally {
    keys?.free();
  }
}

test("deployed linear models: client text + server bytes give the model's predictions and probabilities (no evaluation key)", async () => {
  const cancer = loadCsv("breast_cancer.csv");
  const s = trainTestSplit(cancer.X, cancer.y, 0.25, 21);
  const model = new LogisticRegression().fit(s.Xtrain, s.ytrain.map((c) => (c === 1 ? "benign" : "malignant"))).compile(s.Xtrain, { batchSize: 8 });
  const { client: c0, server } = model.deployment();
  const client = ModelClient.deserialize(c0.serialize());
  client.keygen();
  assert.equal(client.serializedEvaluationKeys(), undefined);
  const rows = s.Xtest.slice(0, 13);
  const { responses, rows: n } = serve(server, client, rows);
  assert.equal(responses.length, 2);
  assert.deepEqual(client.predict(responses, n), await model.predict(rows));
  assert.deepEqual(client.predictProba(responses, n), await model.predictProba(rows));
  assert.throws(() => client.predict(responses.slice(1), n), /expected 2 responses for 13 rows/);
  assert.throws(() => client.encrypt([[1, 2]]), /expected 30 features per row/);
  assert.throws(() => ModelClient.deserialize("{}"), MlInputError);

  const diabetes = loadCsv("diabetes.csv");
  const glm = new PoissonRegressor({ alpha: 1e-3 }).fit(diabetes.X, diabetes.y).compile(diabetes.X);
  const dep = glm.deployment();
  dep.client.keygen();
  const out = serve(dep.server, dep.client, diabetes.X.slice(0, 3));
  assert.deepEqual(dep.client.predict(out.responses, out.rows), await glm.predict(diabetes.X.slice(0, 3)));
  assert.throws(() => dep.client.predictProba(out.responses, out.rows), /no probabilities/);
});

test("deployed imported XGBoost model at real parameters: the server sees evaluation keys and ciphertexts only", async () => {
  const exp = readJson<{ X: number[][]; predictions: number[] }>("xgb_iris.expected.json");
  const model = importXGBoost(readJson("xgb_iris.json")).compile();
  const { client: c0, server } = model.deployment();
  const client = ModelClient.deserialize(c0.serialize());
  client.keygen();
  const rows = exp.X.slice(5, 7);
  const { responses, rows: n } = serve(server, client, rows);
  assert.deepEqual(client.predict(responses, n), exp.predictions.slice(5, 7));
  assert.deepEqual(client.predictProba(responses, n), await model.predictProba(rows));
  await model.close();
});
