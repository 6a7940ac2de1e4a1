// PBS at the small test-only parameters: fast checks of every PBS feature (real parameters: pbs-param-*.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { UNSAFE_TEST_PARAMS_SMALL, UNSAFE_TEST_PARAMS_TINY, LookupTable, ParameterMismatchError, ServerKey } from "../../src/tfhe/index.js";
import { pbsSuite } from "../helpers/pbs-suite.js";
import { keysFor } from "../helpers/keys.js";

test("PBS suite at UNSAFE_TEST_PARAMS_TINY (2 bits)", () => pbsSuite(UNSAFE_TEST_PARAMS_TINY, { maxNorm2: 16 }));
test("PBS suite at UNSAFE_TEST_PARAMS_SMALL (4 bits)", () => pbsSuite(UNSAFE_TEST_PARAMS_SMALL, { maxNorm2: 16 }));

test("PBS can change the message encoding (4-bit input → 2-bit and 6-bit outputs)", () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_SMALL);
  const xs = Array.from({ length: 16 }, (_, i) => i);
  const ct = client.encrypt(xs);
  const lo = server.apply(ct, (x) => x >> 2, { bits: 2 });
  assert.equal(lo.encoding.bits, 2);
  assert.deepEqual(Array.from(client.decrypt(lo)), xs.map((x) => x >> 2));
  const hi = server.apply(ct, (x) => x * 3, { bits: 6 });
  assert.deepEqual(Array.from(client.decrypt(hi)), xs.map((x) => x * 3));
});

test("many-LUT with four functions of 2-bit inputs", () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_SMALL);
  const xs = [0, 1, 2, 3, 3, 0];
  const fs = [(x: number) => x, (x: number) => x + 4, (x: number) => 15 - x, (x: number) => x * x];
  const outs = server.bootstrapMany(client.encrypt(xs), server.manyLookupTable(fs, 2));
  outs.forEach((o, t) => assert.deepEqual(Array.from(client.decrypt(o)), xs.map(fs[t]!)));
  assert.throws(() => server.manyLookupTable([...fs, (x) => x], 2), /do not fit/);
});

test("PBS rejects mismatched inputs and tables", () => {
  const small = keysFor(UNSAFE_TEST_PARAMS_SMALL), tiny = keysFor(UNSAFE_TEST_PARAMS_TINY);
  const ct = small.client.encrypt([1]);
  assert.throws(() => tiny.server.apply(ct, (x) => x), ParameterMismatchError);
  assert.throws(() => small.server.bootstrap(ct, tiny.server.lookupTable((x) => x)), ParameterMismatchError);
  assert.throws(() => small.server.bootstrap(ct.withEncoding({ bits: 2 }), small.server.lookupTable((x) => x)), ParameterMismatchError);
  const two = new LookupTable(new BigUint64Array(1024), { bits: 4 }, { bits: 4 }, [0, 1]);
  assert.throws(() => small.server.bootstrap(ct, two), /bootstrapMany/);
  assert.throws(() => small.server.lookupTable((x) => x / 2), /not an integer/);
});

test("streamed keys (host memory, for keys beyond 32-bit wasm) give bit-identical PBS results", () => {
  const { client, server } = keysFor(UNSAFE_TEST_PARAMS_SMALL);
  const keys = client.evaluationKeys();
  const resident = new ServerKey(keys);
  const streamed = new ServerKey(keys, { residentKeyBytes: 0 });
  assert.equal(resident.bsk.resident && resident.ksk.resident, true);
  assert.equal(streamed.bsk.resident || streamed.ksk.resident, false);
  const ct = client.encrypt([0, 3, 7, 12, 15]);
  const lut = server.lookupTable((x) => (5 * x + 2) % 16);
  const a = resident.bootstrap(ct, lut), b = streamed.bootstrap(ct, lut);
  assert.deepEqual(b.data, a.data);
  assert.deepEqual(Array.from(client.decrypt(b)), [0, 3, 7, 12, 15].map((x) => (5 * x + 2) % 16));
  assert.deepEqual(streamed.keyswitch(ct).data, resident.keyswitch(ct).data);
  resident.free(); streamed.free();
});
