// Compressed ("seeded") LWE batch: the masks are a ChaCha20 stream of a 32-byte seed, so only the seed and
// the bodies travel. Expansion regenerates the masks in the order encryption drew them.
// Its form can only come from an encryption (every mask a stream output of one seed: no linear
// combination or bootstrap output has it), so its noise level is 1; a batch received from elsewhere may
// hold any value of its encoding (degree p − 1), one encrypted here keeps its known bounds in memory.
import { chunkItems, withKernelMemory } from "./_staging.js";
import { checkEncoding, plaintextModulus, type Encoding } from "./encoding.js";
import { LweBatch, newNoiseSource, type CiphertextBounds } from "./lwe-batch.js";
import { seededMasks } from "./masks.js";

/** Domain-separation tag of ciphertext mask streams. */
export const DOMAIN_CIPHERTEXT = 3;

export class SeededLweBatch {
  readonly bounds: CiphertextBounds;

  constructor(
    readonly dimension: number,
    readonly seed: Uint8Array,
    readonly bodies: BigUint64Array,
    readonly encoding: Encoding,
    /** Known bounds (a batch encrypted here); default: any value of the encoding, noise level 1. */
    bounds?: CiphertextBounds,
  ) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError("seed must be 32 bytes");
    checkEncoding(encoding);
    this.bounds = bounds ?? { degree: plaintextModulus(encoding) - 1, minValue: 0, noiseLevel: 1 };
  }

  get count(): number {
    return this.bodies.length;
  }

  static fromBatch(batch: LweBatch, seed: Uint8Array): SeededLweBatch {
    const bodies = new BigUint64Array(batch.count);
    for (let i = 0; i < batch.count; i++) bodies[i] = batch.data[i * batch.size + batch.dimension]!;
    return new SeededLweBatch(batch.dimension, seed, bodies, batch.encoding, batch.bounds);
  }

  /** The full batch: masks regenerated from the seed, in the order encryption drew them (chunk by chunk). */
  decompress(): LweBatch {
    const n = this.dimension, n1 = n + 1, count = this.count;
    const masks = seededMasks(this.seed, DOMAIN_CIPHERTEXT);
    const data = new BigUint64Array(count * n1);
    const chunk = Math.min(Math.max(1, count), chunkItems(n1 * 8));
    withKernelMemory([chunk * n1 * 8], (K, p) => {
      for (let c0 = 0; c0 < count; c0 += chunk) {
        const m = Math.min(chunk, count - c0);
        for (let i = 0; i < m; i++) masks.fillKernelU64(p! + i * n1 * 8, n);
        data.set(K.u64(p!, m * n1), c0 * n1);
      }
    });
    for (let i = 0; i < count; i++) data[i * n1 + n] = this.bodies[i]!;
    return new LweBatch(n, count, data, this.encoding, this.bounds, newNoiseSource(true));
  }
}
