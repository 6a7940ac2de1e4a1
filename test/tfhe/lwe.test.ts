import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ClientKey, PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_SMALL, add, sub, neg, mulScalar, addPlain, matmul, dot, sum,
  trivialEncrypt, LweBatch, SeededLweBatch,
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

test("add, sub, neg, mulScalar, addPlain agree with Z/16Z", () => {
  fc.assert(fc.property(msgs, fc.integer({ min: -20, max: 20 }), fc.integer({ min: -50, max: 50 }), (m, w, c) => {
    const a = client.encrypt(m), b = client.encrypt(m.map((x) => 15 - x));
    assert.deepEqual(Array.from(client.decrypt(add(a, b))), m.map(() => 15));
    assert.deepEqual(Array.from(client.decrypt(sub(a, b))), m.map((x) => mod(2 * x - 15)));
    assert.deepEqual(Array.from(client.decrypt(neg(a))), m.map((x) => mod(-x)));
    assert.deepEqual(Array.from(client.decrypt(mulScalar(a, w))), m.map((x) => mod(w * x)));
    assert.deepEqual(Array.from(client.decrypt(addPlain(a, c))), m.map((x) => mod(x + c)));
  }), { numRuns: 25 });
});

test("dot, matmul and sum with clear integer matrices", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 6, maxLength: 6 }), (m, W) => {
      const a = client.encrypt(m);
      const y = client.decrypt(matmul(a, W, 2));
      for (let j = 0; j < 2; j++) assert.equal(y[j], mod(m[0]! * W[j]! + m[1]! * W[2 + j]! + m[2]! * W[4 + j]!));
      assert.equal(client.decrypt(dot(a, [W[0]!, W[1]!, W[2]!]))[0], mod(m[0]! * W[0]! + m[1]! * W[1]! + m[2]! * W[2]!));
      assert.equal(client.decrypt(sum(a))[0], mod(m[0]! + m[1]! + m[2]!));
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
