// Uniform quantization (Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
// Integer-Arithmetic-Only Inference", §2.1): a real value r is s·(q − z) with an integer q of n bits, a
// real scale s and an integer zero point z. Inputs get affine unsigned quantizers fitted per feature on
// data; weights get symmetric signed ones (z = 0), so that products of integers are exact and the
// scales factor out of the sums.
import { type Matrix } from "./data.js";
import { MlInputError } from "./errors.js";

export function checkBits(bits: number, what: string, lo = 1, hi = 24): void {
  if (!Number.isInteger(bits) || bits < lo || bits > hi) throw new MlInputError(`${what}: expected an integer number of bits in [${lo}, ${hi}], got ${bits}`);
}

export interface AffineQuantizerJSON {
  readonly bits: number;
  readonly scale: number[];
  readonly zeroPoint: number[];
  readonly min: number[];
  readonly max: number[];
}

/** What `quantize` did to out-of-range values. */
export interface QuantizeReport {
  /** Values outside the calibration range by more than half a step, clipped to [0, 2^bits − 1]. */
  readonly clipped: number;
  /** The first clipped value, for messages. */
  readonly first?: { readonly row: number; readonly col: number; readonly value: number };
}

/** Unsigned affine quantizer, one (scale, zero point) per feature, fitted on the min and max of each column. */
export class AffineQuantizer {
  readonly qmax: number;

  private constructor(
    readonly bits: number,
    readonly scale: Float64Array,
    readonly zeroPoint: Int32Array,
    /** The calibration range of each feature. */
    readonly min: Float64Array,
    readonly max: Float64Array,
  ) {
    this.qmax = 2 ** bits - 1;
  }

  get features(): number {
    return this.scale.length;
  }

  /**
   * Fits each column's range: s = (max − min)/(2^n − 1), z = round(−min/s), so min and max map to 0 and 2^n − 1
   * (up to the rounding of z). A constant column gets s = 1 and the zero point that maps it into range.
   */
  static fit(X: Matrix, bits: number): AffineQuantizer {
    checkBits(bits, "quantizer bits");
    const { rows, cols, data } = X;
    const min = new Float64Array(cols).fill(Infinity), max = new Float64Array(cols).fill(-Infinity);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j]!;
        if (v < min[j]!) min[j] = v;
        if (v > max[j]!) max[j] = v;
      }
    }
    const qmax = 2 ** bits - 1;
    const scale = new Float64Array(cols), zeroPoint = new Int32Array(cols);
    for (let j = 0; j < cols; j++) {
      const span = max[j]! - min[j]!;
      scale[j] = span > 0 ? span / qmax : 1;
      // A constant column sits mid-range, so that nearby values at prediction time are not clipped.
      zeroPoint[j] = span > 0 ? Math.round(-min[j]! / scale[j]!) : Math.floor(qmax / 2) - Math.round(min[j]!);
    }
    return new AffineQuantizer(bits, scale, zeroPoint, min, max);
  }

  /** q = clip(round(x/s) + z, 0, 2^n − 1), row-major; counts values clipped by more than half a step. */
  quantize(X: Matrix): { q: Int32Array; report: QuantizeReport } {
    const { rows, cols, data } = X;
    if (cols !== this.features) throw new MlInputError(`expected ${this.features} features per row, got ${cols}`);
    const q = new Int32Array(rows * cols);
    let clipped = 0;
    let first: QuantizeReport["first"];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const k = i * cols + j, v = data[k]!;
        const exact = v / this.scale[j]! + this.zeroPoint[j]!;
        const r = Math.round(exact);
        if (exact < -0.5 || exact > this.qmax + 0.5) {
          clipped++;
          first ??= { row: i, col: j, value: v };
        }
        q[k] = Math.min(this.qmax, Math.max(0, r));
      }
    }
    return { q, report: first === undefined ? { clipped } : { clipped, first } };
  }

  /** s·(q − z). */
  dequantize(q: Int32Array): Float64Array {
    const cols = this.features;
    return Float64Array.from(q, (v, k) => this.scale[k % cols]! * (v - this.zeroPoint[k % cols]!));
  }

  toJSON(): AffineQuantizerJSON {
    return { bits: this.bits, scale: [...this.scale], zeroPoint: [...this.zeroPoint], min: [...this.min], max: [...this.max] };
  }

  static fromJSON(j: AffineQuantizerJSON): AffineQuantizer {
    const n = j.scale?.length;
    if (!(n > 0) || [j.zeroPoint, j.min, j.max].some((a) => !Array.isArray(a) || a.length !== n)) {
      throw new MlInputError("quantizer JSON: scale, zeroPoint, min and max must be arrays of one length");
    }
    checkBits(j.bits, "quantizer JSON bits");
    if (j.scale.some((s) => !(s > 0 && Number.isFinite(s)))) throw new MlInputError("quantizer JSON: scales must be finite and positive");
    return new AffineQuantizer(j.bits, Float64Array.from(j.scale), Int32Array.from(j.zeroPoint), Float64Array.from(j.min), Float64Array.from(j.max));
  }
}

/**
 * Symmetric signed quantization of a rows × cols weight matrix, one scale per column (per output channel):
 * q = round(w/s) with s = max|w|/(2^(n−1) − 1), so q ∈ [−(2^(n−1) − 1), 2^(n−1) − 1] and w ≈ s·q.
 */
export function quantizeSymmetric(w: Float64Array, rows: number, cols: number, bits: number): { q: Int32Array; scale: Float64Array } {
  checkBits(bits, "weight bits", 2);
  const qmax = 2 ** (bits - 1) - 1;
  const scale = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let m = 0;
    for (let i = 0; i < rows; i++) m = Math.max(m, Math.abs(w[i * cols + j]!));
    scale[j] = m > 0 ? m / qmax : 1;
  }
  const q = Int32Array.from(w, (v, k) => Math.round(v / scale[k % cols]!));
  return { q, scale };
}
