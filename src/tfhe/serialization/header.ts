// The 16-byte header every serialized object starts with:
//   offset 0  magic "UMBR" (4 bytes)
//   offset 4  format version, u16 LE
//   offset 6  kind, u16 LE (SerializedKind)
//   offset 8  parameter fingerprint (8 bytes, parameterFingerprint of the parameter set)
// followed by kind-specific length fields, the payload, and a CRC-32 of everything before it.
import { fail } from "./errors.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

export const MAGIC = Object.freeze([0x55, 0x4d, 0x42, 0x52]); // "UMBR"
/** The format version this build writes (and the only one it reads). */
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
export const FINGERPRINT_BYTES = 8;

/** Kinds of serialized objects (the u16 at offset 6). Numbers are permanent: never reuse one. */
export const SerializedKind = Object.freeze({
  Parameters: 1,
  LweBatch: 2,
  SeededLweBatch: 3,
  BootstrapKey: 4,
  SeededBootstrapKey: 5,
  KeyswitchKey: 6,
  SeededKeyswitchKey: 7,
  ClientKey: 8,
  CompactPublicKey: 9,
  CompactCiphertextList: 10,
  EvaluationKeys: 11,
  /** A higher layer's artifact: type tag, JSON and parts (codec-bundle.ts). */
  Bundle: 12,
} as const);
export type SerializedKind = (typeof SerializedKind)[keyof typeof SerializedKind];
export type SerializedKindName = keyof typeof SerializedKind;

const NAMES = new Map<number, SerializedKindName>(
  (Object.entries(SerializedKind) as [SerializedKindName, number][]).map(([k, v]) => [v, k]),
);

export function kindName(kind: number): SerializedKindName | undefined {
  return NAMES.get(kind);
}

export function writeHeader(w: ByteWriter, kind: SerializedKind, fingerprint: Uint8Array): void {
  if (fingerprint.length !== FINGERPRINT_BYTES) throw new RangeError("fingerprint must be 8 bytes");
  w.raw(Uint8Array.from(MAGIC));
  w.u16(FORMAT_VERSION);
  w.u16(kind);
  w.raw(fingerprint);
}

export interface HeaderInfo {
  readonly version: number;
  readonly kind: number;
  readonly fingerprint: Uint8Array;
}

/** Magic (BAD_MAGIC, or TRUNCATED when a short input matches so far), then the version (BAD_VERSION). */
function readMagicAndVersion(r: ByteReader): number {
  const n = Math.min(r.remaining, MAGIC.length);
  const head = r.view(n, "magic");
  for (let i = 0; i < n; i++) if (head[i] !== MAGIC[i]) fail("BAD_MAGIC", "not an umbra object (bad magic)");
  if (n < MAGIC.length) fail("TRUNCATED", "input shorter than the magic");
  const version = r.u16("format version");
  if (version !== FORMAT_VERSION) fail("BAD_VERSION", `format version ${version} is not supported (this build reads ${FORMAT_VERSION})`);
  return version;
}

export function fingerprintHex(f: Uint8Array): string {
  return Array.from(f, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function sameFingerprint(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Reads and checks the header of a decoder's input: magic, version, kind (WRONG_KIND) and, when
 * `expectedFingerprint` is given, the fingerprint (PARAMS_MISMATCH). Returns the stored fingerprint.
 */
export function readHeader(r: ByteReader, expected: SerializedKind, expectedFingerprint: Uint8Array | null): Uint8Array {
  readMagicAndVersion(r);
  const kind = r.u16("kind");
  if (kind !== expected) {
    fail("WRONG_KIND", `expected kind ${kindName(expected)}, got ${kindName(kind) ?? `unknown kind ${kind}`}`);
  }
  const fingerprint = r.bytes(FINGERPRINT_BYTES, "parameter fingerprint");
  if (expectedFingerprint && !sameFingerprint(fingerprint, expectedFingerprint)) {
    fail("PARAMS_MISMATCH", `serialized for parameters ${fingerprintHex(fingerprint)}, expected ${fingerprintHex(expectedFingerprint)}`);
  }
  return fingerprint;
}

export interface PeekedHeader extends HeaderInfo {
  readonly kindName: SerializedKindName;
  /** Hex of the fingerprint, for logs and key-store lookups. */
  readonly fingerprintHex: string;
}

/**
 * Reads the header only (magic, version, kind, fingerprint) without checking lengths or the checksum:
 * enough to route bytes to the right decoder and parameter set. Throws DeserializationError
 * (TRUNCATED, BAD_MAGIC, BAD_VERSION, UNKNOWN_KIND).
 */
export function peekHeaderWith(r: ByteReader): PeekedHeader {
  const version = readMagicAndVersion(r);
  const kind = r.u16("kind");
  const name = kindName(kind);
  if (name === undefined) fail("UNKNOWN_KIND", `unknown kind ${kind}`);
  const fingerprint = r.bytes(FINGERPRINT_BYTES, "parameter fingerprint");
  return { version, kind, kindName: name, fingerprint, fingerprintHex: fingerprintHex(fingerprint) };
}
