// A tensor of LWE ciphertexts stored as one contiguous buffer: ciphertext i is the n+1 words
// data[i·(n+1) .. (i+1)·(n+1)) = (a_1, …, a_n, b), with b − ⟨a, s⟩ = Δ·m + e (mod 2^64).
// Every batch carries bounds of its values and of its noise (as TFHE-rs's shortint ciphertexts carry a
// degree and a noise level), updated by the linear operations (lwe-ops.ts) and checked by a bootstrap
// or a decryption (noise-budget.ts explains the rules).
import { checkEncoding, isCompilerManaged, plaintextModulus, sameEncoding, type Encoding } from "./encoding.js";

/** Bounds of a batch, each the worst case over its ciphertexts. */
export interface CiphertextBounds {
  /** Upper bound of the encoded integers (TFHE-rs's "degree"). */
  readonly degree: number;
  /** Lower bound of the encoded integers: negative after neg, sub or a negative weight. */
  readonly minValue: number;
  /**
   * Σw²: squared norm of the clear weights applied to fresh encryptions and bootstrap outputs since the
   * last bootstrap (1 for those, 0 for trivial encryptions); its noise variance is at most this times a
   * bootstrap output's.
   */
  readonly noiseLevel: number;
}

/**
 * Where the noise of a batch comes from, so that Σw² stays an upper bound when ciphertexts that share
 * noise are combined: the ids of the encryptions and bootstraps it derives from, and whether its
 * ciphertexts' noises are pairwise independent.
 */
export interface NoiseSources {
  readonly sources: ReadonlySet<number>;
  readonly independent: boolean;
}

let nextSource = 1;

/** A fresh noise source (an encryption call or a bootstrap call). */
export function newNoiseSource(independent: boolean): NoiseSources {
  return { sources: new Set([nextSource++]), independent };
}

/** No noise at all (trivial encryptions): independent of everything. */
export const NOISELESS: NoiseSources = Object.freeze({ sources: new Set<number>(), independent: true });

/**
 * Bounds of a batch nothing is known about (built from raw words): any value of the message space,
 * and a noise level the checks refuse until the receiver states it (`assumeBounds`).
 */
export function unknownBounds(enc: Encoding): CiphertextBounds {
  return { degree: plaintextModulus(enc) - 1, minValue: 0, noiseLevel: Number.POSITIVE_INFINITY };
}

function checkBounds(b: CiphertextBounds): CiphertextBounds {
  if (typeof b !== "object" || b === null) throw new TypeError("bounds must be an object { degree, minValue, noiseLevel }");
  const { degree, minValue, noiseLevel } = b;
  for (const [k, v] of [["degree", degree], ["minValue", minValue]] as const) {
    if (typeof v !== "number" || Number.isNaN(v) || !(Number.isInteger(v) || !Number.isFinite(v))) {
      throw new RangeError(`bounds.${k} must be an integer, got ${String(v)}`);
    }
  }
  if (minValue > degree) throw new RangeError(`bounds.minValue ${minValue} exceeds bounds.degree ${degree}`);
  if (typeof noiseLevel !== "number" || Number.isNaN(noiseLevel) || noiseLevel < 0) {
    throw new RangeError(`bounds.noiseLevel must be a number ≥ 0, got ${String(noiseLevel)}`);
  }
  return Object.freeze({ degree: degree + 0, minValue: minValue + 0, noiseLevel: noiseLevel + 0 }); // no −0
}

export class LweBatch {
  readonly bounds: CiphertextBounds;
  readonly noise: NoiseSources;

  constructor(
    readonly dimension: number,
    readonly count: number,
    readonly data: BigUint64Array,
    /** How the plaintexts are encoded (carried along so decryption needs no extra argument). */
    readonly encoding: Encoding,
    /** Defaults to `unknownBounds(encoding)`: a bootstrap or decryption refuses it until `assumeBounds`. */
    bounds?: CiphertextBounds,
    noise?: NoiseSources,
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be ≥ 1, got ${dimension}`);
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be ≥ 0, got ${count}`);
    if (!(data instanceof BigUint64Array)) throw new TypeError("data must be a BigUint64Array");
    if (data.length !== count * (dimension + 1)) {
      throw new RangeError(`LWE batch of ${count} × (n+1 = ${dimension + 1}) words needs ${count * (dimension + 1)} words, got ${data.length}`);
    }
    checkEncoding(encoding);
    this.bounds = checkBounds(bounds ?? unknownBounds(encoding));
    this.noise = noise ?? newNoiseSource(false);
  }

  static zeros(dimension: number, count: number, encoding: Encoding): LweBatch {
    // All-zero words: trivial encryptions of 0.
    return new LweBatch(dimension, count, new BigUint64Array(count * (dimension + 1)), encoding,
      { degree: 0, minValue: 0, noiseLevel: 0 }, NOISELESS);
  }

  /** Words per ciphertext (n + 1). */
  get size(): number {
    return this.dimension + 1;
  }

  /** Upper bound of the encoded integers (TFHE-rs's "degree"). */
  get degree(): number {
    return this.bounds.degree;
  }

  /** Σw² since the last bootstrap (see CiphertextBounds). */
  get noiseLevel(): number {
    return this.bounds.noiseLevel;
  }

  /** Ciphertexts [start, end) as a new batch (copied). */
  slice(start: number, end: number = this.count): LweBatch {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.count || start > end) {
      throw new RangeError(`slice [${start}, ${end}) out of [0, ${this.count})`);
    }
    return new LweBatch(this.dimension, end - start, this.data.slice(start * this.size, end * this.size), this.encoding, this.bounds, this.noise);
  }

  /** Ciphertext i as a batch of one (copied). */
  at(i: number): LweBatch {
    return this.slice(i, i + 1);
  }

  /** Ciphertexts picked by index, in that order (copied). */
  gather(indices: ArrayLike<number>): LweBatch {
    const out = new BigUint64Array(indices.length * this.size);
    const seen = new Set<number>();
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`index ${i} out of [0, ${this.count})`);
      out.set(this.data.subarray(i * this.size, (i + 1) * this.size), j * this.size);
      seen.add(i);
    }
    // A ciphertext picked twice shares its noise with itself: the copies are not independent.
    const independent = this.noise.independent && seen.size === indices.length;
    return new LweBatch(this.dimension, indices.length, out, this.encoding, this.bounds,
      independent === this.noise.independent ? this.noise : { sources: this.noise.sources, independent });
  }

  static concat(batches: readonly LweBatch[]): LweBatch {
    if (batches.length === 0) throw new RangeError("concat needs at least one batch");
    const first = batches[0]!;
    let count = 0;
    for (const b of batches) {
      if (b.dimension !== first.dimension) throw new RangeError(`cannot concat dimensions ${first.dimension} and ${b.dimension}`);
      if (!sameEncoding(b.encoding, first.encoding)) throw new RangeError("cannot concat batches with different encodings");
      count += b.count;
    }
    const data = new BigUint64Array(count * first.size);
    let off = 0;
    for (const b of batches) { data.set(b.data, off); off += b.data.length; }
    const bounds = batches.reduce((m, b) => ({
      degree: Math.max(m.degree, b.bounds.degree),
      minValue: Math.min(m.minValue, b.bounds.minValue),
      noiseLevel: Math.max(m.noiseLevel, b.bounds.noiseLevel),
    }), first.bounds);
    return new LweBatch(first.dimension, count, data, first.encoding, bounds, unionOfSources(batches.map((b) => b.noise)));
  }

  /**
   * The same ciphertexts read under another encoding (no copy). Values scale by 2^(new bits − old bits);
   * switching a compiler-managed batch to a checked encoding resets its bounds to unknown (its values
   * were tracked mod 2p, not as bounds).
   */
  withEncoding(encoding: Encoding): LweBatch {
    checkEncoding(encoding);
    if (isCompilerManaged(this.encoding) && !isCompilerManaged(encoding)) {
      return new LweBatch(this.dimension, this.count, this.data, encoding, unknownBounds(encoding), this.noise);
    }
    const scale = 2 ** (encoding.bits - this.encoding.bits);
    const { degree, minValue, noiseLevel } = this.bounds;
    return new LweBatch(this.dimension, this.count, this.data, encoding,
      { degree: Math.ceil(degree * scale), minValue: Math.floor(minValue * scale), noiseLevel }, this.noise);
  }

  /**
   * The same ciphertexts (no copy) with bounds stated by the caller, for batches whose bounds the
   * library cannot know: deserialized batches start at the worst case of their encoding (every value of
   * the message space, the parameter set's largest noise level), and a receiver whose protocol
   * guarantees more (e.g. "fresh encryptions of 2-bit values") states it here. A wrong statement makes a
   * bootstrap or decryption return wrong values; it cannot leak the key.
   */
  assumeBounds(bounds: Partial<CiphertextBounds>): LweBatch {
    return new LweBatch(this.dimension, this.count, this.data, this.encoding, { ...this.bounds, ...bounds }, this.noise);
  }
}

/** Noise sources of the union of batches (concat): independent when each is and no two share a source. */
export function unionOfSources(parts: readonly NoiseSources[]): NoiseSources {
  const sources = new Set<number>();
  let independent = true, total = 0;
  for (const p of parts) {
    independent &&= p.independent;
    total += p.sources.size;
    for (const s of p.sources) sources.add(s);
  }
  return { sources, independent: independent && total === sources.size };
}
