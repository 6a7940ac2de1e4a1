// Bounds-checked little-endian cursor over untrusted bytes. Every read checks the remaining length
// first and throws DeserializationError("TRUNCATED"); reads that return arrays copy into fresh buffers
// (the decoded object never aliases the input). Copies never use `slice`: on a Node Buffer it is a view.
import { LITTLE_ENDIAN_PLATFORM } from "./endian.js";
import { fail } from "./errors.js";

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** Throws TRUNCATED unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n > this.remaining) fail("TRUNCATED", `${what}: needs ${n} bytes at offset ${this.#pos}, ${this.remaining} left`);
  }

  /**
   * Checks that exactly `n` bytes remain: fewer is TRUNCATED, more is LENGTH_MISMATCH (trailing bytes).
   * Called once the length fields are read and before anything sized from them is allocated.
   */
  expectRemaining(n: number, what: string): void {
    const left = this.remaining;
    if (left < n) fail("TRUNCATED", `${what}: needs ${n} more bytes, ${left} left`);
    if (left > n) fail("LENGTH_MISMATCH", `${what}: ${left - n} unexpected trailing bytes`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#bytes[this.#pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(n);
    out.set(this.#bytes.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return out;
  }

  /** A view of the next `n` bytes (no copy; for reading packed data into another structure). */
  view(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** A copy of the next `count` little-endian u64 words. */
  u64Array(count: number, what: string): BigUint64Array {
    const n = count * 8;
    this.need(n, what);
    const out = new BigUint64Array(count);
    if (LITTLE_ENDIAN_PLATFORM) {
      new Uint8Array(out.buffer).set(this.#bytes.subarray(this.#pos, this.#pos + n));
    } else {
      for (let i = 0; i < count; i++) out[i] = this.#view.getBigUint64(this.#pos + 8 * i, true);
    }
    this.#pos += n;
    return out;
  }
}
