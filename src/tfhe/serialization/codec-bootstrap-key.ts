// Bootstrapping keys (standard domain, as generated), plain and seeded.
//   BootstrapKey:        u32 n | u32 k | u32 N | u32 base log | u32 levels | u32 flags | [seed (32) if flags = 1]
//                        | u64 × n·(k+1)²·l·N
//   SeededBootstrapKey:  u32 n | u32 k | u32 N | u32 base log | u32 levels | seed (32) | u64 × n·(k+1)·l·N
// Every shape field must equal the parameters' (n, k, N, pbsBaseLog, pbsLevel). flags: bit 0 = the masks'
// seed is stored (the key can then be compressed again); no other bit is defined.
import { BootstrapKey, bootstrapKeyShape, ggswWords, SeededBootstrapKey, type BootstrapKeyShape } from "../bootstrap-key.js";
import type { TfheParameters } from "../parameters.js";
import { checkSeed, expectField, mismatch, SEED_BYTES, type Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { fail } from "./errors.js";
import { SerializedKind } from "./header.js";
import type { Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

const SHAPE_FIELDS = 20;
export const FLAG_HAS_SEED = 1;

/** Words of a plain key: n GGSW of (k+1)·l rows of k+1 polynomials. */
export function bskWords(s: BootstrapKeyShape): number {
  return s.lweDimension * ggswWords(s);
}

/** Words of a seeded key: one body polynomial per GGSW row. */
export function seededBskWords(s: BootstrapKeyShape): number {
  return s.lweDimension * (s.glweDimension + 1) * s.levels * s.polynomialSize;
}

export function checkBskShapeFor(s: BootstrapKeyShape, p: TfheParameters): void {
  const e = bootstrapKeyShape(p);
  if (s.lweDimension !== e.lweDimension || s.glweDimension !== e.glweDimension || s.polynomialSize !== e.polynomialSize
    || s.baseLog !== e.baseLog || s.levels !== e.levels) {
    mismatch(`bootstrap key shape does not match parameters "${p.name}"`);
  }
}

export function writeBskShape(w: ByteWriter, s: BootstrapKeyShape): void {
  w.u32(s.lweDimension);
  w.u32(s.glweDimension);
  w.u32(s.polynomialSize);
  w.u32(s.baseLog);
  w.u32(s.levels);
}

/** Reads the five shape fields and checks each against the parameters; returns the canonical shape. */
export function readBskShape(r: ByteReader, p: TfheParameters): BootstrapKeyShape {
  const e = bootstrapKeyShape(p);
  expectField(r.u32("bootstrap key n"), e.lweDimension, "bootstrap key LWE dimension");
  expectField(r.u32("bootstrap key k"), e.glweDimension, "bootstrap key GLWE dimension");
  expectField(r.u32("bootstrap key N"), e.polynomialSize, "bootstrap key polynomial size");
  expectField(r.u32("bootstrap key base log"), e.baseLog, "bootstrap key base log");
  expectField(r.u32("bootstrap key levels"), e.levels, "bootstrap key levels");
  return Object.freeze(e);
}

export function readFlags(r: ByteReader, what: string): number {
  const flags = r.u32(`${what} flags`);
  if ((flags & ~FLAG_HAS_SEED) !== 0) fail("INVALID_VALUE", `${what} flags 0x${flags.toString(16)} has undefined bits`);
  return flags;
}

export function bootstrapKeyEncoder(k: BootstrapKey): Encoder {
  const seeded = k.seed !== undefined;
  return {
    kind: SerializedKind.BootstrapKey,
    bodyBytes: SHAPE_FIELDS + 4 + (seeded ? SEED_BYTES : 0) + k.data.length * 8,
    check(p) {
      checkBskShapeFor(k.shape, p);
      if (seeded) checkSeed(k.seed, "bootstrap key");
    },
    write(w) {
      writeBskShape(w, k.shape);
      w.u32(seeded ? FLAG_HAS_SEED : 0);
      if (seeded) w.raw(k.seed!);
      w.u64Array(k.data);
    },
  };
}

export function parseBootstrapKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<BootstrapKey> => {
    const shape = readBskShape(r, p);
    const flags = readFlags(r, "bootstrap key");
    const words = bskWords(shape);
    const seedBytes = flags & FLAG_HAS_SEED ? SEED_BYTES : 0;
    return {
      payloadBytes: seedBytes + words * 8,
      allocBytes: seedBytes + words * 8,
      build: (r) => {
        const seed = seedBytes ? r.bytes(SEED_BYTES, "seed") : undefined;
        return new BootstrapKey(shape, r.u64Array(words, "bootstrap key"), seed);
      },
    };
  };
}

export function seededBootstrapKeyEncoder(k: SeededBootstrapKey): Encoder {
  return {
    kind: SerializedKind.SeededBootstrapKey,
    bodyBytes: SHAPE_FIELDS + SEED_BYTES + k.bodies.length * 8,
    check(p) {
      checkBskShapeFor(k.shape, p);
      checkSeed(k.seed, "seeded bootstrap key");
    },
    write(w) {
      writeBskShape(w, k.shape);
      w.raw(k.seed);
      w.u64Array(k.bodies);
    },
  };
}

export function parseSeededBootstrapKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<SeededBootstrapKey> => {
    const shape = readBskShape(r, p);
    const words = seededBskWords(shape);
    return {
      payloadBytes: SEED_BYTES + words * 8,
      allocBytes: SEED_BYTES + words * 8 + bskWords(shape) * 8,
      build: (r) => {
        const seed = r.bytes(SEED_BYTES, "seed");
        return new SeededBootstrapKey(shape, seed, r.u64Array(words, "bodies"));
      },
    };
  };
}
