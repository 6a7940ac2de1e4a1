// Shared machinery of the linear models: the float fit, its quantization and its circuit. In FHE the server
// computes only the quantized affine map, acc = Q_W·q + c, with an integer accumulator and no lookup; the
// client dequantizes, y = s_W·acc + b, and applies the link (sigmoid, softmax, argmax) in the clear.
import { CircuitClient, type CircuitStatistics, type Tracer } from "../../compiler/index.js";
import { type Dequantizer, dequantize, type Label, type Link } from "../decode.js";
import { type Deployment, ModelClient } from "../deploy.js";
import { type Matrix, type MatrixLike, toMatrix } from "../data.js";
import { MlInputError, NotFittedError } from "../errors.js";
import { checkBatchSize, checkMode, IntegerCircuit, type MlCompileOptions, type PredictOptions } from "../fhe.js";
import { AffineQuantizer, type AffineQuantizerJSON, checkBits, quantizeSymmetric } from "../quantize.js";
import type { LinearFit } from "./train.js";

export interface LinearOptions {
  /**
   * Bits of each quantized input feature (default 10: the circuit has no lookup, so precision costs only
   * accumulator width, ≤ 30 bits).
   */
  readonly nBits?: number;
  /** Bits of each quantized weight, symmetric (default 10). */
  readonly weightBits?: number;
}

export interface LinearModelJSON {
  readonly format: "umbra-ml";
  readonly model: string;
  readonly params: Record<string, unknown>;
  readonly features: number;
  readonly outputs: number;
  readonly coef: number[];
  readonly intercept: number[];
  readonly classes?: (number | string)[];
  readonly quantization?: { readonly input: AffineQuantizerJSON; readonly batchSize: number; readonly compile: MlCompileOptions };
}

/**
 * Quantized affine map for per-feature input quantizers (s_j, z_j): W′_jk = w_jk·s_j is quantized per output
 * column, W′ ≈ s_k·Q, so Σ_j w_jk·x_j ≈ s_k·Σ_j Q_jk·(q_j − z_j) = s_k·(Q·q + c)_k with c_k = −Σ_j Q_jk·z_j.
 */
interface QuantizedLinear {
  readonly input: AffineQuantizer;
  readonly Q: Int32Array;
  readonly wScale: Float64Array;
  readonly offset: Float64Array;
  readonly circuit: IntegerCircuit;
  readonly batchSize: number;
  readonly compile: MlCompileOptions;
}

export abstract class LinearBase {
  readonly nBits: number;
  readonly weightBits: number;
  protected fitted: LinearFit | undefined;
  protected nFeatures = 0;
  #q: QuantizedLinear | undefined;
  /** Input values clipped to the calibration range by the last prediction. */
  lastClipped = 0;

  constructor(options: LinearOptions = {}) {
    this.nBits = options.nBits ?? 10;
    this.weightBits = options.weightBits ?? 10;
    checkBits(this.nBits, "nBits", 1, 16);
    checkBits(this.weightBits, "weightBits", 2, 16);
  }

  protected abstract get modelName(): string;
  protected abstract get params(): Record<string, unknown>;
  /** The client-side function of the scores (deployment). */
  protected abstract get link(): Link;
  /** Classes of a classifier (deployment). */
  protected get labels(): readonly Label[] | undefined {
    return undefined;
  }

  protected setFit(fit: LinearFit, features: number): void {
    this.fitted = fit;
    this.nFeatures = features;
    void this.#q?.circuit.close();
    this.#q = undefined;
  }

  /** Weights as [features][outputs] (outputs = 1 for regressors and binary classifiers). */
  get coef(): number[][] {
    const f = this.#fit();
    return Array.from({ length: this.nFeatures }, (_, j) => Array.from(f.coef.subarray(j * f.outputs, (j + 1) * f.outputs)));
  }

  get intercept(): number[] {
    return Array.from(this.#fit().intercept);
  }

  #fit(): LinearFit {
    if (this.fitted === undefined) throw new NotFittedError(`${this.modelName}: call fit(X, y) first`);
    return this.fitted;
  }

  protected checkX(X: MatrixLike): Matrix {
    this.#fit();
    return toMatrix(X, { cols: this.nFeatures });
  }

  /**
   * Fits the input quantizers on the calibration rows, quantizes the weights and compiles the circuit
   * (one run handles `batchSize` rows, default 16).
   */
  compile(Xcalib: MatrixLike, options: MlCompileOptions = {}): this {
    const f = this.#fit();
    const X = toMatrix(Xcalib, { what: "Xcalib", cols: this.nFeatures });
    const batchSize = checkBatchSize(options.batchSize, 16);
    this.#build(AffineQuantizer.fit(X, this.nBits), batchSize, options, f);
    return this;
  }

  #build(input: AffineQuantizer, batchSize: number, options: MlCompileOptions, f: LinearFit): void {
    const F = this.nFeatures, K = f.outputs;
    const folded = Float64Array.from(f.coef, (w, k) => w * input.scale[Math.floor(k / K)]!);
    const { q: Q, scale: wScale } = quantizeSymmetric(folded, F, K, this.weightBits);
    const offset = new Float64Array(K);
    for (let j = 0; j < F; j++) for (let k = 0; k < K; k++) offset[k]! -= Q[j * K + k]! * input.zeroPoint[j]!;
    const W = Array.from({ length: F }, (_, j) => Array.from(Q.subarray(j * K, (j + 1) * K)));
    const c = Array.from(offset);
    const circuit = new IntegerCircuit((x: Tracer) => x.matmul(W).add(c), F, K, input.qmax, batchSize, options);
    void this.#q?.circuit.close();
    this.#q = { input, Q, wScale, offset, circuit, batchSize, compile: { ...options } };
  }

  #quantized(): QuantizedLinear {
    this.#fit();
    if (this.#q === undefined) throw new NotFittedError(`${this.modelName}: call compile(Xcalib) before predicting (fhe: "disable" is the quantized model; predictFloat is the float one)`);
    return this.#q;
  }

  /** Dequantized scores [rows × outputs] in the chosen mode. */
  protected async scores(X: MatrixLike, options: PredictOptions = {}): Promise<{ rows: number; data: Float64Array }> {
    const mode = checkMode(options.fhe);
    const qm = this.#quantized();
    const M = this.checkX(X);
    const { q, report } = qm.input.quantize(M);
    if (report.clipped > 0 && options.outOfRange === "refuse") {
      const { row, col, value } = report.first!;
      throw new MlInputError(`X[${row}][${col}] = ${value} is outside the calibration range [${qm.input.min[col]}, ${qm.input.max[col]}] of feature ${col} (pass outOfRange: "clip" to clip)`);
    }
    this.lastClipped = report.clipped;
    const K = this.fitted!.outputs, F = this.nFeatures;
    let acc: Float64Array;
    if (mode === "disable") {
      acc = new Float64Array(M.rows * K);
      for (let i = 0; i < M.rows; i++) {
        for (let k = 0; k < K; k++) {
          let s = qm.offset[k]!;
          for (let j = 0; j < F; j++) s += qm.Q[j * K + k]! * q[i * F + j]!;
          acc[i * K + k] = s;
        }
      }
    } else {
      acc = await qm.circuit.run(q, M.rows, mode, options);
    }
    return { rows: M.rows, data: dequantize(this.#dequantizer(qm), acc, M.rows) };
  }

  #dequantizer(qm: QuantizedLinear): Dequantizer {
    return { kind: "affine", scale: [...qm.wScale], bias: [...this.fitted!.intercept] };
  }

  /**
   * The deployable halves: a model client (encoder, keys, dequantization, link; serializable to text) and
   * the compiler's server half. A linear circuit needs no evaluation key.
   */
  deployment(): Deployment {
    const qm = this.#quantized();
    const labels = this.labels;
    const client = new ModelClient({
      model: this.modelName, features: this.nFeatures, batchSize: qm.batchSize, encoder: { kind: "affine", quantizer: qm.input.toJSON() },
      dequantizer: this.#dequantizer(qm), link: this.link, ...(labels === undefined ? {} : { classes: [...labels] }),
    }, CircuitClient.deserialize(qm.circuit.circuit.client.serialize()));
    return { client, server: qm.circuit.circuit.server };
  }

  /** Float scores X·W + b of the trained model (no quantization). */
  protected floatScores(X: MatrixLike): { rows: number; data: Float64Array } {
    const M = this.checkX(X), f = this.fitted!, K = f.outputs, F = this.nFeatures;
    const out = new Float64Array(M.rows * K);
    for (let i = 0; i < M.rows; i++) {
      for (let k = 0; k < K; k++) {
        let s = f.intercept[k]!;
        for (let j = 0; j < F; j++) s += f.coef[j * K + k]! * M.data[i * F + j]!;
        out[i * K + k] = s;
      }
    }
    return { rows: M.rows, data: out };
  }

  /** The circuit's statistics: bit width, PBS count (0), parameters, key and ciphertext sizes, latency. */
  get statistics(): CircuitStatistics {
    return this.#quantized().circuit.statistics;
  }

  /** A summary of the quantized model, then the compiler's description of its circuit. */
  describe(): string {
    const qm = this.#quantized(), f = this.fitted!;
    const accBits = qm.circuit.circuit.encoding.bits;
    return [
      `${this.modelName}: ${this.nFeatures} features → ${f.outputs} output(s); inputs ${this.nBits}-bit affine per feature, weights ${this.weightBits}-bit symmetric; ${accBits}-bit accumulator, no lookup; ${qm.batchSize} rows per run`,
      qm.circuit.circuit.describe(),
    ].join("\n");
  }

  /** Stops the worker pool and frees keys (they are made again on the next FHE run). */
  close(): Promise<void> {
    return this.#q?.circuit.close() ?? Promise.resolve();
  }

  toJSON(): LinearModelJSON {
    const f = this.#fit(), qm = this.#q;
    return {
      format: "umbra-ml", model: this.modelName, params: { nBits: this.nBits, weightBits: this.weightBits, ...this.params },
      features: this.nFeatures, outputs: f.outputs, coef: [...f.coef], intercept: [...f.intercept],
      ...this.extraJSON(),
      ...(qm === undefined ? {} : { quantization: { input: qm.input.toJSON(), batchSize: qm.batchSize, compile: qm.compile } }),
    };
  }

  protected extraJSON(): Partial<LinearModelJSON> {
    return {};
  }

  /** Restores the fit (and the compiled circuit, rebuilt from the same quantization) from `toJSON`. */
  protected restore(j: LinearModelJSON): this {
    if (j?.format !== "umbra-ml" || j.model !== this.modelName) throw new MlInputError(`fromJSON: expected an umbra-ml ${this.modelName}, got ${String(j?.model)}`);
    const { features: F, outputs: K } = j;
    if (!(Number.isInteger(F) && F > 0 && Number.isInteger(K) && K > 0) || j.coef?.length !== F * K || j.intercept?.length !== K
      || ![...j.coef, ...j.intercept].every(Number.isFinite)) {
      throw new MlInputError(`fromJSON: coef must hold features × outputs = ${F} × ${K} finite numbers and intercept ${K}`);
    }
    const fit: LinearFit = { coef: Float64Array.from(j.coef), intercept: Float64Array.from(j.intercept), outputs: K, iterations: 0, converged: true };
    this.setFit(fit, F);
    if (j.quantization !== undefined) {
      const input = AffineQuantizer.fromJSON(j.quantization.input);
      if (input.features !== F || input.bits !== this.nBits) throw new MlInputError("fromJSON: the input quantizer does not match the model");
      this.#build(input, checkBatchSize(j.quantization.batchSize, 16), j.quantization.compile ?? {}, fit);
    }
    return this;
  }
}
