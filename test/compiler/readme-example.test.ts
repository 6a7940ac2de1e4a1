// The README's compiler example, run for real: if this breaks, the README is wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, relu, CircuitClient, CircuitServer, toNested } from "../../src/compiler/index.js";

test("README compiler example: run, simulate, FHE (one thread and 2 workers) and the client/server split agree", async () => {
  const W = [[1, -2], [3, 1], [-1, 2]];
  const inputset = [[[0, 0, 0]], [[3, 3, 3]], [[1, 2, 3]], [[3, 0, 1]], [[0, 3, 2]]];
  const circuit = compile((x) => relu(x.matmul(W)), { x: "encrypted" }, inputset);
  try {
    const clear = circuit.runClear([1, 2, 3]);
    assert.deepEqual(Array.from(clear[0]!.data), [4, 6]);
    assert.deepEqual(Array.from(circuit.simulate([1, 2, 3])[0]!.data), [4, 6]);
    assert.deepEqual(Array.from(circuit.encryptRunDecrypt([1, 2, 3])[0]!.data), [4, 6]);
    assert.deepEqual(Array.from((await circuit.encryptRunDecryptAsync([[1, 2, 3]], { threads: 2 }))[0]!.data), [4, 6]);
    assert.match(circuit.describe(), /measured latency \(last run, 2 threads\)/);

    const client = CircuitClient.deserialize(circuit.client.serialize());
    const server = CircuitServer.deserialize(circuit.server.serialize());
    client.keygen();
    const keys = server.loadKeys(client.serializedEvaluationKeys()!);
    const response = server.run(client.encrypt([1, 2, 3]), keys);
    assert.deepEqual(client.decrypt(response).map(toNested), [[4, 6]]);
    keys?.free();
  } finally {
    await circuit.close();
  }
});
