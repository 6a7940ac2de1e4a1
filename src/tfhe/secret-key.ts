// Uniform binary secret keys (docs/architecture.md "Keys"). A GLWE key of k polynomials of size N, flattened, is the
// "big" LWE key of dimension kN under which ciphertexts live between bootstraps.
import { fillUniformBinary } from "./random.js";

export class LweSecretKey {
  /** One byte (0 or 1) per key coefficient. */
  readonly bits: Uint8Array;

  constructor(bits: Uint8Array) {
    for (let i = 0; i < bits.length; i++) {
      if (bits[i]! > 1) throw new RangeError("secret key coefficients must be 0 or 1");
    }
    this.bits = bits;
  }

  static generate(dimension: number): LweSecretKey {
    const bits = new Uint8Array(dimension);
    fillUniformBinary(bits);
    return new LweSecretKey(bits);
  }

  get dimension(): number {
    return this.bits.length;
  }

  #words: BigUint64Array | undefined;
  #wiped = false;

  /** True once wiped: `words()` (what every kernel use reads) then throws. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /** The key as u64 words (what the kernels read); built once, wiped with the key. Do not modify. */
  words(): BigUint64Array {
    if (this.#wiped) throw new Error("this secret key was wiped: it can no longer encrypt or decrypt");
    if (!this.#words) {
      this.#words = new BigUint64Array(this.bits.length);
      for (let i = 0; i < this.bits.length; i++) this.#words[i] = BigInt(this.bits[i]!);
    }
    return this.#words;
  }

  /** Overwrites the key material (best effort: JS gives no guarantee about other copies). */
  wipe(): void {
    this.bits.fill(0);
    this.#words?.fill(0n);
    this.#wiped = true;
  }

  toJSON(): never {
    throw new TypeError("secret keys are not JSON-serializable; use the binary format on the client only");
  }
}

export class GlweSecretKey {
  readonly key: LweSecretKey;

  constructor(readonly glweDimension: number, readonly polynomialSize: number, bits: Uint8Array) {
    if (bits.length !== glweDimension * polynomialSize) {
      throw new RangeError(`GLWE key needs k·N = ${glweDimension * polynomialSize} bits, got ${bits.length}`);
    }
    this.key = new LweSecretKey(bits);
  }

  static generate(glweDimension: number, polynomialSize: number): GlweSecretKey {
    const bits = new Uint8Array(glweDimension * polynomialSize);
    fillUniformBinary(bits);
    return new GlweSecretKey(glweDimension, polynomialSize, bits);
  }

  /** Polynomial p of the key (a view). */
  polynomial(p: number): Uint8Array {
    return this.key.bits.subarray(p * this.polynomialSize, (p + 1) * this.polynomialSize);
  }

  /** The flattened key, an LWE key of dimension kN. */
  asLweKey(): LweSecretKey {
    return this.key;
  }

  wipe(): void {
    this.key.wipe();
  }

  toJSON(): never {
    return this.key.toJSON();
  }
}
