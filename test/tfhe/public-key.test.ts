// Compact public-key encryption: a party without the secret key encrypts; the server expands and bootstraps.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ClientKey, CompactPublicKey, NAMED_PARAMETER_SETS, PARAM_MESSAGE_1, PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_TINY, add,
  checkPublicKeyParameters, deserializeCompactCiphertextList, serialize, sum,
} from "../../src/tfhe/index.js";
import { keysFor } from "../helpers/keys.js";

test("public-key encryption decrypts and bootstraps (real parameters)", () => {
  const { client, server } = keysFor(PARAM_MESSAGE_4);
  const pk = CompactPublicKey.generate(client.bigKey, PARAM_MESSAGE_4);
  assert.equal(pk.body.length, 2048);
  const m = [0, 1, 5, 7, 3, 6]; // 2·m stays below p = 16 (no padding overflow)
  const list = pk.encrypt(m, client.encoding);
  assert.equal(list.mask.length, 2048);
  assert.equal(list.bodies.length, m.length);
  const cts = list.expand();
  assert.deepEqual(Array.from(client.decrypt(cts)), m);
  // Usable like any ciphertext: linear ops, then a PBS.
  const out = server.apply(add(cts, cts), (x) => (x + 3) % 16);
  assert.deepEqual(Array.from(client.decrypt(out)), m.map((x) => (2 * x + 3) % 16));
});

test("public-key lists of any length up to N decrypt (property)", () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const pk = CompactPublicKey.generate(client.bigKey, UNSAFE_TEST_PARAMS_TINY);
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 512 }), (m) => {
    assert.deepEqual(Array.from(client.decrypt(pk.encrypt(m, client.encoding).expand())), m);
  }), { numRuns: 20 });
  assert.throws(() => pk.encrypt(new Array(513).fill(0), client.encoding), /at most 512/);
});

test("two encryptions of the same values differ (fresh randomness)", () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const pk = CompactPublicKey.generate(client.bigKey, UNSAFE_TEST_PARAMS_TINY);
  const a = pk.encrypt([1, 2], client.encoding), b = pk.encrypt([1, 2], client.encoding);
  assert.notDeepEqual(a.mask, b.mask);
});

test("the public key takes the parameter set and refuses insecure noise (σ = 0 would give the key away)", () => {
  const client = ClientKey.generate(PARAM_MESSAGE_4);
  const generate = CompactPublicKey.generate as (...args: unknown[]) => CompactPublicKey;
  // A bare σ is no longer accepted: 0 used to give body = A·S exactly.
  assert.throws(() => generate(client.bigKey, 0), /expects a parameter set, got the number 0/);
  assert.throws(() => generate(client.bigKey, PARAM_MESSAGE_4.glweNoiseStd), /expects a parameter set/);
  // A set whose σ_glwe fails the library's own 128-bit check (security.ts) is refused, whatever its origin.
  for (const glweNoiseStd of [0, 1e-30, PARAM_MESSAGE_4.glweNoiseStd / 4]) {
    assert.throws(() => CompactPublicKey.generate(client.bigKey, { ...PARAM_MESSAGE_4, glweNoiseStd }),
      /cannot have a compact public key: σ_glwe = .* bits of security, below 128/);
  }
  // A copy of a test-only set is not test-only (only unsafeTestOnlyParameters marks a set).
  const tiny = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
  assert.throws(() => CompactPublicKey.generate(tiny.bigKey, { ...UNSAFE_TEST_PARAMS_TINY }), /below 128/);
  // The key's dimension must be the set's k·N.
  assert.throws(() => CompactPublicKey.generate(tiny.bigKey, PARAM_MESSAGE_4), /dimension 512 ≠ k·N = 2048/);
  // The constructor (used by deserialization) refuses σ = 0 too.
  const pk = client.compactPublicKey();
  assert.equal(pk.noiseStd, PARAM_MESSAGE_4.glweNoiseStd);
  assert.throws(() => new CompactPublicKey(pk.polynomialSize, pk.seed, pk.body, 0), /noise std must be a number in \(0, 0.25\), got 0/);
  assert.deepEqual(Array.from(client.decrypt(pk.encrypt([1, 2, 3], client.encoding).expand())), [1, 2, 3]);
});

test("sets whose k·N is not a power of two cannot have a compact public key, and say so", () => {
  // PARAM_MESSAGE_1: k·N = 6·256 = 1536; every other named set has a power-of-two k·N.
  const client = ClientKey.generate(PARAM_MESSAGE_1);
  assert.throws(() => client.compactPublicKey(),
    /parameter set "PARAM_MESSAGE_1" cannot have a compact public key: k·N = 6·256 = 1536 is not a power of two/);
  assert.throws(() => checkPublicKeyParameters(PARAM_MESSAGE_1), /1536 is not a power of two/);
  for (const { params } of NAMED_PARAMETER_SETS.slice(1)) checkPublicKeyParameters(params);
});

test("an expanded compact list carries bounds: known values, noise level 1, correlated noises", () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const pk = client.compactPublicKey();
  const cts = pk.encrypt([1, 3, 2], client.encoding).expand();
  assert.deepEqual(cts.bounds, { degree: 3, minValue: 1, noiseLevel: 1 });
  // The bodies share one mask's randomness: summing them uses the triangle inequality, (1+1+1)² = 9.
  assert.equal(sum(cts).noiseLevel, 9);
  // A list decoded from bytes may hold any value of its encoding.
  const back = deserializeCompactCiphertextList(serialize(pk.encrypt([1], client.encoding), UNSAFE_TEST_PARAMS_TINY), UNSAFE_TEST_PARAMS_TINY);
  assert.deepEqual(back.expand().bounds, { degree: 3, minValue: 0, noiseLevel: 1 });
});
