import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ClientKey, PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_SMALL, add, sub, neg, mulScalar, addPlain, matmul, dot, sum,
  trivialEncrypt, LweBatch, SeededLweBatch, decode,
} from "../../src/tfhe/index.js";

// Linear operations at real parameters (PARAM_MESSAGE_4: the big key has dimension 2048).
const client = ClientKey.generate(PARAM_MESSAGE_4);
const p = 16;
const mod = (v: number) => ((v % p) + p) % p;
const msgs = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 });

test("encrypt / decrypt round trip (real parameters)", () => {
  fc.assert(fc.property(msgs, (m) => {
    const ct = client.encrypt(m);
    assert.equal(ct.dimension, 2048);
    assert.deepEqual(Array.from(client.decrypt(ct)), m);
  }), { numRuns: 30 });
});

// The linear operations are exact mod 2p on the torus; results that leave [0, p) are refused by decrypt
// (they reach the padding bit), so these read the raw phases, decoded mod p, and check that each result's
// bounds hold its exact integer values (the property the bootstrap and decryption checks rely on).
const residues = (b: LweBatch) => Array.from(client.phases(b), (ph) => decode(ph, b.encoding));
function assertExact(b: LweBatch, exact: readonly number[], what: string): void {
  assert.deepEqual(residues(b), exact.map(mod), what);
  for (const v of exact) assert.ok(b.bounds.minValue <= v && v <= b.bounds.degree, `${what}: ${v} outside [${b.bounds.minValue}, ${b.bounds.degree}]`);
  // Within the message space (and the noise budget), decryption agrees.
  if (b.bounds.minValue >= 0 && b.bounds.degree < p && b.noiseLevel <= 25) assert.deepEqual(Array.from(client.decrypt(b)), exact.map((v) => v + 0), what); // −0 (neg of 0) is 0
}

test("add, sub, neg, mulScalar, addPlain agree with Z/16Z, within their bounds", () => {
  fc.assert(fc.property(msgs, fc.integer({ min: -20, max: 20 }), fc.integer({ min: -50, max: 50 }), (m, w, c) => {
    const a = client.encrypt(m), b = client.encrypt(m.map((x) => 15 - x));
    assertExact(add(a, b), m.map(() => 15), "add");
    assertExact(sub(a, b), m.map((x) => 2 * x - 15), "sub");
    assertExact(neg(a), m.map((x) => -x), "neg");
    assertExact(mulScalar(a, w), m.map((x) => w * x), "mulScalar");
    assertExact(addPlain(a, c), m.map((x) => x + c), "addPlain");
  }), { numRuns: 25 });
});

test("dot, matmul and sum with clear integer matrices, within their bounds", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 6, maxLength: 6 }), (m, W) => {
      const a = client.encrypt(m);
      assertExact(matmul(a, W, 2), [0, 1].map((j) => m[0]! * W[j]! + m[1]! * W[2 + j]! + m[2]! * W[4 + j]!), "matmul");
      assertExact(dot(a, [W[0]!, W[1]!, W[2]!]), [m[0]! * W[0]! + m[1]! * W[1]! + m[2]! * W[2]!], "dot");
      assertExact(sum(a), [m[0]! + m[1]! + m[2]!], "sum");
    }), { numRuns: 25 });
});

test("shape and encoding mismatches are clear errors", () => {
  const a = client.encrypt([1, 2]), b = client.encrypt([1, 2, 3]);
  assert.throws(() => add(a, b), /batch sizes differ/);
  assert.throws(() => matmul(a, [1, 2, 3], 2), /expected 2×2/);
  assert.throws(() => mulScalar(a, 0.5), /safe integer/);
  const small = ClientKey.generate(UNSAFE_TEST_PARAMS_SMALL).encrypt([1, 2]);
  assert.throws(() => add(a, small), /dimensions differ/);
  assert.throws(() => client.decrypt(small), /dimension/);
});

test("trivial encryptions decrypt under any key", () => {
  const t = trivialEncrypt(2048, [5, 9], { bits: 4 });
  assert.deepEqual(Array.from(client.decrypt(t)), [5, 9]);
  const s = add(client.encrypt([1, 1]), t);
  assert.deepEqual(Array.from(client.decrypt(s)), [6, 10]);
});

test("compressed (seeded) encryption: 32-byte seed + bodies, expands to the same ciphertexts", () => {
  const m = [0, 3, 7, 15, 9];
  const c = client.encryptCompressed(m);
  assert.ok(c instanceof SeededLweBatch);
  assert.equal(c.bodies.length, m.length);
  const full = c.decompress();
  assert.ok(full instanceof LweBatch);
  assert.deepEqual(Array.from(client.decrypt(full)), m);
  assert.deepEqual(full.data, c.decompress().data, "expansion is deterministic");
});

test("batch slicing, gather and concat keep ciphertexts intact", () => {
  const a = client.encrypt([1, 2, 3, 4]);
  assert.deepEqual(Array.from(client.decrypt(a.slice(1, 3))), [2, 3]);
  assert.deepEqual(Array.from(client.decrypt(a.gather([3, 0]))), [4, 1]);
  assert.deepEqual(Array.from(client.decrypt(LweBatch.concat([a.at(2), a.at(0)]))), [3, 1]);
});
