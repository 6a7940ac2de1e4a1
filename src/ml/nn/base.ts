// What every quantized network shares, trained here or imported: an affine input encoder, integer layers
// (integer.ts), an affine map of the last accumulator to outputs, and the circuit with its three modes.
import { CircuitClient, type CircuitStatistics, type TraceFn } from "../../compiler/index.js";
import { type Dequantizer, dequantize, type Label, labelsOf, type Link, probabilitiesOf } from "../decode.js";
import { type Deployment, ModelClient, type ModelClientSpec } from "../deploy.js";
import { codesOf, type Matrix, type MatrixLike, toMatrix, toVector } from "../data.js";
import { MlInputError, MlUnsupportedError, NotFittedError } from "../errors.js";
import { checkBatchSize, checkMode, IntegerCircuit, type MlCompileOptions, type PredictOptions } from "../fhe.js";
import { accuracy, r2Score } from "../metrics.js";
import type { AffineQuantizer } from "../quantize.js";
import { integerForward, type IntegerLayer, networkCircuit, unitActivations } from "./integer.js";

/** A network in integers with its client-side ends. */
export interface IntegerNetwork {
  readonly encoder: AffineQuantizer;
  readonly layers: IntegerLayer[];
  /** outputs_k = scale_k·acc_k + bias_k. */
  readonly scale: number[];
  readonly bias: number[];
}

export abstract class NetworkModelBase {
  protected classes_: Label[] = [];
  #net: IntegerNetwork | undefined;
  #compiled: { circuit: IntegerCircuit; batchSize: number; compile: MlCompileOptions } | undefined;
  /** Input values clipped to the quantization range by the last prediction. */
  lastClipped = 0;

  protected abstract get modelName(): string;
  protected abstract get link(): Link;

  protected setNetwork(net: IntegerNetwork): void {
    void this.#compiled?.circuit.close();
    this.#compiled = undefined;
    this.#net = net;
  }

  /** What to call when there is no integer network yet. */
  protected get notReady(): string {
    return "call fit(X, y) first";
  }

  protected network(): IntegerNetwork {
    if (this.#net === undefined) throw new NotFittedError(`${this.modelName}: ${this.notReady}`);
    return this.#net;
  }

  get nFeatures(): number {
    return this.network().encoder.features;
  }

  get classes(): Label[] {
    return [...this.classes_];
  }

  /** PBS per row: one lookup per hidden unit. */
  get lookupsPerRow(): number {
    return this.network().layers.reduce((s, L) => s + (L.activation === undefined ? 0 : L.outputs), 0);
  }

  /** The circuit of the integer network on a [batch × features] input (subclasses with other integer programs override it and `clearForward`). */
  protected circuitFn(): TraceFn {
    return networkCircuit(this.network().layers);
  }

  /** The integer network in the clear on `rows` rows of codes: the circuit's outputs, [rows × outputsPerRow]. */
  protected clearForward(q: Int32Array, rows: number): Float64Array {
    return integerForward(this.network().layers, q, rows);
  }

  /** Integers the circuit returns per row. */
  protected get outputsPerRow(): number {
    const layers = this.network().layers;
    return layers[layers.length - 1]!.outputs;
  }

  /**
   * Builds the circuit (one run handles `batchSize` rows, default 1: one row's lookups already fill the
   * worker pool). The inputs were quantized before (at fit or import), so `Xcalib`, when given, is only
   * encoded to count its values outside that range (`lastClipped`).
   */
  compile(Xcalib?: MatrixLike, options: MlCompileOptions = {}): this {
    const net = this.network();
    if (Xcalib !== undefined) this.lastClipped = net.encoder.quantize(toMatrix(Xcalib, { what: "Xcalib", cols: net.encoder.features })).report.clipped;
    const batchSize = checkBatchSize(options.batchSize, 1);
    const circuit = new IntegerCircuit(this.circuitFn(), net.encoder.features, this.outputsPerRow, net.encoder.qmax, batchSize, options);
    const wide = circuit.circuit.encoding.groups.find((g) => g.bits > 8);
    if (wide !== undefined) {
      void circuit.close();
      throw new MlUnsupportedError(`${this.modelName}: a lookup reads ${wide.bits} bits (at most 8); lower lookupBits`);
    }
    void this.#compiled?.circuit.close();
    this.#compiled = { circuit, batchSize, compile: { ...options } };
    return this;
  }

  protected compiledState(): { circuit: IntegerCircuit; batchSize: number; compile: MlCompileOptions } | undefined {
    return this.#compiled;
  }

  #circuit(): IntegerCircuit {
    this.network();
    if (this.#compiled === undefined) throw new NotFittedError(`${this.modelName}: call compile() before predicting (predictFloat needs only fit)`);
    return this.#compiled.circuit;
  }

  /** Checked feature rows (an imported model may impute missing values here, as its deployed client does). */
  protected rows(X: MatrixLike, what = "X"): Matrix {
    return toMatrix(X, { what, cols: this.nFeatures });
  }

  /** The client's imputation of missing values, if the model has one. */
  protected get imputation(): ModelClientSpec["impute"] {
    return undefined;
  }

  protected encode(X: MatrixLike, options: PredictOptions): { M: Matrix; q: Int32Array } {
    const { encoder } = this.network();
    const M = this.rows(X);
    const { q, report } = encoder.quantize(M);
    if (report.clipped > 0 && options.outOfRange === "refuse") {
      const { row, col, value } = report.first!;
      throw new MlInputError(`X[${row}][${col}] = ${value} is outside the quantization range [${encoder.min[col]}, ${encoder.max[col]}] of feature ${col} (pass outOfRange: "clip" to clip)`);
    }
    this.lastClipped = report.clipped;
    return { M, q };
  }

  #dequantizer(): Dequantizer {
    const net = this.network();
    return { kind: "affine", scale: [...net.scale], bias: [...net.bias] };
  }

  /** Last-layer accumulators in the chosen mode ("disable": the integer network in the clear). */
  protected async accumulators(X: MatrixLike, options: PredictOptions = {}): Promise<{ rows: number; data: Float64Array }> {
    const mode = checkMode(options.fhe);
    const circuit = this.#circuit();
    const { M, q } = this.encode(X, options);
    const data = mode === "disable" ? this.clearForward(q, M.rows) : await circuit.run(q, M.rows, mode, options);
    return { rows: M.rows, data };
  }

  /** Dequantized outputs (scores or values) in the chosen mode. */
  protected async outputs(X: MatrixLike, options: PredictOptions = {}): Promise<{ rows: number; data: Float64Array }> {
    const acc = await this.accumulators(X, options);
    return { rows: acc.rows, data: dequantize(this.#dequantizer(), acc.data, acc.rows) };
  }

  protected async predictLabels(X: MatrixLike, options: PredictOptions): Promise<Label[]> {
    const s = await this.outputs(X, options);
    return labelsOf(s.data, s.rows, this.classes_);
  }

  protected async predictProbabilities(X: MatrixLike, options: PredictOptions): Promise<number[][]> {
    const s = await this.outputs(X, options);
    return probabilitiesOf(s.data, s.rows, this.link);
  }

  protected async accuracyOf(X: MatrixLike, y: readonly Label[], options: PredictOptions): Promise<number> {
    const p = await this.predictLabels(X, options);
    codesOf(y, this.classes_, p.length);
    return accuracy(y, p);
  }

  protected async r2Of(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions): Promise<number> {
    const p = Array.from((await this.outputs(X, options)).data);
    return r2Score(toVector(y, p.length), p);
  }

  /** The deployable halves: the model client (encoder, keys, dequantization, link) and the circuit's server half. */
  deployment(): Deployment {
    const circuit = this.#circuit(), net = this.network();
    const client = new ModelClient({
      model: this.modelName, features: net.encoder.features, batchSize: this.#compiled!.batchSize, encoder: { kind: "affine", quantizer: net.encoder.toJSON() },
      dequantizer: this.#dequantizer(), link: this.link, ...(this.classes_.length > 0 ? { classes: [...this.classes_] } : {}),
      ...(this.imputation === undefined ? {} : { impute: this.imputation }),
    }, CircuitClient.deserialize(circuit.circuit.client.serialize()));
    return { client, server: circuit.circuit.server };
  }

  get statistics(): CircuitStatistics {
    return this.#circuit().statistics;
  }

  /** A summary of the quantized network, then the compiler's description of its circuit. */
  describe(): string {
    const circuit = this.#circuit(), net = this.network();
    const shape = [net.encoder.features, ...net.layers.map((L) => L.outputs)].join(" → ");
    const reads = net.layers.filter((L) => L.activation !== undefined).map((L) => {
      const units = unitActivations(L), lsbs = units.map((u) => u.lsbs), levels = units.map((u) => u.amax + 1);
      const span = (v: number[]): string => (Math.min(...v) === Math.max(...v) ? `${v[0]}` : `${Math.min(...v)}–${Math.max(...v)}`);
      return `round${units[0]!.exact === true ? "" : "~"} ${span(lsbs)} lsbs, ${span(levels)} levels${Array.isArray(L.activation) ? " (per unit)" : ""}`;
    }).join("; ");
    return [
      `${this.modelName}: ${shape}; inputs ${net.encoder.bits}-bit affine; ${this.lookupsPerRow} lookup(s) per row (activation + requantization on the accumulator's top bits: ${reads || "none"}); ${this.#compiled!.batchSize} row(s) per run`,
      circuit.circuit.describe(),
    ].join("\n");
  }

  /** Stops the worker pool and frees keys (made again on the next FHE run). */
  close(): Promise<void> {
    return this.#compiled?.circuit.close() ?? Promise.resolve();
  }
}
