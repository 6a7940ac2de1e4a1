// Every op of the clear interpreter against a direct JS computation, on random shapes and values.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Tracer, Tracer as T, concat, evaluate, lut, round, toNested, trace, matmul, EvaluationError,
} from "../../src/compiler/index.js";
import {
  type Nested, at, atBroadcast, broadcastPairArb, build, flat, mapNested, nearestMultiple, shapeArb, shapeOf, tensorArb,
} from "./reference.js";

/** Traces fn over inputs of the given shapes (all encrypted unless said) and evaluates it on the values. */
function run(fn: (...xs: Tracer[]) => Tracer, values: Nested[], visibility: ("encrypted" | "clear")[] = []): Nested {
  const names = values.map((_, i) => `x${i}`);
  const spec = Object.fromEntries(names.map((n, i) => [n, visibility[i] ?? "encrypted"]));
  const shapes = Object.fromEntries(names.map((n, i) => [n, shapeOf(values[i]!)]));
  const g = trace(fn, spec, shapes);
  return toNested(evaluate(g, values)[0]!) as Nested;
}

const elementwise = [
  ["add", (a: Tracer, b: Tracer) => a.add(b), (x: number, y: number) => x + y, "encrypted"],
  ["sub", (a: Tracer, b: Tracer) => a.sub(b), (x: number, y: number) => x - y, "encrypted"],
  ["mul", (a: Tracer, b: Tracer) => a.mul(b), (x: number, y: number) => x * y, "clear"],
] as const;

for (const [name, op, ref, second] of elementwise) {
  test(`${name} with broadcasting equals the element-wise JS result`, () => {
    fc.assert(fc.property(broadcastPairArb.chain(([sa, sb]) => fc.tuple(tensorArb(sa), tensorArb(sb), fc.boolean())),
      ([a, b, swap]) => {
        const [l, r] = swap ? [b, a] : [a, b];
        const outShape = shapeOf(a);
        const got = run(op, [l, r], ["encrypted", second]);
        assert.deepEqual(got, build(outShape, (idx) => ref(atBroadcast(l, idx), atBroadcast(r, idx))));
      }));
  });
}

test("add / sub / mul with plain numbers and nested-array constants", () => {
  fc.assert(fc.property(shapeArb().chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: -50, max: 50 }))), ([x, c]) => {
    assert.deepEqual(run((a) => a.add(c).sub(2 * c).mul(c), [x]), mapNested(x, (v) => (v + c - 2 * c) * c));
    assert.deepEqual(run((a) => a.mul(x), [x]), mapNested(x, (v) => v * v), "encrypted × clear constant");
  }));
});

test("neg", () => {
  fc.assert(fc.property(shapeArb().chain((s) => tensorArb(s)), (x) => {
    assert.deepEqual(run((a) => a.neg(), [x]), mapNested(x, (v) => (v === 0 ? 0 : -v)));
  }));
});

test("matmul and dot (ranks 1 and 2, either side clear) equal triple loops", () => {
  const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean())
    .chain(([m, k, n, vecA, vecB]) => fc.tuple(tensorArb(vecA ? [k] : [m, k], -100, 100), tensorArb(vecB ? [k] : [k, n], -100, 100)));
  fc.assert(fc.property(arb, fc.boolean(), ([a, b], clearLeft) => {
    const A = shapeOf(a).length === 1 ? [a as number[]] : (a as number[][]);
    const B = shapeOf(b).length === 1 ? (b as number[]).map((v) => [v]) : (b as number[][]);
    const full = A.map((row) => B[0]!.map((_, j) => row.reduce((s, v, l) => s + v * B[l]![j]!, 0)));
    let expected: Nested = full;
    if (shapeOf(b).length === 1) expected = full.map((r) => r[0]!);
    if (shapeOf(a).length === 1) expected = (expected as Nested[])[0]!;
    const vis: ("encrypted" | "clear")[] = clearLeft ? ["clear", "encrypted"] : ["encrypted", "clear"];
    assert.deepEqual(run((x, w) => x.matmul(w), [a, b], vis), expected);
    assert.deepEqual(run((x, w) => x.dot(w), [a, b], vis), expected);
    if (!clearLeft) assert.deepEqual(run((w) => matmul(a as number[], w), [b]), expected, "constant on the left");
  }));
});

test("sum over an axis (negative axes too) and over everything", () => {
  const arb = shapeArb().filter((s) => s.length > 0).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: -s.length, max: s.length - 1 })));
  fc.assert(fc.property(arb, ([x, axis]) => {
    const shape = shapeOf(x);
    const ax = axis < 0 ? axis + shape.length : axis;
    const outShape = shape.filter((_, i) => i !== ax);
    const expected = build(outShape, (idx) => {
      let s = 0;
      for (let t = 0; t < shape[ax]!; t++) s += at(x, [...idx.slice(0, ax), t, ...idx.slice(ax)]);
      return s;
    });
    assert.deepEqual(run((a) => a.sum(axis), [x]), expected);
    assert.deepEqual(run((a) => a.sum(), [x]), flat(x).reduce((s, v) => s + v, 0));
  }));
});

test("reshape (with -1) and flatten keep row-major order", () => {
  fc.assert(fc.property(shapeArb().chain((s) => tensorArb(s)), (x) => {
    const values = flat(x);
    assert.deepEqual(run((a) => a.flatten(), [x]), values);
    assert.deepEqual(run((a) => a.reshape([-1, 1]), [x]), values.map((v) => [v]));
  }));
});

test("broadcastTo repeats along stretched and new axes", () => {
  fc.assert(fc.property(broadcastPairArb.chain(([big, small]) => fc.tuple(fc.constant(big), tensorArb(small))), ([big, x]) => {
    assert.deepEqual(run((a) => a.broadcastTo(big), [x]), build(big, (idx) => atBroadcast(x, idx)));
  }));
});

/** Nested-array slicing, the way one would write it by hand. */
function sliceRef(t: Nested, specs: readonly (readonly [number, number, number] | number)[]): Nested {
  if (specs.length === 0) return t;
  const [s, ...rest] = specs;
  const arr = t as Nested[];
  if (typeof s === "number") return sliceRef(arr[s < 0 ? s + arr.length : s]!, rest);
  return arr.slice(s![0], s![1]).filter((_, i) => i % s![2] === 0).map((e) => sliceRef(e, rest));
}

test("slice with static ranges, steps and integer indices", () => {
  const spec = (d: number) => fc.oneof(
    fc.integer({ min: -d, max: d - 1 }),
    fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .map(([lo, len, st]) => [lo, Math.min(d, lo + len), st] as const),
  );
  const arb = shapeArb().filter((s) => s.length > 0).chain((s) => fc.tuple(tensorArb(s), fc.tuple(...s.map(spec))));
  fc.assert(fc.property(arb, ([x, specs]) => {
    const expected = sliceRef(x, specs);
    assert.deepEqual(run((a) => a.slice(...specs), [x]), expected);
  }));
});

test("index picks one element; negative indices count from the end", () => {
  const x = [[1, 2, 3], [4, 5, 6]];
  assert.equal(run((a) => a.index(1, -1), [x]), 6);
  assert.deepEqual(run((a) => a.index(0), [x]), [1, 2, 3]);
});

test("concat along any axis", () => {
  const arb = shapeArb().filter((s) => s.length > 0).chain((s) => fc.integer({ min: 0, max: s.length - 1 }).chain((ax) =>
    fc.tuple(fc.constant(ax), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
      .chain((lens) => fc.tuple(...lens.map((l) => tensorArb(s.map((d, i) => (i === ax ? l : d)))))))));
  const cat = (parts: Nested[], ax: number): Nested =>
    ax === 0 ? parts.flatMap((p) => p as Nested[]) : (parts[0] as Nested[]).map((_, i) => cat(parts.map((p) => (p as Nested[])[i]!), ax - 1));
  fc.assert(fc.property(arb, ([ax, parts]) => {
    assert.deepEqual(run((...xs) => concat(xs, ax), parts), cat(parts, ax));
    assert.deepEqual(run((...xs) => T.concat(xs, ax - shapeOf(parts[0]!).length), parts), cat(parts, ax), "negative axis");
  }));
});

test("lut applies f element-wise", () => {
  const fs = [(v: number) => v * v, (v: number) => Math.max(v, 0), (v: number) => Math.floor(v / 3), (v: number) => v % 7];
  fc.assert(fc.property(shapeArb().chain((s) => tensorArb(s, -300, 300)), fc.integer({ min: 0, max: fs.length - 1 }), (x, i) => {
    const f = fs[i]!;
    assert.deepEqual(run((a) => lut(a, f), [x]), mapNested(x, (v) => f(v) + 0));
  }));
});

test("round(x, lsbs) is the nearest multiple of 2^lsbs (ties up), within 2^(lsbs−1)", () => {
  fc.assert(fc.property(shapeArb().chain((s) => tensorArb(s, -100000, 100000)), fc.integer({ min: 0, max: 12 }), (x, lsbs) => {
    const got = flat(run((a) => round(a, lsbs), [x]));
    const vals = flat(x);
    assert.deepEqual(got, vals.map((v) => nearestMultiple(v, lsbs)));
    got.forEach((r, i) => {
      assert.ok(Math.abs(r - vals[i]!) <= 2 ** (lsbs - 1) || lsbs === 0 && r === vals[i]);
      assert.equal(r % 2 ** lsbs === 0, true);
    });
  }));
});

test("comparisons, min, max, relu, abs, clip follow their JS definitions", () => {
  const arb = fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 6 })
    .chain((a) => fc.tuple(fc.constant(a), fc.array(fc.integer({ min: -50, max: 50 }), { minLength: a.length, maxLength: a.length }), fc.integer({ min: -20, max: 20 })));
  fc.assert(fc.property(arb, ([a, b, c]) => {
    const b01 = (p: boolean) => (p ? 1 : 0);
    const cases: [(x: Tracer, y: Tracer) => Tracer, (x: number, y: number) => number][] = [
      [(x, y) => x.gt(y), (x, y) => b01(x > y)], [(x, y) => x.ge(y), (x, y) => b01(x >= y)],
      [(x, y) => x.lt(y), (x, y) => b01(x < y)], [(x, y) => x.le(y), (x, y) => b01(x <= y)],
      [(x, y) => x.eq(y), (x, y) => b01(x === y)], [(x, y) => x.ne(y), (x, y) => b01(x !== y)],
      [(x, y) => x.min(y), Math.min], [(x, y) => x.max(y), Math.max],
      [(x) => x.gt(c), (x) => b01(x > c)], [(x) => x.le(c), (x) => b01(x <= c)], [(x) => x.eq(c), (x) => b01(x === c)],
      [(x) => x.min(c), (x) => Math.min(x, c)], [(x) => x.max(c), (x) => Math.max(x, c)],
      [(x) => x.relu(), (x) => Math.max(x, 0)], [(x) => x.abs(), Math.abs],
      [(x) => x.clip(-5, c < -5 ? -5 : c), (x) => Math.min(Math.max(x, -5), c < -5 ? -5 : c)],
    ];
    for (const [op, ref] of cases) {
      assert.deepEqual(run((x, y) => op(x, y), [a, b]), a.map((x, i) => ref(x, b[i]!) + 0));
    }
  }));
});

test("a mixed program equals the same computation written directly in JS", () => {
  const W = [[1, -2], [3, 0], [-1, 4]];
  fc.assert(fc.property(tensorArb([3], -20, 20), tensorArb([2], -20, 20), (x, y) => {
    const xs = x as number[], ys = y as number[];
    const got = run((a, b) => a.matmul(W).add(b).relu().mul(3).sum(), [x, y], ["encrypted", "clear"]);
    const z = [0, 1].map((j) => Math.max(xs.reduce((s, v, i) => s + v * W[i]![j]!, 0) + ys[j]!, 0) * 3);
    assert.equal(got, z[0]! + z[1]!);
  }));
});

test("values beyond 2^53 and non-integer lookups are errors naming the node", () => {
  const g = trace((x) => x.mul(2 ** 30).mul(2 ** 30), { x: "encrypted" });
  const last = g.outputs[0]!;
  assert.throws(() => evaluate(g, [1]), (e: unknown) => e instanceof EvaluationError && e.message.startsWith(`%${last} (mul)`) && e.node === last);
  const h = trace((x) => lut(x, (v) => v / 2, "half"), { x: "encrypted" });
  assert.throws(() => evaluate(h, [3]), (e: unknown) => e instanceof EvaluationError && /%1 \(lut\) half: f\(3\) = 1.5/.test(e.message));
  assert.deepEqual(evaluate(h, [4])[0]!.data, Float64Array.of(2));
});
