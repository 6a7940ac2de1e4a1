// Mask streams and the seeded formats. A seeded object (ciphertext batch, bootstrapping key, key-switching
// key, compact public key) travels as seed + bodies and the receiver re-expands the masks, so three things
// are format and must never change silently: the ChaCha20 stream (checked against node:crypto), the domain
// (nonce) of each kind of object, and the order in which masks are drawn. Known answers pin the domains;
// golden vectors (test/vectors/seeded-formats.json, whole objects generated under the test-only
// deterministic randomness) freeze the bytes. Also: every compressed encryption draws a fresh seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { kernels } from "../../src/kernels/wasm.js";
import {
  ClientKey, CompactPublicKey, PARAM_MESSAGE_4, SeededBootstrapKey, SeededKeyswitchKey, SeededLweBatch, serialize,
  unsafeTestOnlyParameters, UNSAFE_TEST_PARAMS_TINY, type TfheParameters,
} from "../../src/tfhe/index.js";
import { seededMasks } from "../../src/tfhe/masks.js";
import { DOMAIN_CIPHERTEXT } from "../../src/tfhe/seeded-lwe.js";
import { DOMAIN_BSK } from "../../src/tfhe/bootstrap-key.js";
import { DOMAIN_KSK } from "../../src/tfhe/keyswitch-key.js";
import { DOMAIN_PUBLIC_KEY } from "../../src/tfhe/public-key.js";
import { _testOnlyDeterministicRandom, newSeed } from "../../src/tfhe/random.js";
import { vectorFile } from "../helpers/vectors.js";

/** The domains as the format defines them (literals: a test that imported them would follow a change). */
const DOMAINS = { bootstrapKey: 1, keyswitchKey: 2, ciphertext: 3, publicKey: 4 } as const;

/** OpenSSL's ChaCha20 keystream from block 0 with a 96-bit nonce = `domain` as 12 little-endian bytes. */
function chacha20Words(seed: Uint8Array, domain: number, words: number): BigUint64Array {
  const iv = Buffer.alloc(16); // 32-bit counter (0) ‖ nonce
  iv.writeUInt32LE(domain, 4);
  const ks = createCipheriv("chacha20", seed, iv).update(Buffer.alloc(words * 8));
  return new BigUint64Array(ks.buffer.slice(ks.byteOffset, ks.byteOffset + words * 8));
}

const FIXED_SEED = Uint8Array.from({ length: 32 }, (_, i) => i);

test("the mask domains are the format's: bootstrap key 1, keyswitch key 2, ciphertexts 3, public key 4", () => {
  assert.deepEqual(
    { bootstrapKey: DOMAIN_BSK, keyswitchKey: DOMAIN_KSK, ciphertext: DOMAIN_CIPHERTEXT, publicKey: DOMAIN_PUBLIC_KEY }, DOMAINS);
});

test("seededMasks(seed, domain) is ChaCha20 with the domain as nonce (known answers from node:crypto)", () => {
  const K = kernels();
  const count = 300; // crosses block boundaries
  const p = K.alloc(count * 8);
  try {
    for (const seed of [FIXED_SEED, newSeed()]) {
      const streams: BigUint64Array[] = [];
      for (const domain of Object.values(DOMAINS)) {
        const masks = seededMasks(seed, domain);
        masks.fillKernelU64(p, 7); // two calls continue one stream
        masks.fillKernelU64(p + 56, count - 7);
        const got = K.u64(p, count).slice();
        assert.deepEqual(got, chacha20Words(seed, domain, count), `domain ${domain}`);
        streams.push(got);
      }
      // Distinct domains give unrelated streams: no word in common at any position.
      for (let a = 0; a < streams.length; a++) {
        for (let b = a + 1; b < streams.length; b++) {
          assert.ok(streams[a]!.every((w, i) => w !== streams[b]![i]), `domains ${a + 1} and ${b + 1} share words`);
        }
      }
    }
  } finally {
    K.free(p);
  }
});

test("each seeded object expands its masks from its own domain, in the documented order", () => {
  const seed = newSeed();
  // Ciphertexts: ciphertext i's mask is stream words [i·n, (i+1)·n) of domain 3.
  const n = 37, count = 5;
  const bodies = BigUint64Array.from({ length: count }, (_, i) => BigInt(i) * 1000n);
  const lwe = new SeededLweBatch(n, seed, bodies, { bits: 2 }).decompress();
  const ctStream = chacha20Words(seed, DOMAINS.ciphertext, count * n);
  for (let i = 0; i < count; i++) {
    assert.deepEqual(lwe.data.subarray(i * (n + 1), i * (n + 1) + n), ctStream.subarray(i * n, (i + 1) * n), `ciphertext ${i}`);
    assert.equal(lwe.data[i * (n + 1) + n], bodies[i]);
  }
  // Bootstrapping key: row r holds k·N mask words, stream words [r·kN, (r+1)·kN) of domain 1.
  const shape = { lweDimension: 2, glweDimension: 2, polynomialSize: 256, baseLog: 10, levels: 2 };
  const rows = shape.lweDimension * (shape.glweDimension + 1) * shape.levels;
  const kN = shape.glweDimension * shape.polynomialSize;
  const bsk = new SeededBootstrapKey(shape, seed, new BigUint64Array(rows * shape.polynomialSize)).decompress();
  const bskStream = chacha20Words(seed, DOMAINS.bootstrapKey, rows * kN);
  for (let r = 0; r < rows; r++) {
    const off = r * (kN + shape.polynomialSize);
    assert.deepEqual(bsk.data.subarray(off, off + kN), bskStream.subarray(r * kN, (r + 1) * kN), `BSK row ${r}`);
  }
  // Key-switching key: row r's n_out mask words, stream words [r·n_out, (r+1)·n_out) of domain 2.
  const ksShape = { inputDimension: 6, outputDimension: 11, baseLog: 4, levels: 3 };
  const ksRows = ksShape.inputDimension * ksShape.levels;
  const ksk = new SeededKeyswitchKey(ksShape, seed, new BigUint64Array(ksRows)).decompress();
  const kskStream = chacha20Words(seed, DOMAINS.keyswitchKey, ksRows * 11);
  for (let r = 0; r < ksRows; r++) {
    assert.deepEqual(ksk.data.subarray(r * 12, r * 12 + 11), kskStream.subarray(r * 11, (r + 1) * 11), `KSK row ${r}`);
  }
});

/** Negacyclic product (a·s mod X^N + 1) of u64 words with a binary key, mod 2^64. */
function negacyclic(a: BigUint64Array, s: Uint8Array): BigUint64Array {
  const N = a.length;
  const out = new BigUint64Array(N);
  for (let j = 0; j < N; j++) {
    if (s[j] === 0) continue;
    for (let i = 0; i < N; i++) {
      const t = i + j;
      out[t % N] = t < N ? out[t]! + a[i]! : out[t - N]! - a[i]!;
    }
  }
  return out;
}

test("generated keys expand from their seed's domain: BSK and KSK masks, and the public key body is a noisy A·S", () => {
  const client = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
  const p = client.params;
  const ek = client.evaluationKeys();
  // The generated keys' masks are their seed's streams (so compress → decompress is the identity).
  const bsk = ek.bootstrapKey, ksk = ek.keyswitchKey;
  assert.deepEqual(bsk.compress().decompress().data, bsk.data);
  assert.deepEqual(ksk.compress().decompress().data, ksk.data);
  const kN = p.glweDimension * p.polynomialSize;
  assert.deepEqual(bsk.data.subarray(0, kN), chacha20Words(bsk.seed!, DOMAINS.bootstrapKey, kN));
  assert.deepEqual(ksk.data.subarray(0, p.lweDimension), chacha20Words(ksk.seed!, DOMAINS.keyswitchKey, p.lweDimension));
  // Public key: body − A·S is small (σ_glwe noise) only when A is the domain-4 stream of its seed.
  const pk = CompactPublicKey.generate(client.bigKey, p);
  const e = negacyclic(chacha20Words(pk.seed, DOMAINS.publicKey, kN), client.bigKey.bits);
  const bound = BigInt(Math.ceil(10 * p.glweNoiseStd * 2 ** 64));
  for (let i = 0; i < kN; i++) {
    const d = BigInt.asIntN(64, pk.body[i]! - e[i]!);
    assert.ok(d <= bound && d >= -bound, `public key coefficient ${i}: body − A·S = ${d}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Compressed encryption: a fresh seed every time (two ciphertexts sharing masks leak the difference of their
// messages through the difference of their bodies, without the key).

for (const params of [UNSAFE_TEST_PARAMS_TINY, PARAM_MESSAGE_4]) {
  test(`encryptCompressed draws a fresh seed per call, and its masks are the ciphertext domain of that seed (${params.name})`, () => {
    const client = ClientKey.generate(params);
    const calls = 64;
    const seeds = new Set<string>();
    const cts: SeededLweBatch[] = [];
    for (let i = 0; i < calls; i++) {
      const ct = client.encryptCompressed([1, 2, 3]);
      cts.push(ct);
      seeds.add(Buffer.from(ct.seed).toString("hex"));
    }
    assert.equal(seeds.size, calls, "a seed was reused");
    const n = client.bigKey.dimension;
    const a = cts[0]!.decompress(), b = cts[1]!.decompress();
    // Every mask word differs between the two calls, and between the ciphertexts of one call.
    for (let i = 0; i < 3; i++) {
      const ma = a.data.subarray(i * (n + 1), i * (n + 1) + n), mb = b.data.subarray(i * (n + 1), i * (n + 1) + n);
      assert.ok(ma.every((w, j) => w !== mb[j]), `ciphertext ${i}: masks shared across calls`);
      if (i > 0) assert.ok(ma.every((w, j) => w !== a.data[j]), `ciphertexts 0 and ${i} of one call share masks`);
    }
    assert.deepEqual(a.data.subarray(0, n), chacha20Words(cts[0]!.seed, DOMAINS.ciphertext, n));
    assert.deepEqual(Array.from(client.decrypt(a)), [1, 2, 3]);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Golden vectors

/** Smallest shapes the kernels accept; insecure, for freezing bytes only. */
const GOLDEN_PARAMS: TfheParameters = unsafeTestOnlyParameters({
  name: "UNSAFE_TEST_PARAMS_GOLDEN", messageBits: 2, carryBits: 0, lweDimension: 4, glweDimension: 1, polynomialSize: 256,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 20, pbsLevel: 1, ksBaseLog: 4, ksLevel: 1,
});
const GOLDEN_MESSAGES = [0, 1, 2, 3, 3, 2, 1, 0];

interface GoldenVectors {
  readonly comment: string;
  readonly randomSeed: string;
  readonly messages: readonly number[];
  /** Serialized SeededLweBatch, whole. */
  readonly seededLweBatch: string;
  /** SHA-256 and length of the serialized objects (the keys are too large to store whole). */
  readonly digests: Record<string, { readonly sha256: string; readonly bytes: number }>;
}


function goldenObjects(randomSeed: Uint8Array): Record<string, Uint8Array> {
  const P = GOLDEN_PARAMS;
  return _testOnlyDeterministicRandom(randomSeed, () => {
    const client = ClientKey.generate(P);
    const ct = client.encryptCompressed(GOLDEN_MESSAGES);
    const { bootstrapKey, keyswitchKey } = client.evaluationKeys();
    return {
      seededLweBatch: serialize(ct, P),
      lweBatchExpanded: serialize(ct.decompress(), P),
      seededBootstrapKey: serialize(bootstrapKey.compress(), P),
      bootstrapKeyExpanded: serialize(bootstrapKey.compress().decompress(), P),
      seededKeyswitchKey: serialize(keyswitchKey.compress(), P),
      keyswitchKeyExpanded: serialize(keyswitchKey.compress().decompress(), P),
    };
  });
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

test("golden vectors: a fixed randomness seed gives the exact serialized bytes of seeded ciphertexts and keys", () => {
  const file = vectorFile("seeded-formats.json");
  const golden = JSON.parse(readFileSync(file, "utf8")) as GoldenVectors;
  const objects = goldenObjects(Buffer.from(golden.randomSeed, "hex"));
  const digests = Object.fromEntries(Object.entries(objects).map(([k, v]) => [k, { sha256: sha256(v), bytes: v.length }]));
  if (process.env.UMBRA_WRITE_GOLDEN === "1") {
    // Regenerate only for a deliberate format change (and bump the format version): old data stops decoding.
    writeFileSync(file, JSON.stringify({ ...golden, seededLweBatch: Buffer.from(objects.seededLweBatch!).toString("hex"), digests }, null, 2) + "\n");
  }
  assert.equal(Buffer.from(objects.seededLweBatch!).toString("hex"), golden.seededLweBatch, "serialized SeededLweBatch changed");
  assert.deepEqual(digests, golden.digests);
  // Deterministic under the seam, fresh outside it.
  assert.deepEqual(goldenObjects(Buffer.from(golden.randomSeed, "hex")).seededLweBatch, objects.seededLweBatch);
  assert.notDeepEqual(newSeed(), newSeed());
});

test("_testOnlyDeterministicRandom: scoped, restored after a throw, and not exported from the package", async () => {
  const seed = new Uint8Array(32).fill(9);
  const a = _testOnlyDeterministicRandom(seed, () => [newSeed(), newSeed()]);
  const b = _testOnlyDeterministicRandom(seed, () => [newSeed(), newSeed()]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], a[1]);
  assert.throws(() => _testOnlyDeterministicRandom(seed, () => { throw new Error("boom"); }), /boom/);
  assert.notDeepEqual(newSeed(), a[0]);
  assert.notDeepEqual(newSeed(), newSeed());
  assert.throws(() => _testOnlyDeterministicRandom(seed, () => Promise.resolve(1)), TypeError);
  const index = await import("../../src/tfhe/index.js");
  assert.equal("_testOnlyDeterministicRandom" in index, false);
});
