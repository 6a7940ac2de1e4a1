// Lookup fusion (fusion.ts): lookups of one encrypted node share a blind rotation through the core's
// many-LUT. Grouping rules, then FHE at real parameters: the fused circuit equals the clear one in one
// thread, on the worker pool and through the client/server artifacts, with the PBS count divided.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  type Circuit, CircuitClient, CircuitServer, compile, fuseLookups, type Graph, lut, type LookupPlan, type Node, relu, round, toNested,
} from "../../src/compiler/index.js";
import { SERVER_TYPE } from "../../src/runtime/server.js";
import { deserializeBundle, serializeBundle, type TfheParameters } from "../../src/tfhe/index.js";

const circuits: Circuit[] = [];

/** A server artifact as written before the fusion rule existed: the same bundle without the field. */
function withoutFusionField(bytes: Uint8Array, params: TfheParameters): Uint8Array {
  const b = deserializeBundle(bytes, SERVER_TYPE, params);
  const { fusion, ...json } = b.json as { fusion?: unknown };
  assert.equal(fusion, "bounded");
  return serializeBundle({ type: b.type, json, parts: b.parts }, params);
}
after(async () => { for (const c of circuits) await c.close(); });

function plan(node: number, input: number, lo: number, hi: number, kind: "lut" | "round" = "lut"): LookupPlan {
  const inputBits = hi - lo < 1 ? 0 : Math.ceil(Math.log2(hi - lo + 1) - 1e-12);
  return {
    node, kind, input, lo, hi, step: 1, approximate: false, inputBits, inBits: 4, outBits: 4,
    norm2: 1, freshNorm2: 1, pbsNorm2: 0, values: new Float64Array(2 ** inputBits),
  };
}

/** A graph with lookup nodes at ids 3..9 reading input 0 or 1, optionally combined by an add at the end. */
function graphOf(combine: readonly [number, number][] = []): Graph {
  const nodes: Node[] = [
    { id: 0, kind: "input", name: "x", visibility: "encrypted", args: [], shape: [2], encrypted: true },
    { id: 1, kind: "input", name: "y", visibility: "encrypted", args: [], shape: [2], encrypted: true },
    { id: 2, kind: "add", args: [0, 1], shape: [2], encrypted: true },
  ];
  const table = { min: 0, step: 1, values: new Float64Array(4) };
  for (let id = 3; id <= 9; id++) nodes.push({ id, kind: "lut", fn: (v) => v, label: "f", table, args: [id === 6 ? 2 : 1], shape: [2], encrypted: true });
  for (const [a, b] of combine) nodes.push({ id: nodes.length, kind: "add", args: [a, b], shape: [2], encrypted: true });
  return { nodes, inputs: [0, 1], outputs: nodes.slice(3).map((n) => n.id) };
}

test("fuseLookups: same input and offset fuse up to p / pIn per group; others stay alone", () => {
  const plans = new Map([
    [3, plan(3, 1, 0, 3)], [4, plan(4, 1, 0, 2, "round")], [5, plan(5, 1, -1, 2)], [6, plan(6, 2, 0, 3)],
    [7, plan(7, 1, 0, 3)], [8, plan(8, 1, 0, 1)], [9, plan(9, 1, 0, 3)],
  ]);
  const groups = fuseLookups(graphOf(), plans, 4); // p = 16, inputs of node 1 from 0: [0, 4) → pIn = 4, capacity 4
  const members = groups.map((g) => g.members.map((m) => m.node));
  assert.deepEqual(members, [[3, 4, 7, 8], [5], [6], [9]]);
  assert.equal(groups[0]!.inputBits, 2);
  assert.equal(groups[0]!.bits, 4, "4 tables of 4 entries: a 4-bit PBS");
  assert.equal(groups[1]!.bits, 2, "a singleton runs at its own precision");
  // A wide range leaves no room: no fusion.
  assert.deepEqual(fuseLookups(graphOf(), new Map([[3, plan(3, 1, 0, 9)], [4, plan(4, 1, 0, 9)]]), 4).map((g) => g.members.length), [1, 1]);
  // Lookups whose outputs are added fuse under the "bounded" rule (the compiler then counts them as one
  // correlated source); under "separate" (artifacts from before that rule) they go to different groups.
  const together = fuseLookups(graphOf([[3, 7]]), plans, 4).map((g) => g.members.map((m) => m.node));
  assert.deepEqual(together, members);
  const apart = fuseLookups(graphOf([[3, 7]]), plans, 4, undefined, "separate").map((g) => g.members.map((m) => m.node));
  assert.deepEqual(apart, [[3, 4, 8, 9], [5], [6], [7]]);
});

test("FHE: four lookups of one input fuse into one PBS per element; one thread, pool and client/server agree with run", async () => {
  const inputset = [[[0, 1, 2, 3]], [[3, 2, 1, 0]], [[1, 1, 3, 0]]];
  const c = compile((x) => [
    lut(x, (v) => v * v), lut(x, (v) => 3 - v), x.gt(1), round(x, 1),
    // A 5-bit lookup elsewhere: the parameters run 5-bit PBS, room for 4 tables of 2-bit inputs in one.
    lut(x.mul(7), (v) => v % 5),
  ], { x: "encrypted" }, inputset);
  circuits.push(c);
  assert.equal(c.encoding.pbsBits, 5);
  assert.equal(c.encoding.lookups.size, 5);
  assert.equal(c.encoding.groups.length, 2);
  assert.equal(c.encoding.groups[0]!.bits, 4, "4 tables × 4 entries");
  assert.equal(c.encoding.pbsCount, 4 + 4, "4 elements × 1 PBS for the four fused lookups, not × 4");
  assert.equal(c.statistics.fusedLookups, 4);
  assert.match(c.describe(), /4 lookups share blind rotations/);
  const xs = [[0, 1, 2, 3], [3, 3, 0, 1], [2, 0, 1, 2]];
  for (const x of xs) {
    const want = c.runClear(x).map(toNested);
    assert.deepEqual(want[0], x.map((v) => v * v));
    assert.deepEqual(c.encryptRunDecrypt(x).map(toNested), want, `FHE ${x}`);
    assert.deepEqual(c.simulateWith({ seed: 5 }, x).map(toNested), want, `simulate ${x}`);
  }
  assert.deepEqual((await c.encryptRunDecryptAsync([xs[1]!], { threads: 2 })).map(toNested), c.runClear(xs[1]!).map(toNested));
  // The server half recomputes the same groups from the lookup plans.
  const client = CircuitClient.deserialize(c.client.serialize());
  const server = CircuitServer.deserialize(c.server.serialize());
  client.keygen();
  const keys = server.loadKeys(client.serializedEvaluationKeys()!);
  try {
    assert.deepEqual(client.decrypt(server.run(client.encrypt(xs[2]!), keys)).map(toNested), c.runClear(xs[2]!).map(toNested));
  } finally {
    keys?.free();
  }
});

test("lookups combined later fuse, with their sum's noise counted as correlated; old artifacts keep them apart; identical lookups are merged (CSE)", () => {
  const inputset = [[[0, 1, 2, 3]], [[3, 2, 1, 0]]];
  const c = compile((x) => [lut(x, (v) => v).add(lut(x, (v) => 3 - v)), lut(x, (v) => v * 2), lut(x.mul(7), (v) => v % 5)], { x: "encrypted" }, inputset);
  circuits.push(c);
  // v, 3 − v and v·2 share one rotation; the 5-bit lookup is alone.
  assert.deepEqual(c.encoding.groups.map((g) => g.members.length), [3, 1]);
  // The sum of two outputs of one rotation: (1 + 1)² = 4, not 1 + 1 as independent sources.
  const sum = c.graph.outputs[0]!;
  assert.equal(c.bounds.nodes[sum]!.norm2, 2);
  assert.equal(c.encoding.outputNoise.find((o) => o.node === sum)!.pbsNorm2, 4);
  // A server artifact without the rule (written before it) recomputes groups that keep v and 3 − v apart.
  const legacy = CircuitServer.deserialize(withoutFusionField(c.server.serialize(), c.parameters.params));
  assert.equal(legacy.spec.fusion, "separate");
  assert.equal(CircuitServer.deserialize(c.server.serialize()).spec.fusion, "bounded");
  assert.deepEqual(c.encryptRunDecrypt([0, 1, 2, 3]).map(toNested), c.runClear([0, 1, 2, 3]).map(toNested));
  // relu written twice on the same value is one lookup (a PBS is deterministic: two copies are one source).
  const d = compile((x) => relu(x).add(relu(x)), { x: "encrypted" }, [[[-2, 1]], [[3, -1]]]);
  circuits.push(d);
  assert.equal(d.graph.nodes.filter((n) => n.kind === "lut").length, 1);
  assert.equal(d.bounds.nodes[d.graph.outputs[0]!]!.norm2, 4, "relu + relu = 2·relu: Σw² = 4");
  assert.deepEqual(d.encryptRunDecrypt([3, -2]).map(toNested), [[6, 0]]);
});

test("fusion widens a narrow input's region to hold the group's boxes (never the parameters' precision); FHE = clear", () => {
  // x ∈ [0, 3] needs 2 bits; two of its lookups fit one 3-bit rotation, the precision y's lookup sets.
  const inputset = [[[0, 1, 2, 3], [0, 7, 3, 5]], [[3, 2, 1, 0], [7, 0, 5, 3]]];
  const c = compile((x, y) => [lut(x, (v) => v).add(lut(x, (v) => (v * 3) % 4)), lut(y, (v) => 7 - v)],
    { x: "encrypted", y: "encrypted" }, inputset);
  circuits.push(c);
  assert.deepEqual(c.encoding.groups.map((g) => [g.members.length, g.bits]), [[2, 3], [1, 3]]);
  assert.equal(c.encoding.nodeBits[c.graph.inputs[0]!], 3, "x's region holds the 3-bit group");
  assert.equal(c.encoding.pbsBits, 3, "the parameters' precision is y's lookup's");
  for (const args of [[[0, 1, 2, 3], [7, 6, 0, 1]], [[3, 3, 1, 0], [2, 4, 5, 3]]]) {
    assert.deepEqual(c.encryptRunDecrypt(...args).map(toNested), c.runClear(...args).map(toNested), `FHE ${JSON.stringify(args)}`);
  }
});

test("chains of lookups compose into one: relu(round(acc)) and lut(lut(x)) are one PBS per element; FHE = clear", () => {
  const W = [[1, -2], [2, 1], [-1, 3]];
  const inputset = Array.from({ length: 27 }, (_, i) => [[i % 3, Math.floor(i / 3) % 3, Math.floor(i / 9)]]);
  const c = compile((x) => [relu(round(x.matmul(W), 1)), lut(lut(x, (v) => v + 1), (v) => (v * v) % 7)], { x: "encrypted" }, inputset);
  circuits.push(c);
  const kinds = c.graph.nodes.filter((n) => n.kind === "lut" || n.kind === "round").map((n) => n.kind === "lut" ? n.label : "round");
  assert.deepEqual(kinds, ["relu∘round(1)", "f∘f"]);
  assert.equal(c.encoding.pbsCount, 2 + 3);
  for (const x of [[2, 0, 1], [0, 2, 2], [1, 1, 0]]) {
    const acc = [0, 1].map((j) => x.reduce((s, v, i) => s + v * W[i]![j]!, 0));
    const want = [acc.map((a) => Math.max(Math.floor((a + 1) / 2) * 2, 0)), x.map((v) => ((v + 1) * (v + 1)) % 7)];
    assert.deepEqual(c.runClear(x).map(toNested), want);
    assert.deepEqual(c.encryptRunDecrypt(x).map(toNested), want, `FHE ${x}`);
  }
  // An inner lookup with another use stays: its value is needed on its own.
  const d = compile((x) => { const y = lut(x, (v) => v + 1); return [y, lut(y, (v) => v * 2)]; }, { x: "encrypted" }, inputset);
  circuits.push(d);
  assert.equal(d.graph.nodes.filter((n) => n.kind === "lut").length, 2);
});

test("simulate: members of a fused group fail together (forced p_fail = 1 moves every output off its table value)", () => {
  const inputset = [[[0, 1, 2, 3]], [[3, 2, 1, 0]]];
  const c = compile((x) => [lut(x, (v) => v), lut(x, (v) => v + 4), lut(x.mul(7), (v) => v % 5)], { x: "encrypted" }, inputset);
  circuits.push(c);
  assert.equal(c.encoding.groups.length, 2);
  assert.equal(c.encoding.groups[0]!.members.length, 2);
  const [a, b] = c.simulateWith({ seed: 9, pFail: 1 }, [1, 2, 1, 2]).map(toNested) as [number[], number[]];
  // Both tables are v ↦ v + const, so a shared shift s gives a = x + s and b = x + 4 + s: b − a stays 4.
  assert.deepEqual(b.map((v, i) => v - a[i]!), [4, 4, 4, 4]);
  assert.notDeepEqual(a, [1, 2, 1, 2]);
});
