// The README's tour, verbatim in substance: if this breaks, the README is wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientKey, ServerKey, PARAM_MESSAGE_4, add, mulScalar } from "../src/tfhe/index.js";

test("README tour", () => {
  const client = ClientKey.generate(PARAM_MESSAGE_4);
  const evaluationKeys = client.evaluationKeys();
  const x = client.encrypt([3, 1, 2, 0]);
  const server = new ServerKey(evaluationKeys);
  const y = server.apply(add(mulScalar(x, 2), x), (v) => (v * v) % 16);
  assert.deepEqual(Array.from(client.decrypt(y)), [1, 9, 4, 0]);
  server.free();
});
