// Imported ONNX networks (exported MLPs): the float graph as ONNX defines it, then post-training quantization
// on calibration rows and the same integer circuit as the networks trained here.
import { type Label, labelsOf, type Link, valuesOf } from "../decode.js";
import { type Matrix, type MatrixLike, toMatrix } from "../data.js";
import { imputeRows, type ModelClientSpec } from "../deploy.js";
import { MlInputError, MlUnsupportedError } from "../errors.js";
import type { MlCompileOptions, PredictOptions } from "../fhe.js";
import { checkBits } from "../quantize.js";
import { type IntegerNetwork, NetworkModelBase } from "../nn/base.js";
import type { IntegerLayer } from "../nn/integer.js";
import { type ActivationKind, type AffineLayer, evaluateLayers, lowerGraph } from "./graph.js";
import { type ExternalDataReader, type OnnxGraph, parseOnnx } from "./parse.js";
import { type PtqOptions, quantizeNetwork } from "./quantize.js";
import { SPATIAL_OPS } from "./tensor-graph.js";
import { OnnxTensorModel } from "./tensor-model.js";
import { OnnxTreeModel, treeEnsembleNode } from "./trees.js";

export interface OnnxImportOptions {
  /** "classifier" (default when the model has ≥ 2 outputs or ends in a Sigmoid/Softmax) or "regressor". */
  readonly task?: "classifier" | "regressor";
  /** Labels of the output columns (default 0, 1, …; two for a one-output binary model). */
  readonly classes?: readonly Label[];
}

/** Bits of each kind of tensor after post-training quantization. */
export interface OnnxBits {
  /** Each input feature, affine on its calibration range. */
  readonly inputs?: number;
  /** Weights, symmetric. */
  readonly weights?: number;
  /** Hidden activations (the lookups' outputs). */
  readonly activations?: number;
}

export interface OnnxCompileOptions extends MlCompileOptions {
  /** Bits per tensor kind (see `ONNX_PTQ_DEFAULTS`); a number sets the inputs' bits only. */
  readonly nBits?: number | OnnxBits;
  /** Same as nBits.weights. */
  readonly weightBits?: number;
  /** Same as nBits.activations. */
  readonly activationBits?: number;
  /**
   * Bits of the accumulator each lookup reads: the accumulator is rounded to that many bits of its sound
   * range first, approximately (a modulus switch, one step off near a tie: the default) or exactly (bit
   * extraction, more PBS).
   */
  readonly roundingThresholdBits?: number | { readonly bits: number; readonly method?: "approximate" | "exact" };
  /** Same as roundingThresholdBits (a number). */
  readonly lookupBits?: number;
  /** One weight scale per layer (default) or one per output channel. */
  readonly weightScales?: "per-channel" | "per-tensor";
  /** α of each hidden unit: its largest activation on the calibration rows (default) or a percentile of them. */
  readonly activationRange?: "minmax" | { readonly percentile: number };
}

/**
 * The defaults of `OnnxModel.compile`'s post-training quantization. A model without hidden layers (a linear
 * model) has no lookup, so its weights get 8 bits and one scale per output (`linearWeights`, `linearScales`).
 */
export const ONNX_PTQ_DEFAULTS = {
  inputs: 8, weights: 6, activations: 4, roundingThresholdBits: 6, rounding: "approximate", weightScales: "per-tensor", activationRange: "minmax",
  linearWeights: 8, linearScales: "per-channel",
} as const;

export function ptqOptions(o: OnnxCompileOptions, linear: boolean): PtqOptions {
  const bits: OnnxBits = typeof o.nBits === "object" && o.nBits !== null ? o.nBits : o.nBits === undefined ? {} : { inputs: o.nBits };
  if (typeof o.nBits === "number" || o.nBits === undefined || typeof o.nBits === "object") {
    // nBits as an object and the single-kind aliases must not disagree.
    if (bits.weights !== undefined && o.weightBits !== undefined) throw new MlInputError("compile: give the weights' bits once (nBits.weights or weightBits)");
    if (bits.activations !== undefined && o.activationBits !== undefined) throw new MlInputError("compile: give the activations' bits once (nBits.activations or activationBits)");
  } else {
    throw new MlInputError(`compile: nBits: expected a number or { inputs, weights, activations }, got ${JSON.stringify(o.nBits)}`);
  }
  const r = o.roundingThresholdBits;
  if (r !== undefined && o.lookupBits !== undefined) throw new MlInputError("compile: give roundingThresholdBits or lookupBits, not both");
  const roundingBits = typeof r === "object" && r !== null ? r.bits : r ?? o.lookupBits ?? ONNX_PTQ_DEFAULTS.roundingThresholdBits;
  const rounding = (typeof r === "object" && r !== null ? r.method : undefined) ?? ONNX_PTQ_DEFAULTS.rounding;
  const inputBits = bits.inputs ?? ONNX_PTQ_DEFAULTS.inputs;
  const weightBits = bits.weights ?? o.weightBits ?? (linear ? ONNX_PTQ_DEFAULTS.linearWeights : ONNX_PTQ_DEFAULTS.weights);
  const activationBits = bits.activations ?? o.activationBits ?? ONNX_PTQ_DEFAULTS.activations;
  checkBits(inputBits, "nBits.inputs", 1, 12);
  checkBits(weightBits, "nBits.weights", 2, 12);
  checkBits(activationBits, "nBits.activations", 1, 8);
  checkBits(roundingBits, "roundingThresholdBits", activationBits, 8);
  if (rounding !== "approximate" && rounding !== "exact") throw new MlInputError(`roundingThresholdBits.method: expected "approximate" or "exact", got ${JSON.stringify(rounding)}`);
  const weightScales = o.weightScales ?? (linear ? ONNX_PTQ_DEFAULTS.linearScales : ONNX_PTQ_DEFAULTS.weightScales);
  if (weightScales !== "per-channel" && weightScales !== "per-tensor") throw new MlInputError(`weightScales: expected "per-channel" or "per-tensor", got ${JSON.stringify(weightScales)}`);
  const ar = o.activationRange ?? ONNX_PTQ_DEFAULTS.activationRange;
  let percentile = 100;
  if (ar !== "minmax") {
    percentile = typeof ar === "object" && ar !== null ? ar.percentile : NaN;
    if (!(percentile > 50 && percentile <= 100)) throw new MlInputError(`activationRange: expected "minmax" or { percentile } with a percentile in (50, 100], got ${JSON.stringify(ar)}`);
  }
  return { inputBits, weightBits, activationBits, roundingBits, rounding, weightScales, activationRange: ar === "minmax" ? "minmax" : "percentile", percentile };
}

export class OnnxModel extends NetworkModelBase {
  readonly task: "classifier" | "regressor";
  readonly producer: string;
  readonly #layers: AffineLayer[];
  readonly #features: number;
  readonly #tail: ActivationKind | undefined;
  readonly #impute: { readonly values: Float64Array; readonly replaced: number } | undefined;

  constructor(graph: OnnxGraph, options: OnnxImportOptions = {}) {
    super();
    const lowered = lowerGraph(graph);
    this.#layers = lowered.layers;
    this.#features = graph.input.features;
    this.producer = graph.producer;
    const last = this.#layers[this.#layers.length - 1]!, K = last.outputs, tail = last.activation?.kind;
    this.task = options.task ?? (K >= 2 || tail !== undefined ? "classifier" : "regressor");
    // A regressor's output may go through σ (its values then lie in (0, 1)); softmax-like links make classifiers.
    if (this.task === "regressor" && tail !== undefined && !(tail === "sigmoid" && K === 1)) {
      throw new MlUnsupportedError(`ONNX node ${last.activation!.node}: a regressor ending in ${tail} is not supported (import it as a classifier)`);
    }
    if (this.task === "classifier" && (tail === "softmax" || tail === "logsoftmax") && K === 1) {
      throw new MlUnsupportedError(`ONNX node ${last.activation!.node}: ${tail} of one column is constant`);
    }
    this.#tail = tail;
    if (lowered.impute !== undefined) this.#impute = lowered.impute;
    if (this.task === "classifier") {
      const n = K === 1 ? 2 : K;
      const classes = options.classes ?? lowered.classes ?? Array.from({ length: n }, (_, k) => k);
      if (classes.length !== n || new Set(classes).size !== n) throw new MlInputError(`importOnnx: classes: expected ${n} distinct labels for ${K} output(s)`);
      this.classes_ = [...classes];
    }
  }

  protected get modelName(): string { return "OnnxModel"; }
  protected override get notReady(): string { return "call compile(Xcalib) before predicting (the float model needs none: predictFloat, outputsFloat)"; }
  protected get link(): Link {
    if (this.task === "regressor") return this.#tail === "sigmoid" ? "logistic" : "identity";
    if (this.outputCount === 1) return "logistic";
    return this.#tail === "sigmoid" || this.#tail === "ovr" ? "ovr" : "softmax";
  }

  /** Rows with missing values imputed as the graph's Imputer says (NaN accepted then), checked. */
  protected override rows(X: MatrixLike, what = "X"): Matrix {
    const imp = this.imputation;
    return imputeRows(toMatrix(X, { what, cols: this.#features, allowNaN: imp?.replaced === null }), imp);
  }

  protected override get imputation(): ModelClientSpec["impute"] {
    const i = this.#impute;
    return i === undefined ? undefined : { values: Array.from(i.values), replaced: Number.isNaN(i.replaced) ? null : i.replaced };
  }

  get outputCount(): number {
    return this.#layers[this.#layers.length - 1]!.outputs;
  }

  override get nFeatures(): number {
    return this.#features;
  }

  /** The layers the graph lowered to: sizes and activations (for inspection). */
  get layerSizes(): number[] {
    return [this.#features, ...this.#layers.map((L) => L.outputs)];
  }

  /** The graph's output in float, as ONNX defines it (logits, probabilities or values), per row. */
  outputsFloat(X: MatrixLike): number[][] {
    const M = this.rows(X), K = this.outputCount;
    const out = evaluateLayers(this.#layers, M.data, M.rows);
    return Array.from({ length: M.rows }, (_, i) => Array.from(out.subarray(i * K, (i + 1) * K)));
  }

  /** Labels (classifier) or values (regressor) of the float model. */
  predictFloat(X: MatrixLike): Label[] | number[] {
    const M = this.rows(X);
    // Labels from the scores before the link (argmax, or score > 0); a regressor's values after it.
    const out = evaluateLayers(this.#layers, M.data, M.rows, this.task === "regressor");
    return this.task === "classifier" ? labelsOf(out, M.rows, this.classes_) : Array.from(out);
  }

  /**
   * Post-training quantization on the calibration rows (input ranges, activation ranges), then the circuit
   * (`batchSize` rows per run, default 1).
   */
  override compile(Xcalib?: MatrixLike, options: OnnxCompileOptions = {}): this {
    if (Xcalib === undefined) throw new MlInputError("OnnxModel.compile: calibration rows are needed (compile(Xcalib, options))");
    const X = this.rows(Xcalib, "Xcalib");
    this.setNetwork(quantizeNetwork(this.#layers, X, ptqOptions(options, this.#layers.length === 1)));
    const { nBits: _n, weightBits: _w, activationBits: _a, lookupBits: _l, roundingThresholdBits: _r, weightScales: _s, activationRange: _ar, ...compile } = options;
    return super.compile(undefined, compile);
  }

  /** The quantized network's integers (for inspection and tests). */
  get quantized(): { layers: readonly IntegerLayer[]; scale: readonly number[]; bias: readonly number[] } {
    const net: IntegerNetwork = this.network();
    return { layers: net.layers, scale: net.scale, bias: net.bias };
  }

  /** Labels (classifier) or values (regressor) of the quantized model in the chosen mode. */
  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[] | number[]> {
    return this.task === "classifier" ? this.predictLabels(X, options) : valuesOf((await this.outputs(X, options)).data, this.link);
  }

  async predictProba(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    if (this.task !== "classifier") throw new MlInputError("predictProba: this imported model is a regressor");
    return this.predictProbabilities(X, options);
  }

  /** The last layer's dequantized outputs (logits) in the chosen mode, per row. */
  async decisionFunction(X: MatrixLike, options: PredictOptions = {}): Promise<number[][]> {
    const s = await this.outputs(X, options), K = this.outputCount;
    return Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }

  /** Accuracy (classifier) or R² (regressor) in the chosen mode. */
  async score(X: MatrixLike, y: readonly Label[], options: PredictOptions = {}): Promise<number> {
    return this.task === "classifier" ? this.accuracyOf(X, y, options) : this.r2Of(X, y as number[], options);
  }
}

/** Options of `importOnnx`. */
export interface OnnxReadOptions extends OnnxImportOptions {
  /** Leaf precision of an imported tree ensemble (default 4). */
  readonly leafBits?: number;
  /** Reads a file of external tensor data by its location (relative to the model's directory). */
  readonly externalData?: ExternalDataReader;
}

/**
 * Imports an ONNX model (the bytes of a .onnx file): a PyTorch-style network or an ai.onnx.ml linear model
 * (an `OnnxModel`, quantized after training by `compile(Xcalib)`), a convolutional network (an
 * `OnnxTensorModel`, likewise), or an ai.onnx.ml tree ensemble (an `OnnxTreeModel`, whose features are
 * encoded as threshold ranks: `compile()` needs no calibration).
 */
export function importOnnx(bytes: Uint8Array, options: OnnxReadOptions = {}): OnnxModel | OnnxTreeModel | OnnxTensorModel {
  const graph = parseOnnx(bytes, options.externalData);
  const trees = treeEnsembleNode(graph);
  if (trees !== undefined) return OnnxTreeModel.build(trees.node, graph.input.features, options.leafBits, trees.impute);
  // A convolutional network (an image or sequence input, or a spatial operator): the NCHW tensor path.
  if (graph.input.shape.length > 1 || graph.nodes.some((n) => SPATIAL_OPS.has(n.opType))) return new OnnxTensorModel(graph, options);
  return new OnnxModel(graph, options);
}
