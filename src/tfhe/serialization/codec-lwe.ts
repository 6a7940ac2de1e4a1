// LWE ciphertext batches, plain and seeded.
//   LweBatch:        u32 dimension | u32 count | u32 encoding bits | u64 × count·(dimension+1)
//   SeededLweBatch:  u32 dimension | u32 count | u32 encoding bits | seed (32) | u64 × count (bodies)
// The dimension must be k·N or n of the parameters; count ≤ maxCount; maxBytes bounds the plain size.
import { LweBatch } from "../lwe-batch.js";
import type { TfheParameters } from "../parameters.js";
import { SeededLweBatch } from "../seeded-lwe.js";
import {
  checkEncodingFor, checkLweDimensionFor, checkSeed, expectLweDimension, readEncoding, SEED_BYTES, type Encoder,
} from "./codec.js";
import type { Plan } from "./envelope.js";
import { SerializedKind } from "./header.js";
import { checkCount, type Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";

const FIELDS = 12;

export function lweBatchEncoder(b: LweBatch): Encoder {
  return {
    kind: SerializedKind.LweBatch,
    bodyBytes: FIELDS + b.data.length * 8,
    check(p) {
      checkLweDimensionFor(b.dimension, p);
      checkEncodingFor(b.encoding);
    },
    write(w) {
      w.u32(b.dimension);
      w.u32(b.count);
      w.u32(b.encoding.bits);
      w.u64Array(b.data);
    },
  };
}

export function parseLweBatch(p: TfheParameters) {
  return (r: ByteReader, limits: Limits): Plan<LweBatch> => {
    const dimension = r.u32("LWE dimension");
    expectLweDimension(dimension, p);
    const count = r.u32("ciphertext count");
    checkCount(count, limits, "LWE batch");
    const encoding = readEncoding(r.u32("encoding bits"));
    const words = count * (dimension + 1);
    return {
      payloadBytes: words * 8,
      allocBytes: words * 8,
      build: (r) => new LweBatch(dimension, count, r.u64Array(words, "ciphertexts"), encoding),
    };
  };
}

export function seededLweBatchEncoder(b: SeededLweBatch): Encoder {
  return {
    kind: SerializedKind.SeededLweBatch,
    bodyBytes: FIELDS + SEED_BYTES + b.bodies.length * 8,
    check(p) {
      checkLweDimensionFor(b.dimension, p);
      checkEncodingFor(b.encoding);
      checkSeed(b.seed, "seeded LWE batch");
    },
    write(w) {
      w.u32(b.dimension);
      w.u32(b.count);
      w.u32(b.encoding.bits);
      w.raw(b.seed);
      w.u64Array(b.bodies);
    },
  };
}

export function parseSeededLweBatch(p: TfheParameters) {
  return (r: ByteReader, limits: Limits): Plan<SeededLweBatch> => {
    const dimension = r.u32("LWE dimension");
    expectLweDimension(dimension, p);
    const count = r.u32("ciphertext count");
    checkCount(count, limits, "seeded LWE batch");
    const encoding = readEncoding(r.u32("encoding bits"));
    return {
      payloadBytes: SEED_BYTES + count * 8,
      // Counted at its expanded size (what decompress() will need), like every seeded kind.
      allocBytes: SEED_BYTES + count * 8 + count * (dimension + 1) * 8,
      build: (r) => {
        const seed = r.bytes(SEED_BYTES, "seed");
        return new SeededLweBatch(dimension, seed, r.u64Array(count, "bodies"), encoding);
      },
    };
  };
}
