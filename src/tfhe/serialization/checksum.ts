// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF; the
// checksum of zip, PNG and gzip; CRC-32("123456789") = 0xCBF43926), computed 8 bytes at a time from
// eight 256-entry tables ("slicing-by-8"). It detects every burst error of ≤ 32 bits and any other
// random corruption with probability 1 − 2^-32. It is not a MAC: it does not resist deliberate edits
// (the decoders' length and value checks do not rely on it).
import { fail } from "./errors.js";

/** Bytes of the trailing checksum. */
export const CHECKSUM_BYTES = 4;

let tables: Uint32Array | undefined;

function crcTables(): Uint32Array {
  if (tables) return tables;
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + i] = c >>> 0;
    }
  }
  tables = t;
  return t;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crcTables();
  let c = 0xffffffff;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c = t[7 * 256 + (lo & 0xff)]! ^ t[6 * 256 + ((lo >>> 8) & 0xff)]! ^ t[5 * 256 + ((lo >>> 16) & 0xff)]! ^ t[4 * 256 + (lo >>> 24)]!
      ^ t[3 * 256 + bytes[i + 4]!]! ^ t[2 * 256 + bytes[i + 5]!]! ^ t[256 + bytes[i + 6]!]! ^ t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function stored(bytes: Uint8Array): number {
  const o = bytes.length - CHECKSUM_BYTES;
  return (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
}

/** Writes the CRC-32 of everything before the last 4 bytes into the last 4 bytes (little-endian). */
export function sealChecksum(bytes: Uint8Array): void {
  if (bytes.length < CHECKSUM_BYTES) throw new RangeError("sealChecksum: fewer than 4 bytes");
  const c = crc32(bytes, 0, bytes.length - CHECKSUM_BYTES);
  const o = bytes.length - CHECKSUM_BYTES;
  bytes[o] = c & 0xff;
  bytes[o + 1] = (c >>> 8) & 0xff;
  bytes[o + 2] = (c >>> 16) & 0xff;
  bytes[o + 3] = c >>> 24;
}

/** Throws DeserializationError("CHECKSUM") unless the trailing CRC-32 matches. */
export function verifyChecksum(bytes: Uint8Array): void {
  if (bytes.length < CHECKSUM_BYTES) fail("TRUNCATED", "no room for the checksum");
  if (crc32(bytes, 0, bytes.length - CHECKSUM_BYTES) !== stored(bytes)) {
    fail("CHECKSUM", "checksum mismatch: the data is corrupted");
  }
}

/**
 * INTERNAL, for tests: recomputes the trailing checksum in place (after deliberately editing a field, so
 * the decoders' own length and value checks are reached). Returns the same array.
 */
export function _recomputeChecksum(bytes: Uint8Array): Uint8Array {
  sealChecksum(bytes);
  return bytes;
}
