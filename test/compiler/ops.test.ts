// The tensor ops models and programs need, in the clear: each traced op against a reference written here
// with plain loops over multi-indices (independent of src/compiler's index maps), on random shapes and
// values, plus NumPy cases checked by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GraphError, MOVE_KINDS, type Tracer, Tracer as T, array, avgpool2d, conv2d, evaluate, evaluateAll, graphFromJson, graphToJson,
  maxpool2d, stack, toNested, trace, verify, where, zeros, ones,
} from "../../src/compiler/index.js";
import { squaredNorms } from "../../src/compiler/norms.js";
import { type Nested, at, build, flat, shapeOf, tensorArb } from "./reference.js";

type Vis = "encrypted" | "clear";

/** Traces fn over inputs of the given values' shapes (encrypted unless said) and evaluates it. */
function run(fn: (...xs: Tracer[]) => Tracer | Tracer[], values: Nested[], visibility: Vis[] = []): Nested[] {
  const names = values.map((_, i) => `x${i}`);
  const spec = Object.fromEntries(names.map((n, i) => [n, visibility[i] ?? "encrypted"]));
  const shapes = Object.fromEntries(names.map((n, i) => [n, shapeOf(values[i]!)]));
  const g = trace(fn, spec, shapes);
  return evaluate(g, values).map((t) => toNested(t) as Nested);
}
const run1 = (fn: (...xs: Tracer[]) => Tracer, values: Nested[], visibility: Vis[] = []): Nested => run(fn, values, visibility)[0]!;

/** 0, 1, 2, … in the given shape (as NumPy's arange(n).reshape(shape)). */
const arange = (shape: readonly number[]): Nested => {
  let i = 0;
  return build(shape, () => i++);
};

const permutationArb = (n: number) => fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n });
const shapeArb = (minRank: number, maxRank: number, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

test("transpose (any permutation, default reversed) and .T", () => {
  fc.assert(fc.property(shapeArb(0, 4).chain((s) => fc.tuple(tensorArb(s), permutationArb(s.length))), ([x, perm]) => {
    const s = shapeOf(x);
    const expected = build(perm.map((a) => s[a]!), (idx) => {
      const src = new Array<number>(s.length);
      perm.forEach((a, i) => { src[a] = idx[i]!; });
      return at(x, src);
    });
    assert.deepEqual(run1((a) => a.transpose(perm), [x]), expected);
    const reversed = build([...s].reverse(), (idx) => at(x, [...idx].reverse()));
    assert.deepEqual(run1((a) => a.transpose(), [x]), reversed);
    assert.deepEqual(run1((a) => a.T, [x]), reversed);
  }));
  assert.deepEqual(run1((a) => a.transpose([-1, 0]), [[[1, 2, 3], [4, 5, 6]]]), [[1, 4], [2, 5], [3, 6]], "negative axes");
  assert.throws(() => run1((a) => a.transpose([0, 0]), [[[1]]]), GraphError);
});

/** Positions of a Python slice: bounds clamped as CPython's slice.indices, then a walk. */
function pythonSlice(n: number, start: number | null, stop: number | null, step: number): number[] {
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const out: number[] = [];
  if (step > 0) {
    const s = start === null ? 0 : norm(start, 0, n), e = stop === null ? n : norm(stop, 0, n);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    const s = start === null ? n - 1 : norm(start, -1, n - 1), e = stop === null ? -1 : norm(stop, -1, n - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

test("negative slice steps: NumPy's defaults and clamping", () => {
  const x = [0, 1, 2, 3, 4, 5];
  const cases: [number | null, number | null, number, number[]][] = [
    [null, null, -1, [5, 4, 3, 2, 1, 0]], [null, null, -2, [5, 3, 1]], [4, 1, -1, [4, 3, 2]], [-1, -4, -2, [5, 3]],
    [10, null, -3, [5, 2]], [2, -10, -1, [2, 1, 0]], [1, null, 2, [1, 3, 5]],
  ];
  for (const [s, e, st, want] of cases) {
    assert.deepEqual(run1((a) => a.slice([s, e, st]), [x]), want, `x[${s}:${e}:${st}]`);
    assert.deepEqual(pythonSlice(6, s, e, st), want, "reference");
  }
  fc.assert(fc.property(shapeArb(1, 3, 5).chain((sh) => fc.tuple(tensorArb(sh), fc.array(fc.tuple(
    fc.option(fc.integer({ min: -7, max: 7 })), fc.option(fc.integer({ min: -7, max: 7 })), fc.integer({ min: -3, max: 3 }).filter((v) => v !== 0)),
  { minLength: sh.length, maxLength: sh.length }))), ([x, specs]) => {
    const s = shapeOf(x);
    const picks = specs.map(([a, b, st], ax) => pythonSlice(s[ax]!, a, b, st));
    fc.pre(picks.every((p) => p.length > 0));
    const expected = build(picks.map((p) => p.length), (idx) => at(x, idx.map((i, ax) => picks[ax]![i]!)));
    assert.deepEqual(run1((a) => a.slice(...specs.map(([p, q, st]) => [p, q, st] as const)), [x]), expected);
    assert.deepEqual(run1((a) => a.index(...specs.map(([p, q, st]) => ({ start: p, stop: q, step: st }))), [x]), expected, "Range form");
  }));
  assert.throws(() => run1((a) => a.slice([1, 3, -1]), [x]), /selects nothing/);
});

test("fancy indexing: NumPy's placement of the broadcast index dimensions (checked by hand)", () => {
  const x = arange([2, 3, 4]);
  const get = (...specs: Parameters<Tracer["index"]>) => run1((a) => a.index(...specs), [x]);
  // Non-adjacent advanced indices: their dimensions go first.
  assert.deepEqual(get([0, 1], null, [1, 2]), [[1, 5, 9], [14, 18, 22]]);
  assert.deepEqual(get([0, 1], { start: 1 }, 0), [[4, 8], [16, 20]]);
  // Adjacent: in place.
  assert.deepEqual(get(null, [0, 2], [1, 3]), [[1, 11], [13, 23]]);
  assert.deepEqual(get(1, [0, 2]), [[12, 13, 14, 15], [20, 21, 22, 23]]);
  // Broadcasting [2, 1] with [2], and negative indices.
  assert.deepEqual(get([[0], [1]], [0, -1]), [[[0, 1, 2, 3], [8, 9, 10, 11]], [[12, 13, 14, 15], [20, 21, 22, 23]]]);
  assert.deepEqual(get([-1]), [[[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]]);
  assert.deepEqual(get(null, null, Int32Array.of(3, 0)), [[[3, 0], [7, 4], [11, 8]], [[15, 12], [19, 16], [23, 20]]]);
  assert.throws(() => get([0, 1], [0, 1, 2]), /do not broadcast/);
  assert.throws(() => get([0, 2]), /index 2 out of range/);
  assert.throws(() => get([[0], [0, 1]]), /ragged/);
});

test("fancy indexing on random tensors: one array per axis, same shape, picks element-wise", () => {
  const arb = shapeArb(1, 3, 4).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: 1, max: 5 })).chain(([x, n]) => fc.tuple(fc.constant(x),
    fc.tuple(...s.map((d) => fc.array(fc.integer({ min: -d, max: d - 1 }), { minLength: n, maxLength: n }))))));
  fc.assert(fc.property(arb, ([x, idxs]) => {
    const s = shapeOf(x);
    const wrap = (i: number, ax: number) => (i < 0 ? i + s[ax]! : i);
    const expected = idxs[0]!.map((_, j) => at(x, idxs.map((arr, ax) => wrap(arr[j]!, ax))));
    assert.deepEqual(run1((a) => a.index(...idxs), [x]), expected);
    // One array on the first axis only: rows in that order.
    assert.deepEqual(run1((a) => a.index(idxs[0]!), [x]), idxs[0]!.map((i) => (x as Nested[])[wrap(i, 0)]!));
  }));
});

test("at(…).set(v): a new traced value with the selection replaced; the old one unchanged", () => {
  const x = [[1, 2, 3], [4, 5, 6]];
  const [y, old] = run((a) => {
    const b = a.at(0, [0, 2]).set(a.index(1, [2, 1]));
    return [b, a];
  }, [x]);
  assert.deepEqual(y, [[6, 2, 5], [4, 5, 6]]);
  assert.deepEqual(old, x);
  assert.deepEqual(run1((a) => a.at(null, 1).set(0), [x]), [[1, 0, 3], [4, 0, 6]], "a broadcast scalar");
  assert.deepEqual(run1((a) => a.at(1).set([7, 8, 9]), [x], ["clear"]), [[1, 2, 3], [7, 8, 9]]);
  assert.deepEqual(run1((a) => a.at([0, 0]).set([[1, 1, 1], [2, 2, 2]]), [x]), [[2, 2, 2], [4, 5, 6]], "repeated index: the last write wins");
  assert.deepEqual(run1((a) => zeros([3]).at(1).set(a.sum()), [x]), [0, 21, 0]);
  assert.throws(() => run1((a) => a.at(0).set([1, 2]), [x]), /does not broadcast to the selected shape \[3\]/);
  fc.assert(fc.property(shapeArb(1, 3, 4).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: 0, max: s[0]! - 1 }), tensorArb(s.slice(1)))), ([x, i, v]) => {
    const expected = (x as Nested[]).map((row, r) => (r === i ? v : row));
    assert.deepEqual(run1((a, b) => a.at(i).set(b), [x, v]), expected);
  }));
});

/** A batch dims pair that broadcasts (some dims 1, some dropped). */
const batchPairArb = shapeArb(0, 2, 3).chain((b) => fc.tuple(fc.constant(b),
  fc.array(fc.integer({ min: 0, max: 2 }), { minLength: b.length, maxLength: b.length }), fc.nat({ max: b.length })))
  .map(([b, mode, drop]) => {
    const ba = b.map((d, i) => (mode[i] === 1 ? 1 : d)), bb = b.map((d, i) => (mode[i] === 2 ? 1 : d)).slice(drop);
    return [ba, bb] as const;
  });

test("batched matmul (NumPy broadcasting of batch dimensions) with clear or encrypted sides equals loops", () => {
  const arb = fc.tuple(batchPairArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean())
    .chain(([[ba, bb], m, k, n, vecA, vecB]) => fc.tuple(
      tensorArb(vecA ? [k] : [...ba, m, k], -20, 20), tensorArb(vecB ? [k] : [...bb, k, n], -20, 20), fc.constantFrom<Vis[]>(["encrypted", "clear"], ["clear", "encrypted"], ["encrypted", "encrypted"])));
  fc.assert(fc.property(arb, ([a, b, vis]) => {
    const sa = shapeOf(a), sb = shapeOf(b);
    fc.pre(sa.length > 2 || sb.length > 2 || vis[0] === vis[1]);
    const A = sa.length === 1 ? [a as number[]] : a, B = sb.length === 1 ? (b as number[]).map((v) => [v]) : b;
    const [pa, pb] = [shapeOf(A), shapeOf(B)];
    const [m, k] = pa.slice(-2) as [number, number], n = pb[pb.length - 1]!;
    const batchA = pa.slice(0, -2), batchB = pb.slice(0, -2);
    const rank = Math.max(batchA.length, batchB.length);
    const batch = Array.from({ length: rank }, (_, i) => Math.max(batchA[i - rank + batchA.length] ?? 1, batchB[i - rank + batchB.length] ?? 1));
    const pick = (bs: number[], idx: number[]) => idx.slice(rank - bs.length).map((v, i) => (bs[i] === 1 ? 0 : v));
    let expected = build([...batch, m, n], (idx) => {
      const bi = idx.slice(0, rank), i = idx[rank]!, j = idx[rank + 1]!;
      let s = 0;
      for (let l = 0; l < k; l++) s += at(A, [...pick(batchA, bi), i, l]) * at(B, [...pick(batchB, bi), l, j]);
      return s;
    });
    const drop = (t: Nested, axisFromEnd: number): Nested => {
      const sh = shapeOf(t);
      const ax = sh.length - axisFromEnd;
      return build(sh.filter((_, i) => i !== ax), (idx) => at(t, [...idx.slice(0, ax), 0, ...idx.slice(ax)]));
    };
    if (sb.length === 1) expected = drop(expected, 1);
    if (sa.length === 1) expected = drop(expected, sb.length === 1 ? 1 : 2);
    assert.deepEqual(run1((x, y) => x.matmul(y), [a, b], vis), expected);
  }), { numRuns: 60 });
});

/** Groups the elements of x by the kept axes and reduces each group with f. */
function reduceRef(x: Nested, axes: number[], keepdims: boolean, f: (vs: number[]) => number): Nested {
  const s = shapeOf(x);
  const outShape = s.map((d, i) => (axes.includes(i) ? 1 : d));
  const full = build(outShape, (idx) => {
    const vals: number[] = [];
    const walk = (ax: number, cur: number[]): void => {
      if (ax === s.length) { vals.push(at(x, cur)); return; }
      if (axes.includes(ax)) for (let i = 0; i < s[ax]!; i++) walk(ax + 1, [...cur, i]);
      else walk(ax + 1, [...cur, idx[ax]!]);
    };
    walk(0, []);
    return f(vals);
  });
  if (keepdims) return full;
  return build(s.filter((_, i) => !axes.includes(i)), (idx) => {
    const src: number[] = [];
    let j = 0;
    for (let i = 0; i < s.length; i++) src.push(axes.includes(i) ? 0 : idx[j++]!);
    return at(full, src);
  });
}

test("sum / amax / amin over an axis, several axes or all, with keepdims", () => {
  const arb = shapeArb(1, 4, 4).chain((s) => fc.tuple(tensorArb(s, -50, 50), fc.subarray(s.map((_, i) => i)), fc.boolean(), fc.boolean()));
  fc.assert(fc.property(arb, ([x, axes, keepdims, negative]) => {
    const rank = shapeOf(x).length;
    const spec = negative ? axes.map((a) => a - rank) : axes;
    const ops: [string, (t: Tracer) => Tracer, (vs: number[]) => number][] = [
      ["sum", (t) => t.sum(spec, keepdims), (vs) => vs.reduce((p, v) => p + v, 0)],
      ["amax", (t) => t.amax(spec, keepdims), (vs) => Math.max(...vs)],
      ["amin", (t) => t.amin(spec, keepdims), (vs) => Math.min(...vs)],
    ];
    for (const [name, op, f] of ops) {
      const want = axes.length === 0 ? x : reduceRef(x, axes, keepdims, f);
      assert.deepEqual(run1(op, [x]), want, `${name} over [${spec}] keepdims=${keepdims}`);
    }
    const all = flat(x);
    assert.deepEqual(run1((t) => t.amax(), [x]), Math.max(...all));
    assert.deepEqual(run1((t) => t.amin(null, true), [x]), build(shapeOf(x).map(() => 1), () => Math.min(...all)));
    assert.deepEqual(run1((t) => t.sum(), [x]), all.reduce((p, v) => p + v, 0));
  }), { numRuns: 60 });
  assert.throws(() => run1((t) => t.max(undefined as unknown as number), [[1, 2]]), /use x\.amax/);
  assert.throws(() => run1((t) => t.sum([0, -2]), [[[1, 2]]]), /repeated axis/);
});

test("amax costs one lookup per pair: n − 1 relu lookups for n elements, in ⌈log₂ n⌉ layers", () => {
  for (const n of [1, 2, 5, 8]) {
    const g = trace((x) => x.amax(), { x: "encrypted" }, { x: [n] });
    const luts = g.nodes.filter((v) => v.kind === "lut");
    assert.equal(luts.reduce((s, v) => s + v.shape.reduce((a, b) => a * b, 1), 0), n - 1, `n = ${n}`);
    assert.equal(luts.length, Math.ceil(Math.log2(n)), `n = ${n}`);
  }
});

test("expandDims / squeeze", () => {
  const x = [[1, 2, 3]];
  assert.deepEqual(shapeOf(run1((a) => a.expandDims(0), [x])), [1, 1, 3]);
  assert.deepEqual(shapeOf(run1((a) => a.expandDims(-1), [x])), [1, 3, 1]);
  assert.deepEqual(shapeOf(run1((a) => a.expandDims([0, 3]), [x])), [1, 1, 3, 1]);
  assert.deepEqual(run1((a) => a.squeeze(), [x]), [1, 2, 3]);
  assert.deepEqual(run1((a) => a.expandDims(2).squeeze([0, -1]), [x]), [1, 2, 3]);
  assert.throws(() => run1((a) => a.squeeze(1), [x]), /axis 1 has size 3, not 1/);
});

test("where(cond, a, b) with an encrypted 0/1 condition and encrypted or clear branches", () => {
  const arb = shapeArb(1, 2, 3).chain((s) => fc.tuple(tensorArb(s, 0, 1), tensorArb(s, -9, 9), tensorArb(s, -9, 9),
    fc.constantFrom<Vis[]>(["encrypted", "encrypted", "encrypted"], ["encrypted", "clear", "encrypted"], ["encrypted", "clear", "clear"], ["clear", "encrypted", "encrypted"])));
  fc.assert(fc.property(arb, ([c, a, b, vis]) => {
    const want = build(shapeOf(c), (idx) => (at(c, idx) === 1 ? at(a, idx) : at(b, idx)));
    assert.deepEqual(run1((cc, aa, bb) => where(cc, aa, bb), [c, a, b], vis), want);
  }), { numRuns: 40 });
  // Numbers as branches, the condition from a comparison; broadcast scalar branch.
  assert.deepEqual(run1((x) => T.where(x.gt(2), x, 0), [[1, 3, 5]]), [0, 3, 5]);
  assert.deepEqual(run1((x) => where(x.le(2), 10, x.neg()), [[1, 3, 5]]), [10, -3, -5]);
  // A clear a − b costs no lookup beyond the comparison.
  const g = trace((x) => where(x.gt(2), 7, 3), { x: "encrypted" }, { x: [3] });
  assert.equal(g.nodes.filter((v) => v.kind === "lut").length, 1);
});

test("stack, array (Concrete's fhe.array), zeros, ones", () => {
  const x = [[1, 2], [3, 4]];
  assert.deepEqual(run1((a) => stack([a.index(0), a.index(1), [9, 9]], 1), [x]), [[1, 3, 9], [2, 4, 9]]);
  assert.deepEqual(run1((a) => stack([a.sum(), 5, a.index(1, 1)]), [x]), [10, 5, 4]);
  assert.deepEqual(run1((a) => array([[a.index(0, 0), 0], [a.sum(), a.index(1, 0).neg()]]), [x]), [[1, 0], [10, -3]]);
  assert.deepEqual(run1((a) => array([a.index(0), a.index(1).mul(2), 1]), [x]), [[1, 2], [6, 8], [1, 1]], "tensor leaves, a scalar broadcast");
  assert.deepEqual(run1((a) => ones([2, 2]).add(a), [x]), [[2, 3], [4, 5]]);
  assert.deepEqual(run1((a) => T.full([3], -2).mul(a.sum()), [x]), [-20, -20, -20]);
  const g = trace((a) => array([a, 1]), { a: "encrypted" });
  assert.equal(g.nodes[g.outputs[0]!]!.encrypted, true);
  assert.throws(() => zeros([2]), /outside a traced function/);
  assert.throws(() => run1((a) => stack([a, a.sum()]), [x]), /shapes \[2,2\] and \[\] differ/);
  assert.throws(() => run1((a) => array([[a.sum()], [1, 2]]), [x]), /ragged/);
});

// ---- convolution and pooling, against direct loops ----

interface ConvCase {
  x: number[][][][]; w: number[][][][]; bias?: number[];
  stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number;
}

function convRef({ x, w, bias, stride, padding, dilation, groups }: ConvCase): number[][][][] {
  const [N, , H, W] = shapeOf(x) as [number, number, number, number];
  const [O, Cg, KH, KW] = shapeOf(w) as [number, number, number, number];
  const OH = Math.floor((H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0]) + 1;
  const OW = Math.floor((W + 2 * padding[1] - dilation[1] * (KW - 1) - 1) / stride[1]) + 1;
  const og = O / groups;
  return build([N, O, OH, OW], ([n, o, oh, ow]) => {
    const g = Math.floor(o! / og);
    let s = bias?.[o!] ?? 0;
    for (let c = 0; c < Cg; c++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const h = oh! * stride[0] + kh * dilation[0] - padding[0], ww = ow! * stride[1] + kw * dilation[1] - padding[1];
          if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
          s += x[n!]![g * Cg + c]![h]![ww]! * w[o!]![c]![kh]![kw]!;
        }
      }
    }
    return s;
  }) as number[][][][];
}

const pairArb = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

const convArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 2 }), og: fc.integer({ min: 1, max: 2 }),
  hw: pairArb(1, 5), k: pairArb(1, 3), stride: pairArb(1, 2), padding: pairArb(0, 2), dilation: pairArb(1, 2), bias: fc.boolean(),
}).filter(({ hw, k, padding, dilation }) => [0, 1].every((a) => hw[a]! + 2 * padding[a]! >= dilation[a]! * (k[a]! - 1) + 1))
  .chain((p) => fc.record({
    x: tensorArb([p.n, p.groups * p.cg, p.hw[0], p.hw[1]], -8, 8),
    w: tensorArb([p.groups * p.og, p.cg, p.k[0], p.k[1]], -3, 3),
    bias: p.bias ? tensorArb([p.groups * p.og], -5, 5) : fc.constant(undefined),
    stride: fc.constant(p.stride), padding: fc.constant(p.padding), dilation: fc.constant(p.dilation), groups: fc.constant(p.groups),
  })) as fc.Arbitrary<ConvCase>;

test("conv2d (stride, padding, dilation, groups, bias; clear kernel) equals the direct 7-loop convolution", () => {
  fc.assert(fc.property(convArb, (c) => {
    const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, ...(c.bias ? { bias: c.bias } : {}) };
    assert.deepEqual(run1((x) => x.conv2d(c.w, opts), [c.x]), convRef(c));
  }), { numRuns: 80 });
});

test("conv2d: CHW input, a clear kernel input, numbers for pairs, and shape errors", () => {
  const x = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]];
  const w = [[[[1, -1], [2, 0]]]];
  const want = convRef({ x: [x], w, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 })[0]!;
  assert.deepEqual(run1((a) => conv2d(a, w, { padding: 1 }), [x]), want);
  assert.deepEqual(run1((a, k) => a.conv2d(k, { padding: 1 }), [x, w], ["encrypted", "clear"]), want, "the kernel as a clear input");
  // No padding: no concat with a zero.
  const g = trace((a) => a.conv2d(w), { a: "encrypted" }, { a: [1, 3, 3] });
  assert.equal(g.nodes.filter((v) => v.kind === "concat").length, 0);
  assert.ok(g.nodes.some((v) => v.kind === "gather"));
  assert.throws(() => run1((a) => a.conv2d([[[[1]]], [[[1]]]], { groups: 2 }), [x]), /groups = 2 do not fit/);
  assert.throws(() => run1((a) => a.conv2d([[[[1, 1, 1, 1]]]]), [x]), /does not fit the 3×3 input/);
  assert.throws(() => run1((a) => a.conv2d(w, { bias: [1, 2] }), [x]), /bias shape \[2\] is not \[1\]/);
  assert.throws(() => run1((a) => a.conv2d(w), [[1, 2]]), /not NCHW or CHW/);
});

interface PoolCase { x: number[][][][]; k: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number] }

/** Values of the window taps inside the input (max pooling) and the window sum with zero padding. */
function poolRef({ x, k, stride, padding, dilation }: PoolCase, reduce: (taps: number[], area: number) => number): Nested {
  const [N, C, H, W] = shapeOf(x) as [number, number, number, number];
  const OH = Math.floor((H + 2 * padding[0] - dilation[0] * (k[0] - 1) - 1) / stride[0]) + 1;
  const OW = Math.floor((W + 2 * padding[1] - dilation[1] * (k[1] - 1) - 1) / stride[1]) + 1;
  return build([N, C, OH, OW], ([n, c, oh, ow]) => {
    const taps: number[] = [];
    for (let kh = 0; kh < k[0]; kh++) {
      for (let kw = 0; kw < k[1]; kw++) {
        const h = oh! * stride[0] + kh * dilation[0] - padding[0], w = ow! * stride[1] + kw * dilation[1] - padding[1];
        if (h >= 0 && h < H && w >= 0 && w < W) taps.push(x[n!]![c!]![h]![w]!);
      }
    }
    return reduce(taps, k[0] * k[1]);
  });
}

const poolArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), hw: pairArb(1, 5), k: pairArb(1, 3), stride: pairArb(1, 3), dilation: pairArb(1, 2),
  pad: pairArb(0, 1),
}).map((p) => ({ ...p, padding: p.pad.map((v, a) => Math.min(v, Math.floor(p.k[a]! / 2))) as [number, number] }))
  .filter(({ hw, k, padding, dilation }) => [0, 1].every((a) => hw[a]! + 2 * padding[a]! >= dilation[a]! * (k[a]! - 1) + 1))
  .chain((p) => fc.record({
    x: tensorArb([p.n, p.c, p.hw[0], p.hw[1]], -20, 20), k: fc.constant(p.k), stride: fc.constant(p.stride),
    padding: fc.constant(p.padding), dilation: fc.constant(p.dilation),
  })) as fc.Arbitrary<PoolCase>;

test("maxpool2d (kernel, stride, padding, dilation) equals the max over the window's taps inside the input", () => {
  fc.assert(fc.property(poolArb, (p) => {
    const opts = { kernel: p.k, stride: p.stride, padding: p.padding, dilation: p.dilation };
    // Some windows with dilation and padding have no tap inside the input: that is an error, as in PyTorch.
    let want: Nested;
    try {
      want = poolRef(p, (taps) => { if (taps.length === 0) throw new RangeError("empty window"); return Math.max(...taps); });
    } catch {
      assert.throws(() => run1((x) => maxpool2d(x, opts), [p.x]), /lies entirely in the padding/);
      return;
    }
    assert.deepEqual(run1((x) => maxpool2d(x, opts), [p.x]), want);
  }), { numRuns: 80 });
  assert.deepEqual(run1((x) => x.maxpool2d({ kernel: 2 }), [[[[1, 5, 2, 0], [3, 4, 9, 9], [0, 0, 1, 1], [-1, 7, 1, 2]]]]), [[[5, 9], [7, 2]]], "CHW");
  assert.throws(() => run1((x) => x.maxpool2d({ kernel: 2, padding: 2 }), [[[[1]]]]), /exceeds half the kernel/);
});

test("avgpool2d: window sum (zero padding counts), rounded or floored division by the kernel area", () => {
  fc.assert(fc.property(poolArb, (p) => {
    const opts = { kernel: p.k, stride: p.stride, padding: p.padding, dilation: p.dilation };
    const sum = (taps: number[]) => taps.reduce((a, b) => a + b, 0);
    assert.deepEqual(run1((x) => avgpool2d(x, { ...opts, divisor: "none" }), [p.x]), poolRef(p, sum));
    assert.deepEqual(run1((x) => x.avgpool2d({ ...opts, divisor: "floor" }), [p.x]), poolRef(p, (t, a) => Math.floor(sum(t) / a)));
    // Round half up: s/a + 1/2 floored, computed here with exact fractions of a.
    assert.deepEqual(run1((x) => x.avgpool2d(opts), [p.x]), poolRef(p, (t, a) => {
      const s = sum(t), q = Math.floor(s / a), r = s - q * a;
      return 2 * r >= a ? q + 1 : q;
    }));
  }), { numRuns: 60 });
  // 2×2 average of [[1, 2], [3, 5]] = 11/4 → 3 (round), 2 (floor); −11/4 → −3 (round), −3 (floor).
  assert.deepEqual(run1((x) => x.avgpool2d({ kernel: 2 }), [[[[1, 2], [3, 5]]]]), [[[3]]]);
  assert.deepEqual(run1((x) => x.neg().avgpool2d({ kernel: 2, divisor: "floor" }), [[[[1, 2], [3, 5]]]]), [[[-3]]]);
  assert.deepEqual(run1((x) => x.neg().avgpool2d({ kernel: 2 }), [[[[1, 2], [3, 5]]]]), [[[-3]]]);
});

// ---- the gather node ----

test("gather nodes: verify rejects bad indices; the graph codec round-trips them and refuses bad ones", () => {
  assert.deepEqual([...MOVE_KINDS].sort(), ["broadcast", "concat", "gather", "reshape", "slice"]);
  const g = trace((x) => x.transpose().index([1, 0, 1]), { x: "encrypted" }, { x: [2, 3] });
  const gathers = g.nodes.filter((n) => n.kind === "gather");
  assert.equal(gathers.length, 2);
  const back = graphFromJson(JSON.parse(JSON.stringify(graphToJson(g))));
  assert.deepEqual(back.nodes.map((n) => n.kind), g.nodes.map((n) => n.kind));
  assert.deepEqual(toNested(evaluate(back, [[[1, 2, 3], [4, 5, 6]]])[0]!), [[2, 5], [1, 4], [2, 5]]);
  const id = gathers[0]!.id;
  const edit = (patch: object) => ({ ...g, nodes: g.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)) }) as typeof g;
  assert.throws(() => verify(edit({ indices: Int32Array.of(0, 1, 2, 3, 4, 6) })), /index 5 = 6 is outside the input's 6 elements/);
  assert.throws(() => verify(edit({ indices: Int32Array.of(0, 1, 2, 3, 4, -1) })), /index 5 = -1/);
  assert.throws(() => verify(edit({ indices: Int32Array.of(0, 1) })), /gather has 2 indices for output shape \[3,2\]/);
  assert.throws(() => verify(edit({ indices: [0, 1, 2, 3, 4, 5] })), /gather has/);
  const json = graphToJson(g) as { nodes: { kind: string; indices?: number[] }[] };
  for (const bad of [[0, 1, 2, 3, 4, 2 ** 32], [0, 1, 2, 3, 4, -1], [0, 1, 2, 3, 4, 0.5], "x"]) {
    const j = JSON.parse(JSON.stringify(json)) as typeof json;
    j.nodes[id]!.indices = bad as number[];
    assert.throws(() => graphFromJson(j), (e: unknown) => e instanceof Error && e.name === "DeserializationError" && /indices/.test(e.message), JSON.stringify(bad));
  }
  const j = JSON.parse(JSON.stringify(json)) as typeof json;
  j.nodes[id]!.indices = [0, 1, 2, 3, 4, 9];
  assert.throws(() => graphFromJson(j), (e: unknown) => e instanceof Error && /outside the input's 6 elements/.test(e.message));
});

test("Σw² through gathers: repeated picks add coefficients (x0 picked twice then summed: 2² + 1²)", () => {
  const norm = (fn: (x: Tracer) => Tracer, shape: number[]) => {
    const g = trace(fn, { x: "encrypted" }, { x: shape });
    // The clear nodes here derive from constants only: their values on any sample are exact weights.
    const values = evaluateAll(g, [build(shape, () => 0)]);
    return squaredNorms(g, (id) => Array.from(values[id]!.data, (v) => ({ lo: v, hi: v })))[g.outputs[0]!];
  };
  assert.equal(norm((x) => x.index([0, 0, 1]).sum(), [3]), 5);
  assert.equal(norm((x) => x.transpose().index(null, [1, 1]).sum(), [2, 3]), 3 * 4, "column 1 of xᵀ twice: 2·x[1, j] for each j");
  assert.equal(norm((x) => x.conv2d([[[[1, 1]]]], { padding: [0, 1] }).sum(), [1, 1, 3]), 4 * 3, "each element in two windows; the pad adds nothing");
});
