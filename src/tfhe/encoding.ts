// Torus encodings (docs/architecture.md "Encodings and the padding bit"): Δ = 2^63 / p keeps one padding bit for the PBS.
// A message space of `bits` bits (message + carry) holds integers in [0, 2^bits); the top bit of the
// torus is the padding bit, so values in [2^bits, 2^(bits+1)) only appear after an overflow.

export interface Encoding {
  /** Bits of message plus carry: the plaintext modulus is p = 2^bits. */
  readonly bits: number;
}

const TWO64 = 1n << 64n;
const MASK64 = TWO64 - 1n;

export function checkEncoding(enc: Encoding): void {
  if (!Number.isInteger(enc.bits) || enc.bits < 1 || enc.bits > 30) {
    throw new RangeError(`encoding.bits must be an integer in [1, 30], got ${enc.bits}`);
  }
}

/** Plaintext modulus p = 2^bits. */
export function plaintextModulus(enc: Encoding): number {
  return 2 ** enc.bits;
}

/** Scaling factor Δ = 2^63 / p. */
export function deltaOf(enc: Encoding): bigint {
  return 1n << BigInt(63 - enc.bits);
}

/** Δ·m mod 2^64 for an integer m (negative m wraps, as in Z/pZ). */
export function encode(m: number, enc: Encoding): bigint {
  if (!Number.isSafeInteger(m)) throw new RangeError(`cannot encode ${m}: not a safe integer`);
  return (BigInt(m) * deltaOf(enc)) & MASK64;
}

/** Closest multiple of Δ to a phase, reduced mod p (a padding overflow is dropped). */
export function decode(phase: bigint, enc: Encoding): number {
  const shift = BigInt(63 - enc.bits);
  const rounded = ((phase + (1n << (shift - 1n))) & MASK64) >> shift;
  return Number(rounded & ((1n << BigInt(enc.bits)) - 1n));
}

/** Signed distance (as a fraction of q) from a phase to the closest multiple of Δ: the noise. */
export function noiseOf(phase: bigint, m: number, enc: Encoding): number {
  let e = (phase - encode(m, enc)) & MASK64;
  if (e >= 1n << 63n) e -= TWO64;
  return Number(e) / 2 ** 64;
}
