// A wiped client key must refuse every use: before, wipe() left an all-zero key that kept encrypting
// (ciphertexts anyone could read), decrypting, serializing and generating evaluation keys.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClientKey, PARAM_MESSAGE_4, WipedKeyError, encryptLwe, lwePhases, serialize, UNSAFE_TEST_PARAMS_TINY,
} from "../../src/tfhe/index.js";

test("a wiped client key refuses every use (real parameters)", () => {
  const client = ClientKey.generate(PARAM_MESSAGE_4);
  const ct = client.encrypt([3, 1]);
  const big = client.bigKey, small = client.lweKey; // captured before the wipe
  assert.equal(client.wiped, false);
  client.wipe();
  assert.equal(client.wiped, true);
  const uses: [string, () => unknown][] = [
    ["encrypt", () => client.encrypt([1])],
    ["encryptCompressed", () => client.encryptCompressed([1])],
    ["decrypt", () => client.decrypt(ct)],
    ["phases", () => client.phases(ct)],
    ["evaluationKeys", () => client.evaluationKeys()],
    ["compactPublicKey", () => client.compactPublicKey()],
    ["serialize", () => serialize(client)],
    ["bigKey", () => client.bigKey],
    ["lweKey", () => client.lweKey],
    ["glweKey", () => client.glweKey],
  ];
  for (const [name, use] of uses) assert.throws(use, WipedKeyError, `${name} after wipe()`);
  assert.throws(() => client.encrypt([1]), /this client key was wiped: encrypt needs the secret key/);
  // Key parts taken before the wipe are unusable too (they would be all-zero keys).
  assert.throws(() => encryptLwe(big, [1], client.encoding, PARAM_MESSAGE_4.glweNoiseStd), /wiped/);
  assert.throws(() => lwePhases(big, ct), /wiped/);
  assert.throws(() => encryptLwe(small, [1], client.encoding, PARAM_MESSAGE_4.lweNoiseStd), /wiped/);
  // The parameters stay readable (no secret in them).
  assert.equal(client.params, PARAM_MESSAGE_4);
});

test("wipe overwrites the key bits", () => {
  const client = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
  const bits = client.bigKey.bits, smallBits = client.lweKey.bits;
  assert.ok(bits.some((b) => b !== 0));
  client.wipe();
  assert.ok(bits.every((b) => b === 0) && smallBits.every((b) => b === 0));
});
