// The linear estimators. Constructors take hyper-parameters only; fit(X, y) trains in float; compile(X)
// quantizes and builds the circuit; predict(X, { fhe }) runs the quantized model.
import { codesOf, encodeLabels, type Matrix, type MatrixLike, toMatrix, toVector } from "../data.js";
import { MlInputError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import { type Label, type Link, labelsOf, probabilitiesOf, valuesOf } from "../decode.js";
import { accuracy, d2Score, r2Score } from "../metrics.js";
import { positive } from "../options.js";
import { LinearBase, type LinearModelJSON, type LinearOptions } from "./base.js";
import {
  fitElasticNet, fitLeastSquares, fitSmooth, gammaLoss, type LinearFit, logisticLoss, poissonLoss, softmaxLoss,
  squaredEpsilonInsensitive, squaredHingeLoss,
} from "./train.js";

function iterations(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new MlInputError(`maxIter: expected a positive integer, got ${String(v)}`);
  return v;
}

abstract class LinearRegressorBase extends LinearBase {
  protected abstract train(X: Matrix, y: Float64Array): LinearFit;
  protected get link(): Link { return "identity"; }

  fit(X: MatrixLike, y: readonly number[] | Float64Array): this {
    const M = toMatrix(X);
    this.setFit(this.train(M, toVector(y, M.rows)), M.cols);
    return this;
  }

  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<number[]> {
    return Array.from((await this.scores(X, options)).data);
  }

  /** Predictions of the float model. */
  predictFloat(X: MatrixLike): number[] {
    return Array.from(this.floatScores(X).data);
  }

  /** R² of the predictions in the chosen mode. */
  async score(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions = {}): Promise<number> {
    const p = await this.predict(X, options);
    return r2Score(toVector(y, p.length), p);
  }
}

/** Ordinary least squares (normal equations). */
export class LinearRegression extends LinearRegressorBase {
  protected get modelName(): string { return "LinearRegression"; }
  protected get params(): Record<string, unknown> { return {}; }
  protected train(X: Matrix, y: Float64Array): LinearFit { return fitLeastSquares(X, y, 0); }
  static fromJSON(j: LinearModelJSON): LinearRegression { return new LinearRegression(j.params as LinearOptions).restore(j); }
}

export interface RidgeOptions extends LinearOptions { readonly alpha?: number }

/** ‖y − Xw − b‖² + α‖w‖² (scikit-learn's Ridge; α = 1 by default). */
export class Ridge extends LinearRegressorBase {
  readonly alpha: number;
  constructor(options: RidgeOptions = {}) {
    super(options);
    this.alpha = positive(options.alpha, "alpha", 1, true);
  }
  protected get modelName(): string { return "Ridge"; }
  protected get params(): Record<string, unknown> { return { alpha: this.alpha }; }
  protected train(X: Matrix, y: Float64Array): LinearFit { return fitLeastSquares(X, y, this.alpha); }
  static fromJSON(j: LinearModelJSON): Ridge { return new Ridge(j.params as RidgeOptions).restore(j); }
}

export interface ElasticNetOptions extends LinearOptions {
  readonly alpha?: number;
  readonly l1Ratio?: number;
  readonly maxIter?: number;
  readonly tol?: number;
}

/** (1/2n)‖y − Xw − b‖² + α·ρ‖w‖₁ + ½α(1 − ρ)‖w‖² by coordinate descent (scikit-learn's ElasticNet). */
export class ElasticNet extends LinearRegressorBase {
  readonly alpha: number;
  readonly l1Ratio: number;
  readonly maxIter: number;
  readonly tol: number;
  constructor(options: ElasticNetOptions = {}) {
    super(options);
    this.alpha = positive(options.alpha, "alpha", 1, true);
    this.l1Ratio = positive(options.l1Ratio, "l1Ratio", this.defaultL1Ratio, true);
    if (this.l1Ratio > 1) throw new MlInputError(`l1Ratio: expected a number in [0, 1], got ${this.l1Ratio}`);
    this.maxIter = iterations(options.maxIter, 1000);
    this.tol = positive(options.tol, "tol", 1e-4);
  }
  protected get defaultL1Ratio(): number { return 0.5; }
  protected get modelName(): string { return "ElasticNet"; }
  protected get params(): Record<string, unknown> { return { alpha: this.alpha, l1Ratio: this.l1Ratio, maxIter: this.maxIter, tol: this.tol }; }
  protected train(X: Matrix, y: Float64Array): LinearFit { return fitElasticNet(X, y, this.alpha, this.l1Ratio, this.maxIter, this.tol); }
  static fromJSON(j: LinearModelJSON): ElasticNet { return new ElasticNet(j.params as ElasticNetOptions).restore(j); }
}

/** The elastic net with ρ = 1: (1/2n)‖y − Xw − b‖² + α‖w‖₁ (scikit-learn's Lasso). */
export class Lasso extends ElasticNet {
  constructor(options: Omit<ElasticNetOptions, "l1Ratio"> = {}) {
    super({ ...options, l1Ratio: 1 });
  }
  protected override get defaultL1Ratio(): number { return 1; }
  protected override get modelName(): string { return "Lasso"; }
  protected override get params(): Record<string, unknown> { return { alpha: this.alpha, maxIter: this.maxIter, tol: this.tol }; }
  static override fromJSON(j: LinearModelJSON): Lasso { return new Lasso(j.params as ElasticNetOptions).restore(j); }
}

export interface LinearSVROptions extends LinearOptions {
  readonly C?: number;
  readonly epsilon?: number;
  readonly maxIter?: number;
}

/**
 * C·Σ max(0, |y − f(x)| − ε)² + ½‖w‖²: scikit-learn's LinearSVR with loss="squared_epsilon_insensitive"
 * (its default is the non-smooth "epsilon_insensitive"; the intercept is not penalized here).
 */
export class LinearSVR extends LinearRegressorBase {
  readonly C: number;
  readonly epsilon: number;
  readonly maxIter: number;
  constructor(options: LinearSVROptions = {}) {
    super(options);
    this.C = positive(options.C, "C", 1);
    this.epsilon = positive(options.epsilon, "epsilon", 0, true);
    this.maxIter = iterations(options.maxIter, 2000);
  }
  protected get modelName(): string { return "LinearSVR"; }
  protected get params(): Record<string, unknown> { return { C: this.C, epsilon: this.epsilon, maxIter: this.maxIter }; }
  protected train(X: Matrix, y: Float64Array): LinearFit {
    return fitSmooth(X, y, 1, squaredEpsilonInsensitive(this.epsilon), this.C, this.maxIter, 1e-9);
  }
  static fromJSON(j: LinearModelJSON): LinearSVR { return new LinearSVR(j.params as LinearSVROptions).restore(j); }
}

export interface GlmOptions extends LinearOptions {
  /** L2 penalty: the objective is (1/n)·Σ half-deviance + (α/2)‖w‖² (scikit-learn's; α = 1 by default). */
  readonly alpha?: number;
  readonly maxIter?: number;
}

/**
 * Generalized linear models with the log link: the server computes the quantized linear predictor η = Xw + b,
 * the client returns μ = e^η. Fitted by Newton's method on scikit-learn's objective.
 */
abstract class LogLinkRegressor extends LinearRegressorBase {
  readonly alpha: number;
  readonly maxIter: number;
  constructor(options: GlmOptions = {}) {
    super(options);
    this.alpha = positive(options.alpha, "alpha", 1);
    this.maxIter = iterations(options.maxIter, 100);
  }
  protected abstract get family(): "poisson" | "gamma";
  protected override get link(): Link { return "exp"; }
  protected get params(): Record<string, unknown> { return { alpha: this.alpha, maxIter: this.maxIter }; }
  protected train(X: Matrix, y: Float64Array): LinearFit {
    const bad = this.family === "poisson" ? y.findIndex((v) => v < 0) : y.findIndex((v) => !(v > 0));
    if (bad >= 0) throw new MlInputError(`y[${bad}] = ${y[bad]}: ${this.modelName} needs ${this.family === "poisson" ? "non-negative" : "positive"} targets`);
    // (1/n)Σℓ + (α/2)‖w‖² has the minimizer of C·Σℓ + ½‖w‖² with C = 1/(nα).
    return fitSmooth(X, y, 1, this.family === "poisson" ? poissonLoss : gammaLoss, 1 / (X.rows * this.alpha), this.maxIter, 1e-10);
  }
  override async predict(X: MatrixLike, options: PredictOptions = {}): Promise<number[]> {
    return valuesOf((await this.scores(X, options)).data, "exp");
  }
  override predictFloat(X: MatrixLike): number[] {
    return valuesOf(this.floatScores(X).data, "exp");
  }
  /** D², the fraction of deviance explained (as scikit-learn scores its GLMs). */
  override async score(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions = {}): Promise<number> {
    const p = await this.predict(X, options);
    return d2Score(toVector(y, p.length), p, this.family);
  }
}

/** Poisson regression (scikit-learn's PoissonRegressor): counts, μ = e^(Xw + b). */
export class PoissonRegressor extends LogLinkRegressor {
  protected get modelName(): string { return "PoissonRegressor"; }
  protected get family(): "poisson" { return "poisson"; }
  static fromJSON(j: LinearModelJSON): PoissonRegressor { return new PoissonRegressor(j.params as GlmOptions).restore(j); }
}

/** Gamma regression (scikit-learn's GammaRegressor): positive targets, μ = e^(Xw + b). */
export class GammaRegressor extends LogLinkRegressor {
  protected get modelName(): string { return "GammaRegressor"; }
  protected get family(): "gamma" { return "gamma"; }
  static fromJSON(j: LinearModelJSON): GammaRegressor { return new GammaRegressor(j.params as GlmOptions).restore(j); }
}

abstract class LinearClassifierBase extends LinearBase {
  protected classes_: Label[] = [];

  get classes(): Label[] {
    return [...this.classes_];
  }

  protected abstract trainCodes(X: Matrix, codes: Int32Array, K: number): LinearFit;

  fit(X: MatrixLike, y: readonly Label[]): this {
    const M = toMatrix(X);
    const { classes, codes } = encodeLabels(y, M.rows);
    this.classes_ = classes;
    this.setFit(this.trainCodes(M, codes, classes.length), M.cols);
    return this;
  }

  /** Scores per class (one score, for the second class, when there are two classes). */
  async decisionFunction(X: MatrixLike, options: PredictOptions = {}): Promise<number[] | number[][]> {
    return this.#shape(await this.scores(X, options));
  }

  decisionFunctionFloat(X: MatrixLike): number[] | number[][] {
    return this.#shape(this.floatScores(X));
  }

  #shape(s: { rows: number; data: Float64Array }): number[] | number[][] {
    const K = s.data.length / s.rows;
    return K === 1 ? Array.from(s.data) : Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }

  protected override get labels(): readonly Label[] {
    return this.classes_;
  }

  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[]> {
    const s = await this.scores(X, options);
    return labelsOf(s.data, s.rows, this.classes_);
  }

  predictFloat(X: MatrixLike): Label[] {
    const s = this.floatScores(X);
    return labelsOf(s.data, s.rows, this.classes_);
  }

  /** Accuracy of the predictions in the chosen mode; labels unseen at fit are an error. */
  async score(X: MatrixLike, y: readonly Label[], options: PredictOptions = {}): Promise<number> {
    const p = await this.predict(X, options);
    codesOf(y, this.classes_, p.length);
    return accuracy(y, p);
  }

  protected override extraJSON(): Partial<LinearModelJSON> {
    return { classes: [...this.classes_] };
  }

  protected restoreClasses(j: LinearModelJSON): this {
    const c = j.classes;
    if (!Array.isArray(c) || c.length < 2 || new Set(c).size !== c.length) throw new MlInputError("fromJSON: a classifier needs its distinct classes");
    if (j.outputs !== (c.length === 2 ? 1 : c.length)) throw new MlInputError(`fromJSON: ${c.length} classes need ${c.length === 2 ? 1 : c.length} outputs, got ${j.outputs}`);
    this.restore(j);
    this.classes_ = [...c];
    return this;
  }
}

export interface LogisticRegressionOptions extends LinearOptions {
  /** Inverse regularization strength (default 1). */
  readonly C?: number;
  readonly maxIter?: number;
}

/**
 * C·Σ log-loss + ½‖w‖² by L-BFGS, as scikit-learn's LogisticRegression (lbfgs, L2): binary with one score,
 * multinomial (softmax over one score per class) for three classes or more.
 */
export class LogisticRegression extends LinearClassifierBase {
  readonly C: number;
  readonly maxIter: number;
  constructor(options: LogisticRegressionOptions = {}) {
    super(options);
    this.C = positive(options.C, "C", 1);
    this.maxIter = iterations(options.maxIter, 1000);
  }
  protected get modelName(): string { return "LogisticRegression"; }
  protected get link(): Link { return this.classes_.length === 2 ? "logistic" : "softmax"; }
  protected get params(): Record<string, unknown> { return { C: this.C, maxIter: this.maxIter }; }
  protected trainCodes(X: Matrix, codes: Int32Array, K: number): LinearFit {
    const t = Float64Array.from(codes);
    return K === 2 ? fitSmooth(X, t, 1, logisticLoss, this.C, this.maxIter, 1e-9) : fitSmooth(X, t, K, softmaxLoss, this.C, this.maxIter, 1e-9);
  }

  /** Class probabilities: the sigmoid (two classes) or softmax of the decrypted scores, in the clear. */
  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    const s = await this.scores(X, options);
    return probabilitiesOf(s.data, s.rows, this.link);
  }

  predictProbaFloat(X: MatrixLike): number[][] {
    const s = this.floatScores(X);
    return probabilitiesOf(s.data, s.rows, this.link);
  }

  static fromJSON(j: LinearModelJSON): LogisticRegression { return new LogisticRegression(j.params as LogisticRegressionOptions).restoreClasses(j); }
}

export interface LinearSVCOptions extends LinearOptions {
  readonly C?: number;
  readonly maxIter?: number;
}

/**
 * C·Σ max(0, 1 − y·f(x))² + ½‖w‖² (scikit-learn's LinearSVC default loss, squared hinge), one-vs-rest for
 * three classes or more. Unlike liblinear, the intercept is not penalized.
 */
export class LinearSVC extends LinearClassifierBase {
  readonly C: number;
  readonly maxIter: number;
  constructor(options: LinearSVCOptions = {}) {
    super(options);
    this.C = positive(options.C, "C", 1);
    this.maxIter = iterations(options.maxIter, 2000);
  }
  protected get modelName(): string { return "LinearSVC"; }
  protected get link(): Link { return "margin"; }
  protected get params(): Record<string, unknown> { return { C: this.C, maxIter: this.maxIter }; }
  protected trainCodes(X: Matrix, codes: Int32Array, K: number): LinearFit {
    const one = (positive: number): LinearFit => fitSmooth(X, Float64Array.from(codes, (c) => (c === positive ? 1 : -1)), 1, squaredHingeLoss, this.C, this.maxIter, 1e-9);
    if (K === 2) return one(1);
    const fits = Array.from({ length: K }, (_, k) => one(k));
    const coef = new Float64Array(X.cols * K);
    for (let j = 0; j < X.cols; j++) for (let k = 0; k < K; k++) coef[j * K + k] = fits[k]!.coef[j]!;
    return {
      coef, intercept: Float64Array.from(fits, (f) => f.intercept[0]!), outputs: K,
      iterations: Math.max(...fits.map((f) => f.iterations)), converged: fits.every((f) => f.converged),
    };
  }
  static fromJSON(j: LinearModelJSON): LinearSVC { return new LinearSVC(j.params as LinearSVCOptions).restoreClasses(j); }
}
