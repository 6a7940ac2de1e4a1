// What the imported tree ensembles (XGBoost JSON, ONNX TreeEnsemble*) share on top of TreeModelBase: one
// class serves a classifier or a regressor, chosen by the imported model, so predict/score dispatch on it.
import type { MatrixLike } from "../data.js";
import { type Label, valuesOf } from "../decode.js";
import { MlInputError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import { TreeModelBase } from "./base.js";
import { toVector } from "../data.js";
import { r2Score } from "../metrics.js";

export abstract class ImportedTreeModel extends TreeModelBase {
  /** True when the imported model predicts values rather than labels. */
  protected abstract get regression(): boolean;

  get isClassifier(): boolean { return !this.regression; }

  /** Class labels (classifiers) or values (regressors). */
  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[] | number[]> {
    const raw = await this.raw(X, options);
    return this.regression ? valuesOf(raw.data, this.link) : this.labelsOf(raw);
  }

  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    if (this.regression) throw new MlInputError("predictProba: the imported model is a regressor");
    return this.probaOf(await this.raw(X, options));
  }

  /** The float model's own predictions (the rank encoding decides every split as the float model does). */
  predictFloat(X: MatrixLike): Label[] | number[] {
    const raw = this.rawFloat(X);
    return this.regression ? valuesOf(raw.data, this.link) : this.labelsOf(raw);
  }

  async score(X: MatrixLike, y: readonly Label[] | readonly number[], options: PredictOptions = {}): Promise<number> {
    if (!this.regression) return this.scoreClassification(X, y, options);
    const p = (await this.predict(X, options)) as number[];
    return r2Score(toVector(y as number[], p.length), p);
  }
}
