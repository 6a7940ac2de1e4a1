// Tracing yields verified graphs; the verifier rejects malformed ones; trace-time errors name the node.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compile, type Graph, type Node, GraphError, Tracer, lut, relu, round, trace, verify, minimum, maximum, evaluate, graphText,
} from "../../src/compiler/index.js";
import { shapeArb } from "./reference.js";

const kinds = (g: Graph) => g.nodes.map((n) => n.kind);

test("trace records inputs in spec order, with shapes, visibility and outputs", () => {
  const g = trace((x, w) => [x.matmul(w).relu(), x.sum()], { x: "encrypted", w: "clear" }, { x: [2, 3], w: [3, 4] });
  verify(g);
  assert.deepEqual(g.inputs.map((i) => g.nodes[i]!.kind === "input" && g.nodes[i]!.name), ["x", "w"]);
  assert.deepEqual(g.nodes[g.inputs[1]!]!.encrypted, false);
  assert.deepEqual(g.outputs.map((o) => g.nodes[o]!.shape), [[2, 4], []]);
  assert.deepEqual(kinds(g), ["input", "input", "matmul", "lut", "sum"]);
  assert.ok(g.nodes.slice(2).every((n) => n.encrypted));
});

test("random chains of ops trace to graphs that verify and keep their shapes", () => {
  const ops: ((t: Tracer) => Tracer)[] = [
    (t) => t.add(1), (t) => t.sub(t), (t) => t.neg(), (t) => t.mul(-3), (t) => relu(t), (t) => round(t, 1),
    (t) => t.flatten(), (t) => t.sum(0), (t) => t.sum(), (t) => Tracer.concat([t, t], 0), (t) => t.slice([0, 1]),
    (t) => t.broadcastTo([2, ...t.shape]), (t) => t.gt(0), (t) => t.max(t.neg()), (t) => t.abs(),
  ];
  fc.assert(fc.property(shapeArb(), fc.array(fc.nat({ max: ops.length - 1 }), { maxLength: 8 }), (shape, chain) => {
    const g = trace((x) => {
      let t = x;
      for (const i of chain) if (t.ndim > 0 || (i !== 7 && i !== 9 && i !== 10)) t = ops[i]!(t);
      return t;
    }, { x: "encrypted" }, { x: shape });
    verify(g);
    assert.ok(g.nodes.every((n, i) => n.id === i && n.args.every((a) => a < i)));
    const out = evaluate(g, [new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(2)])[0]!;
    assert.deepEqual(out.shape, g.nodes[g.outputs[0]!]!.shape);
  }));
});

test("dead nodes are dropped; inputs always stay", () => {
  const g = trace((x, y) => {
    x.mul(5).add(7); // unused
    return x.add(1);
  }, { x: "encrypted", y: "encrypted" });
  assert.deepEqual(kinds(g), ["input", "input", "constant", "add"]);
});

test("comparisons between encrypted values go through one lookup on the difference", () => {
  const g = trace((a, b) => [a.gt(b), minimum(a, b), maximum(a, 3)], { a: "encrypted", b: "encrypted" });
  const luts = g.nodes.filter((n) => n.kind === "lut");
  assert.equal(luts.length, 3);
  assert.equal(g.nodes[luts[0]!.args[0]!]!.kind, "sub");
  assert.ok(!g.nodes.some((n) => n.kind === "mul"));
});

test("shape errors at trace time name the node being created and the operands", () => {
  const err = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof GraphError && re.test(e.message));
  err(() => trace((x, y) => x.add(y), { x: "encrypted", y: "encrypted" }, { x: [3], y: [4] }), /%2 = add\(%0: \[3\], %1: \[4\]\): shapes \[3\] and \[4\] do not broadcast/);
  err(() => trace((x) => x.matmul([[1, 2]]), { x: "encrypted" }, { x: [3] }), /%2 = matmul.*do not multiply/);
  err(() => trace((x) => x.reshape([4]), { x: "encrypted" }, { x: [3] }), /%1 = reshape.*cannot reshape \[3\] to \[4\]/);
  err(() => trace((x) => x.broadcastTo([2]), { x: "encrypted" }, { x: [3] }), /cannot broadcast \[3\] to \[2\]/);
  err(() => trace((x) => x.sum(1), { x: "encrypted" }, { x: [3] }), /axis 1 out of range/);
  err(() => trace((x) => x.index(3), { x: "encrypted" }, { x: [3] }), /index 3 out of range/);
  err(() => trace((x) => x.slice([2, 2]), { x: "encrypted" }, { x: [3] }), /%1 = slice.*empty/);
  err(() => trace((x) => Tracer.concat([x, x.sum()]), { x: "encrypted" }, { x: [3] }), /concat.*differ outside axis 0/);
  err(() => trace((x) => round(x, -1), { x: "encrypted" }), /%1 = round.*lsbs = -1/);
  err(() => trace((x) => x.add([1.5]), { x: "encrypted" }), /constant operand: element 0 = 1.5 is not a safe integer/);
});

test("encrypted × encrypted products lower to lookups; hand-built enc × enc mul/matmul nodes are rejected", () => {
  // Traced as a bivariate lookup tagged "mul"; compile lowers it once the ranges are known. Narrow:
  // x·y = ⌊(x+y)²/4⌋ − ⌊(x−y)²/4⌋: add, two lookups, sub, sub; then a free `bound` (range of x·y).
  const t = trace((x, y) => x.mul(y), { x: "encrypted", y: "encrypted" });
  assert.deepEqual(t.nodes.map((n) => [n.kind, n.kind === "lut2" ? n.op : undefined]), [["input", undefined], ["input", undefined], ["lut2", "mul"]]);
  const g = compile((x, y) => x.mul(y), { x: "encrypted", y: "encrypted" }, [[0, 0], [3, 3]]).graph;
  assert.deepEqual(g.nodes.map((n) => n.kind), ["input", "input", "add", "lut", "sub", "lut", "sub", "bound"]);
  assert.deepEqual(g.nodes[7]!.args, [6, 0, 1]);
  assert.deepEqual(compile((x) => x.mul(x), { x: "encrypted" }, [[0], [3]]).graph.nodes.map((n) => n.kind), ["input", "lut"]);
  // Encrypted matmul: products broadcast over the inner axis, then summed.
  const m = trace((a, b) => a.matmul(b), { a: "encrypted", b: "encrypted" }, { a: [2, 3], b: [3, 4] });
  assert.deepEqual(m.nodes[m.outputs[0]!]!.shape, [2, 4]);
  assert.equal(m.nodes.filter((n) => n.kind === "lut2").length, 1);
  assert.deepEqual(trace((a, b) => a.dot(b), { a: "encrypted", b: "encrypted" }, { a: [3], b: [3] }).nodes.at(-1)!.shape, []);
  assert.throws(() => trace((a, b) => a.matmul(b), { a: "encrypted", b: "encrypted" }, { a: [2, 3], b: [2, 2] }),
    (e: unknown) => e instanceof GraphError && /matmul of %0: shapes \[2,3\] and \[2,2\] do not multiply/.test(e.message));
  // verify() still rejects such nodes when a graph is built by hand.
  const bad = { ...g, nodes: [g.nodes[0]!, g.nodes[1]!, { ...g.nodes[2]!, kind: "mul" as const }], outputs: [2] };
  assert.throws(() => verify(bad), (e: unknown) => e instanceof GraphError && /%2 \(mul\): both operands are encrypted/.test(e.message));
  verify(trace((x, c) => x.mul(c).matmul(c.reshape([1, 1])), { x: "encrypted", c: "clear" }, { x: [1], c: [1] }));
});

test("trace checks its signature and its outputs", () => {
  assert.throws(() => trace((x, y) => x, { x: "encrypted" }), /takes 2 parameter\(s\)/);
  assert.throws(() => trace((x) => x, { x: "encrypted" }, { y: [2] }), /unknown input "y"/);
  assert.throws(() => trace((x) => x, { x: "encrypted" }, { x: [0] }), /not a shape/);
  assert.throws(() => trace(() => 3 as unknown as Tracer, { x: "encrypted" }), /output 0 is not a traced value/);
  let leaked: Tracer | undefined;
  trace((x) => (leaked = x).add(1), { x: "encrypted" });
  assert.throws(() => leaked!.add(1), /used after trace\(\) returned/);
  let other: Tracer | undefined;
  trace((x) => (other = x), { x: "encrypted" });
  assert.throws(() => trace((x) => x.add(other!), { x: "encrypted" }), /belongs to another trace/);
});

// Malformed graphs, each a small edit of a good one.
function good(): Graph {
  return trace((x, w) => lut(x.matmul(w).add(1), (v) => v * 2, "double"), { x: "encrypted", w: "clear" }, { x: [2], w: [2, 3] });
}
function edit(g: Graph, id: number, patch: Partial<Record<string, unknown>>): Graph {
  return { ...g, nodes: g.nodes.map((n) => (n.id === id ? ({ ...n, ...patch } as Node) : n)) };
}

test("verify accepts the traced graph and rejects malformed ones, naming the node", () => {
  const g = good();
  verify(g);
  // %0 x, %1 w, %2 matmul, %3 constant 1, %4 add, %5 lut
  assert.match(graphText(g), /%2 = matmul\(%0, %1\) : \?\[3\]/);
  const bad: [Graph, RegExp][] = [
    [edit(g, 2, { args: [0, 4] }), /%2 \(matmul\): argument %4 is not an earlier node/],
    [edit(g, 4, { args: [4, 3] }), /%4 \(add\): argument %4 is not an earlier node.*acyclic/],
    [edit(g, 4, { shape: [4] }), /%4 \(add\): recorded shape \[4\] but the arguments give \[3\]/],
    [edit(g, 1, { visibility: "encrypted", encrypted: true }), /%2 \(matmul\): both operands are encrypted/],
    [edit(g, 5, { encrypted: false }), /%5 \(lut\): recorded encrypted = false/],
    [edit(g, 4, { args: [2] }), /%4 \(add\): expects 2 argument/],
    [edit(g, 2, { kind: "sum", axis: 3, args: [0] }), /%2 \(sum\): axis 3 out of range/],
    [edit(g, 3, { value: Float64Array.of(1, 2) }), /%3 \(constant\): constant data has 2 elements for shape \[\]/],
    [edit(g, 3, { value: Float64Array.of(0.5) }), /%3 \(constant\).*not a safe integer/],
    [edit(g, 5, { table: { min: 0, step: 1, values: Float64Array.of(1.5) } }), /%5 \(lut\): table value 0 = 1.5/],
    [edit(g, 5, { kind: "round", lsbs: 60 }), /%5 \(round\): lsbs = 60/],
    [edit(g, 1, { name: "x" }), /%1 \(input "x"\): duplicate input name/],
    [{ ...g, inputs: [0] }, /%1 \(input "w"\): not listed in graph.inputs/],
    [{ ...g, inputs: [0, 1, 2] }, /graph.inputs lists %2, which is not an input/],
    [{ ...g, outputs: [] }, /no outputs/],
    [{ ...g, outputs: [9] }, /output %9 is not a node/],
    [edit(g, 3, { id: 7 }), /position 3 has id %7/],
    [edit(g, 2, { kind: "slice", starts: [0], stops: [3], steps: [1], args: [0], shape: [3] }), /%2 \(slice\): axis 0: range 0:3:1 is empty or outside \[0, 2\]/],
    [edit(g, 2, { kind: "concat", axis: 0, args: [0, 1] }), /%2 \(concat\): shapes \[2\], \[2,3\] differ/],
    [edit(g, 2, { kind: "reshape", args: [0] }), /%2 \(reshape\): cannot reshape \[2\] to \[3\]/],
  ];
  for (const [graph, re] of bad) {
    assert.throws(() => verify(graph), (e: unknown) => e instanceof GraphError && re.test(e.message), String(re));
  }
});

test("a graph of 50,000 inputs verifies (the input check is linear), and an unlisted one is still refused", () => {
  const count = 50_000;
  const nodes: Node[] = Array.from({ length: count }, (_, i) => ({
    id: i, kind: "input", name: `x${i}`, visibility: "encrypted", args: [], shape: [], encrypted: true,
  }));
  const inputs = nodes.map((n) => n.id);
  verify({ nodes, inputs, outputs: [count - 1] });
  assert.throws(() => verify({ nodes, inputs: inputs.slice(0, -1), outputs: [0] }), /%49999 \(input "x49999"\): not listed in graph.inputs/);
});
