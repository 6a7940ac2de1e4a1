// Degree and noise level of LWE batches (noise-budget.ts): the linear operations update them; a bootstrap
// or a decryption refuses a batch that may reach the padding bit or exceed the parameters' noise level.
// Before, overflow was silent: decryption folded [p, 2p) mod p while a bootstrap returned −f(m − p).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  add, addPlain, CiphertextBoundsError, lookupTable, COMPILER_MANAGED, deserializeLweBatch, deserializeSeededLweBatch, dot, LweBatch,
  matmul, maxNoiseLevel, mulScalar, pbsOutputVariance, NAMED_PARAMETER_SETS, neg, PARAM_MESSAGE_4, pbsFailureProbability, PbsWorkerPool,
  serialize, sub, sum, trivialEncrypt, UNSAFE_TEST_PARAMS_TINY,
} from "../../src/tfhe/index.js";
import { keysFor } from "../helpers/keys.js";

const bounds = (b: LweBatch) => ({ ...b.bounds });

test("fresh, trivial and linear results carry degree, lower bound and noise level", () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY); // p = 4
  const x = client.encrypt([3, 1, 2, 0]), y = client.encrypt([1, 1, 0, 2]);
  assert.deepEqual(bounds(x), { degree: 3, minValue: 0, noiseLevel: 1 });
  // Checked encodings reduce messages mod p (they never start in the padding half).
  assert.deepEqual(bounds(client.encrypt([-1, 5])), { degree: 3, minValue: 1, noiseLevel: 1 });
  assert.deepEqual(Array.from(client.decrypt(client.encrypt([-1, 5]))), [3, 1]);
  assert.deepEqual(bounds(trivialEncrypt(x.dimension, [2, 1], x.encoding)), { degree: 2, minValue: 1, noiseLevel: 0 });
  // Independent encryptions: Σw² adds.
  assert.deepEqual(bounds(add(x, y)), { degree: 5, minValue: 0, noiseLevel: 2 });
  // 2x + x is 3x: the operands share their noise, so the level is (2 + 1)² = 9, not 4 + 1.
  assert.deepEqual(bounds(add(mulScalar(x, 2), x)), { degree: 9, minValue: 0, noiseLevel: 9 });
  // Negation and subtraction keep the lower bound (a negative value sits in the padding half).
  assert.deepEqual(bounds(neg(x)), { degree: 0, minValue: -3, noiseLevel: 1 });
  assert.deepEqual(bounds(sub(x, y)), { degree: 3, minValue: -2, noiseLevel: 2 });
  assert.deepEqual(bounds(addPlain(sub(x, y), 2)), { degree: 5, minValue: 0, noiseLevel: 2 });
  assert.deepEqual(bounds(mulScalar(x, [1, -2, 0, 1])), { degree: 3, minValue: -6, noiseLevel: 4 });
  // Sums over one batch of independent encryptions: Σw²; over repeated ciphertexts: (Σ|w|)².
  assert.deepEqual(bounds(sum(x)), { degree: 12, minValue: 0, noiseLevel: 4 });
  assert.deepEqual(bounds(dot(x, [1, -1, 2, 0])), { degree: 9, minValue: -3, noiseLevel: 6 });
  assert.equal(sum(x.gather([0, 0, 1, 1])).noiseLevel, 16);
  // The columns of a product share their inputs: combining two of them is correlated.
  const m = matmul(x, [1, 1, 0, 1, 1, 1, 0, 0], 2); // columns (1, 0, 1, 0) and (1, 1, 1, 0)
  assert.deepEqual(bounds(m), { degree: 9, minValue: 0, noiseLevel: 3 });
  assert.equal(sum(m).noiseLevel, 12); // 3·(1 + 1)², not 3·2
  assert.equal(LweBatch.concat([x, y]).noise.independent, true);
  assert.equal(LweBatch.concat([x, x]).noise.independent, false);
});

test("bootstrap and decryption refuse a degree past the padding bit (real parameters)", () => {
  const { client, server } = keysFor(PARAM_MESSAGE_4); // p = 16, sized for Σw² ≤ 25
  const x = client.encrypt([15, 9]);
  const over = add(x, x); // 30 and 18: in the padding half
  assert.equal(over.degree, 30);
  const lut = server.lookupTable((v) => v);
  const msg = /cannot bootstrap this batch: its degree \(upper bound of the encoded values\) is 30, above 15 \(values ≥ p = 16 reach the padding bit\)/;
  assert.throws(() => server.bootstrap(over, lut), msg);
  assert.throws(() => server.bootstrap(over, lut), CiphertextBoundsError);
  assert.throws(() => client.decrypt(over), /cannot decrypt this batch: its degree .* is 30, above 15/);
  // A negative value is in the padding half too; a clear offset brings it back.
  const d = sub(client.encrypt([2]), client.encrypt([5]));
  assert.throws(() => server.bootstrap(d, lut), /may be as low as -3 \(a negative value sits in the padding half\)/);
  assert.throws(() => client.decrypt(d), /may be as low as -3/);
  const shifted = addPlain(d, 8); // 2 − 5 + 8 = 5
  assert.deepEqual(Array.from(client.decrypt(shifted)), [5]);
  assert.deepEqual(Array.from(client.decrypt(server.bootstrap(shifted, lut))), [5]);
  // Within the space everything works, and the output's degree is the table's maximum over the input range.
  const ok = add(mulScalar(client.encrypt([3, 1, 2, 0]), 2), client.encrypt([3, 3, 3, 3])); // in [3, 9]
  const y = server.apply(ok, (v) => (v * v) % 16);
  assert.deepEqual(Array.from(client.decrypt(y)), [1, 9, 1, 9]);
  assert.deepEqual(bounds(y), { degree: 9, minValue: 0, noiseLevel: 1 }); // v² mod 16 over [3, 9]
  assert.deepEqual(bounds(server.apply(client.encrypt([1, 2]), (v) => 3 * v)), { degree: 6, minValue: 3, noiseLevel: 1 });
});

test("bootstrap and decryption refuse a noise level above what the set was sized for (real parameters)", () => {
  const { client, server } = keysFor(PARAM_MESSAGE_4);
  assert.equal(maxNoiseLevel(PARAM_MESSAGE_4), 25);
  const x = client.encrypt([0, 1]);
  const atLimit = mulScalar(x, [5, 0]); // Σw² = 25, values in [0, 5]
  assert.equal(atLimit.noiseLevel, 25);
  assert.deepEqual(Array.from(client.decrypt(server.apply(atLimit, (v) => v + 1))), [1, 1]);
  const noisy = mulScalar(x, [6, 0]);
  const msg = /its noise level \(Σw² since the last bootstrap\) is 36, above 25, the largest "PARAM_MESSAGE_4" was sized for/;
  assert.throws(() => server.apply(noisy, (v) => v), msg);
  assert.throws(() => client.decrypt(noisy), msg);
  // A bootstrap resets the level.
  assert.equal(server.apply(atLimit, (v) => v).noiseLevel, 1);
});

test("many-LUT outputs share one blind rotation's noise; inputs must fit the functions' range", () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY); // p = 4
  const lut = server.manyLookupTable([(v) => v, (v) => 1 - v], 1);
  assert.equal(lut.maxInput, 1);
  const [a, b] = server.bootstrapMany(client.encrypt([0, 1]), lut);
  assert.deepEqual([bounds(a!), bounds(b!)], [{ degree: 1, minValue: 0, noiseLevel: 1 }, { degree: 1, minValue: 0, noiseLevel: 1 }]);
  assert.equal(add(a!, b!).noiseLevel, 4); // correlated: (1 + 1)²
  assert.throws(() => server.bootstrapMany(client.encrypt([2]), lut), /degree .* is 2, above 1/);
});

test("decoded batches start at the worst case of their encoding; assumeBounds states more", () => {
  const { client, server } = keysFor(PARAM_MESSAGE_4);
  const plain = deserializeLweBatch(serialize(client.encrypt([3]), PARAM_MESSAGE_4), PARAM_MESSAGE_4);
  assert.deepEqual(bounds(plain), { degree: 15, minValue: 0, noiseLevel: 25 });
  assert.deepEqual(Array.from(client.decrypt(plain)), [3]); // usable as it is
  assert.throws(() => server.apply(add(plain, plain), (v) => v), CiphertextBoundsError);
  // A seeded batch can only be a fresh encryption: noise level 1, any value of the space.
  const seeded = deserializeSeededLweBatch(serialize(client.encryptCompressed([2, 3]), PARAM_MESSAGE_4), PARAM_MESSAGE_4).decompress();
  assert.deepEqual(bounds(seeded), { degree: 15, minValue: 0, noiseLevel: 1 });
  assert.throws(() => server.apply(mulScalar(seeded, 2), (v) => v), /degree .* is 30/);
  const stated = seeded.assumeBounds({ degree: 3 });
  assert.deepEqual(Array.from(client.decrypt(server.apply(add(mulScalar(stated, 2), stated), (v) => v))), [6, 9]);
  // Locally, a compressed batch keeps its known bounds.
  assert.equal(client.encryptCompressed([2, 3]).decompress().degree, 3);
  // A batch built from raw words has unknown noise: refused until stated.
  const raw = new LweBatch(plain.dimension, 1, plain.data, plain.encoding);
  assert.throws(() => client.decrypt(raw), /noise level is unknown/);
  assert.deepEqual(Array.from(client.decrypt(raw.assumeBounds({ noiseLevel: 1 }))), [3]);
  assert.throws(() => raw.assumeBounds({ degree: 1, minValue: 2 }), /minValue 2 exceeds bounds.degree 1/);
});

test("compiler-managed encodings opt out: values mod 2p, negacyclic bootstrap, no checks", () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY); // p = 4, 2p = 8
  const enc = { bits: 2, unchecked: COMPILER_MANAGED } as const;
  const x = client.encrypt([3, -1], enc); // −1 stays −1 (≡ 7 mod 8)
  const twice = add(x, x); // 6 and −2 ≡ 6: in the padding half, as the compiler plans for
  assert.deepEqual(Array.from(client.decrypt(twice)), [6, 6]);
  const f = [1, 0, 3, 2];
  const lut = lookupTable((v) => f[v]!, { inputEncoding: enc, polynomialSize: UNSAFE_TEST_PARAMS_TINY.polynomialSize });
  assert.equal(server.lookupTable((v) => v).inputEncoding.unchecked, undefined);
  // Negacyclic: index 6 = p + 2 reads −f(2) = −3 ≡ 5 mod 8.
  const out = server.bootstrap(twice, lut);
  assert.deepEqual(Array.from(client.decrypt(out)), [5, 5]);
  // Checked and compiler-managed batches do not mix.
  assert.throws(() => add(x, client.encrypt([1, 1])), /encodings differ \(2-bit compiler-managed vs 2-bit\)/);
  assert.throws(() => server.bootstrap(client.encrypt([1]), server.lookupTable((v) => v, enc)), /both be checked or both compiler-managed/);
});

test("noise-level limits: named sets as sized, others from the noise model at p_fail ≤ 2^-64", () => {
  for (const s of NAMED_PARAMETER_SETS) {
    assert.equal(maxNoiseLevel(s.params), s.maxNorm2);
    // Level 1 covers fresh and public-key encryptions: (k·N + 1)·σ_glwe² is below a PBS output's variance.
    const { glweDimension: k, polynomialSize: N, glweNoiseStd: sg } = s.params;
    assert.ok((k * N + 1) * sg * sg < pbsOutputVariance(s.params), s.params.name);
  }
  const nu = maxNoiseLevel(UNSAFE_TEST_PARAMS_TINY);
  assert.ok(nu > 1);
  assert.ok(pbsFailureProbability(UNSAFE_TEST_PARAMS_TINY, nu).log2 <= -64);
  assert.ok(pbsFailureProbability(UNSAFE_TEST_PARAMS_TINY, nu + 1).log2 > -64);
});

test("the worker pool checks the same bounds and returns the same output bounds", async () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 1 });
  try {
    const { server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
    const lut = server.lookupTable((v) => v ^ 1);
    const x = client.encrypt([3, 1]);
    await assert.rejects(pool.bootstrap(add(x, x), lut), /cannot bootstrap this batch: its degree .* is 6, above 3/);
    const y = await pool.bootstrap(client.encrypt([0, 2]), lut);
    assert.deepEqual(bounds(y), { degree: 3, minValue: 0, noiseLevel: 1 }); // v ^ 1 over [0, 2]
    assert.deepEqual(Array.from(client.decrypt(y)), [1, 3]);
  } finally {
    await pool.close();
  }
});
