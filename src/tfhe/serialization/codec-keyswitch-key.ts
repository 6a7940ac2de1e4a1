// Key-switching keys (k·N → n), plain and seeded.
//   KeyswitchKey:        u32 input dim (k·N) | u32 output dim (n) | u32 base log | u32 levels | u32 flags
//                        | [seed (32) if flags = 1] | u64 × k·N·l_ks·(n+1)
//   SeededKeyswitchKey:  u32 input dim | u32 output dim | u32 base log | u32 levels | seed (32) | u64 × k·N·l_ks
import { KeyswitchKey, SeededKeyswitchKey, type KeyswitchKeyShape } from "../keyswitch-key.js";
import type { TfheParameters } from "../parameters.js";
import { FLAG_HAS_SEED, readFlags } from "./codec-bootstrap-key.js";
import { bigDimension, checkSeed, expectField, mismatch, SEED_BYTES, type Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { SerializedKind } from "./header.js";
import type { Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

const SHAPE_FIELDS = 16;

export function keyswitchKeyShape(p: TfheParameters): KeyswitchKeyShape {
  return Object.freeze({ inputDimension: bigDimension(p), outputDimension: p.lweDimension, baseLog: p.ksBaseLog, levels: p.ksLevel });
}

export function kskWords(s: KeyswitchKeyShape): number {
  return s.inputDimension * s.levels * (s.outputDimension + 1);
}

export function seededKskWords(s: KeyswitchKeyShape): number {
  return s.inputDimension * s.levels;
}

export function checkKskShapeFor(s: KeyswitchKeyShape, p: TfheParameters): void {
  const e = keyswitchKeyShape(p);
  if (s.inputDimension !== e.inputDimension || s.outputDimension !== e.outputDimension || s.baseLog !== e.baseLog || s.levels !== e.levels) {
    mismatch(`keyswitch key shape does not match parameters "${p.name}"`);
  }
}

export function writeKskShape(w: ByteWriter, s: KeyswitchKeyShape): void {
  w.u32(s.inputDimension);
  w.u32(s.outputDimension);
  w.u32(s.baseLog);
  w.u32(s.levels);
}

export function readKskShape(r: ByteReader, p: TfheParameters): KeyswitchKeyShape {
  const e = keyswitchKeyShape(p);
  expectField(r.u32("keyswitch key input dimension"), e.inputDimension, "keyswitch key input dimension");
  expectField(r.u32("keyswitch key output dimension"), e.outputDimension, "keyswitch key output dimension");
  expectField(r.u32("keyswitch key base log"), e.baseLog, "keyswitch key base log");
  expectField(r.u32("keyswitch key levels"), e.levels, "keyswitch key levels");
  return e;
}

export function keyswitchKeyEncoder(k: KeyswitchKey): Encoder {
  const seeded = k.seed !== undefined;
  return {
    kind: SerializedKind.KeyswitchKey,
    bodyBytes: SHAPE_FIELDS + 4 + (seeded ? SEED_BYTES : 0) + k.data.length * 8,
    check(p) {
      checkKskShapeFor(k.shape, p);
      if (seeded) checkSeed(k.seed, "keyswitch key");
    },
    write(w) {
      writeKskShape(w, k.shape);
      w.u32(seeded ? FLAG_HAS_SEED : 0);
      if (seeded) w.raw(k.seed!);
      w.u64Array(k.data);
    },
  };
}

export function parseKeyswitchKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<KeyswitchKey> => {
    const shape = readKskShape(r, p);
    const flags = readFlags(r, "keyswitch key");
    const words = kskWords(shape);
    const seedBytes = flags & FLAG_HAS_SEED ? SEED_BYTES : 0;
    return {
      payloadBytes: seedBytes + words * 8,
      allocBytes: seedBytes + words * 8,
      build: (r) => {
        const seed = seedBytes ? r.bytes(SEED_BYTES, "seed") : undefined;
        return new KeyswitchKey(shape, r.u64Array(words, "keyswitch key"), seed);
      },
    };
  };
}

export function seededKeyswitchKeyEncoder(k: SeededKeyswitchKey): Encoder {
  return {
    kind: SerializedKind.SeededKeyswitchKey,
    bodyBytes: SHAPE_FIELDS + SEED_BYTES + k.bodies.length * 8,
    check(p) {
      checkKskShapeFor(k.shape, p);
      checkSeed(k.seed, "seeded keyswitch key");
    },
    write(w) {
      writeKskShape(w, k.shape);
      w.raw(k.seed);
      w.u64Array(k.bodies);
    },
  };
}

export function parseSeededKeyswitchKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<SeededKeyswitchKey> => {
    const shape = readKskShape(r, p);
    const words = seededKskWords(shape);
    return {
      payloadBytes: SEED_BYTES + words * 8,
      allocBytes: SEED_BYTES + words * 8 + kskWords(shape) * 8,
      build: (r) => {
        const seed = r.bytes(SEED_BYTES, "seed");
        return new SeededKeyswitchKey(shape, seed, r.u64Array(words, "bodies"));
      },
    };
  };
}
