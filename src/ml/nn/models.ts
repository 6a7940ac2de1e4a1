// NeuralNetClassifier / NeuralNetRegressor: fully connected relu networks trained here with quantization-aware
// training (train.ts) on inputs quantized at fit, so that the trained network IS the integer circuit.
import { encodeLabels, type MatrixLike, toMatrix, toVector } from "../data.js";
import { type Label, labelsOf, type Link, probabilitiesOf } from "../decode.js";
import { MlInputError } from "../errors.js";
import type { MlCompileOptions, PredictOptions } from "../fhe.js";
import { int, positive } from "../options.js";
import { AffineQuantizer, type AffineQuantizerJSON, checkBits } from "../quantize.js";
import { NetworkModelBase } from "./base.js";
import { floatForward, type NetLoss, type NetParams, quantizedForward, trainQat } from "./train.js";

export interface NeuralNetOptions {
  /** Hidden layer sizes (default [16]). */
  readonly hiddenLayerSizes?: readonly number[];
  /** Bits of each input feature, affine per feature on the training range (default 6). */
  readonly nBits?: number;
  /** Bits of the symmetric weights (default 4: levels −7…7). */
  readonly weightBits?: number;
  /** Bits of each hidden activation (default 3). */
  readonly activationBits?: number;
  /** Bits each lookup reads of its accumulator (default 6; at most 8). */
  readonly lookupBits?: number;
  /**
   * How each hidden accumulator is rounded to the lookup's bits: "approximate" (default; a modulus switch,
   * no extra PBS, but a value near a rounding tie may land one step off, so an FHE prediction can differ
   * slightly from the clear quantized one) or "exact" (bit extraction: FHE equals the quantized model on
   * every row, at the cost of extra small PBS per hidden unit).
   */
  readonly rounding?: "approximate" | "exact";
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly weightDecay?: number;
  /** Seed of initialization and shuffling; not cryptographic. */
  readonly randomState?: number;
}

export interface NeuralNetJSON {
  readonly format: "umbra-ml";
  readonly model: string;
  readonly params: Record<string, unknown>;
  readonly encoder: AffineQuantizerJSON;
  readonly sizes: number[];
  readonly W: number[][];
  readonly b: number[][];
  readonly alpha: number[];
  readonly classes?: Label[];
  readonly target?: { readonly mean: number; readonly std: number };
  readonly compiled?: { readonly batchSize: number; readonly compile: MlCompileOptions };
}

abstract class NeuralNetBase extends NetworkModelBase {
  readonly hiddenLayerSizes: number[];
  readonly nBits: number;
  readonly weightBits: number;
  readonly activationBits: number;
  readonly lookupBits: number;
  readonly rounding: "approximate" | "exact";
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly randomState: number;
  protected params_: NetParams | undefined;
  protected encoder_: AffineQuantizer | undefined;

  constructor(options: NeuralNetOptions = {}) {
    super();
    const h = options.hiddenLayerSizes ?? [16];
    if (!Array.isArray(h) || h.length > 8 || h.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
      throw new MlInputError(`hiddenLayerSizes: expected up to 8 integers in [1, 1024], got ${JSON.stringify(h)}`);
    }
    this.hiddenLayerSizes = [...h];
    this.nBits = options.nBits ?? 6;
    this.weightBits = options.weightBits ?? 4;
    this.activationBits = options.activationBits ?? 3;
    this.lookupBits = options.lookupBits ?? 6;
    checkBits(this.nBits, "nBits", 1, 12);
    checkBits(this.weightBits, "weightBits", 2, 8);
    checkBits(this.activationBits, "activationBits", 1, 8);
    checkBits(this.lookupBits, "lookupBits", this.activationBits, 8);
    const rounding = options.rounding ?? "approximate";
    if (rounding !== "approximate" && rounding !== "exact") throw new MlInputError(`rounding: expected "approximate" or "exact", got ${JSON.stringify(rounding)}`);
    this.rounding = rounding;
    this.epochs = int(options.epochs, "epochs", 100, 1, 100000);
    this.batchSize = int(options.batchSize, "batchSize", 32, 1, 1 << 20);
    this.learningRate = positive(options.learningRate, "learningRate", 0.01);
    this.weightDecay = positive(options.weightDecay, "weightDecay", 0, true);
    this.randomState = int(options.randomState, "randomState", 0, 0, 2 ** 32 - 1);
  }

  protected get params(): Record<string, unknown> {
    return {
      hiddenLayerSizes: this.hiddenLayerSizes, nBits: this.nBits, weightBits: this.weightBits, activationBits: this.activationBits,
      lookupBits: this.lookupBits, rounding: this.rounding, epochs: this.epochs, batchSize: this.batchSize, learningRate: this.learningRate,
      weightDecay: this.weightDecay, randomState: this.randomState,
    };
  }

  protected get qat(): { inputBits: number; weightBits: number; activationBits: number; lookupBits: number; rounding: "approximate" | "exact" } {
    return { inputBits: this.nBits, weightBits: this.weightBits, activationBits: this.activationBits, lookupBits: this.lookupBits, rounding: this.rounding };
  }

  /** Output = targetScale·(network output) + targetShift (regressors standardize y). */
  protected abstract get target(): { mean: number; std: number };

  protected train(X: MatrixLike, t: Float64Array, outputs: number, loss: NetLoss): void {
    const M = toMatrix(X);
    const encoder = AffineQuantizer.fit(M, this.nBits);
    const { q } = encoder.quantize(M);
    const params = trainQat(q, t, M.rows, {
      ...this.qat, sizes: [M.cols, ...this.hiddenLayerSizes, outputs], epochs: this.epochs, batchSize: this.batchSize,
      learningRate: this.learningRate, weightDecay: this.weightDecay, seed: this.randomState, loss,
    });
    this.#install(encoder, params);
  }

  #install(encoder: AffineQuantizer, params: NetParams): void {
    this.encoder_ = encoder;
    this.params_ = params;
    // The integer network of the final parameters (α fixed): the layers do not depend on the rows passed.
    const { net } = quantizedForward(params, this.qat, new Int32Array(params.sizes[0]!), 1);
    const { mean, std } = this.target;
    const K = params.sizes[params.sizes.length - 1]!;
    this.setNetwork({
      encoder, layers: net.layers, scale: Array.from({ length: K }, () => std * net.outScale), bias: Array.from(net.outBias, (b) => std * b + mean),
    });
  }

  /** Outputs of the float network (unquantized weights and activations; inputs at their unrounded codes). */
  protected floatOutputs(X: MatrixLike): { rows: number; data: Float64Array } {
    this.network();
    const enc = this.encoder_!, p = this.params_!, F = enc.features;
    const M = toMatrix(X, { cols: F }), c = 2 ** (this.nBits - 1);
    const a0 = Float64Array.from(M.data, (v, k) => (v / enc.scale[k % F]! + enc.zeroPoint[k % F]! - c) / c);
    const { mean, std } = this.target;
    return { rows: M.rows, data: Float64Array.from(floatForward(p, a0, M.rows), (v) => std * v + mean) };
  }

  toJSON(): NeuralNetJSON {
    this.network();
    const p = this.params_!, compiled = this.compiledState();
    return {
      format: "umbra-ml", model: this.modelName, params: this.params, encoder: this.encoder_!.toJSON(), sizes: [...p.sizes],
      W: p.W.map((w) => [...w]), b: p.b.map((b) => [...b]), alpha: [...p.alpha],
      ...(this.classes_.length > 0 ? { classes: [...this.classes_] } : { target: this.target }),
      ...(compiled === undefined ? {} : { compiled: { batchSize: compiled.batchSize, compile: compiled.compile } }),
    };
  }

  protected restore(j: NeuralNetJSON): this {
    if (j?.format !== "umbra-ml" || j.model !== this.modelName) throw new MlInputError(`fromJSON: expected an umbra-ml ${this.modelName}, got ${String(j?.model)}`);
    const sizes = j.sizes;
    const L = Array.isArray(sizes) ? sizes.length - 1 : 0;
    const ok = L >= 1 && sizes.every((n) => Number.isInteger(n) && n > 0)
      && sizes.slice(1, -1).join() === this.hiddenLayerSizes.join()
      && Array.isArray(j.W) && j.W.length === L && j.W.every((w, l) => Array.isArray(w) && w.length === sizes[l]! * sizes[l + 1]! && w.every(Number.isFinite))
      && Array.isArray(j.b) && j.b.length === L && j.b.every((b, l) => Array.isArray(b) && b.length === sizes[l + 1]! && b.every(Number.isFinite))
      && Array.isArray(j.alpha) && j.alpha.length === L - 1 && j.alpha.every((a) => a > 0 && Number.isFinite(a));
    if (!ok) throw new MlInputError("fromJSON: sizes, W, b and alpha do not describe the network of these hyper-parameters");
    const encoder = AffineQuantizer.fromJSON(j.encoder);
    if (encoder.features !== sizes[0] || encoder.bits !== this.nBits) throw new MlInputError("fromJSON: the input quantizer does not match the network");
    this.restoreTarget(j);
    this.#install(encoder, { sizes: [...sizes], W: j.W.map((w) => Float64Array.from(w)), b: j.b.map((b) => Float64Array.from(b)), alpha: Float64Array.from(j.alpha) });
    if (j.compiled !== undefined) this.compile(undefined, { ...(j.compiled.compile ?? {}), batchSize: j.compiled.batchSize });
    return this;
  }

  protected abstract restoreTarget(j: NeuralNetJSON): void;
}

/** A relu MLP classifier: one logistic output for two classes, softmax over one output per class otherwise. */
export class NeuralNetClassifier extends NeuralNetBase {
  protected get modelName(): string { return "NeuralNetClassifier"; }
  protected get link(): Link { return this.classes_.length === 2 ? "logistic" : "softmax"; }
  protected get target(): { mean: number; std: number } { return { mean: 0, std: 1 }; }

  fit(X: MatrixLike, y: readonly Label[]): this {
    const M = toMatrix(X);
    const { classes, codes } = encodeLabels(y, M.rows);
    this.classes_ = classes;
    const K = classes.length;
    this.train(M, Float64Array.from(codes), K === 2 ? 1 : K, K === 2 ? "logistic" : "softmax");
    return this;
  }

  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[]> {
    return this.predictLabels(X, options);
  }

  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    return this.predictProbabilities(X, options);
  }

  /** Scores per class before the link (one logit, for the second class, when there are two classes). */
  async decisionFunction(X: MatrixLike, options: PredictOptions = {}): Promise<number[] | number[][]> {
    const s = await this.outputs(X, options), K = s.data.length / s.rows;
    return K === 1 ? Array.from(s.data) : Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }

  predictFloat(X: MatrixLike): Label[] {
    const s = this.floatOutputs(X);
    return labelsOf(s.data, s.rows, this.classes_);
  }

  predictProbaFloat(X: MatrixLike): number[][] {
    const s = this.floatOutputs(X);
    return probabilitiesOf(s.data, s.rows, this.link);
  }

  /** Accuracy in the chosen mode; labels unseen at fit are an error. */
  async score(X: MatrixLike, y: readonly Label[], options: PredictOptions = {}): Promise<number> {
    return this.accuracyOf(X, y, options);
  }

  protected restoreTarget(j: NeuralNetJSON): void {
    const c = j.classes;
    if (!Array.isArray(c) || c.length < 2 || new Set(c).size !== c.length) throw new MlInputError("fromJSON: a classifier needs its distinct classes");
    if (j.sizes[j.sizes.length - 1] !== (c.length === 2 ? 1 : c.length)) throw new MlInputError("fromJSON: the output layer does not match the classes");
    this.classes_ = [...c];
  }

  static fromJSON(j: NeuralNetJSON): NeuralNetClassifier {
    return new NeuralNetClassifier(j.params as NeuralNetOptions).restore(j);
  }
}

/** A relu MLP regressor (squared error on the standardized target, one output). */
export class NeuralNetRegressor extends NeuralNetBase {
  #target = { mean: 0, std: 1 };
  protected get modelName(): string { return "NeuralNetRegressor"; }
  protected get link(): Link { return "identity"; }
  protected get target(): { mean: number; std: number } { return this.#target; }

  fit(X: MatrixLike, y: readonly number[] | Float64Array): this {
    const M = toMatrix(X);
    const t = toVector(y, M.rows);
    let mean = 0, sq = 0;
    for (const v of t) mean += v / t.length;
    for (const v of t) sq += (v - mean) ** 2 / t.length;
    this.#target = { mean, std: sq > 0 ? Math.sqrt(sq) : 1 };
    this.train(M, Float64Array.from(t, (v) => (v - mean) / this.#target.std), 1, "mse");
    return this;
  }

  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<number[]> {
    return Array.from((await this.outputs(X, options)).data);
  }

  predictFloat(X: MatrixLike): number[] {
    return Array.from(this.floatOutputs(X).data);
  }

  /** R² in the chosen mode. */
  async score(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions = {}): Promise<number> {
    return this.r2Of(X, y, options);
  }

  protected restoreTarget(j: NeuralNetJSON): void {
    const t = j.target;
    if (t === undefined || !Number.isFinite(t.mean) || !(t.std > 0 && Number.isFinite(t.std))) throw new MlInputError("fromJSON: a regressor needs its target's mean and std");
    this.#target = { mean: t.mean, std: t.std };
  }

  static fromJSON(j: NeuralNetJSON): NeuralNetRegressor {
    return new NeuralNetRegressor(j.params as NeuralNetOptions).restore(j);
  }
}

