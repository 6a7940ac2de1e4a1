// Imported convolutional networks (PyTorch exports on [N, C, H, W] or [N, C, L] inputs): the float graph as
// ONNX defines it, post-training quantization on calibration rows, and the circuit on the compiler's tensor
// ops. Rows are samples flattened in C order (what Flatten and torch.flatten produce), or nested arrays of
// one sample's shape.
import { type Label, labelsOf, type Link } from "../decode.js";
import { type Matrix, type MatrixLike, toMatrix } from "../data.js";
import { MlInputError, MlUnsupportedError } from "../errors.js";
import type { PredictOptions } from "../fhe.js";
import { NetworkModelBase } from "../nn/base.js";
import type { TraceFn } from "../../compiler/index.js";
import { type OnnxCompileOptions, type OnnxImportOptions, ptqOptions } from "./model.js";
import type { OnnxGraph } from "./parse.js";
import { evaluateTensorGraph } from "./tensor-float.js";
import { lowerTensorGraph, type TensorGraph } from "./tensor-graph.js";
import { tensorCircuit } from "./tensor-circuit.js";
import { type IntegerStage, quantizeTensorNetwork, tensorForward, type TensorNetwork } from "./tensor-quantize.js";

type Nested = number | readonly Nested[];

/** Rows of features (flattened samples in C order) or samples as nested arrays of the input's shape. */
export type TensorSamples = MatrixLike | readonly (readonly Nested[])[];

/** One sample given as nested arrays, flattened in C order after checking it has `dims`. */
function flattenSample(s: Nested, dims: readonly number[], where: string): number[] {
  if (dims.length === 0) {
    if (typeof s !== "number") throw new MlInputError(`${where}: expected a number, got ${Array.isArray(s) ? "an array" : typeof s}`);
    return [s];
  }
  if (!Array.isArray(s) || s.length !== dims[0]) throw new MlInputError(`${where}: expected ${dims[0]} entries, got ${Array.isArray(s) ? s.length : typeof s}`);
  return (s as readonly Nested[]).flatMap((t, k) => flattenSample(t, dims.slice(1), `${where}[${k}]`));
}

export class OnnxTensorModel extends NetworkModelBase {
  readonly task: "classifier" | "regressor";
  readonly producer: string;
  readonly #graph: TensorGraph;
  #program: TensorNetwork | undefined;

  constructor(graph: OnnxGraph, options: OnnxImportOptions = {}) {
    super();
    this.#graph = lowerTensorGraph(graph);
    this.producer = graph.producer;
    const K = this.#graph.outputs, tail = this.#graph.tail;
    this.task = options.task ?? (K >= 2 || tail !== undefined ? "classifier" : "regressor");
    if (this.task === "regressor" && tail !== undefined) throw new MlUnsupportedError(`ONNX node ${tail.node}: a regressor ending in ${tail.kind} is not supported`);
    if (this.task === "classifier") {
      const n = K === 1 ? 2 : K;
      const classes = options.classes ?? Array.from({ length: n }, (_, k) => k);
      if (classes.length !== n || new Set(classes).size !== n) throw new MlInputError(`importOnnx: classes: expected ${n} distinct labels for ${K} output(s)`);
      this.classes_ = [...classes];
    }
  }

  protected get modelName(): string { return "OnnxTensorModel"; }
  protected override get notReady(): string { return "call compile(Xcalib) before predicting (the float model needs none: predictFloat, outputsFloat)"; }
  protected get link(): Link { return this.task === "regressor" ? "identity" : this.classes_.length === 2 && this.outputCount === 1 ? "logistic" : "softmax"; }

  /** One sample's dims as the graph declares them, e.g. [1, 8, 8]. */
  get inputShape(): number[] {
    return [...this.#graph.inputDims];
  }

  override get nFeatures(): number {
    return this.#graph.input[0] * this.#graph.input[1] * this.#graph.input[2];
  }

  get outputCount(): number {
    return this.#graph.outputs;
  }

  /** The stages the graph lowered to, e.g. ["conv 1×8×8 → 4×8×8", "relu", "maxpool → 4×4×4", "dense 64 → 10"]. */
  get stages(): string[] {
    const s = (d: readonly number[]): string => d.join("×");
    return this.#graph.stages.map((st) => {
      switch (st.kind) {
        case "conv": return `conv ${s(st.in)} → ${s(st.out)}`;
        case "dense": return `dense ${st.in} → ${st.out}`;
        case "affine": return "affine";
        case "act": return st.act.op;
        case "maxpool": case "avgpool": return `${st.kind} → ${s(st.out)}`;
      }
    });
  }

  /** Rows flattened in C order, or nested samples of the input's shape (a C = 1 image may leave out its channel axis). */
  #rows(X: TensorSamples, what = "X"): Matrix {
    const dims = this.#graph.inputDims;
    if (Array.isArray(X) && X.length > 0 && Array.isArray(X[0]) && Array.isArray((X[0] as unknown[])[0])) {
      const sampleDims = (X[0] as unknown[]).length === dims[0] ? dims : dims[0] === 1 ? dims.slice(1) : dims;
      return toMatrix((X as readonly Nested[]).map((s, i) => flattenSample(s, sampleDims, `${what}[${i}]`)), { what, cols: this.nFeatures });
    }
    return toMatrix(X as MatrixLike, { what, cols: this.nFeatures });
  }

  /** The graph's output in float, as ONNX defines it (logits, probabilities or values), per row. */
  outputsFloat(X: TensorSamples): number[][] {
    const M = this.#rows(X), K = this.outputCount;
    const out = evaluateTensorGraph(this.#graph, M.data, M.rows);
    return Array.from({ length: M.rows }, (_, i) => Array.from(out.subarray(i * K, (i + 1) * K)));
  }

  /** Labels (classifier) or values (regressor) of the float model. */
  predictFloat(X: TensorSamples): Label[] | number[] {
    const M = this.#rows(X);
    const out = evaluateTensorGraph(this.#graph, M.data, M.rows, false);
    return this.task === "classifier" ? labelsOf(out, M.rows, this.classes_) : Array.from(out);
  }

  /**
   * Post-training quantization on the calibration rows (one input range per channel, weights per output
   * channel by default, activation ranges per channel), then the circuit (`batchSize` rows per run, default 1).
   */
  override compile(Xcalib?: TensorSamples, options: OnnxCompileOptions = {}): this {
    if (Xcalib === undefined) throw new MlInputError("OnnxTensorModel.compile: calibration rows are needed (compile(Xcalib, options))");
    const X = this.#rows(Xcalib, "Xcalib");
    const ptq = ptqOptions({ weightScales: "per-channel", ...options }, false);
    const net = quantizeTensorNetwork(this.#graph, X, ptq);
    this.#program = net;
    this.setNetwork({ encoder: net.encoder, layers: [], scale: net.scale, bias: net.bias });
    const { nBits: _n, weightBits: _w, activationBits: _a, lookupBits: _l, roundingThresholdBits: _r, weightScales: _s, activationRange: _ar, ...compile } = options;
    return super.compile(undefined, compile);
  }

  #net(): TensorNetwork {
    this.network();
    return this.#program!;
  }

  /** The quantized integer stages (for inspection and tests). */
  get quantized(): readonly IntegerStage[] {
    return this.#net().stages;
  }

  protected override circuitFn(): TraceFn {
    return tensorCircuit(this.#net());
  }

  protected override clearForward(q: Int32Array, rows: number): Float64Array {
    return tensorForward(this.#net(), q, rows);
  }

  protected override get outputsPerRow(): number {
    return this.#graph.outputs;
  }

  protected override encode(X: MatrixLike, options: PredictOptions): { M: Matrix; q: Int32Array } {
    return super.encode(this.#rows(X), options);
  }

  /** Lookups per row: one per element of each activation (max pooling adds its own, see `statistics.pbsCount`). */
  override get lookupsPerRow(): number {
    return this.#net().stages.reduce((s, st) => s + (st.kind === "lookup" ? st.shape[0] * st.shape[1] * st.shape[2] : 0), 0);
  }

  /** The quantized stages, then the compiler's description of the circuit. */
  override describe(): string {
    const net = this.#net(), circuit = this.compiledState();
    if (circuit === undefined) throw new MlInputError("OnnxTensorModel.describe: call compile(Xcalib) first");
    const parts = net.stages.map((st) => {
      switch (st.kind) {
        case "lookup": {
          const l = st.units.map((u) => u.lsbs);
          return `${st.op} (${st.shape.join("×")} lookups, round${st.units[0]!.exact ? "" : "~"} ${Math.min(...l)}–${Math.max(...l)} lsbs)`;
        }
        case "dense": return `matmul ${st.in} → ${st.out}`;
        default: return `${st.kind} → ${st.out.join("×")}`;
      }
    });
    return [
      `${this.modelName}: ${this.inputShape.join("×")} input, ${net.encoder.bits}-bit affine per channel; ${parts.join(", ")}; ${this.lookupsPerRow} activation lookup(s) per row; ${circuit.batchSize} row(s) per run`,
      circuit.circuit.circuit.describe(),
    ].join("\n");
  }

  /** Labels (classifier) or values (regressor) of the quantized model in the chosen mode. */
  async predict(X: TensorSamples, options: PredictOptions = {}): Promise<Label[] | number[]> {
    return this.task === "classifier" ? this.predictLabels(this.#rows(X), options) : Array.from((await this.outputs(this.#rows(X), options)).data);
  }

  async predictProba(X: TensorSamples, options: PredictOptions = {}): Promise<number[][]> {
    if (this.task !== "classifier") throw new MlInputError("predictProba: this imported model is a regressor");
    return this.predictProbabilities(this.#rows(X), options);
  }

  /** The circuit's dequantized outputs (logits) in the chosen mode, per row. */
  async decisionFunction(X: TensorSamples, options: PredictOptions = {}): Promise<number[][]> {
    const s = await this.outputs(this.#rows(X), options), K = this.outputCount;
    return Array.from({ length: s.rows }, (_, i) => Array.from(s.data.subarray(i * K, (i + 1) * K)));
  }

  /** Accuracy (classifier) or R² (regressor) in the chosen mode. */
  async score(X: TensorSamples, y: readonly Label[], options: PredictOptions = {}): Promise<number> {
    return this.task === "classifier" ? this.accuracyOf(this.#rows(X), y, options) : this.r2Of(this.#rows(X), y as number[], options);
  }
}
