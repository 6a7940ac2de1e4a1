// Every input the client accepts gives the right answer, on the deployed path: the client and server halves
// decoded from bytes, at real parameters, exhaustively over small input domains (each whole domain in one
// batched request), against the clear function written directly in the test. Inputsets are deliberately
// sparse: the accepted domain is each encrypted input's whole bit width, far beyond what they show.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Circuit, CircuitClient, CircuitServer, compile, InputOutOfRangeError, maximum, minimum, relu, serializeValues,
  toNested, type TraceFn,
} from "../../src/compiler/index.js";
import { deployedRun } from "../helpers/deployed.js";

/** All pairs (x, y) of [lo, hi]², as two vectors. */
function allPairs(lo: number, hi: number): [number[], number[]] {
  const xs: number[] = [], ys: number[] = [];
  for (let x = lo; x <= hi; x++) for (let y = lo; y <= hi; y++) xs.push(x), ys.push(y);
  return [xs, ys];
}

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);

function compilePairs(fn: TraceFn, n: number, inputset: readonly [number, number][]): Circuit {
  return compile(fn, { x: "encrypted", y: "encrypted" }, inputset.map(([a, b]) => [fill(n, a), fill(n, b)]), { shapes: { x: [n], y: [n] } });
}

test("comparisons, min and max of two u3 values: every pair right through the deployed halves (inputset saw x − y ∈ [−2, 0])", () => {
  const [xs, ys] = allPairs(0, 7);
  const c = compilePairs((x, y) => [x.lt(y), x.le(y), x.gt(y), x.eq(y), maximum(x, y), minimum(x, y)], xs.length, [[0, 0], [7, 7], [3, 5]]);
  try {
    assert.deepEqual(c.graph.inputs.map((id) => [c.bounds.nodes[id]!.min, c.bounds.nodes[id]!.max]), [[0, 7], [0, 7]]);
    const expected = [
      xs.map((x, i) => +(x < ys[i]!)), xs.map((x, i) => +(x <= ys[i]!)), xs.map((x, i) => +(x > ys[i]!)),
      xs.map((x, i) => +(x === ys[i]!)), xs.map((x, i) => Math.max(x, ys[i]!)), xs.map((x, i) => Math.min(x, ys[i]!)),
    ];
    assert.deepEqual(c.runClear(xs, ys).map(toNested), expected, "clear");
    assert.deepEqual(c.simulate(xs, ys).map(toNested), expected, "simulate");
    assert.deepEqual(deployedRun(c, xs, ys).map(toNested), expected, "FHE through the client and server halves");
    // Just outside the width: refused by the client with the input named.
    const client = CircuitClient.deserialize(c.client.serialize());
    client.keygen();
    assert.throws(() => client.encrypt(fill(xs.length, 8), ys), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "x" && e.value === 8);
  } finally {
    c.dispose();
  }
});

test("encrypted × encrypted product of two u2 values and the README's matmul + relu: every input right when deployed", () => {
  const [xs, ys] = allPairs(0, 3);
  const prod = compilePairs((x, y) => x.mul(y), xs.length, [[0, 0], [1, 1], [2, 3]]);
  try {
    const expected = [xs.map((x, i) => x * ys[i]!)];
    assert.deepEqual(prod.runClear(xs, ys).map(toNested), expected);
    assert.deepEqual(deployedRun(prod, xs, ys).map(toNested), expected);
  } finally {
    prod.dispose();
  }
  // The README example: x ∈ u2³ (64 rows in one request); [3, 0, 0] gave [3, 23] before ranges were derived.
  const W = [[1, -2], [3, 1], [-1, 2]];
  const rows: number[][] = [];
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) for (let d = 0; d < 4; d++) rows.push([a, b, d]);
  const readme = [[0, 0, 0], [3, 3, 3], [1, 2, 3], [3, 0, 1], [0, 3, 2]];
  const c = compile((x) => relu(x.matmul(W)), { x: "encrypted" }, readme.map((r) => [rows.map(() => r)]));
  try {
    const expected = rows.map((r) => [0, 1].map((j) => Math.max(0, r.reduce((s, v, i) => s + v * W[i]![j]!, 0))));
    assert.deepEqual(expected[rows.findIndex((r) => r.join() === "3,0,0")], [3, 0]);
    assert.deepEqual(toNested(c.runClear(rows)[0]!), expected);
    assert.deepEqual(toNested(deployedRun(c, rows)[0]!), expected);
  } finally {
    c.dispose();
  }
});

test("the server refuses clear inputs outside their accepted range (it sees them), before any evaluation", () => {
  const c = compile((x, w) => x.mul(w), { x: "encrypted", w: "clear" }, [[1, 2], [3, 5]]);
  try {
    const server = CircuitServer.deserialize(c.server.serialize());
    assert.deepEqual(server.spec.inputRanges, [{ min: 0, max: 3 }, { min: 2, max: 5 }]);
    const client = CircuitClient.deserialize(c.client.serialize());
    client.keygen();
    assert.deepEqual(toNested(client.decrypt(server.run(client.encrypt(3, 5), undefined))[0]!), 15);
    assert.throws(() => client.encrypt(3, 6), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "w");
    // A request built by hand, as a hostile or buggy client could: w = 1000.
    const [enc] = client.encryptValues(3, 5);
    const forged = serializeValues([enc!, { shape: [], data: Float64Array.of(1000) }], client.params);
    assert.throws(() => server.run(forged, undefined), (e: unknown) =>
      e instanceof InputOutOfRangeError && e.where === "w" && e.value === 1000 && /clear input "w" element 0 = 1000 is outside \[2, 5\]/.test(e.message));
  } finally {
    c.dispose();
  }
});
