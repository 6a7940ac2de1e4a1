// Compact public-key encryption: a party without the secret key encrypts; the server expands and bootstraps.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CompactPublicKey, PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_TINY, add } from "../../src/tfhe/index.js";
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
