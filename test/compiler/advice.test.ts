// Compile errors that name a node and advise a fix: each advice is read out of the message and followed
// literally, and the program it gives must compile and compute the right values (in the clear, in
// simulation and, where cheap, in FHE at real parameters with maxLutBits 4).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BoundsError, compile, lut, lut2, prng, round, toNested, type Tracer } from "../../src/compiler/index.js";

const nearest = (v: number, lsbs: number): number => Math.floor((v + 2 ** (lsbs - 1)) / 2 ** lsbs) * 2 ** lsbs;
const floorTo = (v: number, lsbs: number): number => Math.floor(v / 2 ** lsbs) * 2 ** lsbs;

/** The BoundsError `run` throws (it must throw one naming a node by id). */
function boundsError(run: () => unknown): BoundsError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof BoundsError, `expected a BoundsError, got ${String(e)}`);
    assert.match(e.message, /^%\d+ \(/, "the message names the node");
    return e;
  }
  assert.fail("no error");
}

/** The numbers of the first match of `re` in the message (the advice's arguments). */
function advised(e: Error, re: RegExp): number[] {
  const m = re.exec(e.message);
  assert.ok(m !== null, `no advice matching ${re} in: ${e.message}`);
  return m.slice(1).map(Number);
}

const W = [37, -21, 45, 29];
const acc = (x: number[]): number => x.reduce((s, v, i) => s + v * W[i]!, 0);
const f = (v: number): number => (v * v) % 17;
const accSet = [[[0, 0, 0, 0]], [[15, 15, 15, 15]]];

test("a lookup of a 12-bit accumulator: both suggested rounds, followed literally, compile and compute f of the rounded value", () => {
  const r = prng(5);
  const samples = [[15, 0, 15, 15], [0, 15, 0, 0], [7, 3, 11, 2], ...Array.from({ length: 20 }, () => Array.from({ length: 4 }, () => Math.floor(r() * 16)))];
  for (const maxLutBits of [4, 8]) {
    const e = boundsError(() => compile((x) => lut(x.dot(W), f, "f"), { x: "encrypted" }, accSet, { maxLutBits }));
    const [k] = advised(e, /round\(x, (\d+), \{ approximate: true \}\)/);
    const [exactK] = advised(e, /exact round\(x, (\d+)\)/);
    const exact = compile((x) => lut(round(x.dot(W), exactK!), f, "f"), { x: "encrypted" }, accSet, { maxLutBits });
    const approx = compile((x) => lut(round(x.dot(W), k!, { approximate: true }), f, "f"), { x: "encrypted" }, accSet, { maxLutBits });
    try {
      assert.ok(exact.statistics.pbsByPrecision.every((p) => p.bits <= maxLutBits));
      assert.ok(approx.statistics.pbsByPrecision.every((p) => p.bits <= maxLutBits));
      for (const x of samples) {
        assert.deepEqual(exact.runClear(x).map(toNested), [f(nearest(acc(x), exactK!))]);
        assert.deepEqual(exact.simulate(x).map(toNested), [f(nearest(acc(x), exactK!))]);
        // Approximate: either multiple of 2^k around the accumulator.
        const [v] = approx.simulate(x).map(toNested) as [number];
        assert.ok([f(floorTo(acc(x), k!)), f(floorTo(acc(x), k!) + 2 ** k!)].includes(v), `${acc(x)} → ${v}`);
      }
      if (maxLutBits === 4) assert.deepEqual(exact.encryptRunDecrypt([15, 0, 15, 15]).map(toNested), [f(nearest(acc([15, 0, 15, 15]), exactK!))]);
    } finally {
      exact.dispose();
      approx.dispose();
    }
  }
});

test("a bivariate lookup that does not pack: the suggested truncations, followed literally, compile and compute f exactly", () => {
  const g = (a: number, b: number): number => (a * 3 + b) % 11;
  // u6 × u2 at maxLutBits 4: 8 bits of pairs.
  const e = boundsError(() => compile((x, y) => lut2(x, y, g), { x: "encrypted", y: "encrypted" }, [[0, 0], [63, 3]], { maxLutBits: 4 }));
  const [k] = advised(e, /lut2\(x\.truncate\((\d+)\), y, f\)/);
  const c = compile((x: Tracer, y: Tracer) => lut2(x.truncate(k!), y, g), { x: "encrypted", y: "encrypted" }, [[0, 0], [63, 3]], { maxLutBits: 4 });
  try {
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4));
    for (let x = 0; x < 64; x++) {
      for (let y = 0; y < 4; y++) {
        assert.deepEqual(c.runClear(x, y).map(toNested), [g(floorTo(x, k!), y)]);
        assert.deepEqual(c.simulate(x, y).map(toNested), [g(floorTo(x, k!), y)]);
      }
    }
    assert.deepEqual(c.encryptRunDecrypt(61, 2).map(toNested), [g(floorTo(61, k!), 2)]);
  } finally {
    c.dispose();
  }
  // u12 × u12: too many pairs even to bound f; both operands truncated as advised.
  const wide = boundsError(() => compile((x, y) => lut2(x, y, g), { x: "encrypted", y: "encrypted" }, [[0, 0], [4095, 4095]]));
  const [kx, ky] = advised(wide, /lut2\(x\.truncate\((\d+)\), y\.truncate\((\d+)\), f\)/);
  const both = compile((x: Tracer, y: Tracer) => lut2(x.truncate(kx!), y.truncate(ky!), g), { x: "encrypted", y: "encrypted" }, [[0, 0], [4095, 4095]]);
  for (const [x, y] of [[4095, 4095], [1234, 777], [0, 4095]] as const) {
    assert.deepEqual(both.simulate(x, y).map(toNested), [g(floorTo(x, kx!), floorTo(y, ky!))]);
  }
});

test("an approximate round that still reads too many bits, and an exact round in a 30-bit region: the suggested rounds compile", () => {
  const approx = compile((x) => round(x.dot(W), 1, { approximate: true }), { x: "encrypted" }, accSet, { maxLutBits: 4 });
  const e = boundsError(() => approx.encoding);
  const [k] = advised(e, /round more low bits: round\(x, (\d+), \{ approximate: true \}\)/);
  const fixed = compile((x) => round(x.dot(W), k!, { approximate: true }), { x: "encrypted" }, accSet, { maxLutBits: 4 });
  for (const x of [[15, 0, 15, 15], [0, 15, 0, 0], [3, 9, 1, 12]]) {
    const [v] = fixed.simulate(x).map(toNested) as [number];
    assert.ok([floorTo(acc(x), k!), floorTo(acc(x), k!) + 2 ** k!].includes(v));
  }
  // u8 inputs with weights to 2^20: a 30-bit accumulator, no room for bit extraction.
  const big = [1 << 20, 3 << 19, 5 << 18, 7];
  const wide = compile((x) => lut(round(x.dot(big), 24), (v) => v % 3), { x: "encrypted" }, [[[0, 0, 0, 0]], [[255, 255, 255, 255]]]);
  const [l] = advised(boundsError(() => wide.encoding), /use round\(x, (\d+), \{ approximate: true \}\)/);
  const ok = compile((x) => lut(round(x.dot(big), l!, { approximate: true }), (v) => v % 3), { x: "encrypted" }, [[[0, 0, 0, 0]], [[255, 255, 255, 255]]]);
  assert.ok(ok.parameters.log2PFail <= -64);
  const dot = (x: number[]) => x.reduce((s, v, i) => s + v * big[i]!, 0);
  for (const x of [[255, 0, 255, 255], [1, 2, 3, 4]]) {
    const [v] = ok.simulate(x).map(toNested) as [number];
    assert.ok([floorTo(dot(x), l!) % 3, (floorTo(dot(x), l!) + 2 ** l!) % 3].includes(v));
  }
});

test("shifts by an encrypted amount too wide to pack: the suggested clip, followed literally, compiles and shifts right", () => {
  // x >> y for y up to 200: clipping y to x's width is exact.
  const e = boundsError(() => compile((x, y) => x.rightShift(y), { x: "encrypted", y: "encrypted" }, [[0, 0], [255, 200]]));
  const [k] = advised(e, /x\.rightShift\(y\.clip\(0, (\d+)\)\)/);
  const c = compile((x: Tracer, y: Tracer) => x.rightShift(y.clip(0, k!)), { x: "encrypted", y: "encrypted" }, [[0, 0], [255, 200]]);
  for (const [x, y] of [[255, 0], [255, 7], [255, 8], [200, 200], [77, 3]] as const) {
    assert.deepEqual(c.runClear(x, y).map(toNested), [Math.floor(x / 2 ** y)]);
    assert.deepEqual(c.simulate(x, y).map(toNested), [Math.floor(x / 2 ** y)]);
  }
  // x << y whose result would pass 2^53: the clip keeps it within what decrypts.
  const l = boundsError(() => compile((x, y) => x.leftShift(y), { x: "encrypted", y: "encrypted" }, [[0, 0], [255, 40]]));
  const [kl] = advised(l, /x\.leftShift\(y\.clip\(0, (\d+)\)\)/);
  const s = compile((x: Tracer, y: Tracer) => x.leftShift(y.clip(0, kl!)), { x: "encrypted", y: "encrypted" }, [[0, 0], [255, 40]]);
  assert.ok(s.parameters.log2PFail <= -64);
  for (const [x, y] of [[255, 3], [255, kl!], [1, 40]] as const) {
    assert.deepEqual(s.simulate(x, y).map(toNested), [x * 2 ** Math.min(y, kl!)]);
  }
});

test("a clear lookup too wide to tabulate points at the inputset; a narrower inputset compiles", () => {
  const fn = (x: Tracer, y: Tracer) => y.add(lut(x.mul(1000), (v) => v % 7));
  const e = boundsError(() => compile(fn, { x: "clear", y: "encrypted" }, [[0, 0], [4000, 3]]));
  assert.match(e.message, /narrow those in the inputset/);
  const c = compile(fn, { x: "clear", y: "encrypted" }, [[0, 0], [1000, 3]]);
  assert.deepEqual(c.simulate(999, 2).map(toNested), [2 + (999000 % 7)]);
});
