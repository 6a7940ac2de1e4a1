// Threshold-rank encoding of features for imported tree models (see xgboost.ts): a feature becomes its rank
// among the distinct thresholds the model compares it with, compared in float32 as XGBoost does.
import { type Matrix } from "../data.js";
import type { EncoderSpec } from "../deploy.js";
import { MlInputError } from "../errors.js";
import type { QuantizeReport } from "../quantize.js";

export interface RankEncoderJSON {
  readonly thresholds: number[][];
  /** Rank a missing value takes, per feature (null: the feature's nodes disagree, NaN refused). */
  readonly missingRank: (number | null)[];
}

export class RankEncoder {
  readonly qmax: number;
  constructor(readonly thresholds: readonly Float64Array[], readonly missingRank: readonly (number | null)[]) {
    const m = Math.max(1, ...thresholds.map((t) => t.length));
    this.qmax = 2 ** Math.ceil(Math.log2(m + 1)) - 1;
  }
  get features(): number {
    return this.thresholds.length;
  }
  /** Rank of x among feature f's thresholds, compared in float32 as XGBoost does. */
  rank(f: number, x: number): number {
    const t = this.thresholds[f]!, v = Math.fround(x);
    let lo = 0, hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  encode(X: Matrix): { q: Int32Array; report: QuantizeReport } {
    const { rows, cols, data } = X;
    const q = new Int32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j]!;
        if (Number.isNaN(v)) {
          const r = this.missingRank[j];
          if (r === null || r === undefined) {
            throw new MlInputError(`X[${i}][${j}] is missing (NaN), and the model's nodes on feature ${j} send missing values different ways: a single encrypted rank cannot follow them (impute it first)`);
          }
          q[i * cols + j] = r;
        } else {
          q[i * cols + j] = this.rank(j, v);
        }
      }
    }
    return { q, report: { clipped: 0 } };
  }
  toJSON(): RankEncoderJSON {
    return { thresholds: this.thresholds.map((t) => [...t]), missingRank: [...this.missingRank] };
  }
  spec(): EncoderSpec {
    return { kind: "rank", ranks: this.toJSON() };
  }
  static fromJSON(j: RankEncoderJSON): RankEncoder {
    if (!Array.isArray(j?.thresholds) || !Array.isArray(j.missingRank) || j.missingRank.length !== j.thresholds.length) {
      throw new MlInputError("rank encoder JSON: thresholds and missingRank must be arrays of one length");
    }
    const ts = j.thresholds.map((t, f) => {
      const a = Float64Array.from(t);
      for (let k = 1; k < a.length; k++) if (!(a[k]! > a[k - 1]!)) throw new MlInputError(`rank encoder JSON: thresholds of feature ${f} are not increasing`);
      return a;
    });
    return new RankEncoder(ts, j.missingRank);
  }
}
