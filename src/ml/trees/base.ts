// Shared machinery of the tree models: an ensemble on integer-encoded features, its circuit (circuit.ts),
// and the three modes. The server sees only the encrypted encoded features and returns encrypted integer
// columns; the client adds the columns up, dequantizes and applies the link (argmax, sigmoid, softmax).
import { CircuitClient, type CircuitStatistics } from "../../compiler/index.js";
import { type Dequantizer, dequantize, type Label, type Link, labelsOf, probabilitiesOf } from "../decode.js";
import { type Deployment, type EncoderSpec, ModelClient, type ModelClientSpec } from "../deploy.js";
import { type Matrix, type MatrixLike, toMatrix } from "../data.js";
import { MlInputError, NotFittedError } from "../errors.js";
import { checkBatchSize, checkMode, type MlCompileOptions, type PredictOptions } from "../fhe.js";
import { accuracy, r2Score } from "../metrics.js";
import { checkBits, type QuantizeReport } from "../quantize.js";
import { codesOf, toVector } from "../data.js";
import { integerReference, planTrees, type TreePlan } from "./circuit.js";
import { type Ensemble, ensembleFromJSON, type EnsembleJSON, ensembleToJSON, evaluateEnsemble } from "./ensemble.js";

/** Maps real feature rows to the integers the trees test (an affine quantizer, or threshold ranks). */
export interface FeatureEncoder {
  readonly features: number;
  readonly qmax: number;
  encode(X: Matrix): { q: Int32Array; report: QuantizeReport };
  toJSON(): unknown;
  /** For the deployed client. */
  spec(): EncoderSpec;
}


export interface TreeModelJSON {
  readonly format: "umbra-ml";
  readonly model: string;
  readonly params: Record<string, unknown>;
  readonly features: number;
  readonly encoder: unknown;
  readonly ensemble: EnsembleJSON;
  readonly classes?: (number | string)[];
  readonly compiled?: { readonly batchSize: number; readonly compile: MlCompileOptions };
}


export abstract class TreeModelBase {
  readonly leafBits: number;
  protected ensemble: Ensemble | undefined;
  protected encoder: FeatureEncoder | undefined;
  protected classes_: Label[] = [];
  #plan: { plan: TreePlan; batchSize: number; compile: MlCompileOptions } | undefined;
  /** Input values clipped by the last prediction. */
  lastClipped = 0;

  constructor(options: { readonly leafBits?: number } = {}) {
    this.leafBits = options.leafBits ?? 4;
    checkBits(this.leafBits, "leafBits", 1, 8);
  }

  protected abstract get modelName(): string;
  protected abstract get params(): Record<string, unknown>;
  protected abstract get link(): Link;

  protected setModel(encoder: FeatureEncoder, ensemble: Ensemble): void {
    this.encoder = encoder;
    this.ensemble = ensemble;
    void this.#plan?.plan.circuit.close();
    this.#plan = undefined;
  }

  protected fitted(): { encoder: FeatureEncoder; ensemble: Ensemble } {
    if (this.ensemble === undefined || this.encoder === undefined) throw new NotFittedError(`${this.modelName}: call fit(X, y) first`);
    return { encoder: this.encoder, ensemble: this.ensemble };
  }

  get nFeatures(): number {
    return this.fitted().encoder.features;
  }

  get classes(): Label[] {
    return [...this.classes_];
  }

  /**
   * Builds the circuit (one run handles `batchSize` rows, default 1: a single row's lookups already fill the
   * worker pool). The features were quantized at fit (the thresholds live in that domain), so `Xcalib`, when
   * given, is only checked and encoded to report how many of its values fall outside the fitted range.
   */
  compile(Xcalib?: MatrixLike, options: MlCompileOptions = {}): this {
    const { encoder, ensemble } = this.fitted();
    if (Xcalib !== undefined) this.lastClipped = encoder.encode(toMatrix(Xcalib, { what: "Xcalib", cols: encoder.features })).report.clipped;
    const batchSize = checkBatchSize(options.batchSize, 1);
    void this.#plan?.plan.circuit.close();
    this.#plan = { plan: planTrees(ensemble, encoder.features, encoder.qmax, this.leafBits, batchSize, options), batchSize, compile: { ...options } };
    return this;
  }

  #compiled(): TreePlan {
    this.fitted();
    if (this.#plan === undefined) throw new NotFittedError(`${this.modelName}: call compile() before predicting (predictFloat needs only fit)`);
    return this.#plan.plan;
  }

  protected encode(X: MatrixLike, options: PredictOptions): { M: Matrix; q: Int32Array } {
    const { encoder } = this.fitted();
    const M = this.rows(X, encoder.features);
    const { q, report } = encoder.encode(M);
    if (report.clipped > 0 && options.outOfRange === "refuse") {
      const { row, col, value } = report.first!;
      throw new MlInputError(`X[${row}][${col}] = ${value} is outside the range feature ${col} was quantized on at fit (pass outOfRange: "clip" to clip)`);
    }
    this.lastClipped = report.clipped;
    return { M, q };
  }

  /** Checked feature rows (an imported model may impute missing values here, as its deployed client does). */
  protected rows(X: MatrixLike, cols: number): Matrix {
    return toMatrix(X, { cols, allowNaN: this.acceptsMissing });
  }

  /** The client's imputation of missing values, if the model has one. */
  protected get imputation(): ModelClientSpec["impute"] {
    return undefined;
  }

  /** Imported models read NaN as XGBoost's missing value where their encoding can (xgboost.ts). */
  protected get acceptsMissing(): boolean {
    return false;
  }

  /** Dequantized raw outputs in the chosen mode. */
  protected async raw(X: MatrixLike, options: PredictOptions = {}): Promise<{ rows: number; data: Float64Array }> {
    const mode = checkMode(options.fhe);
    const plan = this.#compiled(), { encoder, ensemble } = this.fitted();
    const { M, q } = this.encode(X, options);
    const cols = mode === "disable" ? integerReference(plan, q, M.rows, encoder.features) : await plan.circuit.run(q, M.rows, mode, options);
    return { rows: M.rows, data: dequantize(this.#dequantizer(plan, ensemble), cols, M.rows) };
  }

  #dequantizer(plan: TreePlan, e: Ensemble): Dequantizer {
    return { kind: "columns", columnOutput: [...plan.columnOutput], offset: [...plan.offset], leafScale: plan.leafScale, base: [...e.base], scale: e.scale };
  }

  /**
   * The deployable halves: a model client (encoder, keys, dequantization, link; serializable to text) and
   * the compiler's server half (the circuit; it needs the client's evaluation keys).
   */
  deployment(): Deployment {
    const plan = this.#compiled(), { encoder, ensemble } = this.fitted();
    const client = new ModelClient({
      model: this.modelName, features: encoder.features, batchSize: this.#plan!.batchSize, encoder: encoder.spec(),
      dequantizer: this.#dequantizer(plan, ensemble), link: this.link, ...(this.classes_.length > 0 ? { classes: [...this.classes_] } : {}),
      ...(this.imputation === undefined ? {} : { impute: this.imputation }),
    }, CircuitClient.deserialize(plan.circuit.circuit.client.serialize()));
    return { client, server: plan.circuit.circuit.server };
  }

  /** Raw outputs of the unquantized leaves (the trained or imported model in float). */
  protected rawFloat(X: MatrixLike): { rows: number; data: Float64Array } {
    const { encoder, ensemble } = this.fitted();
    const { M, q } = this.encode(X, {});
    return { rows: M.rows, data: evaluateEnsemble(ensemble, q, M.rows, encoder.features) };
  }

  protected labelsOf(s: { rows: number; data: Float64Array }): Label[] {
    return labelsOf(s.data, s.rows, this.classes_);
  }

  protected probaOf(s: { rows: number; data: Float64Array }): number[][] {
    return probabilitiesOf(s.data, s.rows, this.link);
  }

  get statistics(): CircuitStatistics {
    return this.#compiled().circuit.statistics;
  }

  /** A summary of the encoded model, then the compiler's description of its circuit. */
  describe(): string {
    const plan = this.#compiled(), { encoder, ensemble } = this.fitted();
    return [
      `${this.modelName}: ${ensemble.trees.length} tree(s), ${encoder.features} features encoded on [0, ${encoder.qmax}]; ${plan.comparisons} distinct comparisons and ${plan.leaves} leaves (the two leaf indicators of a parent from one lookup input); leaves quantized to ${this.leafBits} bits, summed into ${plan.columnOutput.length} encrypted column(s); ${this.#plan!.batchSize} row(s) per run`,
      plan.circuit.circuit.describe(),
    ].join("\n");
  }

  close(): Promise<void> {
    return this.#plan?.plan.circuit.close() ?? Promise.resolve();
  }

  toJSON(): TreeModelJSON {
    const { encoder, ensemble } = this.fitted();
    return {
      format: "umbra-ml", model: this.modelName, params: { leafBits: this.leafBits, ...this.params }, features: encoder.features,
      encoder: encoder.toJSON(), ensemble: ensembleToJSON(ensemble),
      ...(this.classes_.length > 0 ? { classes: [...this.classes_] } : {}),
      ...(this.#plan === undefined ? {} : { compiled: { batchSize: this.#plan.batchSize, compile: this.#plan.compile } }),
    };
  }

  protected restoreWith(j: TreeModelJSON, encoder: (json: unknown) => FeatureEncoder): this {
    if (j?.format !== "umbra-ml" || j.model !== this.modelName) throw new MlInputError(`fromJSON: expected an umbra-ml ${this.modelName}, got ${String(j?.model)}`);
    const enc = encoder(j.encoder);
    if (enc.features !== j.features) throw new MlInputError("fromJSON: the encoder does not match the feature count");
    this.setModel(enc, ensembleFromJSON(j.ensemble, j.features));
    if (j.classes !== undefined) {
      if (!Array.isArray(j.classes) || j.classes.length < 2 || new Set(j.classes).size !== j.classes.length) throw new MlInputError("fromJSON: a classifier needs its distinct classes");
      this.classes_ = [...j.classes];
    }
    if (j.compiled !== undefined) this.compile(undefined, { ...(j.compiled.compile ?? {}), batchSize: j.compiled.batchSize });
    return this;
  }

  // Shared by the concrete classes (regressor or classifier API).
  protected async predictRegression(X: MatrixLike, options: PredictOptions): Promise<number[]> {
    return Array.from((await this.raw(X, options)).data);
  }

  protected async scoreRegression(X: MatrixLike, y: readonly number[] | Float64Array, options: PredictOptions): Promise<number> {
    const p = await this.predictRegression(X, options);
    return r2Score(toVector(y, p.length), p);
  }

  protected async scoreClassification(X: MatrixLike, y: readonly Label[], options: PredictOptions): Promise<number> {
    const p = this.labelsOf(await this.raw(X, options));
    codesOf(y, this.classes_, p.length);
    return accuracy(y, p);
  }
}
