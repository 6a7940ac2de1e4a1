// The health demo's model: multinomial logistic regression on the 132 binary symptoms, trained on the
// distinct rows of the training file (each appears about 16 times there; one copy each trains in a tenth
// of the time to the same test accuracy). Its encrypted inference is one quantized affine map — 41 sums
// of the ticked symptoms' integer weights — with no lookup: no evaluation keys, no bootstrapping, a few
// milliseconds per diagnosis; the client decrypts the 41 scores and applies the softmax. docs/demos.md
// compares it with the tree models (which need thousands of times longer per diagnosis in FHE).
import { LogisticRegression } from "../ml/index.js";
import { distinctTrainingRows } from "./symptoms.js";

export const DIAGNOSIS_MODEL_ID = "diagnosis";

/** Trains and compiles the model (deterministic: same data, same weights, same circuit). */
export function trainDiagnosisModel(): LogisticRegression {
  const { X, y } = distinctTrainingRows();
  // Symptoms are 0/1: one bit per feature is exact; one row per encrypted run (a person's symptoms).
  return new LogisticRegression({ nBits: 1 }).fit(X, y).compile(X, { batchSize: 1 });
}
