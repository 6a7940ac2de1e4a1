// Several precisions in one circuit: each region of linearly joined values has its own message space, each
// lookup runs at its own precision (scaled up from its region), wide accumulators are read by approximate
// rounding (one PBS on the top bits), and the parameters meet every PBS and decryption constraint. Real
// parameters; FHE against the clear function, in process and through the deployed halves.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BoundsError, circuitConstraints, compile, lut, maximum, minimum, relu, round, toNested,
} from "../../src/compiler/index.js";
import { chooseParameters, constraintsLog2PFail } from "../../src/tfhe/index.js";
import { deployed } from "../helpers/deployed.js";

const nearest = (v: number, lsbs: number): number => Math.floor((v + 2 ** (lsbs - 1)) / 2 ** lsbs) * 2 ** lsbs;

test("optimizer constraints: one PBS constraint is the single-precision search; decryptions add σ_glwe requirements", () => {
  const single = chooseParameters({ precision: 4, maxNorm2: 10 });
  const same = chooseParameters({ precision: 4, maxNorm2: 10, constraints: [{ precision: 4, freshNorm2: 0, pbsNorm2: 10, bootstrap: true }] });
  assert.deepEqual({ ...same, name: "" }, { ...single, name: "" });
  // A 20-bit decryption of fresh encryptions next to a 2-bit PBS: the big key's noise must allow 20 bits.
  const constraints = [
    { precision: 2, freshNorm2: 4, pbsNorm2: 0, bootstrap: true },
    { precision: 20, freshNorm2: 1000, pbsNorm2: 0, bootstrap: false },
  ];
  const p = chooseParameters({ precision: 2, constraints });
  assert.ok(constraintsLog2PFail(p, constraints) <= -64);
  assert.ok(p.polynomialSize >= 4);
  assert.throws(() => chooseParameters({ precision: 2, constraints: [{ precision: 2, freshNorm2: 0, pbsNorm2: 2 ** 60, bootstrap: true }] }), RangeError);
});

test("a 1-bit lookup next to a 7-bit value: two regions, the PBS at 1 bit, cheaper parameters than one 7-bit space", () => {
  const c = compile((x, y) => [x.mul(30).add(y), lut(y, (v) => 1 - v, "not")],
    { x: "encrypted", y: "encrypted" }, [[0, 0], [3, 1]]);
  try {
    const yId = c.graph.inputs[1]!, notId = c.graph.outputs[1]!;
    assert.equal(c.encoding.bits, 6, "x·30 + y ∈ [0, 91]: u7 in a 6-bit message space (values mod 2^7)");
    assert.equal(c.encoding.nodeBits[notId], 1, "the lookup's output has its own region");
    assert.equal(c.encoding.groups.length, 1);
    assert.equal(c.encoding.groups[0]!.bits, 1, "the PBS reads y at 1 bit");
    assert.ok(c.encoding.nodeBits[yId]! >= 6, "y is added to x·30: it lives in the wide region and is scaled down to the PBS");
    assert.ok(c.parameters.log2PFail <= -64);
    // One 7-bit message space would need a 6-bit PBS (N ≥ 64 boxes and noise for 6 bits).
    const wide = chooseParameters({ precision: 6, maxNorm2: 1 });
    assert.ok(c.parameters.params.polynomialSize <= wide.polynomialSize);
    for (const [x, y] of [[0, 0], [3, 1], [2, 0], [1, 1]] as const) {
      assert.deepEqual(c.encryptRunDecrypt(x, y).map(toNested), [30 * x + y, 1 - y], `(${x}, ${y})`);
    }
    assert.deepEqual(deployed(c, 3, 0), [[90], [1]]);
  } finally {
    c.dispose();
  }
});

test("a 12-bit accumulator: exact round by bit extraction (7 one-bit PBS), approximate round + relu in one small PBS", () => {
  const w = [37, -21, 45, 29];
  const inputset = [[[0, 0, 0, 0]], [[15, 15, 15, 15]], [[3, 9, 1, 12]]];
  const acc = (x: number[]) => x.reduce((s, v, i) => s + v * w[i]!, 0);
  // Exact: the accumulator is too wide for one lookup over it, so its 7 low bits are extracted, one 1-bit
  // PBS each (small parameters), then relu reads the rounded value (5 bits): exact on every input.
  const exact = compile((x) => relu(round(x.dot(w), 7)), { x: "encrypted" }, inputset);
  try {
    assert.equal(exact.encoding.extractions.size, 1);
    assert.deepEqual(exact.statistics.pbsByPrecision.map((p) => p.bits), [1, exact.encoding.groups[0]!.bits]);
    assert.equal(exact.statistics.lookupLayers.length, 7 + 1);
    for (const x of [[15, 0, 15, 15], [0, 15, 0, 0], [7, 3, 11, 2], [1, 2, 3, 4]]) {
      assert.deepEqual(exact.encryptRunDecrypt(x).map(toNested), [Math.max(0, nearest(acc(x), 7))], `exact round of ${acc(x)}`);
    }
    assert.deepEqual(deployed(exact, [9, 14, 2, 6]), [[Math.max(0, nearest(acc([9, 14, 2, 6]), 7))]]);
  } finally {
    exact.dispose();
  }
  const c = compile((x) => [relu(round(x.dot(w), 7, { approximate: true })), x.dot(w)], { x: "encrypted" }, inputset);
  try {
    // relu∘round~ fused: one lookup reading the accumulator's top bits: [−315, 1665] / 128 → 18 entries, 5 bits.
    assert.equal(c.encoding.lookups.size, 1);
    const [plan] = c.encoding.lookups.values();
    assert.ok(plan!.approximate && plan!.step === 128);
    assert.ok(c.encoding.groups[0]!.bits <= 5, `PBS at ${c.encoding.groups[0]!.bits} bits`);
    assert.ok(c.encoding.bits >= 11, "the accumulator's region holds its 12-bit width (also decrypted as an output)");
    assert.ok(c.parameters.log2PFail <= -64);
    const samples = [[15, 0, 15, 15], [0, 15, 0, 0], [7, 3, 11, 2], [1, 1, 1, 1], [9, 14, 2, 6]];
    for (const x of samples) {
      const [r, a] = c.encryptRunDecrypt(x).map(toNested) as [number, number];
      assert.equal(a, acc(x), `accumulator of ${x}`);
      // Approximate: the nearest multiple of 64, or near a tie the other neighbour.
      const lo = Math.floor(acc(x) / 128) * 128;
      assert.ok([Math.max(0, lo), Math.max(0, lo + 128)].includes(r), `relu(round~(${acc(x)})) = ${r}`);
      if (Math.abs((acc(x) % 128 + 128) % 128 - 64) > 8) assert.equal(r, Math.max(0, nearest(acc(x), 7)), `away from a tie: exact (${acc(x)})`);
      assert.deepEqual(c.runClear(x).map(toNested), [Math.max(0, nearest(acc(x), 7)), acc(x)]);
    }
    const [r, a] = deployed(c, [15, 0, 15, 15]);
    assert.equal(a![0], acc([15, 0, 15, 15]));
    assert.ok(Math.abs(r![0]! - Math.max(0, nearest(acc([15, 0, 15, 15]), 7))) <= 128);
  } finally {
    c.dispose();
  }
});

test("a 17-bit accumulator (u8 inputs, weights to 2^7) rounded approximately to a 5-bit lookup; constraints name every PBS and output", () => {
  const w = [127, -90, 113, 64];
  const c = compile((x) => {
    const a = x.dot(w);
    return [lut(round(a, 13, { approximate: true }), (v) => Math.sign(v), "sign"), a];
  }, { x: "encrypted" }, [[[0, 0, 0, 0]], [[255, 255, 255, 255]]]);
  try {
    const acc = (x: number[]) => x.reduce((s, v, i) => s + v * w[i]!, 0);
    assert.ok(c.encoding.bits >= 16);
    const constraints = circuitConstraints(c.encoding);
    assert.ok(constraints.some((k) => k.bootstrap && k.precision <= 5));
    assert.ok(constraints.some((k) => !k.bootstrap && k.precision === c.encoding.bits));
    for (const x of [[255, 0, 255, 255], [0, 255, 0, 0], [17, 200, 3, 99]]) {
      const [s, a] = c.encryptRunDecrypt(x).map(toNested) as [number, number];
      assert.equal(a, acc(x));
      const r = nearest(acc(x), 13);
      assert.ok([Math.sign(r), Math.sign(r - 8192), Math.sign(r + 8192)].includes(s), `sign(round~(${acc(x)})) = ${s}`);
    }
  } finally {
    c.dispose();
  }
});

test("comparisons of 10-bit values: the difference truncated by bit extraction, then one small lookup; exact at ties and ±1", () => {
  const n = 8;
  const xs = [0, 1023, 512, 511, 300, 1023, 17, 700], ys = [0, 1022, 511, 512, 300, 0, 18, 699];
  const c = compile((x, y) => [x.lt(y), x.ge(y)], { x: "encrypted", y: "encrypted" },
    [[new Array(n).fill(0), new Array(n).fill(1023)], [new Array(n).fill(1023), new Array(n).fill(0)]], { shapes: { x: [n], y: [n] } });
  try {
    // d = x − y spans 11 bits: 3 low bits extracted (1-bit PBS each), then a lookup of 8 bits, per comparison.
    assert.equal(c.encoding.extractions.size, 1, "both comparisons share the truncated difference");
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 8));
    const expected = [xs.map((x, i) => +(x < ys[i]!)), xs.map((x, i) => +(x >= ys[i]!))];
    assert.deepEqual(c.runClear(xs, ys).map(toNested), expected);
    assert.deepEqual(c.simulate(xs, ys).map(toNested), expected);
    assert.deepEqual(c.encryptRunDecrypt(xs, ys).map(toNested), expected);
    assert.deepEqual(deployed(c, xs, ys), expected);
  } finally {
    c.dispose();
  }
});

test("max and min of 8-bit values: the relu of the difference by 3-bit chunks of it; exact", () => {
  const n = 4;
  const xs = [0, 255, 128, 17], ys = [0, 254, 127, 18];
  const c = compile((x, y) => [maximum(x, y), minimum(x, y)], { x: "encrypted", y: "encrypted" },
    [[new Array(n).fill(0), new Array(n).fill(255)], [new Array(n).fill(255), new Array(n).fill(0)]], { shapes: { x: [n], y: [n] } });
  try {
    // x − y spans 9 bits: chunks of 3 bits (two truncations extracting 3 bits each), then the top chunk's
    // sign and relu and one 4-bit lookup per lower chunk (cheaper than splitting once at 4 bits: 5-bit lookups).
    // The top chunk's two 3-bit lookups (sign, relu) share one rotation, widened to the circuit's 4 bits.
    assert.equal(c.encoding.extractions.size, 2, "max and min share the difference and its chunks");
    assert.deepEqual(c.statistics.pbsByPrecision, [{ bits: 1, count: 6 * n }, { bits: 4, count: 3 * n }]);
    const expected = [xs.map((x, i) => Math.max(x, ys[i]!)), xs.map((x, i) => Math.min(x, ys[i]!))];
    assert.deepEqual(c.runClear(xs, ys).map(toNested), expected);
    assert.deepEqual(c.simulate(xs, ys).map(toNested), expected);
    assert.deepEqual(c.encryptRunDecrypt(xs, ys).map(toNested), expected);
  } finally {
    c.dispose();
  }
});
