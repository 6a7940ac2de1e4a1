// Radix decomposition (compiler/radix.ts): products, bitwise ops, shifts, equality tests and max/min of values
// too wide for one lookup, evaluated by chunks. In the clear and in simulation over every pair of small
// domains (with maxLutBits lowered so that they take the chunked path), and in FHE at real parameters on
// samples of wide ones (8-bit bitwise ops, 12-bit products, 16-bit max/min, 12-bit equality), through the
// deployed client/server halves for one of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, maximum, minimum, prng, toNested, type Tracer } from "../../src/compiler/index.js";
import { deployed } from "../helpers/deployed.js";

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);

function allPairs(xLo: number, xHi: number, yLo: number, yHi: number): [number[], number[]] {
  const xs: number[] = [], ys: number[] = [];
  for (let x = xLo; x <= xHi; x++) for (let y = yLo; y <= yHi; y++) xs.push(x), ys.push(y);
  return [xs, ys];
}

/** Two samples that fix each input's accepted width: all-lo and all-hi. */
const widths = (n: number, [xLo, xHi]: [number, number], [yLo, yHi]: [number, number]) => [[fill(n, xLo), fill(n, yLo)], [fill(n, xHi), fill(n, yHi)]];

function randomPairs(n: number, [xLo, xHi]: [number, number], [yLo, yHi]: [number, number], seed: number, extremes: [number, number][] = []): [number[], number[]] {
  const r = prng(seed);
  const pairs = [...extremes, ...Array.from({ length: n - extremes.length }, () => [
    xLo + Math.floor(r() * (xHi - xLo + 1)), yLo + Math.floor(r() * (yHi - yLo + 1)),
  ] as [number, number])];
  return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
}

const ops = (x: Tracer, y: Tracer) => [
  x.bitwiseAnd(y), x.bitwiseOr(y), x.bitwiseXor(y), x.mul(y), x.mul(x), x.eq(y), x.ne(y), maximum(x, y), minimum(x, y),
];
const opsReference = (xs: number[], ys: number[]) => [
  xs.map((x, i) => x & ys[i]!), xs.map((x, i) => x | ys[i]!), xs.map((x, i) => x ^ ys[i]!), xs.map((x, i) => x * ys[i]! + 0),
  xs.map((x) => x * x), xs.map((x, i) => +(x === ys[i])), xs.map((x, i) => +(x !== ys[i])), xs.map((x, i) => Math.max(x, ys[i]!)),
  xs.map((x, i) => Math.min(x, ys[i]!)),
];

test("chunked and/or/xor, products, squares, eq/ne, max/min: clear and simulate exact on every pair of u4 × u4 and i4 × u4 at maxLutBits 4", () => {
  for (const [xr, yr] of [[[0, 15], [0, 15]], [[-8, 7], [0, 15]]] as [[number, number], [number, number]][]) {
    const [xs, ys] = allPairs(xr[0], xr[1], yr[0], yr[1]);
    const n = xs.length;
    const c = compile(ops, { x: "encrypted", y: "encrypted" }, widths(n, xr, yr), { shapes: { x: [n], y: [n] }, maxLutBits: 4 });
    // Packed pairs would need 8 bits, quarter squares 5: everything is chunks, every PBS at most 4 bits.
    assert.equal(c.graph.nodes.filter((k) => k.kind === "lut2").length, 0);
    assert.ok(c.encoding.extractions.size > 0, "chunks are cut out by bit extraction");
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4), JSON.stringify(c.statistics.pbsByPrecision));
    const expected = opsReference(xs, ys);
    assert.deepEqual(c.runClear(xs, ys).map(toNested), expected, `clear, x ∈ [${xr}]`);
    assert.deepEqual(c.simulate(xs, ys).map(toNested), expected, `simulate, x ∈ [${xr}]`);
  }
});

test("chunked shifts by an encrypted amount: x << y and x >> y exact on every pair of i6 × [0, 3] at maxLutBits 4", () => {
  const [xs, ys] = allPairs(-32, 31, 0, 3);
  const n = xs.length;
  const c = compile((x, y) => [x.leftShift(y), x.rightShift(y)], { x: "encrypted", y: "encrypted" }, widths(n, [-32, 31], [0, 3]),
    { shapes: { x: [n], y: [n] }, maxLutBits: 4 });
  assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4));
  const expected = [xs.map((x, i) => x * 2 ** ys[i]!), xs.map((x, i) => Math.floor(x / 2 ** ys[i]!))];
  assert.deepEqual(c.runClear(xs, ys).map(toNested), expected);
  assert.deepEqual(c.simulate(xs, ys).map(toNested), expected);
});

test("a 4-bit and/or/xor that one packed 8-bit table could read goes by chunks when they cost less: every PBS ≤ 4 bits, exact on every u4 pair", () => {
  const [xs, ys] = allPairs(0, 15, 0, 15);
  const n = xs.length;
  const c = compile((x, y) => [x.bitwiseXor(y), x.bitwiseAnd(y), x.bitwiseOr(y)], { x: "encrypted", y: "encrypted" },
    widths(n, [0, 15], [0, 15]), { shapes: { x: [n], y: [n] } });
  // One packed lookup would be an 8-bit PBS (and set N = 32768 for the whole circuit).
  assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4), JSON.stringify(c.statistics.pbsByPrecision));
  const expected = [xs.map((x, i) => x ^ ys[i]!), xs.map((x, i) => x & ys[i]!), xs.map((x, i) => x | ys[i]!)];
  assert.deepEqual(c.runClear(xs, ys).map(toNested), expected);
  assert.deepEqual(c.simulate(xs, ys).map(toNested), expected);
  // A 2-bit op stays one packed 4-bit lookup: chunks would cost more.
  const [as, bs] = allPairs(0, 3, 0, 3);
  const small = compile((x, y) => x.bitwiseXor(y), { x: "encrypted", y: "encrypted" }, widths(as.length, [0, 3], [0, 3]),
    { shapes: { x: [as.length], y: [as.length] } });
  assert.equal(small.encoding.extractions.size, 0);
  assert.deepEqual(toNested(small.runClear(as, bs)[0]!), as.map((x, i) => x ^ bs[i]!));
});

test("8-bit and/or/xor of encrypted values (one table would read 16 bits): chunks of 2 bits, FHE = clear, deployed halves too", () => {
  const n = 2;
  const [xs, ys] = randomPairs(n, [0, 255], [0, 255], 11, [[170, 85]]);
  const c = compile((x, y) => [x.bitwiseXor(y), x.bitwiseAnd(y), x.bitwiseOr(y)], { x: "encrypted", y: "encrypted" },
    widths(n, [0, 255], [0, 255]), { shapes: { x: [n], y: [n] } });
  const reference = (a: number[], b: number[]) => [a.map((x, i) => x ^ b[i]!), a.map((x, i) => x & b[i]!), a.map((x, i) => x | b[i]!)];
  try {
    // Per operand 4 bits extracted (truncations at 2 and 4 bits; the rest are narrow lookups), 4 chunk pairs per op.
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4), JSON.stringify(c.statistics.pbsByPrecision));
    assert.ok(c.encoding.pbsCount / n <= 2 * 6 + 3 * 4, `PBS per element: ${c.encoding.pbsCount / n}`);
    for (let s = 0; s < 20; s++) {
      const [a, b] = randomPairs(n, [0, 255], [0, 255], 100 + s);
      assert.deepEqual(c.simulate(a, b).map(toNested), reference(a, b));
    }
    assert.deepEqual(c.encryptRunDecrypt(xs, ys).map(toNested), reference(xs, ys));
    assert.deepEqual(deployed(c, [255, 0], [0, 255]), reference([255, 0], [0, 255]));
  } finally {
    c.dispose();
  }
});

test("products too wide for quarter squares, unsigned and signed (offset to unsigned): partial products of 2-bit chunks, FHE = clear", () => {
  // u8 × u8 and i8 × [−100, 300]: x ± y reads 9–10 bits, above the 8-bit limit.
  const c = compile((x, y, u, v) => [x.mul(y), u.mul(v)], { x: "encrypted", y: "encrypted", u: "encrypted", v: "encrypted" },
    [[0, 0, -128, -100], [255, 255, 127, 300]]);
  try {
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4), JSON.stringify(c.statistics.pbsByPrecision));
    const r = prng(12);
    const samples = [[255, 255, -128, 300], [255, 1, 127, -100], [0, 77, -1, -1],
      ...Array.from({ length: 40 }, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256) - 128, Math.floor(r() * 401) - 100])];
    for (const [x, y, u, v] of samples) {
      const expected = [x! * y!, u! * v! + 0];
      assert.deepEqual(c.runClear(x!, y!, u!, v!).map(toNested), expected, `${x}·${y}, ${u}·${v}`);
      assert.deepEqual(c.simulate(x!, y!, u!, v!).map(toNested), expected, `${x}·${y}, ${u}·${v}`);
    }
    assert.deepEqual(c.encryptRunDecrypt(255, 254, -128, 299).map(toNested), [255 * 254, -128 * 299]);
  } finally {
    c.dispose();
  }
  // 12-bit operands (a 24-bit product): clear and simulate on samples; the compiler bench measures FHE.
  const wide = compile((x, y) => x.mul(y), { x: "encrypted", y: "encrypted" }, [[-2048, 0], [2047, 4095]]);
  assert.ok(wide.statistics.pbsByPrecision.every((p) => p.bits <= 4));
  const r = prng(13);
  for (const [x, y] of [[-2048, 4095], [2047, 4095], [-1, 1], ...Array.from({ length: 30 }, () => [Math.floor(r() * 4096) - 2048, Math.floor(r() * 4096)])]) {
    assert.deepEqual(wide.simulate(x!, y!).map(toNested), [x! * y! + 0], `${x}·${y}`);
  }
});

test("16-bit max/min and 12-bit eq/ne of encrypted values: chunks and wide comparisons, small PBS only, FHE = clear", () => {
  const c = compile((x, y, u, v) => [maximum(x, y), minimum(x, y), u.eq(v), u.ne(v)],
    { x: "encrypted", y: "encrypted", u: "encrypted", v: "encrypted" }, [[0, 0, 0, 0], [65535, 65535, 4095, 4095]]);
  const reference = (x: number, y: number, u: number, v: number) => [Math.max(x, y), Math.min(x, y), +(u === v), +(u !== v)];
  try {
    assert.ok(c.statistics.pbsByPrecision.every((p) => p.bits <= 4), JSON.stringify(c.statistics.pbsByPrecision));
    const r = prng(14);
    const samples = [[65535, 0, 4095, 4095], [40000, 39999, 17, 18], [1234, 1234, 0, 4095], [0, 65535, 4095, 4094],
      ...Array.from({ length: 40 }, () => {
        const x = Math.floor(r() * 65536), u = Math.floor(r() * 4096);
        // Near pairs too: the low chunks decide them.
        return [x, r() < 0.5 ? Math.floor(r() * 65536) : Math.min(65535, x + 1), u, r() < 0.3 ? u : Math.floor(r() * 4096)];
      })];
    for (const s of samples) {
      const [x, y, u, v] = s as [number, number, number, number];
      assert.deepEqual(c.runClear(x, y, u, v).map(toNested), reference(x, y, u, v));
      assert.deepEqual(c.simulate(x, y, u, v).map(toNested), reference(x, y, u, v));
    }
    assert.deepEqual(c.encryptRunDecrypt(40000, 39999, 1234, 1234).map(toNested), reference(40000, 39999, 1234, 1234));
  } finally {
    c.dispose();
  }
});
