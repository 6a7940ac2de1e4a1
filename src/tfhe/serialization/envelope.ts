// The frame around every kind: header, kind-specific fields, payload, CRC-32. Decoding runs in the order
// the format promises: header checks → length fields checked against the parameters and the limits →
// exact byte count → checksum → only then allocation of the object.
import { CHECKSUM_BYTES, sealChecksum, verifyChecksum } from "./checksum.js";
import { HEADER_BYTES, readHeader, writeHeader, type SerializedKind } from "./header.js";
import { checkAllocation, resolveLimits, type DeserializeOptions, type Limits } from "./limits.js";
import { ByteReader } from "./reader.js";
import { ByteWriter } from "./writer.js";

/** What a codec's parser returns once the length fields are read and checked. */
export interface Plan<T> {
  /** Bytes between the end of the length fields and the checksum. */
  readonly payloadBytes: number;
  /** Bytes the build step will allocate (checked against maxBytes). */
  readonly allocBytes: number;
  /** Reads the payload (the checksum has been verified) and builds the object. */
  build(r: ByteReader): T;
}

/** Reads and checks the kind-specific length fields; `fingerprint` is the header's. */
export type Parser<T> = (r: ByteReader, limits: Limits, fingerprint: Uint8Array) => Plan<T>;

export function assertBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
}

/**
 * Decodes one object. `expectedFingerprint` null skips the fingerprint check (parameters, whose
 * fingerprint is checked against the decoded values instead).
 */
export function decodeObject<T>(
  bytes: Uint8Array, kind: SerializedKind, expectedFingerprint: Uint8Array | null,
  opts: DeserializeOptions | undefined, parse: Parser<T>,
): T {
  assertBytes(bytes);
  const limits = resolveLimits(opts);
  const r = new ByteReader(bytes);
  const fingerprint = readHeader(r, kind, expectedFingerprint);
  const plan = parse(r, limits, fingerprint);
  checkAllocation(plan.allocBytes, limits, "object");
  r.expectRemaining(plan.payloadBytes + CHECKSUM_BYTES, "payload");
  verifyChecksum(bytes);
  const out = plan.build(r);
  r.expectRemaining(CHECKSUM_BYTES, "payload end");
  return out;
}

/** Encodes one object into a buffer of exactly HEADER_BYTES + bodyBytes + CHECKSUM_BYTES. */
export function encodeObject(kind: SerializedKind, fingerprint: Uint8Array, bodyBytes: number, write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(HEADER_BYTES + bodyBytes + CHECKSUM_BYTES);
  writeHeader(w, kind, fingerprint);
  write(w);
  if (w.offset !== w.bytes.length - CHECKSUM_BYTES) {
    throw new Error(`internal: wrote ${w.offset} bytes, sized ${w.bytes.length - CHECKSUM_BYTES}`);
  }
  sealChecksum(w.bytes);
  return w.bytes;
}

export function framedSize(bodyBytes: number): number {
  return HEADER_BYTES + bodyBytes + CHECKSUM_BYTES;
}
