// What the imported tree ensembles (XGBoost JSON, ONNX TreeEnsemble*) share on top of TreeModelBase: one
// class serves a classifier or a regressor, chosen by the imported model, so predict/score dispatch on it.
import type { MatrixLike } from "../data.js";
import type { Label } from "../decode.js";
import { MlInputError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import { TreeModelBase } from "./base.js";

export abstract class ImportedTreeModel extends TreeModelBase {
  /** True when the imported model predicts values rather than labels. */
  protected abstract get regression(): boolean;

  get isClassifier(): boolean { return !this.regression; }

  /** Class labels (classifiers) or values (regressors). */
  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[] | number[]> {
    const raw = await this.raw(X, options);
    return this.regression ? Array.from(raw.data) : this.labelsOf(raw);
  }

  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    if (this.regression) throw new MlInputError("predictProba: the imported model is a regressor");
    return this.probaOf(await this.raw(X, options));
  }

  /** The float model's own predictions (the rank encoding decides every split as the float model does). */
  predictFloat(X: MatrixLike): Label[] | number[] {
    const raw = this.rawFloat(X);
    return this.regression ? Array.from(raw.data) : this.labelsOf(raw);
  }

  score(X: MatrixLike, y: readonly Label[] | readonly number[], options: PredictOptions = {}): Promise<number> {
    return this.regression ? this.scoreRegression(X, y as number[], options) : this.scoreClassification(X, y, options);
  }
}
