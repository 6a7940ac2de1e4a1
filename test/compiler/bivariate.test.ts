// Bivariate lookups f(x, y) and the bitwise ops built on them: in the clear against JS over every pair,
// lowered to one lookup of a packed index, and in FHE through the client/server halves for every pair.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CircuitClient, CircuitServer, compile, evaluate, EvaluationError, lut2, toNested, trace, type Tracer,
} from "../../src/compiler/index.js";

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);

function allPairs(xLo: number, xHi: number, yLo: number, yHi: number): [number[], number[]] {
  const xs: number[] = [], ys: number[] = [];
  for (let x = xLo; x <= xHi; x++) for (let y = yLo; y <= yHi; y++) xs.push(x), ys.push(y);
  return [xs, ys];
}

const reference = (xs: number[], ys: number[]) => [
  xs.map((x, i) => x & ys[i]!), xs.map((x, i) => x | ys[i]!), xs.map((x, i) => x ^ ys[i]!),
  xs.map((x, i) => x * 2 ** ys[i]!), xs.map((x, i) => Math.floor(x / 2 ** ys[i]!)), xs.map((x, i) => ((3 * x + ys[i]! * ys[i]!) % 5) + 0),
];

test("bitwise and/or/xor, shifts and a custom lut2: clear over every pair of an i3 × u2 box, negative values in two's complement", () => {
  const [xs, ys] = allPairs(-4, 3, 0, 3);
  const fn = (x: Tracer, y: Tracer) => [
    x.bitwiseAnd(y), x.bitwiseOr(y), x.bitwiseXor(y), x.leftShift(y), x.rightShift(y), lut2(x, y, (a, b) => (3 * a + b * b) % 5, "g"),
  ];
  const g = trace(fn, { x: "clear", y: "clear" }, { x: [xs.length], y: [ys.length] });
  assert.ok(g.nodes.some((n) => n.kind === "lut2"));
  assert.deepEqual(evaluate(g, [xs, ys]).map(toNested), reference(xs, ys));
  // Encrypted: each lookup of (x, y) is lowered to one lookup of the packed index (x + 4)·4 + y, shared.
  const c = compile(fn, { x: "encrypted", y: "encrypted" }, [[fill(xs.length, -3), fill(ys.length, 1)], [fill(xs.length, 2), fill(ys.length, 2)]],
    { shapes: { x: [xs.length], y: [ys.length] } });
  assert.equal(c.graph.nodes.filter((n) => n.kind === "lut2").length, 0);
  const luts = c.bounds.luts;
  assert.equal(luts.length, 6);
  assert.equal(new Set(luts.map((l) => c.graph.nodes[l.node]!.args[0])).size, 1, "one packed input");
  assert.deepEqual([luts[0]!.inputMin, luts[0]!.inputMax, luts[0]!.inputBits], [0, 31, 5]);
  assert.deepEqual(c.runClear(xs, ys).map(toNested), reference(xs, ys));
  // With a number: a univariate lookup.
  assert.equal(trace((x) => x.bitwiseAnd(6), { x: "encrypted" }).nodes.at(-1)!.kind, "lut");
  // A negative shift is an error, not a silent value.
  assert.throws(() => evaluate(trace((x, y) => x.leftShift(y), { x: "clear", y: "clear" }), [1, -1]), EvaluationError);
});

test("bivariate lookups in FHE: and, xor, shifts and max of two u2 values, every pair through the deployed halves", () => {
  const [xs, ys] = allPairs(0, 3, 0, 3);
  const c = compile((x, y) => [x.bitwiseAnd(y), x.bitwiseXor(y), x.leftShift(y.rightShift(1)), lut2(x, y, (a, b) => Math.max(a, b), "max")],
    { x: "encrypted", y: "encrypted" }, [[fill(16, 0), fill(16, 0)], [fill(16, 3), fill(16, 2)]], { shapes: { x: [16], y: [16] } });
  try {
    const expected = [xs.map((x, i) => x & ys[i]!), xs.map((x, i) => x ^ ys[i]!), xs.map((x, i) => x * 2 ** (ys[i]! >> 1)), xs.map((x, i) => Math.max(x, ys[i]!))];
    assert.deepEqual(c.runClear(xs, ys).map(toNested), expected);
    assert.ok(c.encoding.bits <= 4, `bits = ${c.encoding.bits}`);
    const client = CircuitClient.deserialize(c.client.serialize());
    const server = CircuitServer.deserialize(c.server.serialize());
    client.keygen();
    const keys = server.loadKeys(client.serializedEvaluationKeys()!);
    try {
      assert.deepEqual(client.decrypt(server.run(client.encrypt(xs, ys), keys)).map(toNested), expected);
    } finally {
      keys?.free();
    }
  } finally {
    c.dispose();
  }
});
