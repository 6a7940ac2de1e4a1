// Fuzz of every decoder: ≥ 10,000 mutated inputs per kind (bit flips, byte changes, truncations,
// extensions, edits of the header and length fields and of the payload with the checksum recomputed so
// the decoders' own checks are reached). Each input must either decode to a valid object — which then
// re-encodes to exactly the input bytes (the format is canonical) — or throw DeserializationError;
// anything else (another exception, a crash, a hang) fails. Deterministic (fixed PRNG seed). Tiny
// insecure parameters keep every input small (largest: the plain bootstrapping key, 164 KB), since
// most mutants cost a CRC over the whole input.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BootstrapKey, ClientKey, CompactCiphertextList, CompactPublicKey, DeserializationError, KeyswitchKey, LweBatch,
  PARAM_MESSAGE_4, SeededBootstrapKey, SeededKeyswitchKey, SeededLweBatch, deserializeBootstrapKey,
  deserializeClientKey, deserializeCompactCiphertextList, deserializeCompactPublicKey, deserializeEvaluationKeys,
  deserializeKeyswitchKey, deserializeLweBatch, deserializeParameters, deserializeSeededBootstrapKey,
  deserializeSeededKeyswitchKey, deserializeSeededLweBatch, serialize, deserializeBundle, serializeBundle, type Bundle, unsafeTestOnlyParameters,
  type Serializable, type TfheParameters,
} from "../../src/tfhe/index.js";
import { _recomputeChecksum } from "../../src/tfhe/serialization/checksum.js";

/** DANGER (insecure, tests only): n = 20 (not a multiple of 8, so client keys have padding bits), k = 1, N = 256. */
const FUZZ = unsafeTestOnlyParameters({
  name: "UNSAFE_FUZZ", messageBits: 2, carryBits: 0, lweDimension: 20, glweDimension: 1, polynomialSize: 256,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 20, pbsLevel: 1, ksBaseLog: 4, ksLevel: 2,
});
const ITERATIONS = 10_000;
const KN = FUZZ.glweDimension * FUZZ.polynomialSize;

/** xorshift32: deterministic, not for crypto. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
  return {
    u32: next,
    below: (n: number) => next() % n,
    float: () => next() / 2 ** 32,
  };
}
type Rng = ReturnType<typeof rng>;

/** Edits a base buffer in place and undoes every edit afterwards (no copy of large inputs per mutant). */
class InPlace {
  readonly #saves: [number, Uint8Array][] = [];
  readonly view: DataView;
  constructor(readonly base: Uint8Array) {
    this.view = new DataView(base.buffer, base.byteOffset, base.byteLength);
  }
  #save(off: number, len: number): void {
    this.#saves.push([off, this.base.slice(off, off + len)]);
  }
  setByte(off: number, v: number): void {
    this.#save(off, 1);
    this.base[off] = v;
  }
  setU16(off: number, v: number): void {
    this.#save(off, 2);
    this.view.setUint16(off, v, true);
  }
  setU32(off: number, v: number): void {
    this.#save(off, 4);
    this.view.setUint32(off, v >>> 0, true);
  }
  /** Recomputes the checksum of base[0, len) into its last 4 bytes. */
  reseal(len: number): Uint8Array {
    const v = this.base.subarray(0, len);
    if (len >= 4) {
      this.#save(len - 4, 4);
      _recomputeChecksum(v);
    }
    return v;
  }
  restore(): void {
    for (let i = this.#saves.length - 1; i >= 0; i--) this.base.set(this.#saves[i]![1], this.#saves[i]![0]);
    this.#saves.length = 0;
  }
}

interface Target {
  readonly name: string;
  readonly bases: Uint8Array[];
  /** End of the header + length fields (edits before it exercise the length checks). */
  readonly fieldsEnd: number;
  readonly decode: (b: Uint8Array, i: number) => unknown;
  /** Throws unless `obj` is a valid object of the kind; returns its re-encoding. */
  readonly reencode: (obj: unknown) => Uint8Array;
}

function interesting(r: Rng, orig: number): number {
  const pool = [0, 1, 2, 7, 8, 30, 31, 0xffffffff, 0x80000000, 0x7fffffff, orig + 1, orig - 1, orig * 2, orig >>> 1,
    FUZZ.lweDimension, KN, FUZZ.polynomialSize, 2 ** 20, 2 ** 20 + 1, 2 ** 16, orig ^ (1 << r.below(32))];
  return r.float() < 0.15 ? r.u32() : pool[r.below(pool.length)]!;
}

/** Produces one mutant of `m.base` (edited in place, or a fresh copy for extensions). */
function mutate(r: Rng, m: InPlace, fieldsEnd: number): Uint8Array {
  const b = m.base, len = b.length;
  const x = r.float();
  if (x < 0.22) { // one bit flip anywhere, checksum not fixed
    const pos = r.below(len);
    m.setByte(pos, b[pos]! ^ (1 << r.below(8)));
    return b;
  }
  if (x < 0.32) { // 1–4 random bytes, checksum not fixed
    for (let i = 1 + r.below(4); i > 0; i--) m.setByte(r.below(len), r.below(256));
    return b;
  }
  if (x < 0.40) { // truncation: anywhere, or around the header and fields
    return b.subarray(0, r.float() < 0.5 ? r.below(len) : r.below(Math.min(len, fieldsEnd + 16)));
  }
  if (x < 0.45) { // truncation with a valid checksum over what is left
    return m.reseal(4 + r.below(len - 4));
  }
  if (x < 0.50) { // extension by 1–16 bytes, half of the time with a valid checksum
    const extra = 1 + r.below(16);
    const c = new Uint8Array(len + extra);
    c.set(b);
    for (let i = len; i < c.length; i++) c[i] = r.below(256);
    return r.float() < 0.5 ? _recomputeChecksum(c) : c;
  }
  if (x < 0.78) { // header / length-field edit, checksum recomputed
    editField(r, m, fieldsEnd);
    return m.reseal(len);
  }
  if (x < 0.93) { // payload edit, checksum recomputed (usually decodes: any u64 is a valid torus value)
    for (let i = 1 + r.below(3); i > 0; i--) m.setByte(fieldsEnd + r.below(len - 4 - fieldsEnd), r.below(256));
    return m.reseal(len);
  }
  // several field edits and a payload bit flip, checksum recomputed
  for (let i = 2 + r.below(2); i > 0; i--) editField(r, m, fieldsEnd);
  const pos = fieldsEnd + r.below(len - 4 - fieldsEnd);
  m.setByte(pos, b[pos]! ^ (1 << r.below(8)));
  return m.reseal(len);
}

function editField(r: Rng, m: InPlace, fieldsEnd: number): void {
  const y = r.float();
  if (y < 0.08) m.setU16(4, r.float() < 0.5 ? 1 + r.below(3) : r.below(65536)); // version
  else if (y < 0.16) m.setU16(6, r.float() < 0.7 ? r.below(14) : r.below(65536)); // kind
  else if (y < 0.24) m.setByte(8 + r.below(8), r.below(256)); // fingerprint
  else if (y < 0.28) m.setByte(r.below(4), r.below(256)); // magic
  else {
    const off = 16 + 4 * r.below((fieldsEnd - 16) >> 2);
    m.setU32(off, interesting(r, m.view.getUint32(off, true)));
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function fuzz(t: { diagnostic(msg: string): void }, target: Target, seed: number): void {
  const r = rng(seed);
  const mutators = target.bases.map((b) => new InPlace(b));
  const pristine = target.bases.map((b) => b.slice());
  const codes = new Map<string, number>();
  let decoded = 0, maxMs = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const which = it % mutators.length;
    const m = mutators[which]!;
    const input = mutate(r, m, target.fieldsEnd);
    const t0 = performance.now();
    let obj: unknown, err: unknown, threw = false;
    try {
      obj = target.decode(input, it);
    } catch (e) {
      err = e;
      threw = true;
    }
    maxMs = Math.max(maxMs, performance.now() - t0);
    if (threw) {
      if (!(err instanceof DeserializationError)) {
        assert.fail(`${target.name} #${it}: expected DeserializationError, got ${err instanceof Error ? err.stack : String(err)}`);
      }
      assert.ok(err.message.length < 300, `${target.name}: error message too long`);
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    } else {
      decoded++;
      const again = target.reencode(obj);
      if (!sameBytes(again, input)) assert.fail(`${target.name} #${it}: decoded object does not re-encode to its input`);
    }
    m.restore();
  }
  target.bases.forEach((b, i) => assert.ok(sameBytes(b, pristine[i]!), `${target.name}: base restored`));
  const hist = [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ");
  t.diagnostic(`${target.name}: ${ITERATIONS} inputs, ${decoded} decoded; ${hist}; slowest decode ${maxMs.toFixed(2)} ms`);
  assert.ok(codes.size >= 4, `${target.name}: the mutations reach several checks`);
}

// ---- fixtures ----
const client = ClientKey.generate(FUZZ);
const ek = client.evaluationKeys();
const pk = CompactPublicKey.generate(client.bigKey, FUZZ);
const enc = client.encoding;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function expectClass(cls: Function, name: string) {
  return (obj: unknown): Uint8Array => {
    assert.ok(obj instanceof cls, `decoded ${name} has the wrong class`);
    return serialize(obj as Serializable, FUZZ);
  };
}

const targets: Target[] = [
  {
    name: "LweBatch", fieldsEnd: 28, decode: (b) => deserializeLweBatch(b, FUZZ),
    bases: [serialize(client.encrypt([1, 2, 3]), FUZZ), serialize(LweBatch.zeros(FUZZ.lweDimension, 2, enc), FUZZ)],
    reencode: (o) => {
      const b = o as LweBatch;
      assert.ok(b instanceof LweBatch && (b.dimension === KN || b.dimension === FUZZ.lweDimension));
      assert.equal(b.data.length, b.count * (b.dimension + 1));
      return serialize(b, FUZZ);
    },
  },
  {
    name: "SeededLweBatch", fieldsEnd: 28, decode: (b) => deserializeSeededLweBatch(b, FUZZ),
    bases: [serialize(client.encryptCompressed([0, 1, 2, 3, 1]), FUZZ)],
    reencode: expectClass(SeededLweBatch, "SeededLweBatch"),
  },
  {
    name: "BootstrapKey", fieldsEnd: 40, decode: (b) => deserializeBootstrapKey(b, FUZZ),
    bases: [serialize(ek.bootstrapKey, FUZZ), serialize(new BootstrapKey(ek.bootstrapKey.shape, ek.bootstrapKey.data), FUZZ)],
    reencode: expectClass(BootstrapKey, "BootstrapKey"),
  },
  {
    name: "SeededBootstrapKey", fieldsEnd: 36, decode: (b) => deserializeSeededBootstrapKey(b, FUZZ),
    bases: [serialize(ek.bootstrapKey.compress(), FUZZ)],
    reencode: expectClass(SeededBootstrapKey, "SeededBootstrapKey"),
  },
  {
    name: "KeyswitchKey", fieldsEnd: 36, decode: (b) => deserializeKeyswitchKey(b, FUZZ),
    bases: [serialize(ek.keyswitchKey, FUZZ), serialize(new KeyswitchKey(ek.keyswitchKey.shape, ek.keyswitchKey.data), FUZZ)],
    reencode: expectClass(KeyswitchKey, "KeyswitchKey"),
  },
  {
    name: "SeededKeyswitchKey", fieldsEnd: 32, decode: (b) => deserializeSeededKeyswitchKey(b, FUZZ),
    bases: [serialize(ek.keyswitchKey.compress(), FUZZ)],
    reencode: expectClass(SeededKeyswitchKey, "SeededKeyswitchKey"),
  },
  {
    name: "ClientKey", fieldsEnd: 28, decode: (b) => deserializeClientKey(b, FUZZ),
    bases: [serialize(client)],
    reencode: expectClass(ClientKey, "ClientKey"),
  },
  {
    name: "CompactPublicKey", fieldsEnd: 20, decode: (b) => deserializeCompactPublicKey(b, FUZZ),
    bases: [serialize(pk, FUZZ)],
    reencode: expectClass(CompactPublicKey, "CompactPublicKey"),
  },
  {
    name: "CompactCiphertextList", fieldsEnd: 28, decode: (b) => deserializeCompactCiphertextList(b, FUZZ),
    bases: [serialize(pk.encrypt([1, 2, 3, 0], enc), FUZZ), serialize(pk.encrypt([], enc), FUZZ)],
    reencode: expectClass(CompactCiphertextList, "CompactCiphertextList"),
  },
  {
    name: "EvaluationKeys", fieldsEnd: 52, decode: (b) => deserializeEvaluationKeys(b, FUZZ),
    bases: [serialize(ek)],
    reencode: (o) => {
      const k = o as { params: TfheParameters; bootstrapKey: unknown; keyswitchKey: unknown };
      assert.ok(k.params === FUZZ && k.bootstrapKey instanceof BootstrapKey && k.keyswitchKey instanceof KeyswitchKey);
      return serialize(o as Serializable);
    },
  },
  {
    name: "Parameters", fieldsEnd: 72,
    // Alternately with and without the unsafe option (so INSECURE_PARAMETERS is reached too).
    decode: (b, i) => deserializeParameters(b, i % 3 === 0 ? undefined : { unsafeTestOnlyAllowInsecure: true }),
    bases: [serialize(FUZZ), serialize(PARAM_MESSAGE_4), serialize(unsafeTestOnlyParameters({ ...FUZZ, name: "naïve ✓ 🔑" }))],
    reencode: (o) => {
      assert.ok(Object.isFrozen(o));
      return serialize(o as TfheParameters);
    },
  },
  {
    name: "Bundle", fieldsEnd: 16 + 12 + 8 * 2,
    decode: (b) => deserializeBundle(b, "umbra.test/1", FUZZ),
    bases: [serializeBundle({
      type: "umbra.test/1", json: { shape: [2, 3], names: ["x", "ü"], w: [-1.5, 0, 12] },
      parts: [serialize(client.encrypt([1, 2]), FUZZ), serialize(FUZZ)],
    }, FUZZ)],
    reencode: (o) => {
      const b = o as Bundle;
      assert.ok(b.type === "umbra.test/1" && Array.isArray(b.parts) && b.parts.every((p) => p instanceof Uint8Array));
      return serializeBundle(b, FUZZ);
    },
  },
];

targets.forEach((target, i) => {
  test(`fuzz: ${target.name} decoder (${ITERATIONS} mutated inputs)`, (t) => fuzz(t, target, 0x5eed0 + i));
});

test("fuzz: every decoder on inputs of every other kind and on random bytes", () => {
  const decoders = targets.map((t) => t.decode);
  const r = rng(0xfacade);
  const inputs: Uint8Array[] = targets.flatMap((t) => t.bases);
  for (let i = 0; i < 300; i++) {
    const len = r.below(200);
    const b = Uint8Array.from({ length: len }, () => r.below(256));
    if (len >= 8 && r.float() < 0.7) b.set([0x55, 0x4d, 0x42, 0x52, 1, 0, 1 + r.below(12), 0]);
    inputs.push(r.float() < 0.5 && len >= 4 ? _recomputeChecksum(b) : b);
  }
  for (const input of inputs) {
    decoders.forEach((decode, i) => {
      try {
        decode(input, i);
      } catch (e) {
        if (!(e instanceof DeserializationError)) assert.fail(`${targets[i]!.name}: ${String(e)}`);
      }
    });
  }
});
