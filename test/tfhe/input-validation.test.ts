// Bad encodings, lookup tables and message lists get a clear error. Before: offsets of −5, N or 2^31 read
// kernel memory outside the accumulator; encodings with bits 0, 64, 100 or −1 were accepted; encrypt(5)
// returned an empty batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addPlain, LookupTable, lookupTable, LweBatch, manyLookupTable, PARAM_MESSAGE_4, ParameterMismatchError, trivialEncrypt, UNSAFE_TEST_PARAMS_TINY,
  type Encoding,
} from "../../src/tfhe/index.js";
import { keysFor } from "../helpers/keys.js";

const { client, server } = keysFor(UNSAFE_TEST_PARAMS_TINY); // N = 512, p = 4
const N = UNSAFE_TEST_PARAMS_TINY.polynomialSize;

test("lookup-table offsets must index the accumulator: [0, N)", () => {
  const good = server.lookupTable((v) => v);
  for (const offset of [-5, N, 2048, 2 ** 31, 1.5, Number.NaN]) {
    assert.throws(() => new LookupTable(good.polynomial, good.inputEncoding, good.outputEncoding, [offset]),
      new RegExp(`offset 0 is ${String(offset).replace(".", "\\.")}: offsets must be integers in \\[0, ${N}\\)`));
  }
  assert.throws(() => new LookupTable(good.polynomial, good.inputEncoding, good.outputEncoding, []), /non-empty/);
  assert.throws(() => new LookupTable(good.polynomial.subarray(0, 100), good.inputEncoding, good.outputEncoding, [0]), /power of two/);
  assert.throws(() => new LookupTable(good.polynomial, good.inputEncoding, good.outputEncoding, [0], 4), /maxInput must be an integer in \[0, 3\]/);
  // The largest valid offset works (coefficient N − 1) and reads the table's last box.
  const last = new LookupTable(good.polynomial, good.inputEncoding, good.outputEncoding, [N - 1]);
  assert.equal(server.bootstrap(client.encrypt([0]), last).count, 1);
});

test("lookup-table offsets at real parameters (N = 2048)", () => {
  const poly = new BigUint64Array(PARAM_MESSAGE_4.polynomialSize), enc = { bits: 4 };
  for (const offset of [-5, 2048, 2 ** 31]) assert.throws(() => new LookupTable(poly, enc, enc, [offset]), /offsets must be integers in \[0, 2048\)/);
  assert.equal(new LookupTable(poly, enc, enc, [2047]).offsets[0], 2047);
});

test("lookup-table encodings are validated", () => {
  const opts = { inputEncoding: client.encoding, polynomialSize: N };
  for (const bits of [0, 64, 100, -1, 2.5]) {
    assert.throws(() => server.lookupTable((v) => v, { bits }), /outputEncoding\.bits must be an integer in \[1, 30\]/);
    assert.throws(() => lookupTable((v) => v, { ...opts, outputEncoding: { bits } }), /outputEncoding\.bits/);
    assert.throws(() => lookupTable((v) => v, { ...opts, inputEncoding: { bits } }), /inputEncoding\.bits/);
    assert.throws(() => new LookupTable(new BigUint64Array(N), client.encoding, { bits }, [0]), /outputEncoding\.bits/);
  }
  assert.throws(() => manyLookupTable([(v) => v], 1, { ...opts, outputEncoding: { bits: 31 } }), /outputEncoding\.bits/);
  assert.throws(() => lookupTable(5 as unknown as (x: number) => number, opts), /expects a function/);
});

test("encodings given to encrypt, decrypt and the linear operations are validated", () => {
  for (const bits of [0, 64, 100, -1, 1.5, Number.NaN]) {
    assert.throws(() => client.encrypt([1], { bits }), /encoding\.bits must be an integer in \[1, 30\]/);
    assert.throws(() => client.encryptCompressed([1], { bits }), /encoding\.bits/);
    assert.throws(() => trivialEncrypt(10, [1], { bits }), /encoding\.bits/);
    assert.throws(() => LweBatch.zeros(10, 1, { bits }), /encoding\.bits/);
  }
  assert.throws(() => client.encrypt([1], { bits: 2, unchecked: "yes" } as unknown as Encoding), /unchecked must be omitted or "compiler-managed", got "yes"/);
  assert.throws(() => client.encrypt([1], null as unknown as Encoding), /encoding must be an object/);
  const x = client.encrypt([1]);
  // Decryption uses the batch's own (validated) encoding; there is no other to pass.
  assert.deepEqual(Array.from(client.decrypt(x)), [1]);
  assert.throws(() => addPlain(x, 1, { bits: 3 }), ParameterMismatchError);
  assert.throws(() => x.withEncoding({ bits: 0 }), /encoding\.bits/);
});

test("encrypt takes an array: a lone number or a string is refused, not an empty batch", () => {
  const encrypt = client.encrypt.bind(client) as (m: unknown) => LweBatch;
  assert.throws(() => encrypt(5), /encrypt takes an array of integers, got the number 5 \(pass \[5\] for one value\)/);
  assert.throws(() => encrypt("12"), /got a string/);
  assert.throws(() => encrypt(undefined), /takes an array of integers/);
  assert.throws(() => encrypt([1.5]), /message 0 is 1.5, not a safe integer/);
  assert.throws(() => encrypt([1, "2"]), /message 1 is 2, not a safe integer/);
  assert.throws(() => (client.encryptCompressed.bind(client) as (m: unknown) => unknown)(5), /got the number 5/);
  assert.equal(client.encrypt(new Int32Array([1, 2])).count, 2);
  assert.equal(client.encrypt([]).count, 0);
});
