// The run-time half of a circuit's encoding (the plan itself is made by the compiler, compiler/encoding.ts):
// the core encoding of a region's ciphertexts, the lookup plans the server evaluates, the limits the
// artifacts are checked against, and decryption: round(phase/Δ_r) mod 2p_r, lifted to the unique integer
// of the value's bit-width range with that residue (the width's span ≤ 2p_r).
import { COMPILER_MANAGED, type Encoding } from "../tfhe/encoding.js";

/**
 * The core encoding of a circuit's ciphertexts: p = 2^bits, marked compiler-managed because values live
 * mod 2p with the padding bit (the core's degree/noise checks, which keep values in [0, p), do not apply;
 * the compiler bounds values and Σw² instead: compiler/bounds.ts, compiler/encoding.ts).
 */
export function cipherEncoding(bits: number): Encoding {
  return { bits, unchecked: COMPILER_MANAGED };
}

/** Largest precision (bits) of one lookup: its table has at most 2^8 entries. */
export const MAX_LOOKUP_CIRCUIT_BITS = 8;
/** Largest message space (bits) of a region (the core's encodings stop at 30). */
export const MAX_LINEAR_CIRCUIT_BITS = 30;

/** Bits to index w entries, ⌈log2 w⌉ (0 for w ≤ 1); the epsilon keeps exact powers of two from rounding up. */
export const ceilLog2 = (w: number): number => (w <= 1 ? 0 : Math.ceil(Math.log2(w) - 1e-12));

export interface LookupPlan {
  /** The lut or round node. */
  readonly node: number;
  readonly kind: "lut" | "round";
  /** Its input node; the PBS index is (v − lo)/step ∈ [0, 2^inputBits). */
  readonly input: number;
  readonly lo: number;
  /** The last value the table covers: lo + (entries − 1)·step. */
  readonly hi: number;
  /** Distance between table entries, 2^s. */
  readonly step: number;
  /** True when the PBS rounds (v − lo)/step itself (an approximate reading of the top bits). */
  readonly approximate: boolean;
  /** Index precision: indices lie in [0, 2^inputBits). */
  readonly inputBits: number;
  /** Message space of the input's region, and of the output's. */
  readonly inBits: number;
  readonly outBits: number;
  /** Σw² of the lookup's input: in all, of fresh encryptions, of bootstrap outputs. */
  readonly norm2: number;
  readonly freshNorm2: number;
  readonly pbsNorm2: number;
  /** The table by index, length 2^inputBits: value(i) = f(lo + i·step) (for round: the correction x − round(x)). */
  readonly values: Float64Array;
}

/**
 * Exact round(x, lsbs) of a value too wide for one lookup, by bit extraction: t = x + 2^(lsbs−1), then
 * for i = fromBit … lsbs − 1 the bit b_i of t (its lower bits already cleared) is read by a 1-bit PBS of
 * t·2^(bits − i), which puts b_i on the padding bit, and t −= b_i·2^i. What remains is round(x, lsbs).
 * One PBS per extracted bit, each one after the other; the product 2^(bits − i) multiplies the noise of
 * t, which the parameters must allow (compiler/params.ts).
 */
export interface ExtractionPlan {
  /** The round node and its input. */
  readonly node: number;
  readonly input: number;
  readonly lsbs: number;
  /** Floor (truncation) rather than round to nearest: no 2^(lsbs−1) added first. */
  readonly truncate: boolean;
  /** Bits below this are known zero (nothing to extract). */
  readonly fromBit: number;
  /** Message space of the input's region (the round's own). */
  readonly bits: number;
  /** Σw² of the input, by source. */
  readonly freshNorm2: number;
  readonly pbsNorm2: number;
}

/** x mod m in [0, m). */
export function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r + 0;
}

/** round(phase / Δ) mod 2p: the residue of the value (the padding bit kept, unlike the core's decode). */
export function residueOf(phase: bigint, bits: number): number {
  const shift = BigInt(63 - bits);
  return Number(BigInt.asUintN(64, phase + (1n << (shift - 1n))) >> shift);
}

/** The unique integer of [lo, hi] congruent to r mod 2p (hi − lo < 2p); off-range residues land in [lo, lo + 2p). */
export function liftResidue(r: number, lo: number, bits: number): number {
  return lo + mod(r - lo, 2 * 2 ** bits);
}
