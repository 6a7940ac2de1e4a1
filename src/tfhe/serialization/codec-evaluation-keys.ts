// Evaluation keys as a client uploads them: both keys in seeded form, one frame, one checksum.
//   BSK shape (5 × u32, as SeededBootstrapKey) | KSK shape (4 × u32, as SeededKeyswitchKey)
//   | BSK seed (32) | KSK seed (32) | u64 × n·(k+1)·l·N (BSK bodies) | u64 × k·N·l_ks (KSK bodies)
// The keys must have been generated from seeds (ClientKey.evaluationKeys does). Decoding expands the
// masks again, so the result is ready for `new ServerKey(keys)`; maxBytes counts the expanded keys.
import { SeededBootstrapKey } from "../bootstrap-key.js";
import { SeededKeyswitchKey } from "../keyswitch-key.js";
import type { TfheParameters } from "../parameters.js";
import type { EvaluationKeys } from "../server-key.js";
import { bootstrapKeyCodec as bskCodec } from "./codec-bootstrap-key.js";
import { keyswitchKeyCodec as kskCodec } from "./codec-keyswitch-key.js";
import { SEED_BYTES, type Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { SerializedKind } from "./header.js";
import type { Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";

const FIELDS = bskCodec.shapeBytes + kskCodec.shapeBytes;

/** Body bytes of the evaluation keys `p` implies (seeded form). */
export function evaluationKeysBodyBytes(p: TfheParameters): number {
  return bskCodec.bodyBytesFor(p).seeded + kskCodec.bodyBytesFor(p).seeded - bskCodec.shapeBytes - kskCodec.shapeBytes + FIELDS;
}

export function evaluationKeysEncoder(keys: EvaluationKeys): Encoder {
  const { bootstrapKey: bsk, keyswitchKey: ksk } = keys;
  if (!bsk.seed || !ksk.seed) {
    throw new TypeError("evaluation keys serialize in seeded form: both keys must have been generated from a seed");
  }
  return {
    kind: SerializedKind.EvaluationKeys,
    params: keys.params,
    bodyBytes: FIELDS + 2 * SEED_BYTES + (bskCodec.seededWords(bsk.shape) + kskCodec.seededWords(ksk.shape)) * 8,
    check(p) {
      bskCodec.checkShapeFor(bsk.shape, p);
      kskCodec.checkShapeFor(ksk.shape, p);
    },
    write(w) {
      // compress() copies the bodies out (one key at a time, to bound the peak memory).
      bskCodec.writeShape(w, bsk.shape);
      kskCodec.writeShape(w, ksk.shape);
      w.raw(bsk.seed!);
      w.raw(ksk.seed!);
      w.u64Array(bsk.compress().bodies);
      w.u64Array(ksk.compress().bodies);
    },
  };
}

export function parseEvaluationKeys(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<EvaluationKeys> => {
    const bs = bskCodec.readShape(r, p);
    const ks = kskCodec.readShape(r, p);
    const bWords = bskCodec.seededWords(bs), kWords = kskCodec.seededWords(ks);
    return {
      payloadBytes: 2 * SEED_BYTES + (bWords + kWords) * 8,
      allocBytes: 2 * SEED_BYTES + (bWords + kWords + bskCodec.words(bs) + kskCodec.words(ks)) * 8,
      build: (r) => {
        const bSeed = r.bytes(SEED_BYTES, "bootstrap key seed");
        const kSeed = r.bytes(SEED_BYTES, "keyswitch key seed");
        const bootstrapKey = new SeededBootstrapKey(bs, bSeed, r.u64Array(bWords, "bootstrap key bodies")).decompress();
        const keyswitchKey = new SeededKeyswitchKey(ks, kSeed, r.u64Array(kWords, "keyswitch key bodies")).decompress();
        return Object.freeze({ params: p, bootstrapKey, keyswitchKey });
      },
    };
  };
}
