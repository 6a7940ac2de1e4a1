// Little-endian cursor over an output buffer allocated once at its exact final size (serializedSize).
// Overruns and out-of-range values are programming errors: RangeError.
import { LITTLE_ENDIAN_PLATFORM } from "./endian.js";

export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  get offset(): number {
    return this.#pos;
  }

  #reserve(n: number): number {
    if (this.#pos + n > this.bytes.length) {
      throw new RangeError(`ByteWriter: writing ${n} bytes at ${this.#pos} overruns ${this.bytes.length}`);
    }
    const p = this.#pos;
    this.#pos += n;
    return p;
  }

  u8(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`ByteWriter.u8: ${v} out of range`);
    this.bytes[this.#reserve(1)] = v;
  }

  u16(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`ByteWriter.u16: ${v} out of range`);
    this.#view.setUint16(this.#reserve(2), v, true);
  }

  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`ByteWriter.u32: ${v} out of range`);
    this.#view.setUint32(this.#reserve(4), v, true);
  }

  f64(v: number): void {
    this.#view.setFloat64(this.#reserve(8), v, true);
  }

  raw(b: Uint8Array): void {
    this.bytes.set(b, this.#reserve(b.length));
  }

  u64Array(a: BigUint64Array): void {
    const p = this.#reserve(a.length * 8);
    if (LITTLE_ENDIAN_PLATFORM) {
      this.bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    } else {
      for (let i = 0; i < a.length; i++) this.#view.setBigUint64(p + 8 * i, a[i]!, true);
    }
  }
}
