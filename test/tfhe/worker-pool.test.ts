// PbsWorkerPool (Node worker threads) at the tiny test-only parameters: same decrypted results as the
// single-thread ServerKey, order kept across chunks, many-LUT, errors from workers, close.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  UNSAFE_TEST_PARAMS_SMALL, UNSAFE_TEST_PARAMS_TINY, PbsWorkerPool, WorkerPoolError, ParameterMismatchError, LookupTable,
  LweBatch, ServerKey, type EvaluationKeys,
} from "../../src/tfhe/index.js";
import { keysFor, testRng } from "../helpers/keys.js";

test("PbsWorkerPool: 2 threads, batch of 20, same results as the single-thread ServerKey; close works", async () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const rng = testRng(7);
  const xs = Array.from({ length: 20 }, () => Math.floor(rng() * 4));
  const ct = client.encrypt(xs);
  const f = (x: number) => (3 * x + 1) % 4;
  const lut = server.lookupTable(f);

  const pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
  assert.equal(pool.threads, 2);
  const got = await pool.bootstrap(ct, lut);
  assert.equal(got.count, 20);
  assert.equal(got.dimension, server.bigDimension);
  const single = client.decrypt(server.bootstrap(ct, lut));
  assert.deepEqual(Array.from(client.decrypt(got)), Array.from(single));
  assert.deepEqual(Array.from(single), xs.map(f));

  // Uneven split (3 over 2 workers), a batch of one, an empty batch, and calls in flight together.
  const [three, one, none] = await Promise.all([
    pool.bootstrap(ct.slice(0, 3), lut), pool.bootstrap(ct.at(5), lut), pool.bootstrap(ct.slice(0, 0), lut),
  ]);
  assert.deepEqual(Array.from(client.decrypt(three)), xs.slice(0, 3).map(f));
  assert.deepEqual(Array.from(client.decrypt(one)), [f(xs[5]!)]);
  assert.equal(none.count, 0);

  // Concurrent single-ciphertext calls go to the least loaded worker: 4 calls spread 2 + 2, not 4 on one.
  assert.deepEqual(pool.inFlight, [0, 0]);
  const singles = [0, 1, 2, 3].map((i) => pool.bootstrap(ct.at(i), lut));
  assert.deepEqual(pool.inFlight, [2, 2]);
  const singleOut = await Promise.all(singles);
  assert.deepEqual(singleOut.map((b) => client.decrypt(b)[0]), xs.slice(0, 4).map(f));
  assert.deepEqual(pool.inFlight, [0, 0]);

  // Many-LUT: two functions of 1-bit inputs.
  const bits = xs.map((x) => x & 1);
  const outs = await pool.bootstrapMany(client.encrypt(bits), server.manyLookupTable([(x) => x, (x) => x + 2], 1));
  assert.equal(outs.length, 2);
  assert.deepEqual(Array.from(client.decrypt(outs[0]!)), bits);
  assert.deepEqual(Array.from(client.decrypt(outs[1]!)), bits.map((b) => b + 2));

  await pool.close();
  await pool.close(); // idempotent
  await assert.rejects(pool.bootstrap(ct, lut), WorkerPoolError);
});

test("PbsWorkerPool: a bad table or input rejects with a clear message; the pool keeps working", async () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
  const ct = client.encrypt([0, 1, 2, 3]);
  // A table for another polynomial size: rejected inside the worker, error class kept.
  const wrongSize = keysFor(UNSAFE_TEST_PARAMS_SMALL).server.lookupTable((x) => x);
  await assert.rejects(pool.bootstrap(ct, wrongSize), (e: unknown) =>
    e instanceof ParameterMismatchError && /PBS worker \d: lookup table was built for another polynomial size/.test(e.message));
  // A many-LUT given to bootstrap, and non-objects.
  const many = new LookupTable(new BigUint64Array(512), { bits: 2 }, { bits: 2 }, [0, 1]);
  await assert.rejects(pool.bootstrap(ct, many), /bootstrapMany/);
  await assert.rejects(pool.bootstrap(ct, {} as LookupTable), TypeError);
  // An input of the wrong dimension.
  await assert.rejects(pool.bootstrap(LweBatch.zeros(100, 2, { bits: 2 }), server.lookupTable((x) => x)), ParameterMismatchError);
  // Still usable afterwards.
  const ok = await pool.bootstrap(ct, server.lookupTable((x) => 3 - x));
  assert.deepEqual(Array.from(client.decrypt(ok)), [3, 2, 1, 0]);
});

test("PbsWorkerPool forwards ServerKey options: keys streamed from host memory give the same results", async () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2, serverKey: { residentKeyBytes: 0 } });
  const xs = [3, 0, 2, 1, 1, 2, 0];
  const lut = server.lookupTable((x) => (x * x) % 4);
  assert.deepEqual(Array.from(client.decrypt(await pool.bootstrap(client.encrypt(xs), lut))), xs.map((x) => (x * x) % 4));
});

test("PbsWorkerPool.create validates threads and rejects keys that do not match their parameters", async () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const keys = client.evaluationKeys();
  await assert.rejects(PbsWorkerPool.create(keys, { threads: 0 }), RangeError);
  await assert.rejects(PbsWorkerPool.create(keys, { threads: 1.5 }), RangeError);
  const bad = { ...keys, params: UNSAFE_TEST_PARAMS_SMALL };
  await assert.rejects(PbsWorkerPool.create(bad, { threads: 1 }), (e: unknown) =>
    e instanceof ParameterMismatchError && /PBS worker 0: .*does not match the parameters/.test(e.message));
});

test("a worker killed mid-batch is replaced: the batch completes on the replacement and the pool has both threads after", async () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
  const rng = testRng(3);
  const xs = Array.from({ length: 64 }, () => Math.floor(rng() * 4));
  const f = (x: number): number => (x + 3) % 4;
  const lut = server.lookupTable(f);
  const running = pool.bootstrap(client.encrypt(xs), lut);
  assert.deepEqual(pool.inFlight, [32, 32]);
  await pool._unsafeTestOnlyKillWorker(0); // resolves once the thread has stopped
  const got = await running;
  assert.deepEqual(Array.from(client.decrypt(got)), xs.map(f), "the killed worker's chunk ran again on its replacement");
  assert.deepEqual(pool.restarts, [1, 0]);
  assert.equal(pool.threads, 2);
  // Full capacity afterwards: concurrent calls spread over both threads again, with right results.
  const singles = [0, 1, 2, 3].map((i) => pool.bootstrap(client.encrypt([xs[i]!]), lut));
  assert.deepEqual(pool.inFlight, [2, 2]);
  assert.deepEqual((await Promise.all(singles)).map((b) => client.decrypt(b)[0]), xs.slice(0, 4).map(f));
  // An idle worker that dies is replaced as well.
  await pool._unsafeTestOnlyKillWorker(1);
  assert.deepEqual(Array.from(client.decrypt(await pool.bootstrap(client.encrypt(xs.slice(0, 6)), lut))), xs.slice(0, 6).map(f));
  assert.deepEqual(pool.restarts, [1, 1]);
  assert.deepEqual(pool.inFlight, [0, 0]);
});

test("a replacement that dies before it is ready loses its slot: its chunk rejects with WorkerPoolError, threads drops to 1", async () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
  const lut = server.lookupTable((x) => x);
  const running = pool.bootstrap(client.encrypt(new Array<number>(64).fill(1)), lut);
  await pool._unsafeTestOnlyKillWorker(0);
  await pool._unsafeTestOnlyKillWorker(0); // the replacement, while it builds its key
  await assert.rejects(running, (e: unknown) => e instanceof WorkerPoolError && /PBS worker 0 exited .*before it was ready .*not restarted again/.test(e.message));
  assert.deepEqual(pool.restarts, [1, 0]);
  assert.equal(pool.threads, 1, "no respawn loop: the slot is gone and `threads` says so");
  assert.equal(pool.inFlight[0], 0);
  // The other thread takes every later chunk (after the 32 of the failed call's other half).
  const later = pool.bootstrap(client.encrypt([2, 3, 0]), lut);
  assert.equal(pool.inFlight[0], 0);
  assert.ok(pool.inFlight[1]! >= 3);
  assert.deepEqual(Array.from(client.decrypt(await later)), [2, 3, 0]);
});

test("new ServerKey and PbsWorkerPool.create given a ClientKey (or nothing) throw a TypeError saying what they expect", async () => {
  const { client } = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const expect = (e: unknown, got: RegExp): boolean =>
    e instanceof TypeError && /expects evaluation keys \{ params, bootstrapKey: BootstrapKey, keyswitchKey: KeyswitchKey \}/.test(e.message) && got.test(e.message);
  const asKeys = (v: unknown): EvaluationKeys => v as EvaluationKeys;
  assert.throws(() => new ServerKey(asKeys(client)), (e) => expect(e, /got a ClientKey \(a secret key never goes to a server: pass clientKey\.evaluationKeys\(\)\)/));
  assert.throws(() => new ServerKey(asKeys(undefined)), (e) => expect(e, /got undefined/));
  assert.throws(() => new ServerKey(asKeys({ params: client.params })), (e) => expect(e, /got an object without bootstrapKey and keyswitchKey/));
  await assert.rejects(PbsWorkerPool.create(asKeys(client), { threads: 1 }), (e) => expect(e, /^PbsWorkerPool\.create .*got a ClientKey/));
  await assert.rejects(PbsWorkerPool.create(asKeys(null)), (e) => expect(e, /got null/));
});
