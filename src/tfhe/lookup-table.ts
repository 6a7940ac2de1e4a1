// Test polynomials for programmable bootstrapping (docs/architecture.md "Programmable bootstrapping").
// With a padding bit, message m ∈ [0, p) has mod-switched phase ≈ m·N/p, so each message owns a box of
// N/p coefficients. The box is centred on m·N/p (shifted by half a box) so that noise of either sign
// rounds to m; the last half box wraps negacyclically to the front of box 0, hence holds −f(0).
// Many-LUT (several functions from one blind rotation, as TFHE-rs's many-LUT): when the input is known to
// be < p_in with c·p_in ≤ p, box b = m + t·p_in holds f_t(m) and output t is the coefficient t·p_in·N/p.
// The outputs' noises come from one accumulator and are correlated (measured |ρ| ≈ 0.2 at PARAM_MESSAGE_4,
// sign depending on their distance), unlike outputs of separate blind rotations: a linear combination of
// them is not bounded by Σw²·σ² (the compiler never fuses lookups whose outputs it combines).
import { checkEncoding, encode, isCompilerManaged, type Encoding } from "./encoding.js";

export class LookupTable {
  /** Coefficients to sample-extract: one output per function (a single one for a plain LUT). */
  readonly offsets: readonly number[];
  /** Largest input each function is defined for (p − 1 for a plain table; 2^inputBits − 1 for a many-LUT). */
  readonly maxInput: number;

  constructor(
    /** The N torus coefficients of the test polynomial. */
    readonly polynomial: BigUint64Array,
    /** Message bits the input ciphertexts carry (the parameter set's p = 2^bits). */
    readonly inputEncoding: Encoding,
    readonly outputEncoding: Encoding,
    offsets: readonly number[],
    maxInput?: number,
  ) {
    if (!(polynomial instanceof BigUint64Array)) throw new TypeError("lookup table polynomial must be a BigUint64Array");
    const N = polynomial.length;
    if (N < 2 || (N & (N - 1)) !== 0) throw new RangeError(`lookup table polynomial size must be a power of two ≥ 2, got ${N}`);
    checkEncoding(inputEncoding, "inputEncoding");
    checkEncoding(outputEncoding, "outputEncoding");
    boxSize(inputEncoding.bits, N);
    // Offsets index the accumulator's coefficients (the kernel's sample extraction reads coefficient
    // `offset` of each polynomial): anything outside [0, N) would read memory outside the accumulator.
    if (!Array.isArray(offsets) || offsets.length < 1) throw new RangeError("lookup table offsets must be a non-empty array");
    offsets.forEach((o, t) => {
      if (typeof o !== "number" || !Number.isInteger(o) || o < 0 || o >= N) {
        throw new RangeError(`lookup table offset ${t} is ${String(o)}: offsets must be integers in [0, ${N})`);
      }
    });
    this.offsets = Object.freeze([...offsets]);
    const p = 2 ** inputEncoding.bits;
    const top = maxInput ?? p - 1;
    if (!Number.isInteger(top) || top < 0 || top > p - 1) throw new RangeError(`maxInput must be an integer in [0, ${p - 1}], got ${String(maxInput)}`);
    this.maxInput = top;
  }

  get functionCount(): number {
    return this.offsets.length;
  }

  /**
   * [min, max] of the values function t outputs for inputs in [lo, hi] ⊆ [0, maxInput]: each input m
   * rotates coefficient m·N/p (plus the offset) to the front; past N it wraps negacyclically. Values are
   * the exact residues mod 2p_out of the output encoding (a value ≥ p_out is in the padding half).
   */
  outputRange(t: number, lo: number, hi: number): [number, number] {
    const N = this.polynomial.length, box = N / 2 ** this.inputEncoding.bits;
    const out = this.outputEncoding, shift = BigInt(63 - out.bits), mask = (1n << BigInt(out.bits + 1)) - 1n;
    let min = Infinity, max = -Infinity;
    for (let m = Math.max(0, lo); m <= Math.min(hi, this.maxInput); m++) {
      const j = m * box + this.offsets[t]!;
      const c = j < N ? this.polynomial[j]! : BigInt.asUintN(64, -this.polynomial[j - N]!);
      const v = Number(((c + (1n << (shift - 1n))) >> shift) & mask);
      min = Math.min(min, v); max = Math.max(max, v);
    }
    return min === Infinity ? [0, 0] : [min, max];
  }
}

export interface LookupTableOptions {
  /** The parameter set's message space (message + carry bits). */
  readonly inputEncoding: Encoding;
  /** Output encoding (defaults to the input's): PBS can change the message space. */
  readonly outputEncoding?: Encoding;
  readonly polynomialSize: number;
}

function boxSize(inputBits: number, N: number): number {
  const p = 2 ** inputBits;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new RangeError(`polynomialSize must be a power of two ≥ 2, got ${N}`);
  if (p > N) throw new RangeError(`a ${inputBits}-bit lookup needs N ≥ ${p}, got N = ${N}`);
  return N / p;
}

function checkOptions(opts: LookupTableOptions): Encoding {
  if (typeof opts !== "object" || opts === null) throw new TypeError("lookup table options must be an object");
  checkEncoding(opts.inputEncoding, "inputEncoding");
  const out = opts.outputEncoding ?? opts.inputEncoding;
  checkEncoding(out, "outputEncoding");
  if (isCompilerManaged(out) !== isCompilerManaged(opts.inputEncoding)) {
    throw new RangeError("inputEncoding and outputEncoding must both be checked or both compiler-managed");
  }
  return out;
}

function fillPolynomial(N: number, box: number, p: number, value: (b: number) => bigint): BigUint64Array {
  const v = new BigUint64Array(N);
  const half = box >> 1;
  const boxValues: bigint[] = [];
  for (let b = 0; b < p; b++) boxValues.push(value(b));
  for (let j = 0; j < N; j++) {
    const b = Math.floor((j + half) / box);
    v[j] = b < p ? boxValues[b]! : BigInt.asUintN(64, -boxValues[0]!);
  }
  return v;
}

function outputValue(f: (x: number) => number, x: number, out: Encoding): bigint {
  const y = f(x);
  if (!Number.isSafeInteger(y)) throw new RangeError(`lookup function returned ${y} for input ${x}: not an integer`);
  const p = 2 ** out.bits;
  return encode(((y % p) + p) % p, out);
}

/** A table for f: [0, p) → [0, p_out) (results are reduced mod p_out). */
export function lookupTable(f: (x: number) => number, opts: LookupTableOptions): LookupTable {
  if (typeof f !== "function") throw new TypeError("lookupTable expects a function");
  const out = checkOptions(opts);
  const N = opts.polynomialSize;
  const bits = opts.inputEncoding.bits;
  const box = boxSize(bits, N);
  const poly = fillPolynomial(N, box, 2 ** bits, (b) => outputValue(f, b, out));
  return new LookupTable(poly, opts.inputEncoding, out, [0]);
}

/**
 * Several tables evaluated by one blind rotation, for inputs known to be < 2^inputBits where
 * functions.length · 2^inputBits ≤ p. Returns one output per function.
 */
export function manyLookupTable(
  functions: readonly ((x: number) => number)[], inputBits: number, opts: LookupTableOptions,
): LookupTable {
  const out = checkOptions(opts);
  if (!Array.isArray(functions) || !functions.every((f) => typeof f === "function")) throw new TypeError("manyLookupTable expects an array of functions");
  const N = opts.polynomialSize;
  const bits = opts.inputEncoding.bits;
  const p = 2 ** bits, pIn = 2 ** inputBits;
  if (!Number.isInteger(inputBits) || inputBits < 0 || inputBits > bits) throw new RangeError(`inputBits must be in [0, ${bits}]`);
  if (functions.length < 1 || functions.length * pIn > p) {
    throw new RangeError(`${functions.length} functions of ${inputBits}-bit inputs do not fit a ${bits}-bit message space`);
  }
  const box = boxSize(bits, N);
  const poly = fillPolynomial(N, box, p, (b) => {
    const t = Math.floor(b / pIn);
    return t < functions.length ? outputValue(functions[t]!, b % pIn, out) : 0n;
  });
  return new LookupTable(poly, opts.inputEncoding, out, functions.map((_, t) => t * pIn * box), pIn - 1);
}
