// CircuitClient's keys: the evaluation keys (the bootstrapping key is most of a keygen's time) are made
// when first read, once; a client restoring its secret key to encrypt and decrypt never makes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, lut } from "../../src/compiler/index.js";
import { ClientKey, type EvaluationKeys } from "../../src/tfhe/index.js";

/** A client key whose evaluationKeys() calls are counted. */
function counted(key: ClientKey): { key: ClientKey; calls: () => number } {
  let n = 0;
  const make = key.evaluationKeys.bind(key);
  Object.defineProperty(key, "evaluationKeys", { value: (): EvaluationKeys => { n++; return make(); } });
  return { key, calls: () => n };
}

test("useKey makes no evaluation keys until they are read, then makes them once", () => {
  const circuit = compile((x) => lut(x.add(1), (v) => (v * 3) % 8), { x: "encrypted" }, [[[0, 1, 2, 3]]]);
  const client = circuit.client;
  const { key, calls } = counted(ClientKey.generate(client.params));
  client.useKey(key);
  const x = [3, 0, 2, 1];
  const request = client.encrypt(x);
  assert.equal(calls(), 0, "encrypting needs no evaluation keys");
  const ek = client.serializedEvaluationKeys()!;
  assert.equal(calls(), 1);
  assert.deepEqual(client.serializedEvaluationKeys()!.length, ek.length);
  assert.equal(client.keys.evaluationKeys, client.keys.evaluationKeys, "the same keys on every read");
  assert.equal(calls(), 1, "made once");
  const out = circuit.server.run(request, circuit.server.loadKeys(ek));
  assert.deepEqual(Array.from(client.decrypt(out)[0]!.data), x.map((v) => ((v + 1) * 3) % 8));
});

test("a lookup-free circuit's keys have no evaluation keys and never make them", () => {
  const circuit = compile((x) => x.mul(2).add(1), { x: "encrypted" }, [[[0, 1, 2, 3]]]);
  const { key, calls } = counted(ClientKey.generate(circuit.client.params));
  circuit.client.useKey(key);
  assert.equal(circuit.client.serializedEvaluationKeys(), undefined);
  assert.equal(calls(), 0);
});
