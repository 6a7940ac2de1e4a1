// Batched blind rotation (one pass over the bootstrapping key for several ciphertexts) against the
// one-at-a-time kernel: bit-identical accumulators, and the same PBS outputs through ServerKey.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PARAM_MESSAGE_4, UNSAFE_TEST_PARAMS_SMALL, UNSAFE_TEST_PARAMS_TINY, LweBatch, ServerKey, type TfheParameters,
} from "../../src/tfhe/index.js";
import { kernels } from "../../src/kernels/wasm.js";
import { keysFor, testRng } from "../helpers/keys.js";

function randomWords(count: number, rng: () => number): BigUint64Array {
  const out = new BigUint64Array(count);
  for (let i = 0; i < count; i++) out[i] = (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  return out;
}

function kernelBatchMatchesSingles(p: TfheParameters, count: number): void {
  const { server } = keysFor(p);
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsBaseLog: b, pbsLevel: l } = p;
  const K = kernels();
  const rng = testRng(7 + count);
  const accWords = (k + 1) * N;
  const lwes = K.alloc(count * (n + 1) * 8), lut = K.alloc(N * 8);
  const accs = K.alloc(count * accWords * 8), single = K.alloc(accWords * 8);
  const scratch = K.alloc(K.k.blindRotateBatchScratchBytes(n, k, N, l, count));
  const scratch1 = K.alloc(K.k.blindRotateScratchBytes(n, k, N, l));
  try {
    K.u64(lwes, count * (n + 1)).set(randomWords(count * (n + 1), rng));
    K.u64(lut, N).set(randomWords(N, rng));
    const table = server.bsk.table!.ptr;
    K.k.blindRotateBatch(accs, lut, lwes, count, table, n, k, N, b, l, scratch);
    for (let c = 0; c < count; c++) {
      K.k.blindRotate(single, lut, lwes + c * (n + 1) * 8, table, n, k, N, b, l, scratch1);
      assert.deepEqual(K.u64(accs + c * accWords * 8, accWords), K.u64(single, accWords), `ciphertext ${c} of ${count}`);
    }
  } finally {
    for (const ptr of [lwes, lut, accs, single, scratch, scratch1]) K.free(ptr);
  }
}

test("blindRotateBatch is bit-identical to blindRotate per ciphertext (k = 1, l = 1 fused path and l = 2)", () => {
  for (const count of [1, 3, 8]) kernelBatchMatchesSingles(UNSAFE_TEST_PARAMS_TINY, count);
  for (const count of [2, 5]) kernelBatchMatchesSingles(UNSAFE_TEST_PARAMS_SMALL, count);
});

test("ServerKey: a batch of 11 (one pass per key-switch chunk) equals 11 single PBS at PARAM_MESSAGE_4, resident and streamed", () => {
  const { client, server } = keysFor(PARAM_MESSAGE_4);
  const xs = [0, 1, 2, 3, 5, 7, 8, 11, 13, 14, 15];
  const f = (x: number): number => (3 * x + 1) % 16;
  const lut = server.lookupTable(f);
  const ct = client.encrypt(xs);
  const batched = server.bootstrap(ct, lut);
  assert.deepEqual(Array.from(client.decrypt(batched)), xs.map(f));
  const size = ct.size;
  for (let c = 0; c < xs.length; c++) {
    const one = new LweBatch(ct.dimension, 1, ct.data.slice(c * size, (c + 1) * size), ct.encoding, ct.bounds);
    assert.deepEqual(server.bootstrap(one, lut).data, batched.data.subarray(c * size, (c + 1) * size), `ciphertext ${c}`);
  }
  // Each evaluationKeys() call draws a fresh bootstrapping key: both servers get the same one here.
  const keys = client.evaluationKeys();
  const resident = new ServerKey(keys), streamed = new ServerKey(keys, { residentKeyBytes: 0 });
  try {
    assert.equal(streamed.bsk.resident, false);
    assert.deepEqual(streamed.bootstrap(ct, lut).data, resident.bootstrap(ct, lut).data);
  } finally {
    resident.free(); streamed.free();
  }
});
