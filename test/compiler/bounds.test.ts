// Bounds from an inputset against brute force, Σw² on hand-computed cases, and the range errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Circuit, type Graph, type Tracer, BoundsError, InputOutOfRangeError, bitWidth, compile, inferBounds, lut, maximum, minimum,
  rangeOfWidth, round, trace, clip, abs, evaluate, toNested, checkInRange,
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
  assert.deepEqual([b.measuredMin, b.measuredMax], expected, what);
  assert.deepEqual([b.min, b.max], expected, `${what} (no margin)`);
  assert.deepEqual({ bits: b.bits, signed: b.signed }, bitWidth(...expected), `${what} width`);
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

test("polynomial by lookups: bounds match brute force; Σw² = 3² + 2² + 5²", () => {
  const r = rng(1);
  const xs = Array.from({ length: 40 }, () => r(-8, 7));
  const poly = (v: number) => 3 * v ** 3 - 2 * v ** 2 + 5 * v - 7;
  const c = compile((x) => lut(x, (v) => v ** 3, "cube").mul(3).sub(lut(x, (v) => v * v, "square").mul(2)).add(x.mul(5)).sub(7),
    { x: "encrypted" }, xs.map((v) => [v]));
  const out = c.graph.outputs[0]!;
  assertRange(c, out, range(xs.map(poly)), "output");
  assertRange(c, c.graph.inputs[0]!, range(xs), "input");
  const [cube, square] = idsOf(c.graph, "lut");
  assertRange(c, cube!, range(xs.map((v) => v ** 3)), "cube");
  assertRange(c, square!, range(xs.map((v) => v * v)), "square");
  assert.equal(c.bounds.luts.length, 2);
  assert.ok(c.bounds.luts.every((l) => l.inputMin === Math.min(...xs) && l.inputMax === Math.max(...xs) && l.norm2 === 1));
  assert.equal(c.bounds.nodes[out]!.norm2, 9 + 4 + 25);
  assertTablesMatch(c);
  for (const v of xs) assert.equal(c.run(v)[0]!.data[0], poly(v));
});

test("2-layer integer MLP with matmul, round and a relu lookup: bounds match brute force", () => {
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
  assertRange(c, idsOf(g, "add")[0]!, range(acc.flat()), "accumulator");
  assertRange(c, idsOf(g, "round")[0]!, range(rounded.flat()), "rounded");
  assertRange(c, idsOf(g, "lut")[0]!, range(hidden.flat()), "relu");
  assertRange(c, mm2!, range(y.flat()), "output");
  // The lookup sees the rounded value in steps of 2^lsbs: lsbs fewer bits than the accumulator.
  const l = c.bounds.luts[0]!;
  assert.equal(l.step, 2 ** lsbs);
  assert.deepEqual({ bits: l.inputBits, signed: l.signed }, bitWidth(...range(rounded.flat().map((v) => v / 8))));
  // Σw²: max column Σ W1², + 1 for round's low-bit lookup; then a fresh lookup output through W2.
  const colNorm = (W: number[][]) => Math.max(...W[0]!.map((_, j) => W.reduce((s, row) => s + row[j]! ** 2, 0)));
  assert.equal(c.bounds.nodes[mm1!]!.norm2, colNorm(W1));
  assert.equal(l.norm2, colNorm(W1) + 1);
  assert.equal(c.bounds.nodes[mm2!]!.norm2, colNorm(W2));
  assert.equal(c.bounds.maxLutNorm2, colNorm(W1) + 1);
  assertTablesMatch(c);
  X.forEach((x, i) => assert.deepEqual(toNested(c.run(x)[0]!), y[i]!.map((v) => v + 0)));
  // Without the round the lookup would need 10 bits: the error names the node and the fix, and the fix works.
  assert.throws(() => compile((x) => lut(x.matmul(W1).add(b1), (v) => Math.max(v, 0), "relu"), { x: "encrypted" }, X.map((x) => [x])),
    (e: unknown) => {
      if (!(e instanceof BoundsError)) return false;
      assert.match(e.message, /^%\d+ \(lut\) relu: its input %\d+ ranges over \[-?\d+, \d+\], \d+ bits \(signed\), above maxLutBits = 8; shrink it before the lookup with round\(x, \d+\)/);
      const suggested = Number(/round\(x, (\d+)\)/.exec(e.message)![1]);
      const fixed = compile((x) => lut(round(x.matmul(W1).add(b1), suggested), (v) => Math.max(v, 0)), { x: "encrypted" }, X.map((x) => [x]));
      assert.ok(fixed.bounds.maxLutInputBits <= 8);
      const tighter = suggested - 1;
      assert.throws(() => compile((x) => lut(round(x.matmul(W1).add(b1), tighter), (v) => Math.max(v, 0)), { x: "encrypted" }, X.map((x) => [x])), BoundsError);
      return true;
    });
});

test("comparison-heavy function: output bounds match brute force, one lookup per comparison", () => {
  const r = rng(3);
  const set = Array.from({ length: 50 }, () => [Array.from({ length: 5 }, () => r(-10, 10)), Array.from({ length: 5 }, () => r(-10, 10))]);
  const ref = (x: number, y: number) =>
    +(x > y) + 2 * +(x < 0) + 4 * +(Math.min(x, y) === y) + 8 * +(Math.max(x, 3) >= y) + Math.min(Math.max(x - y, -3), 3) + Math.abs(y);
  const c = compile((x, y) => x.gt(y).add(x.lt(0).mul(2)).add(minimum(x, y).eq(y).mul(4)).add(maximum(x, 3).ge(y).mul(8))
    .add(clip(x.sub(y), -3, 3)).add(abs(y)), { x: "encrypted", y: "encrypted" }, set);
  assertRange(c, c.graph.outputs[0]!, range(set.flatMap(([x, y]) => x!.map((v, i) => ref(v, y![i]!)))), "output");
  // gt, lt, min (1), eq, max with a number (1), ge, clip, abs
  assert.equal(c.bounds.luts.length, 8);
  assertTablesMatch(c);
  for (const [x, y] of set) assert.deepEqual(toNested(c.run(x!, y!)[0]!), x!.map((v, i) => ref(v, y![i]!) + 0));
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
    const [rx] = c.run(xs);
    rx!.data.forEach((v, i) => {
      assert.ok(Math.abs(v - xs[i]!) <= 2 ** (lsbs - 1));
      assert.ok(Number.isInteger(v / 2 ** lsbs));
    });
    assert.ok(c.bounds.nodes[1]!.zeroLsbs >= lsbs);
  }), { numRuns: 50 });
});

test("InputOutOfRangeError names the input and the value; intermediate violations name the node", () => {
  const c = compile((x, y) => lut(x.sub(y), (d) => d * d, "sq"), { x: "encrypted", y: "encrypted" }, [[0, 0], [3, 3], [5, 5]]);
  assert.equal(c.run(4, 4)[0]!.data[0], 0);
  assert.throws(() => c.run(6, 5), (e: unknown) =>
    e instanceof InputOutOfRangeError && e.where === "x" && e.value === 6 && /input "x" element 0 = 6 is outside \[0, 5\]/.test(e.message));
  // Both inputs in range, but x − y never varied on the inputset: the lookup's table has one entry.
  assert.throws(() => c.run(3, 1), (e: unknown) =>
    e instanceof InputOutOfRangeError && e.where === "%3 (lut)" && e.value === 2 && /^%3 \(lut\) sq: input 2 is outside the table \[0, 0\]/.test(e.message));
  // The table itself refuses values it does not hold, even without the check.
  assert.throws(() => evaluate(c.graph, [3, 1]), (e: unknown) => e instanceof InputOutOfRangeError && /%3 \(lut\) sq: input 2 is outside the table/.test(e.message));
  // On a graph without tables the check itself finds it.
  const g = trace((x, y) => lut(x.sub(y), (d) => d * d, "sq"), { x: "encrypted", y: "encrypted" });
  // x − y spans [0, 2] (u2, which holds 3) but the table only [0, 2].
  assert.throws(() => checkInRange(g, inferBounds(g, [[0, 0], [2, 0], [5, 5]]), [4, 1]), (e: unknown) =>
    e instanceof InputOutOfRangeError && e.where === "%3 (lut)" && /lookup input 3 is outside its table \[0, 2\]/.test(e.message));
  // An encrypted node leaving its bit width (accumulator wider at run time than on the inputset).
  const d = compile((x, y) => x.add(y), { x: "encrypted", y: "encrypted" }, [[0, 7], [7, 0]]);
  assert.equal(d.bounds.nodes[2]!.bits, 3);
  assert.throws(() => checkInRange(d.graph, d.bounds, [7, 7]), (e: unknown) =>
    e instanceof InputOutOfRangeError && e.where === "%2 (add)" && /value 14 does not fit its u3 width \[0, 7\]/.test(e.message));
});

test("a margin widens ranges (relative to the span, plus absolute) and lookup tables with them", () => {
  const set = [[0], [10]];
  const c = compile((x) => [lut(x, (v) => 2 * v, "double"), x.mul(3)], { x: "encrypted" }, set, { margin: { relative: 0.1, absolute: 2 } });
  const b = c.bounds.nodes[0]!;
  assert.deepEqual([b.measuredMin, b.measuredMax, b.min, b.max], [0, 10, -3, 13]);
  assert.deepEqual([c.bounds.luts[0]!.inputMin, c.bounds.luts[0]!.inputMax], [-3, 13]);
  const lutNode = c.graph.outputs[0]!;
  assert.deepEqual([c.bounds.nodes[lutNode]!.min, c.bounds.nodes[lutNode]!.max], [-6, 26], "lookup output: the table's values");
  assert.equal(c.run(13)[0]!.data[0], 26);
  assert.throws(() => c.run(14), InputOutOfRangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, set, { margin: { relative: -1 } }), RangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, set, { maxLutBits: 0 }), RangeError);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, []), /inputset/);
});

test("maxLutBits is configurable; clear lookups need no table and no limit", () => {
  const set = Array.from({ length: 64 }, (_, i) => [i]);
  assert.throws(() => compile((x) => lut(x, (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 }), (e: unknown) =>
    e instanceof BoundsError && e.node === 1 && /6 bits, above maxLutBits = 5; .*round\(x, 2\)/.test(e.message));
  // round(x, 1) is not enough: 63 rounds up to 64, and [0, 64] / 2 still needs 6 bits.
  assert.throws(() => compile((x) => lut(round(x, 1), (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 }), BoundsError);
  assert.equal(compile((x) => lut(round(x, 2), (v) => v), { x: "encrypted" }, set, { maxLutBits: 5 }).bounds.maxLutInputBits, 5);
  const c = compile((x, k) => x.add(lut(k, (v) => v * 1000)), { x: "encrypted", k: "clear" }, set.map(([v]) => [v, v! * 100]), { maxLutBits: 5 });
  assert.equal(c.bounds.luts.length, 0);
  assert.equal(c.run(1, 200)[0]!.data[0], 200001);
});
