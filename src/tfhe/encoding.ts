// Torus encodings (docs/architecture.md "Encodings and the padding bit"): Δ = 2^63 / p keeps one padding bit for the PBS.
// A message space of `bits` bits (message + carry) holds integers in [0, 2^bits); the top bit of the
// torus is the padding bit, so values in [2^bits, 2^(bits+1)) only appear after an overflow. Batches of
// the default (checked) kind track bounds of their values and noise (lwe-batch.ts), and a bootstrap or a
// decryption refuses one that may have reached the padding bit.

/**
 * DANGER: the only value of `Encoding.unchecked`. The caller manages the padding bit itself, as the
 * compiler does: values live mod 2p (the padding bit is part of the value, negative values wrap), its
 * tables are planned for the negacyclic wrap, and it bounds every value and Σw² itself. Bootstraps and
 * decryptions of such batches skip the degree and noise checks, and decryption returns round(phase/Δ)
 * mod 2p instead of mod p.
 */
export const COMPILER_MANAGED = "compiler-managed";

export interface Encoding {
  /** Bits of message plus carry: the plaintext modulus is p = 2^bits. */
  readonly bits: number;
  /** DANGER: see COMPILER_MANAGED. Omit it (the default) for checked encodings. */
  readonly unchecked?: typeof COMPILER_MANAGED;
}

const TWO64 = 1n << 64n;
const MASK64 = TWO64 - 1n;

/** Largest `bits` of an encoding (Δ = 2^(63 − bits) keeps 33 bits for the noise). */
export const MAX_ENCODING_BITS = 30;

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object" && v !== null) return Array.isArray(v) ? "an array" : "an object";
  return String(v);
}

/** Throws a TypeError / RangeError naming what was passed unless `enc` is a valid encoding. */
export function checkEncoding(enc: unknown, what = "encoding"): asserts enc is Encoding {
  if (typeof enc !== "object" || enc === null) throw new TypeError(`${what} must be an object { bits }, got ${describe(enc)}`);
  const { bits, unchecked } = enc as { bits?: unknown; unchecked?: unknown };
  if (typeof bits !== "number" || !Number.isInteger(bits) || bits < 1 || bits > MAX_ENCODING_BITS) {
    throw new RangeError(`${what}.bits must be an integer in [1, ${MAX_ENCODING_BITS}], got ${describe(bits)}`);
  }
  if (unchecked !== undefined && unchecked !== COMPILER_MANAGED) {
    throw new TypeError(`${what}.unchecked must be omitted or "${COMPILER_MANAGED}", got ${describe(unchecked)}`);
  }
}

/** True for an encoding whose padding bit its user manages (no degree/noise checks). */
export function isCompilerManaged(enc: Encoding): boolean {
  return enc.unchecked === COMPILER_MANAGED;
}

/** Same message space and the same kind (checked or compiler-managed). */
export function sameEncoding(a: Encoding, b: Encoding): boolean {
  return a.bits === b.bits && isCompilerManaged(a) === isCompilerManaged(b);
}

/** "4-bit" or "4-bit compiler-managed", for messages. */
export function encodingName(enc: Encoding): string {
  return `${enc.bits}-bit${isCompilerManaged(enc) ? ` ${COMPILER_MANAGED}` : ""}`;
}

/** Plaintext modulus p = 2^bits. */
export function plaintextModulus(enc: Encoding): number {
  return 2 ** enc.bits;
}

/** Scaling factor Δ = 2^63 / p. */
export function deltaOf(enc: Encoding): bigint {
  return 1n << BigInt(63 - enc.bits);
}

/** Δ·m mod 2^64 for an integer m (exact mod 2p: negative m wraps into the padding half). */
export function encode(m: number, enc: Encoding): bigint {
  if (!Number.isSafeInteger(m)) throw new RangeError(`cannot encode ${m}: not a safe integer`);
  return (BigInt(m) * deltaOf(enc)) & MASK64;
}

/**
 * Closest multiple of Δ to a phase, reduced mod p (checked encodings, whose values the checks keep in
 * [0, p)) or mod 2p (compiler-managed encodings, where the padding bit is part of the value).
 */
export function decode(phase: bigint, enc: Encoding): number {
  const shift = BigInt(63 - enc.bits);
  const rounded = ((phase + (1n << (shift - 1n))) & MASK64) >> shift;
  const bits = isCompilerManaged(enc) ? enc.bits + 1 : enc.bits;
  return Number(rounded & ((1n << BigInt(bits)) - 1n));
}

/** Signed distance (as a fraction of q) from a phase to the closest multiple of Δ: the noise. */
export function noiseOf(phase: bigint, m: number, enc: Encoding): number {
  let e = (phase - encode(m, enc)) & MASK64;
  if (e >= 1n << 63n) e -= TWO64;
  return Number(e) / 2 ** 64;
}
