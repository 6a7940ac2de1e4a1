// Lookups on clear values in a deployed circuit: they travel as tables over their input's sound range (the
// clear inputs' accepted ranges are checked by the client and by the server), so that the server half
// serializes; encrypted lookups alone drive the PBS count. A clear bivariate lookup is tabulated over its
// packed box the same way. Lookup-free encrypted parts keep these cheap: the server needs no keys.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BoundsError, CircuitClient, CircuitServer, compile, InputOutOfRangeError, lut, lut2, serializeValues, toNested,
  type Circuit, type Tensor, type Tracer,
} from "../../src/compiler/index.js";

/** Runs the circuit through its deserialized halves (fresh keys; no evaluation keys for linear circuits). */
function deployed(c: Circuit): { client: CircuitClient; server: CircuitServer } {
  assert.equal(c.parameters.linearOnly, true, "a lookup-free encrypted part needs no server keys");
  const client = CircuitClient.deserialize(c.client.serialize());
  const server = CircuitServer.deserialize(c.server.serialize());
  assert.deepEqual(server.serialize(), c.server.serialize(), "the decoded server half re-serializes to the same bytes");
  client.keygen();
  assert.equal(client.serializedEvaluationKeys(), undefined);
  return { client, server };
}

test("x + lut(k, 3v) with k clear: the server half round-trips and computes the right result", () => {
  const inputset = [[[0, 5, 7], -2], [[7, 1, 0], 5], [[3, 3, 3], 0]];
  const c = compile((x, k) => x.add(lut(k, (v) => v * 3)), { x: "encrypted", k: "clear" }, inputset);
  try {
    assert.equal(c.bounds.luts.length, 0, "a clear lookup is no PBS");
    assert.equal(c.statistics.pbsCount, 0);
    const { client, server } = deployed(c);
    for (let k = -2; k <= 5; k++) {
      const x = [k + 2, 7, 0];
      const got = client.decrypt(server.run(client.encrypt(x, k), undefined)).map(toNested);
      assert.deepEqual(got, [x.map((v) => v + 3 * k)], `k = ${k}`);
      assert.deepEqual(got, c.runClear(x, k).map(toNested));
    }
  } finally {
    c.dispose();
  }
});

test("a clear lookup of a derived clear value and of a clear tensor: tables over their sound ranges", () => {
  const inputset = [[[1, 2], [0, 3], 1], [[4, 0], [2, -1], -3]];
  const c = compile((x, w, b) => {
    const s = lut(w.mul(2).add(b), (v) => v * v - 1, "sq");
    return [x.mul(lut(w, (v) => Math.abs(v), "abs")).add(s), s.sum()];
  }, { x: "encrypted", w: "clear", b: "clear" }, inputset);
  try {
    const { client, server } = deployed(c);
    for (const [x, w, b] of [[[1, 2], [0, 3], 1], [[4, 0], [-1, 2], -3], [[7, 5], [3, 3], 1], [[0, 0], [-1, -1], -3]] as const) {
      const expected = c.runClear(x, w, b).map(toNested);
      const s = w.map((v) => (2 * v + b) ** 2 - 1);
      assert.deepEqual(expected, [x.map((v, i) => v * Math.abs(w[i]!) + s[i]!), s.reduce((a, v) => a + v, 0)]);
      assert.deepEqual(client.decrypt(server.run(client.encrypt(x, w, b), undefined)).map(toNested), expected, `w = ${w}, b = ${b}`);
    }
  } finally {
    c.dispose();
  }
});

test("the server refuses a clear value outside its accepted range (it would leave the lookup's table)", () => {
  const c = compile((x, k) => x.add(lut(k, (v) => v * 3)), { x: "encrypted", k: "clear" }, [[[0, 5, 7], -2], [[7, 1, 0], 5]]);
  try {
    const { client, server } = deployed(c);
    assert.throws(() => client.encrypt([1, 2, 3], 6), InputOutOfRangeError);
    // A request built past the client: the same encrypted x with k = 6, then k = -3.
    for (const k of [6, -3]) {
      const values = client.encryptValues([1, 2, 3], 0);
      const bad: Tensor = { shape: [], data: Float64Array.of(k) };
      const args = serializeValues([values[0]!, bad], client.spec.params);
      assert.throws(() => server.run(args, undefined),
        (e: unknown) => e instanceof InputOutOfRangeError && e.where === "k" && e.value === k && /outside \[-2, 5\]/.test(e.message));
    }
  } finally {
    c.dispose();
  }
});

test("a clear bivariate lookup: tabulated over its operands' box, deployed and computed right", () => {
  const inputset = [[[0, 1], 0, 0], [[3, 2], 3, -2]];
  const c = compile((x, a, b) => x.add(lut2(a, b, (u, v) => u * 4 + v * v, "f")), { x: "encrypted", a: "clear", b: "clear" }, inputset);
  try {
    assert.equal(c.statistics.pbsCount, 0);
    const { client, server } = deployed(c);
    for (let a = 0; a <= 3; a++) {
      for (let b = -2; b <= 0; b++) {
        const x = [a, 3 - a];
        const got = client.decrypt(server.run(client.encrypt(x, a, b), undefined)).map(toNested);
        assert.deepEqual(got, [x.map((v) => v + a * 4 + b * b)], `a = ${a}, b = ${b}`);
      }
    }
  } finally {
    c.dispose();
  }
});

test("clear tables stay bounded: at most 2^20 values (or pairs), else a BoundsError naming the node", () => {
  const f = (x: Tracer, k: Tracer) => x.add(lut(k, (v) => v % 7, "mod7"));
  const c = compile(f, { x: "encrypted", k: "clear" }, [[1, 0], [2, 2 ** 20 - 1]]);
  const node = c.graph.nodes.find((n) => n.kind === "lut");
  assert.ok(node?.kind === "lut" && node.table !== undefined);
  assert.deepEqual([node.table.min, node.table.values.length], [0, 2 ** 20]);
  assert.equal(c.bounds.clearTables.get(node.id), node.table);
  assert.throws(() => compile(f, { x: "encrypted", k: "clear" }, [[1, 0], [2, 2 ** 20]]),
    (e: unknown) => e instanceof BoundsError && /mod7: its clear input ranges over \[0, 1048576\], too wide/.test(e.message));
  assert.throws(() => compile((x, a, b) => x.add(lut2(a, b, (u, v) => u + v)), { x: "encrypted", a: "clear", b: "clear" },
    [[1, 0, 0], [2, 2 ** 10, 2 ** 10 - 1]]), (e: unknown) => e instanceof BoundsError && /too many pairs/.test(e.message));
});
