// The diagnosis model through its deployed halves (client and server bundles, bytes only, real
// parameters): every test row's encrypted diagnosis and scores equal the clear quantized model's, and
// the test accuracy in FHE is what docs/demos.md states.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelClient, ModelDev, ModelServer } from "../../src/deploy/index.js";
import { accuracy } from "../../src/ml/index.js";
import { DIAGNOSIS_MODEL_ID, trainDiagnosisModel } from "../../src/demos/health.js";
import { symptomRows, topDiagnoses } from "../../src/demos/symptoms.js";

test("diagnosis: encrypted predictions and scores of the 41 test rows equal the clear model's; accuracy 41/41", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-health-"));
  const model = trainDiagnosisModel();
  try {
    const { X, y } = symptomRows("test");
    assert.equal(accuracy(y, model.predictFloat(X)), 1);
    assert.equal(model.statistics.pbsCount, 0, "a linear model: no bootstrapping");
    await ModelDev.save(model, join(dir, DIAGNOSIS_MODEL_ID), { id: DIAGNOSIS_MODEL_ID });
    const server = await ModelServer.load(join(dir, DIAGNOSIS_MODEL_ID));
    const client = await ModelClient.load(join(dir, DIAGNOSIS_MODEL_ID));
    client.keygen();
    assert.equal(client.evaluationKeys(), undefined, "no evaluation keys to upload");
    const classes = client.model!.spec.classes as string[];
    const clearProba = await model.predictProba(X), clearLabels = await model.predict(X);
    let correct = 0;
    for (let i = 0; i < X.length; i++) {
      const response = await server.run(client.quantizeEncryptSerialize([X[i]!]));
      const [label] = client.deserializeDecryptDequantize(response) as string[];
      const [proba] = client.deserializeDecryptProbabilities(response);
      assert.equal(label, clearLabels[i]);
      assert.deepEqual(proba, clearProba[i]);
      const top = topDiagnoses(proba!, classes, 3);
      assert.equal(top[0]!.disease, label);
      assert.ok(top[0]!.probability > top[1]!.probability);
      if (label === y[i]) correct++;
    }
    assert.equal(correct, 41);
  } finally {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
