// One bootstrapping interface (Bootstrapper) under the evaluator's one schedule: a ServerKey in this thread,
// a PbsWorkerPool or any other Bootstrapper asynchronously, all with the same layers of PBS requests and
// the same results; the in-process path encrypts in full form (no seeded compress → expand round trip).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { type Circuit, compile, relu, lut, toNested } from "../../src/compiler/index.js";
import {
  type Bootstrapper, type EvaluationKeys, type LookupTable, type LweBatch, PbsWorkerPool, SeededLweBatch, ServerKey,
} from "../../src/tfhe/index.js";

const circuits: Circuit[] = [];
after(async () => { for (const c of circuits) await c.close(); });

/** Two lookup layers: relu of x·W, then a table of the sum of two relus; one clear output path as well. */
function circuit(): Circuit {
  const W = [[1, -1], [2, 1]];
  const inputset = [[[0, 1]], [[1, 0]], [[1, 1]], [[0, 0]]];
  const c = compile((x) => {
    const h = relu(x.matmul(W));
    return [lut(h.sum(), (v) => v % 3), h];
  }, { x: "encrypted" }, inputset);
  circuits.push(c);
  return c;
}

/** A Bootstrapper that answers later (as a remote service would) and records each call's batch size. */
class RecordingBootstrapper implements Bootstrapper {
  readonly calls: number[] = [];
  constructor(readonly key: ServerKey) {}
  get params() { return this.key.params; }
  async bootstrapMany(batch: LweBatch, lut: LookupTable): Promise<LweBatch[]> {
    this.calls.push(batch.count);
    await new Promise((r) => setTimeout(r, 1));
    return this.key.bootstrapMany(batch, lut);
  }
}

test("run (ServerKey), runAsync on a pool and on a custom Bootstrapper: same schedule, same results", async () => {
  const c = circuit();
  const keys = c.keygen();
  const x = [1, 1];
  const want = c.runClear(x).map(toNested);
  const key = c.server.loadKeys(keys.evaluationKeys!) as ServerKey;
  try {
    const args = c.client.encrypt(x);
    assert.deepEqual(c.client.decrypt(c.server.run(args, key)).map(toNested), want);
    const recording = new RecordingBootstrapper(key);
    assert.deepEqual(c.client.decrypt(await c.server.runAsync(args, recording)).map(toNested), want);
    assert.deepEqual(recording.calls, [2, 1], "layer 1: the relu of 2 elements; layer 2: the table of their sum");
    // A ServerKey is a Bootstrapper too (its answers are awaited like any other).
    assert.deepEqual(c.client.decrypt(await c.server.runAsync(args, key)).map(toNested), want);
    await using pool = await PbsWorkerPool.create(keys.evaluationKeys as EvaluationKeys, { threads: 2 });
    assert.deepEqual(c.client.decrypt(await c.server.runAsync(args, pool)).map(toNested), want);
    // Anything else is refused before evaluation.
    await assert.rejects(c.server.runAsync(args, { params: key.params } as unknown as Bootstrapper), /expected a Bootstrapper/);
    await assert.rejects(c.server.runAsync(args, keys.client as unknown as Bootstrapper), /expected a Bootstrapper/);
  } finally {
    key.free();
  }
});

test("encryptRunDecrypt encrypts in full form: no seeded batch is expanded on the in-process path", async () => {
  const c = circuit();
  const decompress = Object.getOwnPropertyDescriptor(SeededLweBatch.prototype, "decompress")!;
  let expanded = 0;
  Object.defineProperty(SeededLweBatch.prototype, "decompress", {
    ...decompress, value(this: SeededLweBatch) { expanded++; return (decompress.value as () => LweBatch).call(this); },
  });
  try {
    assert.deepEqual(c.encryptRunDecrypt([0, 1]).map(toNested), c.runClear([0, 1]).map(toNested));
    assert.deepEqual((await c.encryptRunDecryptAsync([[1, 0]], { threads: 2 })).map(toNested), c.runClear([1, 0]).map(toNested));
  } finally {
    Object.defineProperty(SeededLweBatch.prototype, "decompress", decompress);
  }
  assert.equal(expanded, 0);
});
