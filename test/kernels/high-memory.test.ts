// Kernel addresses above 2 GiB (7- and 8-bit parameter sets use that much memory): usize crosses the
// JS boundary as i32, so every pointer must be read unsigned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernels, WasmBuffer } from "../../src/kernels/wasm.js";
import { add, ClientKey, UNSAFE_TEST_PARAMS_TINY } from "../../src/tfhe/index.js";

test("buffers above 2 GiB work end to end", () => {
  const K = kernels();
  const blocks: WasmBuffer[] = [];
  try {
    while (K.memoryBytes() < 2.2 * 2 ** 30) blocks.push(new WasmBuffer(512 << 20, K));
    const high = new WasmBuffer(1 << 20, K);
    blocks.push(high);
    assert.ok(high.ptr > 2 ** 31, `pointer ${high.ptr} should be above 2 GiB`);
    high.u64()[0] = 42n;
    assert.equal(K.u64(high.ptr, 1)[0], 42n);
    // Operations whose scratch now lands at high addresses still compute correctly.
    const client = ClientKey.generate(UNSAFE_TEST_PARAMS_TINY);
    const ct = client.encrypt([1, 0]); // sums stay in the 2-bit message space (decrypt checks the degree)
    assert.deepEqual(Array.from(client.decrypt(add(ct, ct))), [2, 0]);
  } finally {
    blocks.forEach((b) => b.free());
  }
});
