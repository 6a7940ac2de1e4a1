// The new tensor ops through FHE at real parameters: one small circuit (16 PBS at 4 bits) with a
// padded conv2d, max and average pooling, transpose, fancy indexing, a negative step, at().set into
// zeros, a batched matmul, stack, amax and where on an encrypted condition; decrypted results equal the
// clear run, in process and through the serialized client and server halves.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { type Circuit, compile, prng, stack, toNested, type Tracer, where, zeros } from "../../src/compiler/index.js";
import { deployedRun } from "../helpers/deployed.js";

const circuits: Circuit[] = [];
after(() => { for (const c of circuits) c.dispose(); });

const W = [[[[1, 1], [0, 1]]]]; // OIHW [1, 1, 2, 2]

function program(x: Tracer, y: Tracer): Tracer[] {
  const conv = x.conv2d(W, { padding: 1, bias: [-1] }); // [1, 3, 3], values in [−1, 8]
  return [
    conv.maxpool2d({ kernel: 3 }), // 8 lookups
    x.avgpool2d({ kernel: 2 }), // 1 lookup: round(sum / 4)
    x.transpose([0, 2, 1]).index(0, [1, 0, 1]).slice(null, [null, null, -1]),
    x.matmul([[1, 2], [0, -1]]), // [1, 2, 2] @ [2, 2]: batched
    zeros([3]).at(1).set(y.sum()),
    stack([y.index(1), 2, x.index(0, 0, 0)]),
    y.amax(), // 1 lookup
    where(y.gt(1), y, y.index([1, 0]).neg()), // 2 comparisons + 2 encrypted products of 2 lookups
  ];
}

/** The same computations with loops over plain arrays, for one sample. */
function reference(x: number[][][], y: number[]): unknown[] {
  const X = x[0]!;
  const conv = [0, 1, 2].map((i) => [0, 1, 2].map((j) => {
    let s = -1;
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
      const h = i - 1 + a, w = j - 1 + b;
      if (h >= 0 && h < 2 && w >= 0 && w < 2) s += X[h]![w]! * W[0]![0]![a]![b]!;
    }
    return s;
  }));
  const sum4 = X[0]![0]! + X[0]![1]! + X[1]![0]! + X[1]![1]!;
  return [
    [[[Math.max(...conv.flat())]]],
    [[[Math.floor((2 * sum4 + 4) / 8)]]],
    [1, 0, 1].map((j) => [X[1]![j]!, X[0]![j]!]),
    [X.map((r) => [r[0]!, 2 * r[0]! - r[1]!])],
    [0, y[0]! + y[1]!, 0],
    [y[1]!, 2, X[0]![0]!],
    Math.max(...y),
    y.map((v, i) => (v > 1 ? v : 0 - y[1 - i]!)),
  ];
}

function sample(r: () => number): [number[][][], number[]] {
  const v = () => Math.floor(r() * 4);
  return [[[[v(), v()], [v(), v()]]], [v(), v()]];
}

test("conv2d, pools, moves, batched matmul, amax and where: FHE = clear = loops, in process and through the client/server halves", () => {
  const r = prng(99);
  const inputset = [
    [[[[0, 0], [0, 0]]], [0, 0]], [[[[3, 3], [3, 3]]], [3, 3]], [[[[3, 0], [0, 3]]], [0, 3]], [[[[0, 3], [3, 0]]], [3, 0]],
    ...Array.from({ length: 30 }, () => sample(r)),
  ];
  const c = compile(program, { x: "encrypted", y: "encrypted" }, inputset, { shapes: { x: [1, 2, 2], y: [2] } });
  circuits.push(c);
  assert.ok(c.encoding.bits <= 5, `bits = ${c.encoding.bits}`);
  for (const s of inputset.slice(0, 5)) {
    const [x, y] = s as [number[][][], number[]];
    assert.deepEqual(c.runClear(x, y).map(toNested), reference(x, y), `clear on ${JSON.stringify(s)}`);
  }
  for (const s of inputset.slice(2, 3)) {
    assert.deepEqual(c.encryptRunDecrypt(...s).map(toNested), c.runClear(...s).map(toNested), `FHE on ${JSON.stringify(s)}`);
  }
  const s = inputset[5]!;
  assert.deepEqual(deployedRun(c, ...s).map(toNested), c.runClear(...s).map(toNested), `halves on ${JSON.stringify(s)}`);
});
