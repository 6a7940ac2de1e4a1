// Shared pieces of the per-kind codecs: the encoder interface and the field checks of both directions.
// Decoder side: DeserializationError. Encoder side (trusted objects that do not fit the parameters they
// are serialized under): ParameterMismatchError / RangeError, so no file is written that cannot be read.
import { checkEncoding, type Encoding } from "../encoding.js";
import { ParameterMismatchError } from "../errors.js";
import type { TfheParameters } from "../parameters.js";
import { fail } from "./errors.js";
import type { SerializedKind } from "./header.js";
import type { ByteWriter } from "./writer.js";

/** Bytes of a mask seed. */
export const SEED_BYTES = 32;
/** Largest encoding (message + carry) width, as checkEncoding. */
export const MAX_ENCODING_BITS = 30;

export interface Encoder {
  readonly kind: SerializedKind;
  /** Parameters the object carries itself (client key, evaluation keys, parameters). */
  readonly params?: TfheParameters;
  /** Bytes after the header and before the checksum. */
  readonly bodyBytes: number;
  /** Throws unless the object is consistent with `params`. */
  check(params: TfheParameters): void;
  write(w: ByteWriter): void;
}

/** k·N, the dimension of the big (flattened GLWE) key. */
export function bigDimension(p: TfheParameters): number {
  return p.glweDimension * p.polynomialSize;
}

// ---- decoder side ----

/** A length or shape field must equal the value the parameters imply. */
export function expectField(value: number, expected: number, what: string): void {
  if (value !== expected) fail("LENGTH_MISMATCH", `${what} is ${value}, the parameters imply ${expected}`);
}

/** An LWE dimension must be k·N (big key) or n (small key). */
export function expectLweDimension(dim: number, p: TfheParameters): void {
  if (dim !== bigDimension(p) && dim !== p.lweDimension) {
    fail("LENGTH_MISMATCH", `LWE dimension ${dim} is neither k·N = ${bigDimension(p)} nor n = ${p.lweDimension}`);
  }
}

export function readEncoding(bits: number): Encoding {
  if (bits < 1 || bits > MAX_ENCODING_BITS) fail("INVALID_VALUE", `encoding bits ${bits} outside [1, ${MAX_ENCODING_BITS}]`);
  return Object.freeze({ bits });
}

export function isPowerOfTwo(x: number): boolean {
  return Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0 && x <= 2 ** 30;
}

// ---- encoder side ----

export function mismatch(what: string): never {
  throw new ParameterMismatchError(`cannot serialize: ${what}`);
}

export function checkLweDimensionFor(dim: number, p: TfheParameters): void {
  if (dim !== bigDimension(p) && dim !== p.lweDimension) {
    mismatch(`LWE dimension ${dim} is neither k·N = ${bigDimension(p)} nor n = ${p.lweDimension} of "${p.name}"`);
  }
}

export function checkEncodingFor(enc: Encoding): void {
  checkEncoding(enc);
}

export function checkSeed(seed: Uint8Array | undefined, what: string): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) throw new RangeError(`${what}: seed must be ${SEED_BYTES} bytes`);
}
