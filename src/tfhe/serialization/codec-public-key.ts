// Compact public key and compact ciphertext list (docs/formats.md "Compact public key and list"); N' = k·N.
//   CompactPublicKey:       u32 N' | seed (32) | u64 × N' (body B = A·S + E; A is expanded from the seed)
//   CompactCiphertextList:  u32 N' | u32 count | u32 encoding bits | u64 × N' (mask) | u64 × count (bodies)
// N' must be k·N (and a power of two); count ≤ N' and ≤ maxCount. The public key's encryption noise is
// the parameters' σ_glwe: it is not stored, so a file cannot lower it (a key with another noise does not
// serialize).
import type { TfheParameters } from "../parameters.js";
import { CompactCiphertextList, CompactPublicKey } from "../public-key.js";
import {
  bigDimension, checkEncodingFor, checkSeed, expectField, isPowerOfTwo, mismatch, readEncoding, SEED_BYTES, type Encoder,
} from "./codec.js";
import type { Plan } from "./envelope.js";
import { fail } from "./errors.js";
import { SerializedKind } from "./header.js";
import { checkCount, type Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";

/** Encoder side: N' of a key or list (`what`) must be k·N. */
function checkSizeFor(size: number, p: TfheParameters, what: string): void {
  if (size !== bigDimension(p)) mismatch(`${what} size ${size} ≠ k·N = ${bigDimension(p)} of "${p.name}"`);
}

/** Reads N' of a key or list (`what`): it must be k·N, and k·N a power of two. */
function readSize(r: ByteReader, p: TfheParameters, what: string): number {
  const size = r.u32(`${what} size`);
  expectField(size, bigDimension(p), `${what} size`);
  if (!isPowerOfTwo(size)) fail("LENGTH_MISMATCH", `these parameters have no compact public key (k·N = ${size} is not a power of two)`);
  return size;
}

export function compactPublicKeyEncoder(pk: CompactPublicKey): Encoder {
  return {
    kind: SerializedKind.CompactPublicKey,
    bodyBytes: 4 + SEED_BYTES + pk.body.length * 8,
    check(p) {
      checkSizeFor(pk.polynomialSize, p, "public key");
      if (pk.noiseStd !== p.glweNoiseStd) mismatch(`public key noise std differs from σ_glwe of "${p.name}"`);
      checkSeed(pk.seed, "compact public key");
    },
    write(w) {
      w.u32(pk.polynomialSize);
      w.raw(pk.seed);
      w.u64Array(pk.body);
    },
  };
}

export function parseCompactPublicKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<CompactPublicKey> => {
    const size = readSize(r, p, "public key");
    return {
      payloadBytes: SEED_BYTES + size * 8,
      allocBytes: SEED_BYTES + size * 8,
      build: (r) => {
        const seed = r.bytes(SEED_BYTES, "seed");
        return new CompactPublicKey(size, seed, r.u64Array(size, "public key body"), p.glweNoiseStd);
      },
    };
  };
}

export function compactListEncoder(list: CompactCiphertextList): Encoder {
  return {
    kind: SerializedKind.CompactCiphertextList,
    bodyBytes: 12 + (list.mask.length + list.bodies.length) * 8,
    check(p) {
      checkSizeFor(list.polynomialSize, p, "compact list");
      checkEncodingFor(list.encoding);
    },
    write(w) {
      w.u32(list.polynomialSize);
      w.u32(list.count);
      w.u32(list.encoding.bits);
      w.u64Array(list.mask);
      w.u64Array(list.bodies);
    },
  };
}

export function parseCompactList(p: TfheParameters) {
  return (r: ByteReader, limits: Limits): Plan<CompactCiphertextList> => {
    const size = readSize(r, p, "compact list");
    const count = r.u32("compact list count");
    checkCount(count, limits, "compact list");
    if (count > size) fail("LENGTH_MISMATCH", `compact list count ${count} exceeds its ${size} coefficients`);
    const encoding = readEncoding(r.u32("encoding bits"));
    return {
      payloadBytes: (size + count) * 8,
      allocBytes: (size + count) * 8,
      build: (r) => {
        const mask = r.u64Array(size, "mask");
        return new CompactCiphertextList(size, mask, r.u64Array(count, "bodies"), encoding);
      },
    };
  };
}
