// LWE ciphertext batches, plain and seeded. Both start with the same three fields:
//   LweBatch:        u32 dimension | u32 count | u32 encoding bits | u64 × count·(dimension+1)
//   SeededLweBatch:  u32 dimension | u32 count | u32 encoding bits | seed (32) | u64 × count (bodies)
// The dimension must be k·N or n of the parameters; count ≤ maxCount; maxBytes bounds the plain size.
import type { Encoding } from "../encoding.js";
import { LweBatch } from "../lwe-batch.js";
import type { TfheParameters } from "../parameters.js";
import { SeededLweBatch } from "../seeded-lwe.js";
import { deserializedBounds } from "../noise-budget.js";
import {
  checkEncodingFor, checkLweDimensionFor, checkSeed, expectLweDimension, readEncoding, SEED_BYTES, type Encoder,
} from "./codec.js";
import type { Plan } from "./envelope.js";
import { SerializedKind } from "./header.js";
import { checkCount, type Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

const FIELDS = 12;

/** Body bytes of a batch of `count` ciphertexts of `dimension`: plain and seeded. */
export function lweBatchBodyBytes(dimension: number, count: number): { plain: number; seeded: number } {
  return { plain: FIELDS + count * (dimension + 1) * 8, seeded: FIELDS + SEED_BYTES + count * 8 };
}

/** The leading fields of both batch kinds. */
interface BatchFields {
  readonly dimension: number;
  readonly count: number;
  readonly encoding: Encoding;
}

function checkFieldsFor(b: BatchFields, p: TfheParameters): void {
  checkLweDimensionFor(b.dimension, p);
  checkEncodingFor(b.encoding);
}

function writeFields(w: ByteWriter, b: BatchFields): void {
  w.u32(b.dimension);
  w.u32(b.count);
  w.u32(b.encoding.bits);
}

/** Reads and checks the leading fields; `what` names the batch in the maxCount message. */
function readFields(r: ByteReader, p: TfheParameters, limits: Limits, what: string): BatchFields {
  const dimension = r.u32("LWE dimension");
  expectLweDimension(dimension, p);
  const count = r.u32("ciphertext count");
  checkCount(count, limits, what);
  const encoding = readEncoding(r.u32("encoding bits"));
  return { dimension, count, encoding };
}

export function lweBatchEncoder(b: LweBatch): Encoder {
  return {
    kind: SerializedKind.LweBatch,
    bodyBytes: FIELDS + b.data.length * 8,
    check: (p) => checkFieldsFor(b, p),
    write(w) {
      writeFields(w, b);
      w.u64Array(b.data);
    },
  };
}

export function parseLweBatch(p: TfheParameters) {
  return (r: ByteReader, limits: Limits): Plan<LweBatch> => {
    const { dimension, count, encoding } = readFields(r, p, limits, "LWE batch");
    const words = count * (dimension + 1);
    return {
      payloadBytes: words * 8,
      allocBytes: words * 8,
      build: (r) => new LweBatch(dimension, count, r.u64Array(words, "ciphertexts"), encoding, deserializedBounds(encoding, p)),
    };
  };
}

export function seededLweBatchEncoder(b: SeededLweBatch): Encoder {
  return {
    kind: SerializedKind.SeededLweBatch,
    bodyBytes: FIELDS + SEED_BYTES + b.bodies.length * 8,
    check(p) {
      checkFieldsFor(b, p);
      checkSeed(b.seed, "seeded LWE batch");
    },
    write(w) {
      writeFields(w, b);
      w.raw(b.seed);
      w.u64Array(b.bodies);
    },
  };
}

export function parseSeededLweBatch(p: TfheParameters) {
  return (r: ByteReader, limits: Limits): Plan<SeededLweBatch> => {
    const { dimension, count, encoding } = readFields(r, p, limits, "seeded LWE batch");
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
