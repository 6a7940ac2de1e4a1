// Batches above 1 GiB (the kernel allocator's largest block): decryption, expansion of a seeded batch and
// the linear ops stage them in chunks instead of aborting ("umbra kernel abort"). Smallest set that
// reproduces: UNSAFE_TEST_PARAMS_TINY (kN = 512), 270,000 ciphertexts = 1.11 GB; the batches are zeros
// (trivial encryptions of 0) around a few real ciphertexts at the start, in the middle and at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { add, decode, LweBatch, matmul, mulScalar, SeededLweBatch, sub, sum, UNSAFE_TEST_PARAMS_TINY } from "../../src/tfhe/index.js";
import { keysFor } from "../helpers/keys.js";

const COUNT = 270_000;
const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
const kN = client.bigKey.dimension;
const at = [0, 1, 135_001, COUNT - 1];

/** A batch of COUNT ciphertexts: `values` encrypted at positions `at`, trivial zeros elsewhere. */
function bigBatch(values: readonly number[]): LweBatch {
  const big = LweBatch.zeros(kN, COUNT, client.encoding);
  const real = client.encrypt(values);
  at.forEach((pos, i) => big.data.set(real.data.subarray(i * real.size, (i + 1) * real.size), pos * big.size));
  return big;
}

const pick = (d: Uint32Array): number[] => at.map((i) => d[i]!);

test("above 1 GiB: decrypt and add of 270,000 ciphertexts (kN = 512) run in chunks", () => {
  const a = bigBatch([1, 2, 3, 0]), b = bigBatch([3, 3, 1, 2]);
  assert.ok(a.data.byteLength > 2 ** 30, `${a.data.byteLength} bytes`);
  const d = client.decrypt(a);
  assert.equal(d.length, COUNT);
  assert.deepEqual(pick(d), [1, 2, 3, 0]);
  assert.equal(d[2], 0);
  assert.equal(d[COUNT - 2], 0);
  assert.deepEqual(Array.from(client.decrypt(add(a, b).gather(at))), [0, 1, 0, 2]);
});

test("several staging chunks (> 32 MiB, 9,000 ciphertexts): sub, mulScalar, sum and a wide matmul agree with the clear values", () => {
  const n = 9_000;
  const xs = Array.from({ length: n }, (_, i) => (i * 7) % 4), ys = Array.from({ length: n }, (_, i) => (i * 5 + 1) % 4);
  const x = client.encrypt(xs), y = client.encrypt(ys);
  // The results wrap mod 4 (that is what is checked), so read residues from the phases: a checked
  // decryption refuses values that may leave [0, 4).
  const residues = (b: LweBatch): number[] => Array.from(client.phases(b), (ph) => decode(ph, b.encoding));
  assert.ok(x.data.byteLength > 32 << 20);
  assert.deepEqual(residues(sub(x, y)), xs.map((v, i) => (v - ys[i]! + 4) % 4));
  const ws = xs.map((_, i) => (i % 3) - 1);
  assert.deepEqual(residues(mulScalar(x, ws)), xs.map((v, i) => (((v * ws[i]!) % 4) + 4) % 4));
  assert.deepEqual(residues(mulScalar(x, 3)), xs.map((v) => (v * 3) % 4));
  // sum: rows in several blocks whose partial sums accumulate.
  assert.deepEqual(residues(sum(x)), [xs.reduce((s, v) => s + v, 0) % 4]);
  // One ciphertext times a 1 × 9000 matrix: columns in several blocks.
  const W = Array.from({ length: n }, (_, j) => j % 4);
  assert.deepEqual(residues(matmul(x.at(1), W, n)), W.map((w) => (w * xs[1]!) % 4));
});

test("above 1 GiB: decompress of a seeded batch of 270,000 (kN = 512) regenerates every mask", () => {
  const head = client.encryptCompressed([3, 1, 2]);
  const bodies = new BigUint64Array(COUNT);
  bodies.set(head.bodies);
  const big = new SeededLweBatch(kN, head.seed, bodies, head.encoding).decompress();
  assert.equal(big.count, COUNT);
  // The first three are the seeded ciphertexts (same mask stream); the last one's mask is not all zero.
  assert.deepEqual(Array.from(client.decrypt(big.slice(0, 3))), [3, 1, 2]);
  assert.ok(big.data.subarray((COUNT - 1) * big.size, COUNT * big.size - 1).some((w) => w !== 0n));
  assert.deepEqual(Array.from(client.decrypt(big.slice(0, 3))), Array.from(client.decrypt(head.decompress())));
});
