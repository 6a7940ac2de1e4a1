// Binary format: round trips of every kind, sizes of the seeded forms, and the decoders' typed errors
// (other kind, other parameters, bumped version, truncation at every length, edited length fields…).
// The fuzz test of every decoder is serialization-fuzz.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BootstrapKey, ClientKey, CompactPublicKey, DeserializationError, KeyswitchKey, LweBatch, ParameterMismatchError,
  PARAM_MESSAGE_4, NAMED_PARAMETER_SETS, SeededBootstrapKey, SeededKeyswitchKey, SeededLweBatch, ServerKey,
  SerializedKind, UNSAFE_TEST_PARAMS_SMALL, UNSAFE_TEST_PARAMS_TINY, deserializeBootstrapKey, deserializeClientKey,
  deserializeCompactCiphertextList, deserializeCompactPublicKey, deserializeEvaluationKeys, deserializeKeyswitchKey,
  deserializeLweBatch, deserializeParameters, deserializeSeededBootstrapKey, deserializeSeededKeyswitchKey,
  deserializeSeededLweBatch, deserializeBundle, serializeBundle, serializedSizes, parameterFingerprint, peekHeader, serialize, serializedSize, unsafeTestOnlyParameters,
  type DeserializationErrorCode, type DeserializeOptions, type Serializable, type TfheParameters,
} from "../../src/tfhe/index.js";
import { _recomputeChecksum, crc32 } from "../../src/tfhe/serialization/checksum.js";
import { keysFor } from "../helpers/keys.js";

const P = UNSAFE_TEST_PARAMS_TINY;

function expectCode(fn: () => unknown, code: DeserializationErrorCode, what = ""): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DeserializationError, `${what}: expected DeserializationError(${code}), got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

function u32At(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** A copy with the u32 at `off` replaced and the checksum recomputed (so the length checks are reached). */
function withU32(b: Uint8Array, off: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(off, v >>> 0, true);
  return _recomputeChecksum(c);
}

function assertWords(a: BigUint64Array, b: BigUint64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: word ${i} differs`);
}

// ---- fixtures at the tiny test parameters (one key set per process, cached) ----
const { client, server } = keysFor(P);
let evk: ReturnType<ClientKey["evaluationKeys"]> | undefined;
function evalKeys() {
  return (evk ??= client.evaluationKeys());
}
const msgs = [0, 1, 2, 3, 3, 2];

type Decoder = (b: Uint8Array, p: TfheParameters, o?: DeserializeOptions) => unknown;
function tinyObjects(): { name: string; obj: Serializable; decode: Decoder }[] {
  const ek = evalKeys();
  const pk = CompactPublicKey.generate(client.bigKey, P);
  return [
    { name: "LweBatch", obj: client.encrypt(msgs), decode: deserializeLweBatch },
    { name: "SeededLweBatch", obj: client.encryptCompressed(msgs), decode: deserializeSeededLweBatch },
    { name: "BootstrapKey", obj: ek.bootstrapKey, decode: deserializeBootstrapKey },
    { name: "SeededBootstrapKey", obj: ek.bootstrapKey.compress(), decode: deserializeSeededBootstrapKey },
    { name: "KeyswitchKey", obj: ek.keyswitchKey, decode: deserializeKeyswitchKey },
    { name: "SeededKeyswitchKey", obj: ek.keyswitchKey.compress(), decode: deserializeSeededKeyswitchKey },
    { name: "ClientKey", obj: client, decode: deserializeClientKey },
    { name: "CompactPublicKey", obj: pk, decode: deserializeCompactPublicKey },
    { name: "CompactCiphertextList", obj: pk.encrypt(msgs, client.encoding), decode: deserializeCompactCiphertextList },
    { name: "EvaluationKeys", obj: ek, decode: deserializeEvaluationKeys },
    { name: "Parameters", obj: P, decode: (b) => deserializeParameters(b, { unsafeTestOnlyAllowInsecure: true }) },
  ];
}

test("CRC-32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // The 8-byte fast path and the byte loop agree at every split.
  const data = Uint8Array.from({ length: 37 }, (_, i) => (i * 73 + 11) & 0xff);
  let ref = 0xffffffff;
  for (const byte of data) {
    ref ^= byte;
    for (let j = 0; j < 8; j++) ref = ref & 1 ? 0xedb88320 ^ (ref >>> 1) : ref >>> 1;
  }
  assert.equal(crc32(data), (ref ^ 0xffffffff) >>> 0);
});

test("every kind: header, serializedSize, and decode → re-encode gives the same bytes", () => {
  for (const { name, obj, decode } of tinyObjects()) {
    const bytes = serialize(obj, P);
    assert.equal(bytes.length, serializedSize(obj), `${name}: serializedSize`);
    assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x55, 0x4d, 0x42, 0x52], `${name}: magic`);
    const h = peekHeader(bytes);
    assert.equal(h.version, 1);
    assert.equal(h.kindName, name);
    assert.equal(h.kind, SerializedKind[name as keyof typeof SerializedKind]);
    assert.deepEqual(h.fingerprint, parameterFingerprint(P), `${name}: fingerprint`);
    const back = decode(bytes, P) as Serializable;
    assert.deepEqual(serialize(back, P), bytes, `${name}: canonical re-encoding`);
  }
});

test("ciphertexts round trip and decrypt; decoded objects do not alias the input", () => {
  const ct = client.encrypt(msgs);
  const bytes = serialize(ct, P);
  const back = deserializeLweBatch(bytes, P);
  assert.ok(back instanceof LweBatch);
  assert.equal(back.dimension, ct.dimension);
  assert.equal(back.count, ct.count);
  assert.deepEqual(back.encoding, ct.encoding);
  assertWords(back.data, ct.data, "LweBatch");
  bytes.fill(0);
  assert.deepEqual(Array.from(client.decrypt(back)), msgs);

  // Small-key ciphertexts (dimension n, after a key switch) and other encodings are valid too.
  const small = server.keyswitch(client.encrypt(msgs));
  assert.equal(small.dimension, P.lweDimension);
  assertWords(deserializeLweBatch(serialize(small, P), P).data, small.data, "small-key batch");
  const wide = client.encrypt([5, 9], { bits: 6 });
  assert.deepEqual(Array.from(client.decrypt(deserializeLweBatch(serialize(wide, P), P))), [5, 9]);

  // Empty batch.
  const empty = LweBatch.zeros(ct.dimension, 0, ct.encoding);
  assert.equal(deserializeLweBatch(serialize(empty, P), P).count, 0);

  // Seeded batch: seed + bodies only; decompresses to the same ciphertexts.
  const sc = client.encryptCompressed(msgs);
  const sb = deserializeSeededLweBatch(serialize(sc, P), P);
  assert.ok(sb instanceof SeededLweBatch);
  assert.deepEqual(sb.seed, sc.seed);
  assertWords(sb.decompress().data, sc.decompress().data, "seeded batch");
  assert.deepEqual(Array.from(client.decrypt(sb.decompress())), msgs);

  // Unaligned input (a Node Buffer slice at an odd offset) decodes the same.
  const padded = new Uint8Array(bytes.length + 3);
  const fresh = serialize(ct, P);
  padded.set(fresh, 3);
  assertWords(deserializeLweBatch(padded.subarray(3), P).data, ct.data, "unaligned");
  // Node Buffers (whose slice() is a view into a shared pool): the result owns its memory.
  const buf = Buffer.from(fresh);
  const fromBuf = deserializeLweBatch(buf, P);
  const seededBuf = Buffer.from(serialize(sc, P));
  const sFromBuf = deserializeSeededLweBatch(seededBuf, P);
  buf.fill(0);
  seededBuf.fill(0);
  assertWords(fromBuf.data, ct.data, "Buffer");
  assert.equal(fromBuf.data.byteLength, fromBuf.data.buffer.byteLength);
  assert.deepEqual(sFromBuf.seed, sc.seed);
  assertWords(sFromBuf.bodies, sc.bodies, "Buffer seeded bodies");
});

test("keys round trip (plain with and without seed, seeded) and still bootstrap", () => {
  const ek = evalKeys();
  const bsk = deserializeBootstrapKey(serialize(ek.bootstrapKey, P), P);
  assert.ok(bsk instanceof BootstrapKey);
  assertWords(bsk.data, ek.bootstrapKey.data, "BSK");
  assert.deepEqual(bsk.seed, ek.bootstrapKey.seed);
  assert.deepEqual(bsk.shape, ek.bootstrapKey.shape);
  const unseeded = new BootstrapKey(ek.bootstrapKey.shape, ek.bootstrapKey.data);
  assert.equal(deserializeBootstrapKey(serialize(unseeded, P), P).seed, undefined);
  assert.equal(serializedSize(unseeded), serializedSize(ek.bootstrapKey) - 32);

  const sbsk = deserializeSeededBootstrapKey(serialize(ek.bootstrapKey.compress(), P), P);
  assert.ok(sbsk instanceof SeededBootstrapKey);
  assertWords(sbsk.decompress().data, ek.bootstrapKey.data, "seeded BSK");

  const ksk = deserializeKeyswitchKey(serialize(ek.keyswitchKey, P), P);
  assert.ok(ksk instanceof KeyswitchKey);
  assertWords(ksk.data, ek.keyswitchKey.data, "KSK");
  const sksk = deserializeSeededKeyswitchKey(serialize(ek.keyswitchKey.compress(), P), P);
  assert.ok(sksk instanceof SeededKeyswitchKey);
  assertWords(sksk.decompress().data, ek.keyswitchKey.data, "seeded KSK");

  const keys = deserializeEvaluationKeys(serialize(ek), P);
  assert.equal(keys.params, P);
  assertWords(keys.bootstrapKey.data, ek.bootstrapKey.data, "evaluation keys BSK");
  assertWords(keys.keyswitchKey.data, ek.keyswitchKey.data, "evaluation keys KSK");
  const sk = new ServerKey({ params: P, bootstrapKey: bsk, keyswitchKey: ksk });
  try {
    assert.deepEqual(Array.from(client.decrypt(sk.apply(client.encrypt(msgs), (x) => (3 * x + 1) % 4))), msgs.map((x) => (3 * x + 1) % 4));
  } finally {
    sk.free();
  }
});

test("client key round trip (secret: client storage only)", () => {
  const bytes = serialize(client);
  // n + kN bits, 8 per byte, after a 16-byte header and 3 length fields; 4-byte checksum.
  assert.equal(bytes.length, 16 + 12 + P.lweDimension / 8 + (P.glweDimension * P.polynomialSize) / 8 + 4);
  const back = deserializeClientKey(bytes, P);
  assert.ok(back instanceof ClientKey);
  assert.deepEqual(back.lweKey.bits, client.lweKey.bits);
  assert.deepEqual(back.glweKey.key.bits, client.glweKey.key.bits);
  const ct = client.encrypt(msgs);
  assert.deepEqual(Array.from(back.decrypt(ct)), msgs);
  assert.deepEqual(Array.from(client.decrypt(back.encrypt(msgs))), msgs);
  // A dimension that is not a multiple of 8: the padding bits must be zero.
  const odd = unsafeTestOnlyParameters({ ...P, name: "ODD_N", lweDimension: 61 });
  const oddKey = ClientKey.generate(odd);
  const ob = serialize(oddKey);
  assert.deepEqual(deserializeClientKey(ob, odd).lweKey.bits, oddKey.lweKey.bits);
  const bad = ob.slice();
  bad[16 + 12 + 7]! |= 0x80; // bit 63 of the 61-bit small key
  expectCode(() => deserializeClientKey(_recomputeChecksum(bad), odd), "INVALID_VALUE", "padding bit");
});

test("compact public key and compact list round trip", () => {
  const pk = CompactPublicKey.generate(client.bigKey, P);
  const pk2 = deserializeCompactPublicKey(serialize(pk, P), P);
  assert.ok(pk2 instanceof CompactPublicKey);
  assertWords(pk2.body, pk.body, "public key");
  assert.equal(pk2.noiseStd, P.glweNoiseStd);
  const list = pk2.encrypt(msgs, client.encoding);
  const list2 = deserializeCompactCiphertextList(serialize(list, P), P);
  assert.equal(list2.count, msgs.length);
  assert.deepEqual(Array.from(client.decrypt(list2.expand())), msgs);
  // A public key whose noise differs from the parameters' σ_glwe does not serialize under them.
  const weak = new CompactPublicKey(pk.polynomialSize, pk.seed, pk.body, P.glweNoiseStd * 2);
  assert.throws(() => serialize(weak, P), ParameterMismatchError);
});

test("parameters round trip; decoding re-runs the security check", () => {
  for (const { params } of NAMED_PARAMETER_SETS) {
    const back = deserializeParameters(serialize(params));
    assert.deepEqual(back, params);
    assert.ok(Object.isFrozen(back));
  }
  const tiny = serialize(P);
  expectCode(() => deserializeParameters(tiny), "INSECURE_PARAMETERS");
  assert.deepEqual(deserializeParameters(tiny, { unsafeTestOnlyAllowInsecure: true }), P);
  // Non-ASCII names survive (UTF-8).
  const named = unsafeTestOnlyParameters({ ...P, name: "τ-test ✓ 🔑" });
  assert.equal(deserializeParameters(serialize(named), { unsafeTestOnlyAllowInsecure: true }).name, named.name);
  // Header fingerprint must be the decoded parameters'.
  const edited = withU32(tiny, 16 + 4 + 2 * 4, P.lweDimension + 1); // lweDimension field
  expectCode(() => deserializeParameters(edited, { unsafeTestOnlyAllowInsecure: true }), "PARAMS_MISMATCH");
  // An invalid shape with a matching fingerprint is INVALID_VALUE (N = 300 is not a power of two).
  const badShape = withU32(tiny, 16 + 4 + 4 * 4, 300);
  badShape.set(parameterFingerprint({ ...P, polynomialSize: 300 }), 8);
  expectCode(() => deserializeParameters(_recomputeChecksum(badShape), { unsafeTestOnlyAllowInsecure: true }), "INVALID_VALUE");
  // Invalid UTF-8 in the name.
  const badName = tiny.slice();
  badName[16 + 56] = 0xff;
  expectCode(() => deserializeParameters(_recomputeChecksum(badName), { unsafeTestOnlyAllowInsecure: true }), "INVALID_VALUE");
  expectCode(() => deserializeParameters(withU32(tiny, 16, 0), { unsafeTestOnlyAllowInsecure: true }), "LENGTH_MISMATCH");
  expectCode(() => deserializeParameters(withU32(tiny, 16, 801), { unsafeTestOnlyAllowInsecure: true }), "LENGTH_MISMATCH");
});

test("wrong kind, other parameters, bumped version, bad magic", () => {
  const objs = tinyObjects();
  const encoded = objs.map(({ obj }) => serialize(obj, P));
  for (let i = 0; i < objs.length; i++) {
    for (let j = 0; j < objs.length; j++) {
      if (i !== j) expectCode(() => objs[j]!.decode(encoded[i]!, P), "WRONG_KIND", `${objs[i]!.name} → ${objs[j]!.name}`);
    }
  }
  for (let i = 0; i < objs.length; i++) {
    const { name, decode } = objs[i]!;
    const b = encoded[i]!;
    if (name !== "Parameters") expectCode(() => decode(b, UNSAFE_TEST_PARAMS_SMALL), "PARAMS_MISMATCH", name);
    const v2 = b.slice();
    v2[4] = 2;
    expectCode(() => decode(_recomputeChecksum(v2), P), "BAD_VERSION", name);
    expectCode(() => peekHeader(v2), "BAD_VERSION", name);
    const magic = b.slice();
    magic[0] = 0x56;
    expectCode(() => decode(magic, P), "BAD_MAGIC", name);
    const ext = new Uint8Array(b.length + 1);
    ext.set(b);
    expectCode(() => decode(_recomputeChecksum(ext), P), "LENGTH_MISMATCH", `${name} + 1 byte`);
    expectCode(() => decode(ext.subarray(0, b.length - 1), P), "TRUNCATED", `${name} − 1 byte`);
  }
  const unknown = encoded[0]!.slice();
  unknown[6] = 0xee;
  expectCode(() => peekHeader(unknown), "UNKNOWN_KIND");
  expectCode(() => deserializeLweBatch(_recomputeChecksum(unknown), P), "WRONG_KIND");
  expectCode(() => peekHeader(new Uint8Array([0x55, 0x4d])), "TRUNCATED");
  expectCode(() => peekHeader(new TextEncoder().encode("{\"json\": true}")), "BAD_MAGIC");
  assert.throws(() => deserializeLweBatch("UMBR" as unknown as Uint8Array, P), TypeError);
});

test("truncation at every length of the small kinds is TRUNCATED", () => {
  const pk = CompactPublicKey.generate(client.bigKey, P);
  const small: [string, Uint8Array, Decoder][] = [
    ["LweBatch", serialize(client.encrypt([1]), P), deserializeLweBatch],
    ["SeededLweBatch", serialize(client.encryptCompressed(msgs), P), deserializeSeededLweBatch],
    ["ClientKey", serialize(client), deserializeClientKey],
    ["CompactPublicKey", serialize(pk, P), deserializeCompactPublicKey],
    ["CompactCiphertextList", serialize(pk.encrypt([1, 2], client.encoding), P), deserializeCompactCiphertextList],
    ["Parameters", serialize(P), (b) => deserializeParameters(b, { unsafeTestOnlyAllowInsecure: true })],
  ];
  for (const [name, bytes, decode] of small) {
    for (let len = 0; len < bytes.length; len++) expectCode(() => decode(bytes.subarray(0, len), P), "TRUNCATED", `${name}[0, ${len})`);
    // A truncated input whose last 4 bytes were made a valid checksum fails on the lengths, not the CRC.
    for (let len = 40; len < bytes.length; len += 97) {
      expectCode(() => decode(_recomputeChecksum(bytes.slice(0, len)), P), "TRUNCATED", `${name} resealed at ${len}`);
    }
  }
  // Large kinds: a sample of lengths.
  const ek = evalKeys();
  const big: [string, Uint8Array, Decoder][] = [
    ["BootstrapKey", serialize(ek.bootstrapKey, P), deserializeBootstrapKey],
    ["SeededKeyswitchKey", serialize(ek.keyswitchKey.compress(), P), deserializeSeededKeyswitchKey],
    ["EvaluationKeys", serialize(ek), deserializeEvaluationKeys],
  ];
  for (const [name, bytes, decode] of big) {
    for (const len of [0, 3, 4, 15, 16, 17, 30, 60, 100, bytes.length >> 1, bytes.length - 5, bytes.length - 1]) {
      expectCode(() => decode(bytes.subarray(0, len), P), "TRUNCATED", `${name}[0, ${len})`);
    }
  }
});

test("length fields: checked against the parameters, the limits and the byte count", () => {
  const ct = serialize(client.encrypt(msgs), P);
  const kN = P.glweDimension * P.polynomialSize;
  expectCode(() => deserializeLweBatch(withU32(ct, 16, kN + 1), P), "LENGTH_MISMATCH", "dimension");
  expectCode(() => deserializeLweBatch(withU32(ct, 16, P.lweDimension), P), "LENGTH_MISMATCH", "dimension n (trailing bytes)");
  expectCode(() => deserializeLweBatch(withU32(ct, 20, msgs.length + 1), P), "TRUNCATED", "count + 1");
  expectCode(() => deserializeLweBatch(withU32(ct, 20, msgs.length - 1), P), "LENGTH_MISMATCH", "count − 1");
  expectCode(() => deserializeLweBatch(withU32(ct, 20, 0xffffffff), P), "TOO_LARGE", "count 2^32−1");
  expectCode(() => deserializeLweBatch(withU32(ct, 24, 0), P), "INVALID_VALUE", "encoding bits 0");
  expectCode(() => deserializeLweBatch(withU32(ct, 24, 31), P), "INVALID_VALUE", "encoding bits 31");
  expectCode(() => deserializeLweBatch(ct, P, { maxCount: msgs.length - 1 }), "TOO_LARGE", "maxCount");
  expectCode(() => deserializeLweBatch(ct, P, { maxBytes: 1000 }), "TOO_LARGE", "maxBytes");
  assert.equal(deserializeLweBatch(ct, P, { maxCount: msgs.length, maxBytes: msgs.length * (kN + 1) * 8 }).count, msgs.length);
  assert.throws(() => deserializeLweBatch(ct, P, { maxBytes: -1 }), RangeError);

  // Seeded batch: maxBytes counts the expanded size.
  const sc = serialize(client.encryptCompressed(msgs), P);
  expectCode(() => deserializeSeededLweBatch(sc, P, { maxBytes: 1000 }), "TOO_LARGE", "seeded maxBytes");
  expectCode(() => deserializeSeededLweBatch(withU32(sc, 20, 2 ** 20), P), "TOO_LARGE", "seeded count");
  expectCode(() => deserializeSeededLweBatch(withU32(sc, 20, 2 ** 20), P, { maxCount: 2 ** 21, maxBytes: 2 ** 40 }), "TRUNCATED");

  const ek = evalKeys();
  const bsk = serialize(ek.bootstrapKey, P);
  for (const [off, what] of [[16, "n"], [20, "k"], [24, "N"], [28, "base log"], [32, "levels"]] as const) {
    expectCode(() => deserializeBootstrapKey(withU32(bsk, off, u32At(bsk, off) + 1), P), "LENGTH_MISMATCH", `BSK ${what}`);
  }
  expectCode(() => deserializeBootstrapKey(withU32(bsk, 36, 2), P), "INVALID_VALUE", "BSK flags");
  expectCode(() => deserializeBootstrapKey(withU32(bsk, 36, 0), P), "LENGTH_MISMATCH", "BSK flags without seed (32 extra bytes)");
  expectCode(() => deserializeBootstrapKey(bsk, P, { maxBytes: 1 << 20 }), "TOO_LARGE", "BSK maxBytes");
  const ksk = serialize(ek.keyswitchKey, P);
  for (const off of [16, 20, 24, 28]) expectCode(() => deserializeKeyswitchKey(withU32(ksk, off, u32At(ksk, off) ^ 1), P), "LENGTH_MISMATCH");
  const evb = serialize(ek);
  for (let off = 16; off < 52; off += 4) expectCode(() => deserializeEvaluationKeys(withU32(evb, off, u32At(evb, off) + 2), P), "LENGTH_MISMATCH");
  expectCode(() => deserializeEvaluationKeys(evb, P, { maxBytes: 4 << 20 }), "TOO_LARGE", "expanded evaluation keys");

  const pk = CompactPublicKey.generate(client.bigKey, P);
  const list = serialize(pk.encrypt(msgs, client.encoding), P);
  expectCode(() => deserializeCompactCiphertextList(withU32(list, 20, kN + 1), P), "LENGTH_MISMATCH", "list count > N'");
  expectCode(() => deserializeCompactCiphertextList(withU32(list, 16, kN * 2), P), "LENGTH_MISMATCH", "list size");
  expectCode(() => deserializeCompactPublicKey(withU32(serialize(pk, P), 16, kN / 2), P), "LENGTH_MISMATCH", "pk size");
});

test("random corruption is caught by the checksum", () => {
  for (const { name, obj, decode } of tinyObjects()) {
    const bytes = serialize(obj, P);
    for (const pos of [bytes.length - 1, bytes.length - 5, 16 + ((bytes.length - 20) >> 1)]) {
      const c = bytes.slice();
      c[pos]! ^= 0x10;
      expectCode(() => decode(c, P), "CHECKSUM", `${name} byte ${pos}`);
    }
  }
});

test("serialize checks objects against the parameters", () => {
  const ct = client.encrypt([1]);
  assert.throws(() => serialize(ct), TypeError); // ciphertexts do not carry their parameters
  assert.throws(() => serialize(ct, UNSAFE_TEST_PARAMS_SMALL), ParameterMismatchError);
  assert.throws(() => serialize(evalKeys().bootstrapKey, UNSAFE_TEST_PARAMS_SMALL), ParameterMismatchError);
  assert.throws(() => serialize(client, UNSAFE_TEST_PARAMS_SMALL), ParameterMismatchError);
  const ek = evalKeys();
  const unseeded = { params: P, bootstrapKey: new BootstrapKey(ek.bootstrapKey.shape, ek.bootstrapKey.data), keyswitchKey: ek.keyswitchKey };
  assert.throws(() => serialize(unseeded), /seeded form/);
  assert.throws(() => serialize({} as Serializable), TypeError);
  assert.throws(() => serialize({ ...P, polynomialSize: 300 }), RangeError);
});

test("PARAM_MESSAGE_4: uploaded evaluation keys and ciphertexts bootstrap correctly; seeded sizes", (t) => {
  const P4 = PARAM_MESSAGE_4;
  const ck = ClientKey.generate(P4);
  const ek = ck.evaluationKeys();
  const upload = serialize(ek);
  const xs = Array.from({ length: 16 }, (_, i) => i);
  const cts = serialize(ck.encryptCompressed(xs), P4);

  // Server side: only bytes and the parameters.
  const keys = deserializeEvaluationKeys(upload, P4);
  const ct = deserializeSeededLweBatch(cts, P4).decompress();
  const sk = new ServerKey(keys);
  let out: Uint8Array;
  try {
    out = serialize(sk.apply(ct, (x) => (x * x + 3) % 16), P4);
  } finally {
    sk.free();
  }
  assert.deepEqual(Array.from(ck.decrypt(deserializeLweBatch(out, P4))), xs.map((x) => (x * x + 3) % 16));

  const one = ck.encrypt([7]), oneSeeded = ck.encryptCompressed([7]);
  const pk = CompactPublicKey.generate(ck.bigKey, P4);
  const list = pk.encrypt(xs, ck.encoding);
  assert.deepEqual(Array.from(ck.decrypt(deserializeCompactCiphertextList(serialize(list, P4), P4).expand())), xs);
  const sizes = {
    lwe: serializedSize(one), lweSeeded: serializedSize(oneSeeded),
    bsk: serializedSize(ek.bootstrapKey), bskSeeded: serializedSize(ek.bootstrapKey.compress()),
    ksk: serializedSize(ek.keyswitchKey), kskSeeded: serializedSize(ek.keyswitchKey.compress()),
    evaluationKeys: upload.length, publicKey: serializedSize(pk), compactList16: serializedSize(list),
    lwe16: serializedSize(ck.encrypt(xs)), lwe16Seeded: cts.length, clientKey: serializedSize(ck),
  };
  t.diagnostic(`PARAM_MESSAGE_4 sizes (bytes): ${JSON.stringify(sizes)}`);
  assert.equal(sizes.lwe, 16 + 12 + 2049 * 8 + 4);
  assert.equal(sizes.lweSeeded, 16 + 12 + 32 + 8 + 4);
  assert.ok(sizes.lweSeeded * 100 < sizes.lwe);
  assert.ok(sizes.bskSeeded < 0.51 * sizes.bsk); // k = 1: half the words
  assert.ok(sizes.kskSeeded * 500 < sizes.ksk); // one word per row instead of n + 1
  assert.equal(sizes.evaluationKeys, 16 + 36 + 64 + (sizes.bskSeeded - 16 - 20 - 32 - 4) + (sizes.kskSeeded - 16 - 16 - 32 - 4) + 4);
  assert.ok(sizes.compactList16 < 2 * 2048 * 8 && sizes.compactList16 * 7 < sizes.lwe16);
});

test("bundles: round trip with parts, type and fingerprint checks, canonical JSON, limits", () => {
  const { client } = keysFor(P);
  const ct = serialize(client.encrypt([1, 2, 3]), P);
  const json = { inputs: [{ name: "x", shape: [3] }], weights: [-2, 0.5, 7], ok: true, none: null };
  const bytes = serializeBundle({ type: "umbra.circuit.test/1", json, parts: [ct, serialize(P)] }, P);
  assert.equal(peekHeader(bytes).kind, SerializedKind.Bundle);
  const b = deserializeBundle(bytes, "umbra.circuit.test/1", P);
  assert.deepEqual(b.json, json);
  assert.equal(b.parts.length, 2);
  assert.deepEqual(b.parts[0], ct);
  assert.deepEqual(client.decrypt(deserializeLweBatch(b.parts[0]!, P)), Uint32Array.of(1, 2, 3));
  assert.deepEqual(b.fingerprint, parameterFingerprint(P));
  // Without expected parameters the caller gets the fingerprint to check itself.
  assert.deepEqual(deserializeBundle(bytes, "umbra.circuit.test/1", null).fingerprint, parameterFingerprint(P));
  expectCode(() => deserializeBundle(bytes, "umbra.circuit.other/1", P), "WRONG_KIND");
  expectCode(() => deserializeBundle(bytes, "umbra.circuit.test/1", UNSAFE_TEST_PARAMS_SMALL), "PARAMS_MISMATCH");
  expectCode(() => deserializeBundle(ct, "umbra.circuit.test/1", P), "WRONG_KIND");
  expectCode(() => deserializeBundle(bytes, "umbra.circuit.test/1", P, { maxBytes: 10 }), "TOO_LARGE");
  for (const len of [0, 15, 16, 27, 40, bytes.length - 1]) {
    expectCode(() => deserializeBundle(bytes.subarray(0, len), "umbra.circuit.test/1", P), "TRUNCATED", `length ${len}`);
  }
  // A part length that does not add up to the bytes present.
  expectCode(() => deserializeBundle(withU32(bytes, 28, u32At(bytes, 28) + 1), "umbra.circuit.test/1", P), "TRUNCATED");
  expectCode(() => deserializeBundle(withU32(bytes, 28, u32At(bytes, 28) - 1), "umbra.circuit.test/1", P), "LENGTH_MISMATCH");
  expectCode(() => deserializeBundle(withU32(bytes, 24, 5000), "umbra.circuit.test/1", P), "TOO_LARGE");
  // Non-canonical JSON (a space where JSON.stringify writes none) is rejected, as is invalid JSON.
  const spaced = serializeBundle({ type: "umbra.circuit.test/1", json: [10, 2], parts: [] }, P);
  const at = Buffer.from(spaced).indexOf("[10,2]") + 2;
  const edit = (v: number): Uint8Array => { const c = spaced.slice(); c[at] = v; return _recomputeChecksum(c); };
  expectCode(() => deserializeBundle(edit(0x20), "umbra.circuit.test/1", P), "INVALID_VALUE");
  expectCode(() => deserializeBundle(edit(0x7b), "umbra.circuit.test/1", P), "INVALID_VALUE");
  assert.deepEqual(deserializeBundle(edit(0x35), "umbra.circuit.test/1", P).json, [15, 2]);
  assert.throws(() => serializeBundle({ type: "Bad Type", json: 1, parts: [] }, P), RangeError);
  assert.throws(() => serializeBundle({ type: "umbra.x/1", json: undefined, parts: [] }, P), TypeError);
});

test("serializedSizes and ServerKey.memoryBytes agree with real objects, without generating keys", () => {
  for (const p of [P, UNSAFE_TEST_PARAMS_SMALL]) {
    const { client } = keysFor(p);
    const ek = client.evaluationKeys();
    const sizes = serializedSizes(p);
    assert.equal(sizes.evaluationKeys, serialize(ek).length, `${p.name} evaluation keys`);
    assert.equal(sizes.seededBootstrapKey, serialize(ek.bootstrapKey.compress(), p).length);
    assert.equal(sizes.bootstrapKey, serialize(new BootstrapKey(ek.bootstrapKey.shape, ek.bootstrapKey.data), p).length);
    assert.equal(sizes.seededKeyswitchKey, serialize(ek.keyswitchKey.compress(), p).length);
    assert.equal(sizes.keyswitchKey, serialize(new KeyswitchKey(ek.keyswitchKey.shape, ek.keyswitchKey.data), p).length);
    for (const count of [1, 3]) {
      const xs = Array.from({ length: count }, (_, i) => i % 2);
      assert.equal(sizes.ciphertext + (count - 1) * sizes.perExtraCiphertext, serialize(client.encrypt(xs), p).length);
      assert.equal(sizes.seededCiphertext + (count - 1) * sizes.perExtraSeededCiphertext, serialize(client.encryptCompressed(xs), p).length);
    }
    const mem = ServerKey.memoryBytes(p);
    assert.equal(mem.bootstrapKey, ek.bootstrapKey.data.length * 8, "Fourier BSK: one f64 per standard-domain word");
    assert.ok(mem.keyswitchKey >= ek.keyswitchKey.data.length * 4 && mem.keyswitchKey < ek.keyswitchKey.data.length * 8, "32-bit KSK rows (padded)");
  }
});
