// FHE execution at real parameters (chooseParameters / named sets, ≥ 128-bit): every op kind decrypts to
// the clear result on random inputs; simulate agrees with run; forced failures show up in simulate.
// Small on purpose: tensors of ≤ 4 elements, ≤ 3 lookups per program, message spaces ≤ 4 bits with lookups.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  BoundsError, type Circuit, compile, concat, lut, matmul, maximum, prng, relu, round, toNested, type Tracer,
} from "../../src/compiler/index.js";

type Vis = "encrypted" | "clear";
interface InputDef { readonly vis: Vis; readonly shape: readonly number[]; readonly lo: number; readonly hi: number }

const circuits: Circuit[] = [];
after(() => { for (const c of circuits) c.dispose(); });

function randomValues(r: () => number, d: InputDef): number[] {
  const n = d.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => d.lo + Math.floor(r() * (d.hi - d.lo + 1)));
}

/** Compiles fn over inputs covering each input's [lo, hi], checks FHE == simulate == clear on random samples. */
function check(fn: (...xs: Tracer[]) => Tracer | readonly Tracer[], defs: readonly InputDef[], opts: { samples?: number; seed?: number; maxBits?: number } = {}): Circuit {
  const r = prng(opts.seed ?? 1234);
  const names = defs.map((_, i) => `x${i}`);
  const spec = Object.fromEntries(names.map((n, i) => [n, defs[i]!.vis]));
  const shapes = Object.fromEntries(names.map((n, i) => [n, [...defs[i]!.shape]]));
  const fill = (v: "lo" | "hi") => defs.map((d) => randomValues(() => 0, d).map(() => d[v]));
  const inputset = [fill("lo"), fill("hi"), ...Array.from({ length: 20 }, () => defs.map((d) => randomValues(r, d)))];
  const c = compile(fn, spec, inputset, { shapes });
  circuits.push(c);
  assert.ok(c.encoding.bits <= (opts.maxBits ?? 4), `bits = ${c.encoding.bits}`);
  // Samples from what the circuit accepts (each encrypted input's whole width), not only the inputset's range.
  const accepted = defs.map((d, i) => {
    const b = c.bounds.nodes[c.graph.inputs[i]!]!;
    return { ...d, lo: b.min, hi: b.max };
  });
  const corner = (v: "lo" | "hi") => accepted.map((d) => randomValues(() => 0, d).map(() => d[v]));
  const samples = [corner("lo"), corner("hi"), ...Array.from({ length: opts.samples ?? 3 }, () => accepted.map((d) => randomValues(r, d)))];
  for (const s of samples) {
    const clear = c.runClear(...s).map(toNested);
    assert.deepEqual(c.encryptRunDecrypt(...s).map(toNested), clear, `FHE on ${JSON.stringify(s)}`);
    assert.deepEqual(c.simulateWith({ seed: 7 }, ...s).map(toNested), clear, `simulate on ${JSON.stringify(s)}`);
  }
  return c;
}

const enc = (shape: readonly number[], lo: number, hi: number): InputDef => ({ vis: "encrypted", shape, lo, hi });
const clr = (shape: readonly number[], lo: number, hi: number): InputDef => ({ vis: "clear", shape, lo, hi });

// ---- linear ops: lookup-free circuits get LWE-only parameters (no evaluation keys) ----
test("add / sub / neg with broadcasting, encrypted and clear operands", () => {
  const c = check((x, y, z) => [x.add(y), x.sub(z), z.sub(x), x.neg(), y.add(z)],
    [enc([2, 2], -4, 3), enc([2], -4, 3), clr([2], -3, 3)]);
  assert.equal(c.parameters.linearOnly, true);
  assert.equal(c.keygen().evaluationKeys, undefined);
});

test("multiplication by clear constants and clear inputs (per-element weights)", () => {
  check((x, w) => [x.mul([[3, -2], [1, 0]]), x.mul(w), x.mul(-5)], [enc([2, 2], -3, 3), clr([2], -2, 2)], { maxBits: 5 });
});

test("matmul / dot with clear matrices on either side, sum over axes and all", () => {
  check((x, v, W) => [
    x.matmul([[1, -2], [3, 1]]), matmul([[2, 0], [-1, 1], [1, 1]], x), x.matmul(W), v.dot([2, -1, 3]), W.matmul(v.reshape([3, 1]).slice([0, 2])),
    x.sum(0), x.sum(1), x.sum(),
  ], [enc([2, 2], -3, 3), enc([3], 0, 3), clr([2, 2], -2, 2)], { maxBits: 6 });
});

test("reshape, slice, index, concat (with a clear part), broadcast", () => {
  check((x, y) => [
    x.reshape([4]), x.reshape([2, 2]).slice([1, 2], [0, 2]), x.index(1), concat([x, y], 1), x.index(0).broadcastTo([3, 2]),
  ], [enc([2, 2], -4, 3), clr([2, 1], 0, 3)], { maxBits: 5 });
});

test("a 16-bit accumulator without lookups: dot of 4 values with weights up to ~2^15", () => {
  const c = check((x) => x.dot([600, 500, 700, 400]), [enc([4], -8, 7)], { samples: 5, maxBits: 16 });
  assert.equal(c.encoding.bits, 15); // range [−17600, 15400]: 33001 values < 2p = 2^16
  assert.deepEqual(toNested(c.encryptRunDecrypt([7, 7, 7, 7])[0]!), 15400);
  assert.ok(c.parameters.log2PFail <= -64);
});

// ---- lookups (PBS at optimizer parameters) ----
test("lut with negative inputs and outputs, after a linear op", () => {
  const c = check((x, y) => lut(x.add(y), (v) => 3 - v * v), [enc([2], -2, 1), enc([2], -2, 1)]);
  assert.equal(c.parameters.linearOnly, false);
  assert.ok(c.parameters.log2PFail <= -64);
});

test("relu of a difference, abs, clip", () => {
  check((x, y) => [relu(x.sub(y)), x.sub(y).abs(), x.clip(-1, 2)], [enc([2], -3, 3), enc([2], 0, 3)]);
});

test("comparison and maximum between two encrypted values", () => {
  check((x, y) => concat([x.gt(y), maximum(x, y), x.eq(y)], 0), [enc([2], -2, 3), enc([2], -2, 3)]);
});

test("round(x, 2) then a lookup on the rounded value", () => {
  check((x) => [round(x, 2), lut(round(x, 2), (v) => (v / 4) ** 2 - 1)], [enc([3], 0, 11)]);
  check((x) => round(x, 1), [enc([4], -4, 3)]); // negative values, ties upwards
});

test("a 2-layer integer MLP: matmul, relu, dot", () => {
  check((x) => relu(x.matmul([[1, -1], [0, 1], [-1, 1]])).dot([2, -1]), [enc([3], 0, 3)]);
});

// ---- simulation ----
test("simulate at real parameters equals run; forced p_fail = 0.5 changes some element", () => {
  const inputset = [[[-4, -1, 2, 3]], [[3, 0, -4, 1]]];
  const c = compile((x) => lut(x, (v) => 2 * v + 1), { x: "encrypted" }, inputset);
  circuits.push(c);
  const x = [-4, -1, 2, 3];
  assert.deepEqual(toNested(c.simulate(x)[0]!), toNested(c.runClear(x)[0]!));
  assert.deepEqual(toNested(c.encryptRunDecrypt(x)[0]!), toNested(c.runClear(x)[0]!));
  const noisy = c.simulateWith({ seed: 1, pFail: 0.5 }, x);
  assert.notDeepEqual(toNested(noisy[0]!), toNested(c.runClear(x)[0]!));
  // Seeded: the same seed gives the same failures.
  assert.deepEqual(toNested(c.simulateWith({ seed: 1, pFail: 0.5 }, x)[0]!), toNested(noisy[0]!));
});

// ---- parameters and limits (no keys) ----
test("a region wider than 30 bits: BoundsError naming the node; 18 bits next to an 8-bit lookup compile", () => {
  const inputset = [[[0, 200]], [[255, 7]]];
  const c = compile((x) => [lut(x, (v) => v >> 1), x.mul(2 ** 25)], { x: "encrypted" }, inputset);
  assert.throws(() => c.encoding, (e: unknown) => e instanceof BoundsError && /%\d+ \(mul\)/.test(e.message) && /at most 30 bits/.test(e.message));
  const d = compile((x) => [lut(x, (v) => v >> 1), x.mul(1000)], { x: "encrypted" }, inputset);
  assert.equal(d.encoding.bits, 17);
  assert.equal(d.encoding.pbsBits, 8);
});

test("globalPError is divided over the PBS count", () => {
  const inputset = [[[0, 1, 2, 3]], [[3, 2, 1, 0]]];
  const c = compile((x) => lut(x, (v) => v ^ 1), { x: "encrypted" }, inputset, { globalPError: 2 ** -40 });
  assert.equal(c.encoding.pbsCount, 4);
  assert.equal(c.parameters.pFailTarget, 2 ** -42);
  assert.ok(c.parameters.log2PFail <= -42);
  assert.throws(() => compile((x) => x, { x: "encrypted" }, inputset, { pFail: 2 ** -64, globalPError: 2 ** -40 }).parameters, RangeError);
});
