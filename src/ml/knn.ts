// k-nearest neighbours (scikit-learn's KNeighborsClassifier: Euclidean distance, uniform or distance weights),
// in the clear only. In FHE the distances are cheap (‖t‖² − 2x·t is linear in an encrypted x), but choosing
// the nearest needs a tournament of comparisons of wide values. Measured on breast_cancer (3-bit features):
// approximate comparisons, 16 stored rows: 50 PBS per row, 8.9 s per row on 2 workers, 0.90 accuracy; exact
// minima per class (the compiler's wide min, then one comparison): 16 rows 100 PBS at N = 16384 (≈ 36 s per
// row, latency model) at 0.89, 64 rows 428 PBS (≈ 141 s) at 0.965. `fhe: "simulate" | "execute"` is refused
// with that explanation.
import { codesOf, encodeLabels, type MatrixLike, toMatrix } from "./data.js";
import type { Label } from "./decode.js";
import { MlInputError, MlUnsupportedError, NotFittedError } from "./errors.js";
import { checkMode, type PredictOptions } from "./fhe.js";
import { accuracy } from "./metrics.js";
import { AffineQuantizer, type AffineQuantizerJSON, checkBits } from "./quantize.js";

export interface KNeighborsOptions {
  /** Neighbours that vote (default 5). */
  readonly nNeighbors?: number;
  /** "uniform" (default) or "distance" (votes weighted by 1/distance; an exact match wins). */
  readonly weights?: "uniform" | "distance";
  /** Bits of each feature in the quantized model (default 8). */
  readonly nBits?: number;
}

export interface KNeighborsJSON {
  readonly format: "umbra-ml";
  readonly model: "KNeighborsClassifier";
  readonly params: { nNeighbors: number; weights: "uniform" | "distance"; nBits: number };
  readonly X: number[][];
  readonly y: Label[];
  readonly quantizer?: AffineQuantizerJSON;
}

export const KNN_FHE_REFUSAL = "KNeighborsClassifier runs in the clear only (fhe: \"disable\"): an encrypted nearest-neighbour search over a useful training set does not fit (64 stored rows cost 428 PBS per row at N = 16384, about 2 minutes per row; see the README)";

export class KNeighborsClassifier {
  readonly nNeighbors: number;
  readonly weights: "uniform" | "distance";
  readonly nBits: number;
  #X: Float64Array | undefined;
  #F = 0;
  #codes: Int32Array | undefined;
  #classes: Label[] = [];
  #y: Label[] = [];
  #quantizer: AffineQuantizer | undefined;
  #q: Int32Array | undefined;
  /** Values clipped to the quantization range by the last quantized prediction. */
  lastClipped = 0;

  constructor(options: KNeighborsOptions = {}) {
    const k = options.nNeighbors ?? 5;
    if (!Number.isInteger(k) || k < 1) throw new MlInputError(`nNeighbors: expected a positive integer, got ${String(k)}`);
    const w = options.weights ?? "uniform";
    if (w !== "uniform" && w !== "distance") throw new MlInputError(`weights: expected "uniform" or "distance", got ${JSON.stringify(w)}`);
    this.nNeighbors = k;
    this.weights = w;
    this.nBits = options.nBits ?? 8;
    checkBits(this.nBits, "nBits", 1, 16);
  }

  get classes(): Label[] {
    return [...this.#classes];
  }

  /** Stores the training rows (k-NN has no other training). */
  fit(X: MatrixLike, y: readonly Label[]): this {
    const M = toMatrix(X);
    const { classes, codes } = encodeLabels(y, M.rows);
    if (this.nNeighbors > M.rows) throw new MlInputError(`nNeighbors = ${this.nNeighbors} exceeds the ${M.rows} training rows`);
    this.#X = M.data;
    this.#F = M.cols;
    this.#codes = codes;
    this.#classes = classes;
    this.#y = [...y];
    this.#quantizer = undefined;
    this.#q = undefined;
    return this;
  }

  #fitted(): { X: Float64Array; codes: Int32Array } {
    if (this.#X === undefined || this.#codes === undefined) throw new NotFittedError("KNeighborsClassifier: call fit(X, y) first");
    return { X: this.#X, codes: this.#codes };
  }

  /** Fits a per-feature quantizer on the training rows (and `Xcalib`, when given) for the quantized model. */
  compile(Xcalib?: MatrixLike): this {
    const { X } = this.#fitted();
    const rows = X.length / this.#F;
    const extra = Xcalib === undefined ? undefined : toMatrix(Xcalib, { what: "Xcalib", cols: this.#F });
    const data = extra === undefined ? X : Float64Array.from([...X, ...extra.data]);
    this.#quantizer = AffineQuantizer.fit({ rows: data.length / this.#F, cols: this.#F, data }, this.nBits);
    this.#q = this.#quantizer.quantize({ rows, cols: this.#F, data: X }).q;
    return this;
  }

  /** The vote of the k nearest stored rows of each query (ties between distances: the earlier row). */
  #vote(stored: ArrayLike<number>, queries: ArrayLike<number>, rows: number): Label[] {
    const { codes } = this.#fitted();
    const F = this.#F, n = codes.length, k = this.nNeighbors, K = this.#classes.length;
    const d = new Float64Array(n), idx = new Int32Array(n);
    return Array.from({ length: rows }, (_, i) => {
      for (let t = 0; t < n; t++) {
        let s = 0;
        for (let j = 0; j < F; j++) s += (stored[t * F + j]! - queries[i * F + j]!) ** 2;
        d[t] = s;
        idx[t] = t;
      }
      const near = Array.from(idx).sort((a, b) => d[a]! - d[b]! || a - b).slice(0, k);
      const votes = new Float64Array(K);
      const exact = near.filter((t) => d[t] === 0);
      for (const t of this.weights === "distance" && exact.length > 0 ? exact : near) {
        votes[codes[t]!]! += this.weights === "distance" && exact.length === 0 ? 1 / Math.sqrt(d[t]!) : 1;
      }
      let best = 0;
      for (let c = 1; c < K; c++) if (votes[c]! > votes[best]!) best = c;
      return this.#classes[best]!;
    });
  }

  predictFloat(X: MatrixLike): Label[] {
    const { X: stored } = this.#fitted();
    const M = toMatrix(X, { cols: this.#F });
    return this.#vote(stored, M.data, M.rows);
  }

  /** The vote on quantized features (integer distances), in the clear: `fhe: "disable"` only. */
  async predict(X: MatrixLike, options: PredictOptions = {}): Promise<Label[]> {
    const mode = checkMode(options.fhe);
    this.#fitted();
    if (mode !== "disable") throw new MlUnsupportedError(KNN_FHE_REFUSAL);
    if (this.#quantizer === undefined) throw new NotFittedError("KNeighborsClassifier: call compile() before predicting (predictFloat needs only fit)");
    const M = toMatrix(X, { cols: this.#F });
    const { q, report } = this.#quantizer.quantize(M);
    if (report.clipped > 0 && options.outOfRange === "refuse") {
      const { row, col, value } = report.first!;
      throw new MlInputError(`X[${row}][${col}] = ${value} is outside the quantization range of feature ${col} (pass outOfRange: "clip" to clip)`);
    }
    this.lastClipped = report.clipped;
    return this.#vote(this.#q!, q, M.rows);
  }

  /** What the model is and why it has no circuit (the other estimators print their circuit's statistics). */
  describe(): string {
    const { X } = this.#fitted();
    return `KNeighborsClassifier: k = ${this.nNeighbors} (${this.weights} weights), ${X.length / this.#F} stored rows × ${this.#F} features, ` +
      `${this.#classes.length} classes; ${this.#quantizer === undefined ? "not compiled" : `features quantized to ${this.nBits} bits`}\n` +
      `no circuit: ${KNN_FHE_REFUSAL}`;
  }

  async score(X: MatrixLike, y: readonly Label[], options: PredictOptions = {}): Promise<number> {
    const p = await this.predict(X, options);
    codesOf(y, this.#classes, p.length);
    return accuracy(y, p);
  }

  toJSON(): KNeighborsJSON {
    const { X } = this.#fitted();
    const F = this.#F;
    return {
      format: "umbra-ml", model: "KNeighborsClassifier", params: { nNeighbors: this.nNeighbors, weights: this.weights, nBits: this.nBits },
      X: Array.from({ length: X.length / F }, (_, i) => Array.from(X.subarray(i * F, (i + 1) * F))), y: [...this.#y],
      ...(this.#quantizer === undefined ? {} : { quantizer: this.#quantizer.toJSON() }),
    };
  }

  static fromJSON(j: KNeighborsJSON): KNeighborsClassifier {
    if (j?.format !== "umbra-ml" || j.model !== "KNeighborsClassifier") throw new MlInputError(`fromJSON: expected an umbra-ml KNeighborsClassifier, got ${String(j?.model)}`);
    const m = new KNeighborsClassifier(j.params).fit(j.X, j.y);
    if (j.quantizer !== undefined) {
      const qz = AffineQuantizer.fromJSON(j.quantizer);
      if (qz.features !== m.#F || qz.bits !== m.nBits) throw new MlInputError("fromJSON: the quantizer does not match the model");
      m.#quantizer = qz;
      m.#q = qz.quantize(toMatrix(j.X)).q;
    }
    return m;
  }
}
