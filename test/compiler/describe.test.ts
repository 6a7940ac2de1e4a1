// The text views: one line a node, and the summary of what drives the cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tracer, compile, describe, graphText, lut, maximum, relu, round, trace } from "../../src/compiler/index.js";
import { estimateLatency, serializedSizes, ServerKey } from "../../src/tfhe/index.js";

test("graphText prints one line a node with types, and the outputs", () => {
  const g = trace((x, y) => x.add(y).sum(0), { x: "encrypted", y: "clear" }, { x: [4], y: [4] });
  assert.equal(graphText(g), [
    '%0 = input("x", encrypted) : ?[4]',
    '%1 = input("y", clear) : clear ?[4]',
    "%2 = add(%0, %1) : ?[4]",
    "%3 = sum(%2, axis=0) : ?",
    "return %3",
  ].join("\n"));
});

test("with bounds, types carry bit widths: %5 = add(%3, %4) : i7[4]", () => {
  const c = compile((x) => {
    const s = x.slice([1, 3]);
    return [lut(round(x.mul(-3).add([1, 2, 3, 4]), 2), (v) => v >> 2, "shr"), Tracer.concat([s, s])];
  }, { x: "encrypted" }, [[[0, 1, 2, 3]], [[5, 6, 7, 9]]], { maxLutBits: 5 }); // i7 > 5 bits: round then lookup stay apart
  // x accepts its whole u4 width [0, 15] (the inputset spans [0, 9]); every range follows from that.
  assert.equal(c.text(), [
    '%0 = input("x", encrypted) : u4[4]',
    "%1 = slice(%0, 1:3) : u4[2]",
    "%2 = constant([-3]) : clear i3",
    "%3 = mul(%0, %2) : i7[4]",
    "%4 = constant([1, 2, 3, 4]) : clear u3[4]",
    "%5 = add(%3, %4) : i7[4]",
    "%6 = round(%5, lsbs=2) : i7[4]",
    "%7 = lut(%6, shr, table=[-44..4 step 4]) : i5[4]",
    "%8 = concat(%1, %1, axis=0) : u4[4]",
    "return %7, %8",
  ].join("\n"));
  assert.equal(graphText(c.graph, c.bounds), c.text());
  // With the default limit (8 bits) the round and the lookup are one lookup of the sum (composed table).
  const fused = compile((x) => lut(round(x.mul(-3).add([1, 2, 3, 4]), 2), (v) => v >> 2, "shr"), { x: "encrypted" }, [[[0, 1, 2, 3]], [[5, 6, 7, 9]]]);
  assert.match(fused.text(), /%5 = lut\(%4, shr∘round\(2\), table=\[-44\.\.4\]\) : i5\[4\]\nreturn %5$/);
  assert.deepEqual(fused.runClear([5, 6, 7, 9]), c.runClear([5, 6, 7, 9]).slice(0, 1));
});

test("describe summarises ops, lookups, widths and Σw²", () => {
  const W = [[1, 2], [3, 4], [5, 6]];
  const c = compile((x) => lut(x.matmul(W), (v) => Math.max(v, 0), "relu").sum(), { x: "encrypted" }, [[[0, 1, 2]], [[3, 2, 1]]]);
  const d = c.describe();
  assert.match(d, /^inputs: x: encrypted u2\[3\]$/m);
  assert.match(d, /^ops: constant 1, input 1, lut 1, matmul 1, sum 1$/m);
  assert.match(d, /^encrypted lookups: 1 nodes, 2 table lookups \(one per element\)$/m);
  assert.match(d, /^max lookup input: 6 bits \(%3\) \(limit 8\)$/m);
  assert.match(d, /^max Σw² into a lookup: 56; max Σw² of any encrypted node: 56$/m);
  assert.match(d, /^ {2}%2 = matmul\(%0, %1\) : u6\[2\] {2}range \[0, 36\] {2}Σw²=56$/m);
  // Without bounds: the structure only.
  assert.match(describe(c.graph), /^ops: .*lut 1/m);
  assert.doesNotMatch(describe(c.graph), /Σw²/);
});

test("statistics and describe(): PBS layers, parameters, key and ciphertext sizes, estimated and measured latency", () => {
  const inputset = Array.from({ length: 16 }, (_, i) => [[i % 4, (i >> 2) % 4, (i * 3) % 4]]);
  // Layer 1: relu of 2 values; layer 2: the max (1 PBS, it reads layer 1) and a table of 2 (reads layer 1).
  const c = compile((x) => {
    const h = relu(x.matmul([[1, -1], [2, 1], [-1, 1]]));
    return [maximum(h.slice([0, 1]), h.slice([1, 2])), lut(h, (v) => (v * v) % 5)];
  }, { x: "encrypted" }, inputset);
  try {
    const s = c.statistics;
    assert.equal(s.pbsCount, 5);
    assert.deepEqual(s.lookupLayers, [2, 3]);
    const p = c.parameters.params;
    assert.equal(s.parameters, p);
    assert.ok(s.securityBits >= 128);
    assert.ok(s.log2PFailPerPbs <= -64 && s.log2PFailPerRun <= s.log2PFailPerPbs + Math.log2(5) + 1e-9);
    assert.equal(s.sizes.evaluationKeys, serializedSizes(p).evaluationKeys);
    const mem = ServerKey.memoryBytes(p);
    assert.equal(s.sizes.serverKeyMemory, mem.bootstrapKey + mem.keyswitchKey);
    assert.equal(s.sizes.arguments, serializedSizes(p).seededCiphertext + 2 * serializedSizes(p).perExtraSeededCiphertext);
    assert.equal(s.sizes.results, serializedSizes(p).ciphertext + serializedSizes(p).ciphertext + serializedSizes(p).perExtraCiphertext);
    const per = estimateLatency(p).totalMs;
    assert.equal(s.estimatedMs.oneThread, 5 * per);
    assert.equal(s.estimatedMs.pool(2), (1 + 2) * per); // ⌈2/2⌉ + ⌈3/2⌉
    assert.equal(s.measured, undefined);
    let text = c.describe();
    for (const want of [/parameters: \S+ \(n = \d+, k = \d+, N = \d+/, /\d+-bit security/, /PBS: 5 in 2 layer\(s\) \[2, 3\]/,
      /evaluation keys [\d.]+ MiB to upload/, /estimated latency/, /measured latency: not run in FHE yet/]) {
      assert.match(text, want);
    }
    c.encryptRunDecrypt([1, 2, 3]);
    const m = c.statistics.measured!;
    assert.ok(m.threads === 1 && m.encryptMs >= 0 && m.evaluateMs > 0 && m.decryptMs >= 0);
    text = c.describe();
    assert.match(text, /measured latency \(last run, 1 thread\): encrypt [\d.]+ ms, evaluate [\d.]+ ms, decrypt [\d.]+ ms/);
  } finally {
    c.dispose();
  }
  // Lookup-free: no keys, no PBS; a circuit too wide for any parameters says why instead.
  const lin = compile((x) => x.dot([3, -2]), { x: "encrypted" }, [[[0, 7]], [[7, 0]]]);
  assert.match(lin.describe(), /keys: none on the server/);
  assert.equal(lin.statistics.sizes.evaluationKeys, 0);
  const wide = compile((x) => [lut(x, (v) => v >> 1), x.mul(2 ** 25)], { x: "encrypted" }, [[[0, 200]], [[255, 7]]]);
  assert.match(wide.describe(), /parameters: none \(BoundsError: /);
});
