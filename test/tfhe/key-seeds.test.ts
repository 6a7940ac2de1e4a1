// Key seeds are chosen internally: a caller-supplied seed reused for two keys would make them share masks.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tfhe from "../../src/tfhe/index.js";
import {
  ClientKey, CompactPublicKey, generateBootstrapKey, generateKeyswitchKey, PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_TINY as P,
} from "../../src/tfhe/index.js";
import { bootstrapKeyShape } from "../../src/tfhe/bootstrap-key.js";
import { _testOnlyDeterministicRandom } from "../../src/tfhe/random.js";

const client = ClientKey.generate(P);
const seed = new Uint8Array(32).fill(7);
// The public signatures no longer take a seed; JavaScript callers that still pass one get an error.
const untyped = (f: unknown) => f as (...args: unknown[]) => unknown;

test("generateBootstrapKey, generateKeyswitchKey and CompactPublicKey.generate refuse a seed", () => {
  assert.throws(() => untyped(generateBootstrapKey)(client.lweKey, client.glweKey, bootstrapKeyShape(P), P.glweNoiseStd, seed),
    /takes no seed/);
  assert.throws(() => untyped(generateKeyswitchKey)(client.bigKey, client.lweKey, P.ksBaseLog, P.ksLevel, P.lweNoiseStd, seed),
    /takes no seed/);
  assert.throws(() => untyped(CompactPublicKey.generate)(client.bigKey, P, seed), /takes no seed/);
});

test("every generated key has its own fresh seed", () => {
  const a = generateBootstrapKey(client.lweKey, client.glweKey, bootstrapKeyShape(P), P.glweNoiseStd);
  const b = generateBootstrapKey(client.lweKey, client.glweKey, bootstrapKeyShape(P), P.glweNoiseStd);
  assert.equal(a.seed!.length, 32);
  assert.notDeepEqual(a.seed, b.seed);
  assert.notDeepEqual(a.data.subarray(0, 64), b.data.subarray(0, 64));
  const k1 = generateKeyswitchKey(client.bigKey, client.lweKey, P.ksBaseLog, P.ksLevel, P.lweNoiseStd);
  const k2 = generateKeyswitchKey(client.bigKey, client.lweKey, P.ksBaseLog, P.ksLevel, P.lweNoiseStd);
  assert.notDeepEqual(k1.seed, k2.seed);
  const e1 = client.evaluationKeys(), e2 = client.evaluationKeys();
  assert.notDeepEqual(e1.bootstrapKey.seed, e2.bootstrapKey.seed);
  assert.notDeepEqual(e1.bootstrapKey.seed, e1.keyswitchKey.seed);
  assert.notDeepEqual(CompactPublicKey.generate(client.bigKey, P).seed, CompactPublicKey.generate(client.bigKey, P).seed);
});

test("no seed can be chosen from outside: even the tests' deterministic randomness gives every key its own seed", () => {
  assert.equal("_testOnlyDeterministicRandom" in tfhe, false);
  const keys = _testOnlyDeterministicRandom(seed, () => [client.evaluationKeys(), client.evaluationKeys()]);
  const seeds = keys.flatMap((k) => [k.bootstrapKey.seed!, k.keyswitchKey.seed!]).map((s) => Buffer.from(s).toString("hex"));
  assert.equal(new Set(seeds).size, 4);
});

test("at real parameters, every key of a client gets its own seed", () => {
  const real = ClientKey.generate(PARAM_MESSAGE_4);
  const a = real.evaluationKeys(), b = real.evaluationKeys();
  const seeds = [a.bootstrapKey.seed!, a.keyswitchKey.seed!, b.bootstrapKey.seed!, b.keyswitchKey.seed!, real.compactPublicKey().seed];
  assert.equal(new Set(seeds.map((s) => Buffer.from(s).toString("hex"))).size, seeds.length);
  assert.throws(() => untyped(generateKeyswitchKey)(real.bigKey, real.lweKey, 3, 5, PARAM_MESSAGE_4.lweNoiseStd, seed), /takes no seed/);
});
