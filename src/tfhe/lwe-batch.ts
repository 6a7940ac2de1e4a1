// A tensor of LWE ciphertexts stored as one contiguous buffer: ciphertext i is the n+1 words
// data[i·(n+1) .. (i+1)·(n+1)) = (a_1, …, a_n, b), with b − ⟨a, s⟩ = Δ·m + e (mod 2^64).
import type { Encoding } from "./encoding.js";

export class LweBatch {
  constructor(
    readonly dimension: number,
    readonly count: number,
    readonly data: BigUint64Array,
    /** How the plaintexts are encoded (carried along so decryption needs no extra argument). */
    readonly encoding: Encoding,
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be ≥ 1, got ${dimension}`);
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be ≥ 0, got ${count}`);
    if (data.length !== count * (dimension + 1)) {
      throw new RangeError(`LWE batch of ${count} × (n+1 = ${dimension + 1}) words needs ${count * (dimension + 1)} words, got ${data.length}`);
    }
  }

  static zeros(dimension: number, count: number, encoding: Encoding): LweBatch {
    return new LweBatch(dimension, count, new BigUint64Array(count * (dimension + 1)), encoding);
  }

  /** Words per ciphertext (n + 1). */
  get size(): number {
    return this.dimension + 1;
  }

  /** Ciphertexts [start, end) as a new batch (copied). */
  slice(start: number, end: number = this.count): LweBatch {
    if (start < 0 || end > this.count || start > end) throw new RangeError(`slice [${start}, ${end}) out of [0, ${this.count})`);
    return new LweBatch(this.dimension, end - start, this.data.slice(start * this.size, end * this.size), this.encoding);
  }

  /** Ciphertext i as a batch of one (copied). */
  at(i: number): LweBatch {
    return this.slice(i, i + 1);
  }

  /** Ciphertexts picked by index, in that order (copied). */
  gather(indices: ArrayLike<number>): LweBatch {
    const out = new BigUint64Array(indices.length * this.size);
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`index ${i} out of [0, ${this.count})`);
      out.set(this.data.subarray(i * this.size, (i + 1) * this.size), j * this.size);
    }
    return new LweBatch(this.dimension, indices.length, out, this.encoding);
  }

  static concat(batches: readonly LweBatch[]): LweBatch {
    if (batches.length === 0) throw new RangeError("concat needs at least one batch");
    const first = batches[0]!;
    let count = 0;
    for (const b of batches) {
      if (b.dimension !== first.dimension) throw new RangeError(`cannot concat dimensions ${first.dimension} and ${b.dimension}`);
      if (b.encoding.bits !== first.encoding.bits) throw new RangeError("cannot concat batches with different encodings");
      count += b.count;
    }
    const data = new BigUint64Array(count * first.size);
    let off = 0;
    for (const b of batches) { data.set(b.data, off); off += b.data.length; }
    return new LweBatch(first.dimension, count, data, first.encoding);
  }

  withEncoding(encoding: Encoding): LweBatch {
    return new LweBatch(this.dimension, this.count, this.data, encoding);
  }
}
