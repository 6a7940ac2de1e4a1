// The demo's iris decision tree (depth 3) for the client tests, trained on four flowers in five; the fifth
// are the rows to predict. Small batches keep each encrypted prediction short.
import { IRIS, IRIS_SPECIES } from "../../src/cli/data/iris.js";
import { DecisionTreeClassifier } from "../../src/ml/index.js";

export function irisTree(batchSize: number): { model: DecisionTreeClassifier; test: number[][] } {
  const features = (rows: typeof IRIS) => rows.map((r) => [r[0], r[1], r[2], r[3]]);
  const train = IRIS.filter((_, i) => i % 5 !== 0), test = IRIS.filter((_, i) => i % 5 === 0);
  const model = new DecisionTreeClassifier({ maxDepth: 3 }).fit(features(train), train.map((r) => IRIS_SPECIES[r[4]]!));
  model.compile(features(train), { batchSize });
  return { model, test: features(test) };
}
