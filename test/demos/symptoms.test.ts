// The health demo's bundled data: the packed module rebuilds the source files byte for byte (their
// recorded SHA-256), decodes into 0/1 rows with readable, distinct names, and ranks diagnoses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FILES } from "../../src/demos/data/symptoms.js";
import { DISEASES, SYMPTOMS, SYMPTOM_COLUMNS, distinctTrainingRows, symptomRows, symptomsCsv, topDiagnoses } from "../../src/demos/symptoms.js";

test("the packed data rebuilds both files exactly and decodes into 0/1 rows", () => {
  for (const split of ["train", "test"] as const) {
    assert.equal(createHash("sha256").update(symptomsCsv(split)).digest("hex"), FILES[split].sha256, `${split}: rebuilt bytes`);
  }
  const train = symptomRows("train"), test = symptomRows("test");
  assert.equal(train.X.length, 4920);
  assert.equal(test.X.length, 41);
  assert.equal(SYMPTOM_COLUMNS.length, 132);
  assert.ok(train.X.every((r) => r.length === 132 && r.every((v) => v === 0 || v === 1)));
  assert.equal(new Set(train.y).size, 41);
  assert.deepEqual(new Set(test.y), new Set(train.y));
  assert.equal(distinctTrainingRows().X.length, 304);
  // The file's first row: itching, skin rash, nodal skin eruptions, dischromic patches → fungal infection.
  assert.deepEqual(train.X[0]!.flatMap((v, j) => (v === 1 ? [SYMPTOMS[j]] : [])), ["itching", "skin rash", "nodal skin eruptions", "dischromic patches"]);
  assert.equal(train.y[0], "Fungal infection");
});

test("readable names are distinct (the repeated column gets a suffix) and trimmed", () => {
  assert.equal(new Set(SYMPTOMS).size, SYMPTOMS.length);
  assert.ok(SYMPTOMS.includes("fluid overload (2)"));
  assert.ok(SYMPTOMS.includes("spotting urination"));
  assert.ok(DISEASES.includes("Diabetes") && DISEASES.includes("Hypertension"));
  assert.ok(DISEASES.every((d) => d === d.trim()));
});

test("topDiagnoses ranks by probability, ties in class order, and checks its input", () => {
  assert.deepEqual(topDiagnoses([0.1, 0.5, 0.1, 0.3], ["a", "b", "c", "d"], 3), [
    { disease: "b", probability: 0.5 }, { disease: "d", probability: 0.3 }, { disease: "a", probability: 0.1 },
  ]);
  assert.throws(() => topDiagnoses([1], ["a", "b"]), /expected 2 probabilities/);
});
