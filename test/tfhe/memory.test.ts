// Kernel memory is owned explicitly: 10,000 PBS must not grow it, and free() returns blocks for reuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientKey, ServerKey, UNSAFE_TEST_PARAMS_TINY } from "../../src/tfhe/index.js";
import { kernels, WasmBuffer } from "../../src/kernels/wasm.js";

test("memory does not grow across 10,000 PBS", () => {
  const client = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
  const server = new ServerKey(client.evaluationKeys());
  const lut = server.lookupTable((x) => (x + 1) % 4);
  const ct = client.encrypt([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
  server.bootstrap(ct, lut); // warm-up: lazily built tables
  const before = kernels().memoryBytes();
  let out = ct;
  for (let i = 0; i < 1000; i++) out = server.bootstrap(out, lut); // 10 ciphertexts × 1000 = 10,000 PBS
  assert.equal(kernels().memoryBytes(), before, "kernel memory grew");
  assert.deepEqual(Array.from(client.decrypt(out)), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1].map((x) => (x + 1000) % 4));
  server.free();
});

test("freed blocks are reused and a freed buffer cannot be used", () => {
  const K = kernels();
  const a = new WasmBuffer(1 << 20, K);
  const ptr = a.ptr;
  a.free();
  assert.throws(() => a.ptr, /freed/);
  a.free(); // idempotent
  const b = new WasmBuffer(1 << 20, K);
  assert.equal(b.ptr, ptr, "the allocator reuses the freed block");
  { using c = new WasmBuffer(64, K); assert.ok(c.ptr > 0); }
  b.free();
});

test("a server key releases all of its kernel memory on free()", () => {
  const client = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
  const keys = client.evaluationKeys();
  const first = new ServerKey(keys);
  first.free();
  const before = kernels().memoryBytes();
  for (let i = 0; i < 5; i++) new ServerKey(keys).free();
  assert.equal(kernels().memoryBytes(), before);
});
