// The text views: one line a node, and the summary of what drives the cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tracer, compile, describe, graphText, lut, round, trace } from "../../src/compiler/index.js";

test("graphText prints one line a node with types, and the outputs", () => {
  const g = trace((x, y) => x.add(y).sum(0), { x: "encrypted", y: "clear" }, { x: [4], y: [4] });
  assert.equal(graphText(g), [
    '%0 = input("x", encrypted) : ?[4]',
    '%1 = input("y", clear) : clear ?[4]',
    "%2 = add(%0, %1) : ?[4]",
    "%3 = sum(%2, axis=0) : ?",
    "return %3",
  ].join("\n"));
});

test("with bounds, types carry bit widths: %5 = add(%3, %4) : i6[4]", () => {
  const c = compile((x) => {
    const s = x.slice([1, 3]);
    return [lut(round(x.mul(-3).add([1, 2, 3, 4]), 2), (v) => v >> 2, "shr"), Tracer.concat([s, s])];
  }, { x: "encrypted" }, [[[0, 1, 2, 3]], [[5, 6, 7, 9]]]);
  assert.equal(c.text(), [
    '%0 = input("x", encrypted) : u4[4]',
    "%1 = slice(%0, 1:3) : u3[2]",
    "%2 = constant([-3]) : clear i3",
    "%3 = mul(%0, %2) : i6[4]",
    "%4 = constant([1, 2, 3, 4]) : clear u3[4]",
    "%5 = add(%3, %4) : i6[4]",
    "%6 = round(%5, lsbs=2) : i6[4]",
    "%7 = lut(%6, shr, table=[-24..0 step 4]) : i4[4]",
    "%8 = concat(%1, %1, axis=0) : u3[4]",
    "return %7, %8",
  ].join("\n"));
  assert.equal(graphText(c.graph, c.bounds), c.text());
});

test("describe summarises ops, lookups, widths and Σw²", () => {
  const W = [[1, 2], [3, 4], [5, 6]];
  const c = compile((x) => lut(x.matmul(W), (v) => Math.max(v, 0), "relu").sum(), { x: "encrypted" }, [[[0, 1, 2]], [[3, 2, 1]]]);
  const d = c.describe();
  assert.match(d, /^inputs: x: encrypted u2\[3\]$/m);
  assert.match(d, /^ops: constant 1, input 1, lut 1, matmul 1, sum 1$/m);
  assert.match(d, /^encrypted lookups: 1 nodes, 2 table lookups \(one per element\)$/m);
  assert.match(d, /^max lookup input: 5 bits \(%3\) \(limit 8\)$/m);
  assert.match(d, /^max Σw² into a lookup: 56; max Σw² of any encrypted node: 56$/m);
  assert.match(d, /^ {2}%2 = matmul\(%0, %1\) : u5\[2\] {2}range \[13, 20\] {2}Σw²=56$/m);
  // Without bounds: the structure only.
  assert.match(describe(c.graph), /^ops: .*lut 1/m);
  assert.doesNotMatch(describe(c.graph), /Σw²/);
});
