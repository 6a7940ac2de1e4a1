// FHE at real parameters (≥ 128-bit, p_fail 2^-64 per PBS) against the clear interpreter, with fast-check
// choosing the inputs: one compile per op family, then random inputs anywhere in the compiled range.
// Then whole programs (a polynomial by lookups, a comparison-heavy function) against plain JS, simulate
// against FHE, round's error bound, and inputs outside the inputset's range.
// Cost: message spaces ≤ 4 bits wherever there are lookups (~25 ms per PBS, ~0.5 s per keygen).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Circuit, InputOutOfRangeError, type Sample, type TraceFn, abs, clip, compile, concat, lut, matmul, maximum,
  minimum, relu, round, toNested,
} from "../../src/compiler/index.js";
import { nearestMultiple } from "./reference.js";

/** Fixed so that CI sees the same inputs on every run. */
const SEED = 20240611;

type Vis = "encrypted" | "clear";
interface InputDef { readonly vis: Vis; readonly shape: readonly number[]; readonly lo: number; readonly hi: number }
type Inputs = Readonly<Record<string, InputDef>>;

const enc = (shape: readonly number[], lo: number, hi: number): InputDef => ({ vis: "encrypted", shape, lo, hi });
const clr = (shape: readonly number[], lo: number, hi: number): InputDef => ({ vis: "clear", shape, lo, hi });
const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const span = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

const circuits: Circuit[] = [];
after(() => { for (const c of circuits) c.dispose(); });

/**
 * Every assignment of per-element values (element e of input i ranging over choices(def i)), as samples of
 * flat arrays. Corners ({lo, hi}) suffice for lookup-free families: every node is multilinear in the input
 * elements, so its extremes over the box are at corners. Families with lookups enumerate every value, so
 * that each node's measured range is its true range over the box (a run never leaves it).
 */
function product(defs: readonly InputDef[], choices: (d: InputDef) => readonly number[]): number[][][] {
  const slots = defs.flatMap((d, i) => Array.from({ length: count(d.shape) }, () => ({ input: i, values: choices(d) })));
  const total = slots.reduce((n, s) => n * s.values.length, 1);
  assert.ok(total <= 20000, `an inputset of ${total} samples is too slow to measure`);
  const out: number[][][] = [];
  for (let k = 0; k < total; k++) {
    let r = k;
    const sample = defs.map((): number[] => []);
    for (const s of slots) {
      sample[s.input]!.push(s.values[r % s.values.length]!);
      r = Math.floor(r / s.values.length);
    }
    out.push(sample);
  }
  return out;
}

const corners = (d: InputDef): number[] => (d.lo === d.hi ? [d.lo] : [d.lo, d.hi]);
const everyValue = (d: InputDef): number[] => span(d.lo, d.hi);

function compileOver(fn: TraceFn, inputs: Inputs, cover: (d: InputDef) => readonly number[]): Circuit {
  const entries = Object.entries(inputs);
  const c = compile(fn, Object.fromEntries(entries.map(([n, d]) => [n, d.vis])), product(entries.map(([, d]) => d), cover),
    { shapes: Object.fromEntries(entries.map(([n, d]) => [n, [...d.shape]])) });
  circuits.push(c);
  return c;
}

/** Random samples inside each input's [lo, hi] (flat arrays; run and FHE reshape them to the input shapes). */
function samplesOf(inputs: Inputs): fc.Arbitrary<number[][]> {
  return fc.tuple(...Object.values(inputs).map((d) =>
    fc.array(fc.integer({ min: d.lo, max: d.hi }), { minLength: count(d.shape), maxLength: count(d.shape) })));
}

/** The inputs as the circuit accepts them: each encrypted input's whole width, clear ones their range. */
function accepted(c: Circuit, inputs: Inputs): Inputs {
  return Object.fromEntries(Object.entries(inputs).map(([n, d], i) => {
    const b = c.bounds.nodes[c.graph.inputs[i]!]!;
    return [n, { ...d, lo: b.min, hi: b.max }];
  }));
}

/** FHE, simulate and run agree on one sample. */
function agree(c: Circuit, s: Sample): void {
  const clear = c.runClear(...s).map(toNested);
  assert.deepEqual(c.encryptRunDecrypt(...s).map(toNested), clear, `FHE on ${JSON.stringify(s)}`);
  assert.deepEqual(c.simulateWith({ seed: 1 }, ...s).map(toNested), clear, `simulate on ${JSON.stringify(s)}`);
}

interface FamilyOptions {
  /** Lookups: enumerate every input value for the inputset (else corners). */
  readonly lookups: boolean;
  readonly maxBits: number;
  readonly numRuns: number;
}

/**
 * Compiles once over the whole input box, then FHE == simulate == run on fast-check samples, plus the all-lo
 * and all-hi corners (the first and last boxes of a lookup whose index spans the whole message space).
 */
function family(fn: TraceFn, compiledOver: Inputs, o: FamilyOptions): Circuit {
  const c = compileOver(fn, compiledOver, o.lookups ? everyValue : corners);
  const inputs = accepted(c, compiledOver);
  assert.ok(c.encoding.bits <= o.maxBits, `bits = ${c.encoding.bits}`);
  assert.equal(c.parameters.linearOnly, !o.lookups);
  assert.ok(c.parameters.log2PFail <= -64);
  const fill = (end: "lo" | "hi") => Object.values(inputs).map((d) => new Array<number>(count(d.shape)).fill(d[end]));
  // endOnFailure: shrinking would redo FHE runs for minutes; the failing sample is in the message anyway.
  fc.assert(fc.property(samplesOf(inputs), (s) => agree(c, s)),
    { numRuns: o.numRuns, seed: SEED, examples: [[fill("lo")], [fill("hi")]], endOnFailure: true });
  return c;
}

// Lookup-free families cost no PBS, so they afford more runs.
const LINEAR = { lookups: false, maxBits: 8, numRuns: 10 } as const;
const LOOKUPS = { lookups: true, maxBits: 4, numRuns: 3 } as const;

// ---- op families ----
test("family add / sub / neg: encrypted, clear inputs and constants, with broadcasting", () => {
  family((x, y, c, z) => [
    x.add(y), y.sub(x), x.add(c), c.sub(y), c.add(z), x.neg().add(z), y.neg(), z.sub(c), x.sub([1, -1, 2]), x.add(5).sub(z),
  ], { x: enc([2, 3], -4, 3), y: enc([3], -4, 3), c: clr([2, 1], -3, 3), z: enc([], 0, 5) }, LINEAR);
});

test("family mul by clear: constants, clear inputs (broadcast), clear values derived from them", () => {
  family((x, w, k) => [x.mul(w), x.mul([[3, -2], [1, 0]]), x.mul(-4), k.mul(x), x.mul(w).mul(k), x.mul(w.add(1)).neg()],
    { x: enc([2, 2], -3, 3), w: clr([2], -2, 2), k: clr([], -3, 3) }, LINEAR);
});

test("family matmul / dot: clear constant or clear input on either side, matrices and vectors", () => {
  family((x, W) => [
    x.matmul([[1, -2], [0, 3], [2, 2]]), matmul([[1, -1], [2, 0], [0, 3]], x), x.matmul(W), W.matmul(x.slice(null, [0, 2])),
    x.index(0).dot([3, -1, 2]), matmul([[1, 2, -3], [0, -1, 1]], x.index(1)), x.index(1).matmul([[2, 0], [-1, 1], [1, 3]]),
  ], { x: enc([2, 3], -2, 2), W: clr([3, 2], -2, 1) }, LINEAR);
});

test("family sum: each axis (negative too) and everything, also of a weighted tensor", () => {
  family((x) => [x.sum(0), x.sum(1), x.sum(-1), x.sum(), x.mul([[1, -2], [3, 0], [-1, 1]]).sum(1)],
    { x: enc([2, 3, 2], -3, 3) }, LINEAR);
});

test("family reshape / slice / index / concat / broadcast, with clear parts", () => {
  family((x, y) => [
    x.reshape([3, 2]), x.reshape([-1]), x.slice(null, [0, 3, 2]), x.slice([1, 2], [-2]), x.index(1, 2), concat([x, y], 1),
    concat([y, x.neg()], 1), concat([x, x.slice([0, 1])], 0), x.index(0).broadcastTo([2, 3]).sub(x), x.reshape([6, 1]).broadcastTo([6, 2]),
  ], { x: enc([2, 3], -4, 3), y: clr([2, 1], 0, 3) }, LINEAR);
});

test("family lut: negative inputs and outputs, after linear ops, all 16 boxes, chained, mixed with linear ops", () => {
  const c = family((x, y) => [
    lut(x, (v) => v * v - 5, "v²−5"),
    lut(x.add(y), (v) => 3 * v - 2, "3v−2"),
    lut(x.mul(2).add(y), (v) => (3 * v) % 16, "3v mod 16"), // index over [−8, 7]: every box of p = 16
    lut(lut(x, (v) => (5 * v) % 7, "5v mod 7"), (u) => (u * u) >> 2, "u²/4"),
    lut(x, (v) => -v, "−v").mul(2).add(y),
  ], { x: enc([2], -4, 3), y: enc([2], 0, 1) }, LOOKUPS);
  assert.equal(c.encoding.bits, 4);
});

test("family relu / abs / clip / minimum / maximum, with encrypted, clear-input and number operands", () => {
  family((x, y, c) => [
    relu(x), abs(x.sub(y)), clip(x.add(y), -2, 2), minimum(x, y), maximum(y, x), maximum(x, 1), minimum(-1, x), minimum(x, c), maximum(c, x),
  ], { x: enc([2], -4, 3), y: enc([], -3, 3), c: clr([], -2, 2) }, LOOKUPS);
});

test("family comparisons lt / le / gt / ge / eq / ne against encrypted values, numbers and clear inputs", () => {
  family((x, y, c) => [
    x.lt(y), x.le(y), x.gt(y), x.ge(y), x.eq(y), x.ne(y), x.lt(1), x.ge(-1), x.eq(0), x.gt(c), x.ne(c),
  ], { x: enc([2], -3, 3), y: enc([], -3, 3), c: clr([], -2, 2) }, LOOKUPS);
});

test("family round: several lsbs, of an input and of a difference, then a lookup on the rounded value", () => {
  family((x, y) => [round(x, 1), round(x, 2), round(x, 3), round(x.sub(y), 2), lut(round(x, 2), (v) => 3 * (v / 4), "3v/4")],
    { x: enc([3], -4, 3), y: enc([], 0, 3) }, LOOKUPS);
});

// ---- programs ----
/** Compiles on first use, so each test also runs alone (--test-name-pattern). */
function lazy(make: () => Circuit): () => Circuit {
  let c: Circuit | undefined;
  return () => (c ??= make());
}

const poly = (v: number): number => v ** 3 - 2 * v ** 2 + 3;
const quartic = (v: number): number => v ** 4 - 4 * v ** 2 + v;
const polyInputs: Inputs = { x: enc([4], -2, 1) };
// x² and x³ by lookups, combined by clear multiplications and additions; x⁴ by a lookup on x²; p also by one lookup.
const polyCircuit = lazy(() => compileOver((x) => {
  const sq = lut(x, (v) => v * v, "x²");
  const cube = lut(x, (v) => v ** 3, "x³");
  return [cube.sub(sq.mul(2)).add(3), lut(sq, (s) => s * s, "(x²)²").sub(sq.mul(4)).add(x), lut(x, poly, "p")];
}, polyInputs, everyValue));

test("a polynomial by lookups: FHE equals clear equals the JS polynomial", () => {
  const c = polyCircuit();
  // x ∈ i2: x⁴ − 4x² + x is bounded by [−18, 17] (its lookups as independent sources), i6: 5 message bits.
  assert.equal(c.encoding.bits, 5);
  const expected = (xs: readonly number[]) => [xs.map(poly), xs.map(quartic), xs.map(poly)];
  for (const xs of product([polyInputs.x!], everyValue).map((s) => s[0]!)) assert.deepEqual(c.runClear(xs).map(toNested), expected(xs));
  // Every value of the range in one run, then fast-check's.
  fc.assert(fc.property(samplesOf(polyInputs), ([xs]) => {
    assert.deepEqual(c.encryptRunDecrypt(xs!).map(toNested), expected(xs!), `FHE on ${JSON.stringify(xs)}`);
  }), { numRuns: 1, seed: SEED, examples: [[[[-2, -1, 0, 1]]]], endOnFailure: true });
});

const cmpInputs: Inputs = { x: enc([4], -4, 3), t: clr([], -3, 3) };
const cmpReference = (xs: readonly number[], t: number) =>
  [[Math.max(...xs)], xs.filter((v) => v > t).length, xs.slice(0, 3).sort((a, b) => a - b)];
// The max of 4 by a tree of maximum(), how many exceed a clear threshold, and a 3-sorter of min/max pairs.
const cmpCircuit = lazy(() => compileOver((x, t) => {
  const e = (i: number) => x.slice([i, i + 1]);
  const top = maximum(maximum(e(0), e(1)), maximum(e(2), e(3)));
  const above = x.gt(t).sum();
  const [l1, h1] = [minimum(e(0), e(1)), maximum(e(0), e(1))];
  const [l2, h2] = [minimum(h1, e(2)), maximum(h1, e(2))];
  return [top, above, concat([minimum(l1, l2), maximum(l1, l2), h2])];
}, cmpInputs, corners)); // ranges are derived, not measured: the corners fix the widths

test("a comparison-heavy function: max tree, count above a threshold, 3-sorter; FHE equals clear equals JS", () => {
  const c = cmpCircuit();
  assert.ok(c.encoding.bits <= 4);
  // 3 (max tree) + 4 (count) + 6 (sorter) lookups, less the shared ones: identical differences are one node
  // (compile-time CSE), so min and max of a pair read one relu(a − b), and max(e0, e1) serves tree and sorter.
  assert.equal(c.encoding.pbsCount, 9);
  // Ties matter for min/max built from relu of a difference: include all-equal and repeated values.
  fc.assert(fc.property(samplesOf(cmpInputs), ([xs, [t]]) => {
    const expected = cmpReference(xs!, t!);
    assert.deepEqual(c.runClear(xs!, t!).map(toNested), expected, `clear on ${JSON.stringify([xs, t])}`);
    assert.deepEqual(c.encryptRunDecrypt(xs!, t!).map(toNested), expected, `FHE on ${JSON.stringify([xs, t])}`);
  }), { numRuns: 2, seed: SEED, examples: [[[[1, 1, 1, 1], [1]]], [[[3, -3, 3, -3], [-3]]]], endOnFailure: true });
});

test("simulate agrees with FHE and clear for each program, at the default p_fail 2^-64", () => {
  for (const [c, inputs] of [[polyCircuit(), polyInputs], [cmpCircuit(), cmpInputs]] as const) {
    assert.equal(c.parameters.pFailTarget, 2 ** -64);
    assert.ok(c.parameters.log2PFail <= -64);
    fc.assert(fc.property(samplesOf(inputs), fc.nat(), (s, seed) => {
      const clear = c.runClear(...s).map(toNested);
      assert.deepEqual(c.simulateWith({ seed }, ...s).map(toNested), clear, `simulate on ${JSON.stringify(s)}`);
      assert.deepEqual(c.encryptRunDecrypt(...s).map(toNested), clear, `FHE on ${JSON.stringify(s)}`);
    }), { numRuns: 2, seed: SEED, endOnFailure: true });
  }
});

test("rounding keeps results within the stated error: |round(x, lsbs) − x| ≤ 2^(lsbs−1), ties up", () => {
  const check = (xs: readonly number[], got: readonly number[], lsbs: number, what: string) => xs.forEach((x, i) => {
    const r = got[i]!;
    assert.ok(Math.abs(r - x) <= 2 ** (lsbs - 1) && r % 2 ** lsbs === 0, `${what}: round(${x}, ${lsbs}) = ${r}`);
    assert.equal(r, nearestMultiple(x, lsbs), `${what}: round(${x}, ${lsbs}) = ${r}, nearest multiple (ties up)`);
  });
  // Clear: every value of a wide range, lsbs 1..6 (no keys needed for run).
  const wide = span(-70, 70);
  for (let lsbs = 1; lsbs <= 6; lsbs++) {
    const c = compile((x) => round(x, lsbs), { x: "encrypted" }, [[wide]]);
    check(wide, Array.from(c.runClear(wide)[0]!.data), lsbs, "clear");
  }
  // FHE: all 15 values of [−7, 7] in three runs, rounded directly and through an identity lookup.
  const lsbsOf = [1, 2, 3, 1];
  const chunks = [span(-7, -3), span(-2, 2), span(3, 7)];
  const c = compile((x) => {
    const r1 = round(x, 1);
    return [r1, round(x, 2), round(x, 3), lut(r1, (v) => v, "id")];
  }, { x: "encrypted" }, chunks.map((xs) => [xs]));
  circuits.push(c);
  // x ∈ i4: round(x, 1) ∈ [−8, 8], and the identity lookup on it indexes 17 values: 5 bits.
  assert.ok(c.encoding.bits <= 5);
  for (const xs of chunks) {
    const clear = c.runClear(xs).map((t) => Array.from(t.data));
    const fhe = c.encryptRunDecrypt(xs).map((t) => Array.from(t.data));
    assert.deepEqual(fhe, clear, `FHE on ${JSON.stringify(xs)}`);
    lsbsOf.forEach((lsbs, o) => check(xs, fhe[o]!, lsbs, `output ${o}`));
  }
});

test("an input outside its accepted range: InputOutOfRangeError naming it, from run, simulate and FHE", () => {
  const cases: [Circuit, Sample, string, number][] = [
    [polyCircuit(), [[0, 1, 2, 0]], "x", 2],
    [polyCircuit(), [[-3, 0, 0, 0]], "x", -3],
    [cmpCircuit(), [[0, 0, 0, 4], 0], "x", 4],
    [cmpCircuit(), [[0, 0, 0, 0], -4], "t", -4],
  ];
  for (const [c, s, name, value] of cases) {
    const isRangeError = (e: unknown) => e instanceof InputOutOfRangeError && e.where === name && e.value === value &&
      e.message.startsWith(`input "${name}" element `) && e.message.includes(`= ${value} is outside [-`);
    assert.throws(() => c.runClear(...s), isRangeError, `run ${JSON.stringify(s)}`);
    assert.throws(() => c.simulate(...s), isRangeError, `simulate ${JSON.stringify(s)}`);
    assert.throws(() => c.encryptRunDecrypt(...s), isRangeError, `FHE ${JSON.stringify(s)}`);
  }
});

// Regression: a value outside the inputset's range but inside what the circuit accepts computes right on
// every path. x, y ∈ u2 (the inputset shows only sums of 3): every pair, through a sum and a round.
test("inputs inside their width but outside the measured range: FHE and simulate equal run, for every pair", () => {
  const c = compile((x, y) => [x.add(y), round(x.add(y), 1)], { x: "encrypted", y: "encrypted" }, [[0, 3], [3, 0], [1, 2]]);
  circuits.push(c);
  const xs: number[] = [], ys: number[] = [];
  for (let x = 0; x < 4; x++) for (let y = 0; y < 4; y++) xs.push(x), ys.push(y);
  for (let i = 0; i < xs.length; i++) {
    const want = [xs[i]! + ys[i]!, nearestMultiple(xs[i]! + ys[i]!, 1)];
    assert.deepEqual(c.runClear(xs[i]!, ys[i]!).map(toNested), want);
    assert.deepEqual(c.simulateWith({ seed: 3 }, xs[i]!, ys[i]!).map(toNested), want, `simulate (${xs[i]}, ${ys[i]})`);
  }
  for (const [x, y] of [[0, 0], [3, 3], [0, 3], [2, 3]] as const) {
    assert.deepEqual(c.encryptRunDecrypt(x, y).map(toNested), [x + y, nearestMultiple(x + y, 1)], `FHE (${x}, ${y})`);
  }
  assert.throws(() => c.runClear(4, 0), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "x");
});
