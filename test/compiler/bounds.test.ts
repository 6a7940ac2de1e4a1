// Bounds from an inputset against brute force, Σw² on hand-computed cases, and the range errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Circuit, type Graph, type Tracer, BoundsError, InputOutOfRangeError, bitWidth, compile, inferBounds, lut, maximum, minimum,
  rangeOfWidth, round, trace, clip, abs, evaluate, evaluateAll, toNested, checkInRange,
} from "../../src/compiler/index.js";
import { nearestMultiple } from "./reference.js";

/** Deterministic pseudo-random integers in [lo, hi] (tests stay reproducible without a seed option). */
function rng(seed: number) {
  let s = seed >>> 0;
  return (lo: number, hi: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  };
}

function range(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** Node ids of a kind, in order. */
const idsOf = (g: Graph, kind: string) => g.nodes.filter((n) => n.kind === kind).map((n) => n.id);

function assertRange(c: Circuit, id: number, expected: [number, number], what: string) {
  const b = c.bounds.nodes[id]!;
  assert.deepEqual([b.min, b.max], expected, what);
  assert.deepEqual({ bits: b.bits, signed: b.signed }, bitWidth(...expected), `${what} width`);
}

/** A value of each input drawn from its accepted range (corners first, then pseudo-random). */
function acceptedSamples(c: Circuit, count: number, seed: number): number[][][] {
  const r = rng(seed);
  const ins = c.graph.inputs.map((id) => ({ size: c.graph.nodes[id]!.shape.reduce((a, d) => a * d, 1), b: c.bounds.nodes[id]! }));
  return Array.from({ length: count }, (_, s) => ins.map(({ size, b }) => Array.from({ length: size }, () =>
    s === 0 ? b.min : s === 1 ? b.max : r(b.min, b.max))));
}

/**
 * Soundness: for inputs anywhere in their accepted ranges, every node stays inside its range and every
 * lookup inside its table (the clear interpreter with tables attached refuses anything else).
 */
function assertSound(c: Circuit, samples: readonly (readonly (number | number[])[])[]) {
  for (const sample of samples) {
    const shaped = sample.map((v, i) => (c.graph.nodes[c.graph.inputs[i]!]!.shape.length === 0 && Array.isArray(v) ? v[0]! : v));
    const values = evaluateAll(c.graph, shaped);
    values.forEach((v, id) => {
      const b = c.bounds.nodes[id]!;
      for (const x of v.data) assert.ok(x >= b.min && x <= b.max, `%${id}: ${x} outside [${b.min}, ${b.max}]`);
    });
  }
}

function assertTablesMatch(c: Circuit) {
  for (const l of c.bounds.luts) {
    const node = c.graph.nodes[l.node]!;
    assert.ok(node.kind === "lut" && node.table === l.table);
    if (node.kind !== "lut") continue;
    l.table.values.forEach((v, i) => assert.equal(v, node.fn(l.inputMin + i * l.step)));
    assert.equal(l.inputMax, l.inputMin + (l.table.values.length - 1) * l.step);
  }
}

test("bitWidth: unsigned for ranges ≥ 0, two's complement otherwise, and minimal", () => {
  assert.deepEqual(bitWidth(0, 0), { bits: 1, signed: false });
  assert.deepEqual(bitWidth(0, 255), { bits: 8, signed: false });
  assert.deepEqual(bitWidth(0, 256), { bits: 9, signed: false });
  assert.deepEqual(bitWidth(-128, 127), { bits: 8, signed: true });
  assert.deepEqual(bitWidth(-129, 0), { bits: 9, signed: true });
  assert.deepEqual(bitWidth(-1, 0), { bits: 1, signed: true });
  fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.nat({ max: 1e9 }), (lo, span) => {
    const { bits, signed } = bitWidth(lo, lo + span);
    const [a, b] = rangeOfWidth(bits, signed);
    assert.ok(a <= lo && lo + span <= b);
    if (bits > 1) {
      const [c, d] = rangeOfWidth(bits - 1, signed);
      assert.ok(lo < c || lo + span > d, "one bit fewer does not fit");
    }
  }));
});

test("polynomial by lookups: sound ranges from the accepted input width; Σw² = 3² + 2² + 5²", () => {
  const r = rng(1);
  const xs = Array.from({ length: 40 }, () => r(-8, 7));
  const poly = (v: number) => 3 * v ** 3 - 2 * v ** 2 + 5 * v - 7;
  const c = compile((x) => lut(x, (v) => v ** 3, "cube").mul(3).sub(lut(x, (v) => v * v, "square").mul(2)).add(x.mul(5)).sub(7),
    { x: "encrypted" }, xs.map((v) => [v]));
  const out = c.graph.outputs[0]!;
  // x accepts its i4 width; the lookups are exact over it; the sum treats them as independent sources.
  assertRange(c, c.graph.inputs[0]!, [-8, 7], "input");
  const [cube, square] = idsOf(c.graph, "lut");
  assertRange(c, cube!, [-512, 343], "cube");
  assertRange(c, square!, [0, 64], "square");
  assertRange(c, out, [3 * -512 - 2 * 64 + 5 * -8 - 7, 3 * 343 + 5 * 7 - 7], "output");
  assert.equal(c.bounds.luts.length, 2);
  assert.ok(c.bounds.luts.every((l) => l.inputMin === -8 && l.inputMax === 7 && l.norm2 === 1));
  assertSound(c, Array.from({ length: 16 }, (_, i) => [i - 8]));
  assert.equal(c.bounds.nodes[out]!.norm2, 9 + 4 + 25);
  assertTablesMatch(c);
  for (const v of xs) assert.equal(c.runClear(v)[0]!.data[0], poly(v));
});

test("2-layer integer MLP with matmul, round and a relu lookup: exact affine ranges, sound everywhere", () => {
  const r = rng(2);
  const W1 = Array.from({ length: 4 }, () => Array.from({ length: 6 }, () => r(-7, 7)));
  const b1 = Array.from({ length: 6 }, () => r(-20, 20));
  const W2 = Array.from({ length: 6 }, () => Array.from({ length: 2 }, () => r(-3, 3)));
  const X = Array.from({ length: 30 }, () => Array.from({ length: 4 }, () => r(0, 15)));
  const lsbs = 3;
  const mlp = (x: Tracer) => lut(round(x.matmul(W1).add(b1), lsbs), (v) => Math.max(v, 0), "relu").matmul(W2);
  const c = compile(mlp, { x: "encrypted" }, X.map((x) => [x]));
  // Brute force, layer by layer.
  const acc = X.map((x) => b1.map((b, j) => x.reduce((s, v, i) => s + v * W1[i]![j]!, b)));
  const rounded = acc.map((a) => a.map((v) => nearestMultiple(v, lsbs)));
  const hidden = rounded.map((a) => a.map((v) => Math.max(v, 0)));
  const y = hidden.map((h) => [0, 1].map((j) => h.reduce((s, v, i) => s + v * W2[i]![j]!, 0)));
  const g = c.graph;
  const [mm1, mm2] = idsOf(g, "matmul");
  // Inputs accept u4 = [0, 15]: column j of the accumulator spans b1_j + Σ_i W1_ij·[0, 15], exactly.
  const colLo = b1.map((b, j) => W1.reduce((s, row) => s + Math.min(0, 15 * row[j]!), b));
  const colHi = b1.map((b, j) => W1.reduce((s, row) => s + Math.max(0, 15 * row[j]!), b));
  const accRange: [number, number] = [Math.min(...colLo), Math.max(...colHi)];
  assertRange(c, idsOf(g, "add")[0]!, accRange, "accumulator");
  const roundedRange: [number, number] = [nearestMultiple(accRange[0], lsbs), nearestMultiple(accRange[1], lsbs)];
  assertRange(c, idsOf(g, "round")[0]!, roundedRange, "rounded");
  assertRange(c, idsOf(g, "lut")[0]!, [Math.max(0, roundedRange[0]), Math.max(0, roundedRange[1])], "relu");
  // The output is an affine map of the relu outputs, each in its own column's range.
  const reluHi = colHi.map((h) => Math.max(0, nearestMultiple(h, lsbs)));
  const reluLo = colLo.map((l) => Math.max(0, nearestMultiple(l, lsbs)));
  const outLo = [0, 1].map((j) => W2.reduce((s, row, i) => s + Math.min(row[j]! * reluLo[i]!, row[j]! * reluHi[i]!), 0));
  const outHi = [0, 1].map((j) => W2.reduce((s, row, i) => s + Math.max(row[j]! * reluLo[i]!, row[j]! * reluHi[i]!), 0));
  assertRange(c, mm2!, [Math.min(...outLo), Math.max(...outHi)], "output");
  // Every brute-force value of the inputset lies inside (the measured ranges are recorded too).
  assert.ok(range(acc.flat())[0] >= accRange[0] && range(acc.flat())[1] <= accRange[1]);
  assert.deepEqual([c.bounds.nodes[mm2!]!.measuredMin, c.bounds.nodes[mm2!]!.measuredMax], range(y.flat()));
  assertSound(c, acceptedSamples(c, 300, 7));
  // The lookup sees the rounded value in steps of 2^lsbs: lsbs fewer bits than the accumulator.
  const l = c.bounds.luts[0]!;
  assert.equal(l.step, 2 ** lsbs);
  assert.deepEqual({ bits: l.inputBits, signed: l.signed }, bitWidth(roundedRange[0] / 8, roundedRange[1] / 8));
  // Σw²: max column Σ W1², + 1 for round's low-bit lookup; then a fresh lookup output through W2.
  const colNorm = (W: number[][]) => Math.max(...W[0]!.map((_, j) => W.reduce((s, row) => s + row[j]! ** 2, 0)));
  assert.equal(c.bounds.nodes[mm1!]!.norm2, colNorm(W1));
  // The accumulator spans 9 bits: round extracts its 3 low bits (b_j weighted 2^j: Σw² 1 + 4 + 16).
  assert.equal(l.norm2, colNorm(W1) + 1 + 4 + 16);
  assert.equal(c.bounds.nodes[mm2!]!.norm2, colNorm(W2));
  assert.equal(c.bounds.maxLutNorm2, colNorm(W1) + 21);
  assertTablesMatch(c);
  X.forEach((x, i) => assert.deepEqual(toNested(c.runClear(x)[0]!), y[i]!.map((v) => v + 0)));
  // Without the round a relu of the accumulator is split (a narrow top part and the low bits, or chunks: it compiles);
  // any other function would need a 10-bit table: the error names the node and the fix, and the fix works.
  const wideRelu = compile((x) => lut(x.matmul(W1).add(b1), (v) => Math.max(v, 0), "relu"), { x: "encrypted" }, X.map((x) => [x]));
  assert.ok(wideRelu.encoding.extractions.size >= 1);
  X.slice(0, 5).forEach((x) => assert.deepEqual(wideRelu.runClear(x).map(toNested), [acc[X.indexOf(x)]!.map((v) => Math.max(v, 0))]));
  const square = (v: number): number => (v * v) % 7;
  assert.throws(() => compile((x) => lut(x.matmul(W1).add(b1), square, "relu"), { x: "encrypted" }, X.map((x) => [x])),
    (e: unknown) => {
      if (!(e instanceof BoundsError)) return false;
      assert.match(e.message, /^%\d+ \(lut\) relu: its input %\d+ ranges over \[-?\d+, \d+\], \d+ bits \(signed\), above maxLutBits = 8; shrink it before the lookup with round\(x, \d+, \{ approximate: true \}\)/);
      const suggested = Number(/round\(x, (\d+)/.exec(e.message)![1]);
      // Followed, the advice compiles into one lookup reading the accumulator's top bits.
      const fixed = compile((x) => lut(round(x.matmul(W1).add(b1), suggested, { approximate: true }), square), { x: "encrypted" }, X.map((x) => [x]));
      assert.ok(fixed.bounds.maxLutInputBits <= 8);
      assert.ok(fixed.encoding.pbsBits <= 8);
      const tighter = suggested - 1;
      // One bit fewer: the approximate round still reads too many bits (refused at compile or when planned).
      assert.throws(() => compile((x) => lut(round(x.matmul(W1).add(b1), tighter, { approximate: true }), square), { x: "encrypted" }, X.map((x) => [x])).encoding, BoundsError);
      return true;
    });
});

test("comparison-heavy function: sound output bounds, one lookup per comparison", () => {
  const r = rng(3);
  const set = Array.from({ length: 50 }, () => [Array.from({ length: 5 }, () => r(-10, 10)), Array.from({ length: 5 }, () => r(-10, 10))]);
  const ref = (x: number, y: number) =>
    +(x > y) + 2 * +(x < 0) + 4 * +(Math.min(x, y) === y) + 8 * +(Math.max(x, 3) >= y) + Math.min(Math.max(x - y, -3), 3) + Math.abs(y);
  const c = compile((x, y) => x.gt(y).add(x.lt(0).mul(2)).add(minimum(x, y).eq(y).mul(4)).add(maximum(x, 3).ge(y).mul(8))
    .add(clip(x.sub(y), -3, 3)).add(abs(y)), { x: "encrypted", y: "encrypted" }, set);
  const b = c.bounds.nodes[c.graph.outputs[0]!]!;
  const seen = range(set.flatMap(([x, y]) => x!.map((v, i) => ref(v, y![i]!))));
  assert.ok(b.min <= seen[0] && seen[1] <= b.max);
  assertSound(c, acceptedSamples(c, 300, 8));
  // gt, lt, min (1), eq, max with a number (1), ge, clip, abs
  assert.equal(c.bounds.luts.length, 8);
  assertTablesMatch(c);
  for (const [x, y] of set) assert.deepEqual(toNested(c.runClear(x!, y!)[0]!), x!.map((v, i) => ref(v, y![i]!) + 0));
});

test("16-bit accumulator without lookups: width 16, Σw² = Σ w², no tables", () => {
  const r = rng(4);
  const w = Array.from({ length: 30 }, (_, i) => 8 - (i % 3)); // Σw = 210: 255·Σw = 53550 needs 16 bits
  const X = [Array(30).fill(255), Array(30).fill(0), ...Array.from({ length: 20 }, () => Array.from({ length: 30 }, () => r(0, 255)))];
  const c = compile((x) => x.dot(w), { x: "encrypted" }, X.map((x) => [x]));
  const sums = X.map((x) => x.reduce((s, v, i) => s + v * w[i]!, 0));
  const out = c.graph.outputs[0]!;
  assertRange(c, out, range(sums), "accumulator");
  const sw = w.reduce((s, v) => s + v, 0);
  assert.equal(c.bounds.nodes[out]!.max, 255 * sw);
  assert.equal(c.bounds.nodes[out]!.bits, bitWidth(0, 255 * sw).bits);
  assert.equal(c.bounds.nodes[out]!.bits, 16);
  assert.equal(c.bounds.luts.length, 0);
  assert.equal(c.bounds.maxLutInputBits, 0);
  assert.equal(c.bounds.maxNorm2, w.reduce((s, v) => s + v * v, 0));
  // With clear weights known only at run time, Σw² uses their range: 30 · 8².
  const wSet = X.map((x) => [x, w]);
  const d = compile((x, v) => x.dot(v), { x: "encrypted", v: "clear" }, wSet);
  assert.equal(d.bounds.maxNorm2, 30 * Math.max(...w) ** 2);
});

test("Σw² on hand-computed cases: shared sources add coefficients, not norms", () => {
  const norm = (fn: Parameters<typeof trace>[0], spec: Record<string, "encrypted" | "clear">, sample: number[][], shapes = {}) => {
    const g = trace(fn, spec, shapes);
    return inferBounds(g, [sample]).nodes[g.outputs[0]!]!.norm2;
  };
  const enc2 = { x: "encrypted", y: "encrypted" } as const;
  assert.equal(norm((x, y) => x.add(y), enc2, [[1], [2]]), 2);
  assert.equal(norm((x, y) => x.add(x), enc2, [[1], [2]]), 4, "x + x = 2x");
  assert.equal(norm((x, y) => x.sub(x).add(y), enc2, [[1], [2]]), 1, "x − x cancels");
  assert.equal(norm((x, y) => x.mul(3).sub(y.mul(-2)).neg(), enc2, [[1], [2]]), 13);
  assert.equal(norm((x, y) => x.mul(5).add(x.mul(3)), enc2, [[1], [2]]), 64);
  assert.equal(norm((x) => x.sum(), { x: "encrypted" }, [[1, 2, 3]], { x: [3] }), 3);
  assert.equal(norm((x) => x.matmul([[1, 2], [3, -4]]), { x: "encrypted" }, [[1, 2]], { x: [2] }), 20, "column 2: 2² + 4²");
  assert.equal(norm((x) => x.matmul([[1, 2], [3, -4]]).sum(), { x: "encrypted" }, [[1, 2]], { x: [2] }), 9 + 1, "x0·3 + x1·(−1)");
  assert.equal(norm((x) => x.relu().mul(4).add(x), { x: "encrypted" }, [[1]]), 17, "lookup output is fresh");
  assert.equal(norm((x) => x.broadcastTo([3]).sum(), { x: "encrypted" }, [[1]]), 9);
  assert.equal(norm((x) => x.slice([0, 2]).sum().add(x.index(1)), { x: "encrypted" }, [[1, 2, 3]], { x: [3] }), 1 + 4);
  assert.equal(norm((x, c) => x.mul(c), { x: "encrypted", c: "clear" }, [[1], [-6]]), 36, "clear input: its range bounds the weight");
  assert.equal(norm((x, c) => x.mul(c.add(2)), { x: "encrypted", c: "clear" }, [[1], [-6]]), 16);
  assert.equal(norm((x) => round(x, 2).mul(2), { x: "encrypted" }, [[1]]), 8, "round: x plus one fresh low-bit lookup");
});

test("round keeps every value within 2^(lsbs−1) of its input (clear run of a compiled circuit)", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 8 }), (xs, lsbs) => {
    const c = compile((x) => [round(x, lsbs), x], { x: "encrypted" }, [[xs]]);
    const [rx] = c.runClear(xs);
    rx!.data.forEach((v, i) => {
      assert.ok(Math.abs(v - xs[i]!) <= 2 ** (lsbs - 1));
      assert.ok(Number.isInteger(v / 2 ** lsbs));
    });
    assert.ok(c.bounds.nodes[1]!.zeroLsbs >= lsbs);
  }), { numRuns: 50 });
});

test("inputs are accepted over their whole width, and every accepted input computes right (x − y below its inputset)", () => {
  // The inputset never makes x − y non-zero, yet the lookup covers every difference of two u3 values.
  const c = compile((x, y) => lut(x.sub(y), (d) => d * d, "sq"), { x: "encrypted", y: "encrypted" }, [[0, 0], [3, 3], [5, 5]]);
  for (let x = 0; x < 8; x++) for (let y = 0; y < 8; y++) assert.equal(c.runClear(x, y)[0]!.data[0], (x - y) ** 2);
  assert.deepEqual([c.bounds.luts[0]!.inputMin, c.bounds.luts[0]!.inputMax], [-7, 7]);
  assert.throws(() => c.runClear(8, 5), (e: unknown) =>
    e instanceof InputOutOfRangeError && e.where === "x" && e.value === 8 && /input "x" element 0 = 8 is outside \[0, 7\], the bit width/.test(e.message));
  assert.throws(() => c.runClear(-1, 5), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "x");
  // A clear input keeps its inputset range (with the margin): it weighs the noise, and is checked in the clear.
  const d = compile((x, w) => x.mul(w), { x: "encrypted", w: "clear" }, [[1, 2], [3, 5]]);
  assert.deepEqual([d.bounds.nodes[1]!.min, d.bounds.nodes[1]!.max], [2, 5]);
  assert.equal(d.runClear(3, 4)[0]!.data[0], 12);
  assert.throws(() => d.runClear(3, 6), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "w" && /clear input/.test(e.message));
  // A sum wider than its inputs: the range is derived, not measured.
  const e = compile((x, y) => x.add(y), { x: "encrypted", y: "encrypted" }, [[0, 7], [7, 0]]);
  assert.deepEqual([e.bounds.nodes[2]!.min, e.bounds.nodes[2]!.max, e.bounds.nodes[2]!.bits], [0, 14, 4]);
  assert.equal(e.runClear(7, 7)[0]!.data[0], 14);
  checkInRange(e.graph, e.bounds, [7, 7]);
});

test("a margin widens the inputset range (relative to the span, plus absolute) before its width is taken", () => {
  const set = [[0], [10]];
  const c = compile((x) => [lut(x, (v) => 2 * v, "double"), x.mul(3)], { x: "encrypted" }, set, { margin: { relative: 0.1, absolute: 2 } });
  // [0, 10] widened to [−3, 13], which needs i5: the input accepts [−16, 15].
  const b = c.bounds.nodes[0]!;
  assert.deepEqual([b.measuredMin, b.measuredMax, b.min, b.max], [0, 10, -16, 15]);
  assert.deepEqual([c.bounds.luts[0]!.inputMin, c.bounds.luts[0]!.inputMax], [-16, 15]);
  const lutNode = c.graph.outputs[0]!;
  assert.deepEqual([c.bounds.nodes[lutNode]!.min, c.bounds.nodes[lutNode]!.max], [-32, 30], "lookup output: the table's values");
  assert.equal(c.runClear(15)[0]!.data[0], 30);
  assert.throws(() => c.runClear(16), InputOutOfRangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, set, { margin: { relative: -1 } }), RangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, set, { maxLutBits: 0 }), RangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, []), /inputset/);
});

test("maxLutBits is configurable; clear lookups need no table and no limit", () => {
  const set = Array.from({ length: 64 }, (_, i) => [i]);
  assert.throws(() => compile((x) => lut(x, (v) => v % 7), { x: "encrypted" }, set, { maxLutBits: 5 }), (e: unknown) =>
    e instanceof BoundsError && e.node === 1 && /6 bits, above maxLutBits = 5; .*round\(x, 2, \{ approximate: true \}\)/.test(e.message));
  // round(x, 1) is not enough: 63 rounds up to 64, and [0, 64] / 2 still needs 6 bits.
  assert.throws(() => compile((x) => lut(round(x, 1), (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 }), BoundsError);
  // An exact round of a 6-bit x would be a 6-bit lookup: above the limit, it extracts its 2 low bits instead.
  const exact = compile((x) => lut(round(x, 2), (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 });
  assert.equal(exact.bounds.maxLutInputBits, 5);
  assert.equal(exact.encoding.extractions.size, 1);
  assert.equal(exact.encoding.pbsCount, 2 + 1, "two extracted bits, then the lookup");
  // The advice, followed: one 5-bit PBS reading x's top bits (round and lookup fused).
  const approx = compile((x) => lut(round(x, 2, { approximate: true }), (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 });
  assert.equal(approx.encoding.lookups.size, 1);
  assert.equal(approx.encoding.groups[0]!.bits, 5);
  const c = compile((x, k) => x.add(lut(k, (v) => v * 1000)), { x: "encrypted", k: "clear" }, set.map(([v]) => [v, v! * 100]), { maxLutBits: 5 });
  assert.equal(c.bounds.luts.length, 0);
  assert.equal(c.runClear(1, 200)[0]!.data[0], 200001);
});
