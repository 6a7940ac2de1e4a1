// The codec shared by the keys that come plain and seeded (bootstrapping and key-switching keys). One
// layout, parameterised by the key's shape fields (each a u32, in the order the key type lists them):
//   plain:   shape fields | u32 flags | [seed (32) if flags = 1] | u64 × words(shape)
//   seeded:  shape fields | seed (32) | u64 × seededWords(shape) (the bodies; masks regrow from the seed)
// Every shape field must equal the parameters' value (LENGTH_MISMATCH). flags: bit 0 = the masks' seed
// is stored (the key can then be compressed again); no other bit is defined (INVALID_VALUE). maxBytes
// counts a seeded key at its expanded size, like every seeded kind.
import type { TfheParameters } from "../parameters.js";
import { checkSeed, expectField, mismatch, SEED_BYTES, type Encoder } from "./codec.js";
import type { Parser } from "./envelope.js";
import { fail } from "./errors.js";
import type { SerializedKind } from "./header.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

export const FLAG_HAS_SEED = 1;

/** One u32 shape field, in layout order. */
export interface ShapeField<S> {
  readonly key: keyof S;
  /** Names the field where it is read (TRUNCATED messages), after the key's name: "n". */
  readonly label: string;
  /** Names the field in LENGTH_MISMATCH messages, after the key's name: "LWE dimension". */
  readonly name: string;
}

export interface SeedableKeySpec<S extends Partial<Record<keyof S, number>>, K, SK> {
  /** The key's name in messages: "bootstrap key". */
  readonly what: string;
  readonly kind: SerializedKind;
  readonly seededKind: SerializedKind;
  readonly fields: readonly ShapeField<S>[];
  /** The shape the parameters imply: the expected value of every field. */
  readonly expectedShape: (p: TfheParameters) => S;
  /** u64 words of the plain key's data. */
  readonly words: (s: S) => number;
  /** u64 words of the seeded key's bodies. */
  readonly seededWords: (s: S) => number;
  readonly Plain: new (shape: S, data: BigUint64Array, seed?: Uint8Array) => K;
  readonly Seeded: new (shape: S, seed: Uint8Array, bodies: BigUint64Array) => SK;
}

interface PlainKey<S> { readonly shape: S; readonly data: BigUint64Array; readonly seed?: Uint8Array }
interface SeededKey<S> { readonly shape: S; readonly seed: Uint8Array; readonly bodies: BigUint64Array }

export function seedableKeyCodec<S extends Partial<Record<keyof S, number>>, K extends PlainKey<S>, SK extends SeededKey<S>>(
  spec: SeedableKeySpec<S, K, SK>,
) {
  const { what, fields, expectedShape, words, seededWords } = spec;
  const shapeBytes = 4 * fields.length;

  /** Encoder side: the shape must be the parameters'. */
  function checkShapeFor(s: S, p: TfheParameters): void {
    const e = expectedShape(p);
    // The written fields, and any other field the parameters imply (a multi-bit key's grouping factor).
    const keys = new Set<keyof S>([...fields.map((f) => f.key), ...(Object.keys(e) as (keyof S)[]), ...(Object.keys(s) as (keyof S)[])]);
    if ([...keys].some((key) => s[key] !== e[key])) mismatch(`${what} shape does not match parameters "${p.name}"`);
  }

  function writeShape(w: ByteWriter, s: S): void {
    for (const f of fields) w.u32(s[f.key] as number);
  }

  /** Reads the shape fields and checks each against the parameters; returns the canonical shape. */
  function readShape(r: ByteReader, p: TfheParameters): S {
    const e = expectedShape(p);
    for (const f of fields) expectField(r.u32(`${what} ${f.label}`), e[f.key] as number, `${what} ${f.name}`);
    return Object.freeze(e);
  }

  function readFlags(r: ByteReader): number {
    const flags = r.u32(`${what} flags`);
    if ((flags & ~FLAG_HAS_SEED) !== 0) fail("INVALID_VALUE", `${what} flags 0x${flags.toString(16)} has undefined bits`);
    return flags;
  }

  function encoder(k: K): Encoder {
    const seeded = k.seed !== undefined;
    return {
      kind: spec.kind,
      bodyBytes: shapeBytes + 4 + (seeded ? SEED_BYTES : 0) + k.data.length * 8,
      check(p) {
        checkShapeFor(k.shape, p);
        if (seeded) checkSeed(k.seed, what);
      },
      write(w) {
        writeShape(w, k.shape);
        w.u32(seeded ? FLAG_HAS_SEED : 0);
        if (seeded) w.raw(k.seed!);
        w.u64Array(k.data);
      },
    };
  }

  function parse(p: TfheParameters): Parser<K> {
    return (r) => {
      const shape = readShape(r, p);
      const flags = readFlags(r);
      const n = words(shape);
      const seedBytes = flags & FLAG_HAS_SEED ? SEED_BYTES : 0;
      return {
        payloadBytes: seedBytes + n * 8,
        allocBytes: seedBytes + n * 8,
        build: (r) => {
          const seed = seedBytes ? r.bytes(SEED_BYTES, "seed") : undefined;
          return new spec.Plain(shape, r.u64Array(n, what), seed);
        },
      };
    };
  }

  function seededEncoder(k: SK): Encoder {
    return {
      kind: spec.seededKind,
      bodyBytes: shapeBytes + SEED_BYTES + k.bodies.length * 8,
      check(p) {
        checkShapeFor(k.shape, p);
        checkSeed(k.seed, `seeded ${what}`);
      },
      write(w) {
        writeShape(w, k.shape);
        w.raw(k.seed);
        w.u64Array(k.bodies);
      },
    };
  }

  function parseSeeded(p: TfheParameters): Parser<SK> {
    return (r) => {
      const shape = readShape(r, p);
      const n = seededWords(shape);
      return {
        payloadBytes: SEED_BYTES + n * 8,
        allocBytes: SEED_BYTES + n * 8 + words(shape) * 8,
        build: (r) => {
          const seed = r.bytes(SEED_BYTES, "seed");
          return new spec.Seeded(shape, seed, r.u64Array(n, "bodies"));
        },
      };
    };
  }

  /** Body bytes of the key `p` implies: plain (without a stored seed) and seeded. */
  function bodyBytesFor(p: TfheParameters): { plain: number; seeded: number } {
    const s = expectedShape(p);
    return { plain: shapeBytes + 4 + words(s) * 8, seeded: shapeBytes + SEED_BYTES + seededWords(s) * 8 };
  }

  return { shapeBytes, words, seededWords, checkShapeFor, writeShape, readShape, encoder, parse, seededEncoder, parseSeeded, bodyBytesFor };
}
