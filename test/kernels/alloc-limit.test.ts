// The kernel allocator's largest block: a request above it is a RangeError from the wrapper, naming the
// size and the limit, before the request reaches the allocator (which would abort inside the module, or,
// for sizes of 4 GiB and more that wrap around as i32, hand back a block far too small).
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernels, MAX_KERNEL_ALLOCATION_BYTES } from "../../src/kernels/wasm.js";

const K = kernels();

/** A small kernel operation: add two 4-word vectors. */
function smallAddWorks(): void {
  const a = K.alloc(32), b = K.alloc(32);
  try {
    K.u64(a, 4).set([1n, 2n, 3n, 4n]);
    K.u64(b, 4).set([10n, 20n, 30n, 2n ** 64n - 1n]);
    K.k.addAssign(a, b, 4);
    assert.deepEqual(Array.from(K.u64(a, 4)), [11n, 22n, 33n, 3n]);
  } finally {
    K.free(a); K.free(b);
  }
}

test("the limit is the allocator's block size (1 GiB less its 4-byte header)", () => {
  assert.equal(MAX_KERNEL_ALLOCATION_BYTES, 2 ** 30 - 4);
});

for (const bytes of [MAX_KERNEL_ALLOCATION_BYTES + 1, 2 ** 30, 2 ** 31 + 8, 2 ** 32 + 16, 2 ** 40]) {
  test(`a request of ${bytes} bytes fails up front with a RangeError naming the size and the limit`, () => {
    const before = K.memoryBytes();
    assert.throws(() => K.alloc(bytes), (e: unknown) => {
      assert.ok(e instanceof RangeError, `got ${String(e)}`);
      assert.match(e.message, new RegExp(`\\b${bytes}\\b`));
      assert.match(e.message, new RegExp(`\\b${MAX_KERNEL_ALLOCATION_BYTES}\\b`));
      return true;
    });
    assert.equal(K.memoryBytes(), before, "a refused request grows no memory");
    smallAddWorks();
  });
}

test("sizes that are not byte counts are a RangeError naming what was passed", () => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => K.alloc(bad), (e: unknown) => e instanceof RangeError && e.message.includes(String(bad)), String(bad));
  }
  smallAddWorks();
});

test("a request at the limit is served, and the instance stays usable", () => {
  const p = K.alloc(MAX_KERNEL_ALLOCATION_BYTES);
  try {
    K.u8(p + MAX_KERNEL_ALLOCATION_BYTES - 1, 1)[0] = 7;
    assert.equal(K.u8(p + MAX_KERNEL_ALLOCATION_BYTES - 1, 1)[0], 7);
  } finally {
    K.free(p);
  }
  smallAddWorks();
});
