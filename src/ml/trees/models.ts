// Tree estimators trained here (CART, random forests, gradient boosting in the manner of XGBoost) on features
// quantized at fit, so that the trees' thresholds are exact in the circuit's integer domain.
import { encodeLabels, type Matrix, type MatrixLike, toMatrix, toVector } from "../data.js";
import { MlInputError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import { int } from "../options.js";
import { AffineQuantizer, type AffineQuantizerJSON, checkBits, type QuantizeReport } from "../quantize.js";
import { type FeatureEncoder, TreeModelBase, type TreeModelJSON } from "./base.js";
import type { Label, Link } from "../decode.js";
import type { EncoderSpec } from "../deploy.js";
import { type Criterion, growTree } from "./cart.js";
import { type Ensemble, leafOf, type Tree } from "./ensemble.js";

export interface TreeOptions {
  /** Bits of each quantized feature (default 4: comparisons are lookups at this precision). */
  readonly nBits?: number;
  /** Bits of the quantized leaf values (default 4). */
  readonly leafBits?: number;
  readonly maxDepth?: number;
  readonly minSamplesSplit?: number;
  readonly minSamplesLeaf?: number;
  /** Seed of the training randomness (bootstrap, feature subsets); not cryptographic. */
  readonly randomState?: number;
}

export interface ForestOptions extends TreeOptions {
  readonly nEstimators?: number;
  /** Features tried per split: "sqrt", "all" or a count. */
  readonly maxFeatures?: "sqrt" | "all" | number;
  readonly bootstrap?: boolean;
}

export interface BoostingOptions extends TreeOptions {
  readonly nEstimators?: number;
  readonly learningRate?: number;
  /** L2 penalty on leaf weights (XGBoost's lambda), minimum split gain (gamma), minimum child hessian. */
  readonly lambda?: number;
  readonly gamma?: number;
  readonly minChildWeight?: number;
}

class QuantizerEncoder implements FeatureEncoder {
  constructor(readonly quantizer: AffineQuantizer) {}
  get features(): number { return this.quantizer.features; }
  get qmax(): number { return this.quantizer.qmax; }
  encode(X: Matrix): { q: Int32Array; report: QuantizeReport } { return this.quantizer.quantize(X); }
  toJSON(): AffineQuantizerJSON { return this.quantizer.toJSON(); }
  spec(): EncoderSpec { return { kind: "affine", quantizer: this.quantizer.toJSON() }; }
}

const quantizerFromJSON = (j: unknown): FeatureEncoder => new QuantizerEncoder(AffineQuantizer.fromJSON(j as AffineQuantizerJSON));

function num(v: unknown, what: string, fallback: number, lo: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < lo) throw new MlInputError(`${what}: expected a finite number ≥ ${lo}, got ${String(v)}`);
  return v;
}

/** xorshift32: reproducible training randomness (bootstrap, feature subsets), not for cryptography. */
function rng(seed: number): () => number {
  let s = (seed >>> 0) ^ 0x9e3779b9 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

abstract class TrainedTrees extends TreeModelBase {
  readonly nBits: number;
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  readonly randomState: number;

  constructor(options: TreeOptions, defaultDepth: number) {
    super(options);
    this.nBits = options.nBits ?? 4;
    checkBits(this.nBits, "nBits", 1, 8);
    this.maxDepth = int(options.maxDepth, "maxDepth", defaultDepth, 1, 12);
    this.minSamplesSplit = int(options.minSamplesSplit, "minSamplesSplit", 2, 2);
    this.minSamplesLeaf = int(options.minSamplesLeaf, "minSamplesLeaf", 1, 1);
    this.randomState = int(options.randomState, "randomState", 0, 0, 2 ** 32 - 1);
  }

  protected get baseParams(): Record<string, unknown> {
    return { nBits: this.nBits, maxDepth: this.maxDepth, minSamplesSplit: this.minSamplesSplit, minSamplesLeaf: this.minSamplesLeaf, randomState: this.randomState };
  }

  /** Quantizes X on its own range (fit) and trains the ensemble on the integers. */
  protected fitQuantized(X: MatrixLike, train: (q: Int32Array, M: Matrix) => Ensemble): void {
    const M = toMatrix(X);
    const quantizer = AffineQuantizer.fit(M, this.nBits);
    const ensemble = train(quantizer.quantize(M).q, M);
    this.setModel(new QuantizerEncoder(quantizer), ensemble);
  }

  protected grow(q: Int32Array, M: Matrix, stats: Float64Array, dims: number, outputs: number, criterion: Criterion, rows: Int32Array, maxFeatures: number, random: () => number, extra: { lambda?: number; gamma?: number; minChildWeight?: number; eta?: number } = {}): Tree {
    return growTree(
      { q, features: M.cols, bins: 2 ** this.nBits, stats, dims, outputs },
      rows,
      { criterion, maxDepth: this.maxDepth, minSamplesSplit: this.minSamplesSplit, minSamplesLeaf: this.minSamplesLeaf, maxFeatures, random, ...extra },
    );
  }

  /**
   * Second-order gradient boosting as XGBoost does it (Chen & Guestrin 2016): each round fits one tree per
   * output to the gradients g and hessians h of the loss at the current margins; a leaf's weight is
   * −G/(H + λ) times the learning rate.
   */
  protected boost(q: Int32Array, M: Matrix, K: number, base: Float64Array, p: BoostingParams,
    gradients: (margin: Float64Array, g: Float64Array, h: Float64Array) => void): Ensemble {
    const n = M.rows, margin = new Float64Array(n * K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) margin[i * K + k] = base[k]!;
    const g = new Float64Array(n * K), h = new Float64Array(n * K);
    const trees: Tree[] = [];
    const extra = { lambda: p.lambda, gamma: p.gamma, minChildWeight: p.minChildWeight, eta: p.learningRate };
    for (let round = 0; round < p.nEstimators; round++) {
      gradients(margin, g, h);
      for (let k = 0; k < K; k++) {
        const stats = new Float64Array(n * 2);
        for (let i = 0; i < n; i++) {
          stats[2 * i] = g[i * K + k]!;
          stats[2 * i + 1] = h[i * K + k]!;
        }
        const t = this.grow(q, M, stats, 2, 1, "xgb", allRows(n), M.cols, () => 0, extra);
        // The one-output tree spread over K outputs (its class's column).
        const value = new Float64Array(t.feature.length * K);
        t.value.forEach((v, node) => (value[node * K + k] = v));
        trees.push({ ...t, value });
        for (let i = 0; i < n; i++) margin[i * K + k]! += t.value[leafOf(t, q, i * M.cols)]!;
      }
    }
    return { trees, outputs: K, base, scale: 1 };
  }
}

const allRows = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const bootstrapRows = (n: number, random: () => number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(random() * n));

function oneHot(codes: Int32Array, K: number): Float64Array {
  const s = new Float64Array(codes.length * K);
  codes.forEach((c, i) => (s[i * K + c] = 1));
  return s;
}

function regressionStats(y: Float64Array): Float64Array {
  const s = new Float64Array(y.length * 2);
  y.forEach((v, i) => {
    s[2 * i] = 1;
    s[2 * i + 1] = v;
  });
  return s;
}

abstract class TreeClassifier extends TrainedTrees {
  fit(X: MatrixLike, y: readonly Label[]): this {
    const M0 = toMatrix(X);
    const { classes, codes } = encodeLabels(y, M0.rows);
    this.classes_ = classes;
    this.fitQuantized(M0, (q, M) => this.trainClasses(q, M, codes, classes.length));
    return this;
  }
  protected abstract trainClasses(q: Int32Array, M: Matrix, codes: Int32Array, K: number): Ensemble;
  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[]> { return this.labelsOf(await this.raw(X, options)); }
  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> { return this.probaOf(await this.raw(X, options)); }
  predictFloat(X: MatrixLike): Label[] { return this.labelsOf(this.rawFloat(X)); }
  predictProbaFloat(X: MatrixLike): number[][] { return this.probaOf(this.rawFloat(X)); }
  score(X: MatrixLike, y: readonly Label[], options: PredictOptions = {}): Promise<number> { return this.scoreClassification(X, y, options); }
}

abstract class TreeRegressor extends TrainedTrees {
  fit(X: MatrixLike, y: readonly number[] | Float64Array): this {
    const M0 = toMatrix(X);
    const target = toVector(y, M0.rows);
    this.fitQuantized(M0, (q, M) => this.trainTargets(q, M, target));
    return this;
  }
  protected abstract trainTargets(q: Int32Array, M: Matrix, y: Float64Array): Ensemble;
  protected get link(): Link { return "identity"; }
  predict(X: MatrixLike, options: PredictOptions = {}): Promise<number[]> { return this.predictRegression(X, options); }
  predictFloat(X: MatrixLike): number[] { return Array.from(this.rawFloat(X).data); }
  score(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions = {}): Promise<number> { return this.scoreRegression(X, y, options); }
}

/** CART with the Gini criterion; leaves hold class distributions (default maxDepth 4). */
export class DecisionTreeClassifier extends TreeClassifier {
  constructor(options: TreeOptions = {}) { super(options, 4); }
  protected get modelName(): string { return "DecisionTreeClassifier"; }
  protected get params(): Record<string, unknown> { return this.baseParams; }
  protected get link(): Link { return "proba"; }
  protected trainClasses(q: Int32Array, M: Matrix, codes: Int32Array, K: number): Ensemble {
    const tree = this.grow(q, M, oneHot(codes, K), K, K, "gini", allRows(M.rows), M.cols, rng(this.randomState));
    return { trees: [tree], outputs: K, base: new Float64Array(K), scale: 1 };
  }
  static fromJSON(j: TreeModelJSON): DecisionTreeClassifier { return new DecisionTreeClassifier(j.params).restoreWith(j, quantizerFromJSON); }
}

/** CART with the squared-error criterion; leaves hold means (default maxDepth 4). */
export class DecisionTreeRegressor extends TreeRegressor {
  constructor(options: TreeOptions = {}) { super(options, 4); }
  protected get modelName(): string { return "DecisionTreeRegressor"; }
  protected get params(): Record<string, unknown> { return this.baseParams; }
  protected trainTargets(q: Int32Array, M: Matrix, y: Float64Array): Ensemble {
    const tree = this.grow(q, M, regressionStats(y), 2, 1, "mse", allRows(M.rows), M.cols, rng(this.randomState));
    return { trees: [tree], outputs: 1, base: new Float64Array(1), scale: 1 };
  }
  static fromJSON(j: TreeModelJSON): DecisionTreeRegressor { return new DecisionTreeRegressor(j.params).restoreWith(j, quantizerFromJSON); }
}

function forestParams(o: ForestOptions, classifier: boolean): { nEstimators: number; maxFeatures: "sqrt" | "all" | number; bootstrap: boolean } {
  const mf = o.maxFeatures ?? (classifier ? "sqrt" : "all");
  if (!(mf === "sqrt" || mf === "all" || (typeof mf === "number" && Number.isInteger(mf) && mf >= 1))) throw new MlInputError(`maxFeatures: expected "sqrt", "all" or a positive integer, got ${String(mf)}`);
  return { nEstimators: int(o.nEstimators, "nEstimators", 20, 1, 1000), maxFeatures: mf, bootstrap: o.bootstrap ?? true };
}

const featureCount = (mf: "sqrt" | "all" | number, F: number): number => (mf === "all" ? F : mf === "sqrt" ? Math.max(1, Math.floor(Math.sqrt(F))) : Math.min(mf, F));

/** Bagged CART trees with random feature subsets (Breiman 2001); probabilities averaged (default 20 trees of depth 4). */
export class RandomForestClassifier extends TreeClassifier {
  readonly nEstimators: number;
  readonly maxFeatures: "sqrt" | "all" | number;
  readonly bootstrap: boolean;
  constructor(options: ForestOptions = {}) {
    super(options, 4);
    ({ nEstimators: this.nEstimators, maxFeatures: this.maxFeatures, bootstrap: this.bootstrap } = forestParams(options, true));
  }
  protected get modelName(): string { return "RandomForestClassifier"; }
  protected get params(): Record<string, unknown> { return { ...this.baseParams, nEstimators: this.nEstimators, maxFeatures: this.maxFeatures, bootstrap: this.bootstrap }; }
  protected get link(): Link { return "proba"; }
  protected trainClasses(q: Int32Array, M: Matrix, codes: Int32Array, K: number): Ensemble {
    const random = rng(this.randomState), stats = oneHot(codes, K);
    const trees = Array.from({ length: this.nEstimators }, () =>
      this.grow(q, M, stats, K, K, "gini", this.bootstrap ? bootstrapRows(M.rows, random) : allRows(M.rows), featureCount(this.maxFeatures, M.cols), random));
    return { trees, outputs: K, base: new Float64Array(K), scale: 1 / trees.length };
  }
  static fromJSON(j: TreeModelJSON): RandomForestClassifier { return new RandomForestClassifier(j.params).restoreWith(j, quantizerFromJSON); }
}

/** Bagged regression trees, predictions averaged (default 20 trees of depth 4, all features per split). */
export class RandomForestRegressor extends TreeRegressor {
  readonly nEstimators: number;
  readonly maxFeatures: "sqrt" | "all" | number;
  readonly bootstrap: boolean;
  constructor(options: ForestOptions = {}) {
    super(options, 4);
    ({ nEstimators: this.nEstimators, maxFeatures: this.maxFeatures, bootstrap: this.bootstrap } = forestParams(options, false));
  }
  protected get modelName(): string { return "RandomForestRegressor"; }
  protected get params(): Record<string, unknown> { return { ...this.baseParams, nEstimators: this.nEstimators, maxFeatures: this.maxFeatures, bootstrap: this.bootstrap }; }
  protected trainTargets(q: Int32Array, M: Matrix, y: Float64Array): Ensemble {
    const random = rng(this.randomState), stats = regressionStats(y);
    const trees = Array.from({ length: this.nEstimators }, () =>
      this.grow(q, M, stats, 2, 1, "mse", this.bootstrap ? bootstrapRows(M.rows, random) : allRows(M.rows), featureCount(this.maxFeatures, M.cols), random));
    return { trees, outputs: 1, base: new Float64Array(1), scale: 1 / trees.length };
  }
  static fromJSON(j: TreeModelJSON): RandomForestRegressor { return new RandomForestRegressor(j.params).restoreWith(j, quantizerFromJSON); }
}

interface BoostingParams { nEstimators: number; learningRate: number; lambda: number; gamma: number; minChildWeight: number }

function boostingParams(o: BoostingOptions): BoostingParams {
  return {
    nEstimators: int(o.nEstimators, "nEstimators", 20, 1, 1000), learningRate: num(o.learningRate, "learningRate", 0.3, 0),
    lambda: num(o.lambda, "lambda", 1, 0), gamma: num(o.gamma, "gamma", 0, 0), minChildWeight: num(o.minChildWeight, "minChildWeight", 1, 0),
  };
}

/** Gradient-boosted trees for classification (log-loss; softmax for three classes or more), XGBoost-like. */
export class XGBClassifier extends TreeClassifier {
  readonly nEstimators: number;
  readonly learningRate: number;
  readonly lambda: number;
  readonly gamma: number;
  readonly minChildWeight: number;
  constructor(options: BoostingOptions = {}) {
    super(options, 3);
    ({ nEstimators: this.nEstimators, learningRate: this.learningRate, lambda: this.lambda, gamma: this.gamma, minChildWeight: this.minChildWeight } = boostingParams(options));
  }
  protected get modelName(): string { return "XGBClassifier"; }
  protected get params(): Record<string, unknown> { return { ...this.baseParams, nEstimators: this.nEstimators, learningRate: this.learningRate, lambda: this.lambda, gamma: this.gamma, minChildWeight: this.minChildWeight }; }
  protected get link(): Link { return this.classes_.length === 2 ? "logistic" : "softmax"; }
  protected trainClasses(q: Int32Array, M: Matrix, codes: Int32Array, K: number): Ensemble {
    const n = M.rows;
    if (K === 2) {
      const prior = Math.min(Math.max(codes.reduce((a, c) => a + c, 0) / n, 1e-6), 1 - 1e-6);
      return this.boost(q, M, 1, Float64Array.of(Math.log(prior / (1 - prior))), this, (m, g, h) => {
        for (let i = 0; i < n; i++) {
          const p = 1 / (1 + Math.exp(-m[i]!));
          g[i] = p - codes[i]!;
          h[i] = Math.max(p * (1 - p), 1e-16);
        }
      });
    }
    return this.boost(q, M, K, new Float64Array(K), this, (m, g, h) => {
      for (let i = 0; i < n; i++) {
        const r = m.subarray(i * K, (i + 1) * K), mx = Math.max(...r);
        let z = 0;
        for (let k = 0; k < K; k++) z += Math.exp(r[k]! - mx);
        for (let k = 0; k < K; k++) {
          const p = Math.exp(r[k]! - mx) / z;
          g[i * K + k] = p - (codes[i] === k ? 1 : 0);
          h[i * K + k] = Math.max(2 * p * (1 - p), 1e-16); // XGBoost's softmax hessian
        }
      }
    });
  }
  static fromJSON(j: TreeModelJSON): XGBClassifier { return new XGBClassifier(j.params).restoreWith(j, quantizerFromJSON); }
}

/** Gradient-boosted trees for regression (squared error), XGBoost-like. */
export class XGBRegressor extends TreeRegressor {
  readonly nEstimators: number;
  readonly learningRate: number;
  readonly lambda: number;
  readonly gamma: number;
  readonly minChildWeight: number;
  constructor(options: BoostingOptions = {}) {
    super(options, 3);
    ({ nEstimators: this.nEstimators, learningRate: this.learningRate, lambda: this.lambda, gamma: this.gamma, minChildWeight: this.minChildWeight } = boostingParams(options));
  }
  protected get modelName(): string { return "XGBRegressor"; }
  protected get params(): Record<string, unknown> { return { ...this.baseParams, nEstimators: this.nEstimators, learningRate: this.learningRate, lambda: this.lambda, gamma: this.gamma, minChildWeight: this.minChildWeight }; }
  protected trainTargets(q: Int32Array, M: Matrix, y: Float64Array): Ensemble {
    const n = M.rows, mean = y.reduce((a, b) => a + b, 0) / n;
    return this.boost(q, M, 1, Float64Array.of(mean), this, (m, g, h) => {
      for (let i = 0; i < n; i++) {
        g[i] = m[i]! - y[i]!;
        h[i] = 1;
      }
    });
  }
  static fromJSON(j: TreeModelJSON): XGBRegressor { return new XGBRegressor(j.params).restoreWith(j, quantizerFromJSON); }
}
