// Multi-parameter circuits (compiler/partitions.ts): PBS of different precisions get their own parameter
// sets when that is cheaper; values of different homes meet through conversion keys; the client and
// server halves carry the layout, the keys are per partition, and the server refuses any key set that is
// not exactly the circuit's.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  type Circuit, CircuitClient, CircuitServer, compile, lut, toNested, type TraceFn,
} from "../../src/compiler/index.js";
import {
  checkSecurity, DeserializationError, deserializeBundle, estimateCost, ParameterMismatchError, serializeBundle, ServerKey,
} from "../../src/tfhe/index.js";
import { KEYS_TYPE, type PartitionedEvaluationKeys, partitionedKeysJson, serializePartitionedKeys } from "../../src/runtime/partitioned-keys.js";

const circuits: Circuit[] = [];
after(async () => { for (const c of circuits) await c.close(); });

const X = (a: number, n: number) => Array.from({ length: n }, (_, i) => (i + a) % 2);

test("a 1-bit lookup next to a 6-bit one: two partitions with different N, cheaper than one set, each ≥ 128-bit at the target p_fail", () => {
  const inputset: [number[], number][] = [];
  for (let a = 0; a < 2; a++) for (let y = 0; y < 64; y++) inputset.push([X(a, 16), y]);
  const fn: TraceFn = (x, y) => [lut(x!, (v) => 1 - v), lut(y!, (v) => (v * 5) % 64)];
  const multi = compile(fn, { x: "encrypted", y: "encrypted" }, inputset, { multiParameter: true });
  const single = compile(fn, { x: "encrypted", y: "encrypted" }, inputset);
  const m = multi.parameters.multi;
  assert.ok(m !== undefined, "two precision classes of very different cost: a multi-parameter layout");
  assert.equal(single.parameters.multi, undefined, "one set by default");
  assert.ok(m.partitions.length >= 2);
  const Ns = m.partitions.map((p) => p.params.polynomialSize);
  assert.ok(new Set(Ns).size >= 2, `different N per partition, got ${Ns}`);
  // The 1-bit lookups run in a partition of their own, on a smaller ring than the 6-bit one.
  const one = m.partitions.find((p) => p.precisions.includes(1))!, six = m.partitions.find((p) => p.precisions.includes(6))!;
  assert.notEqual(one, six);
  assert.ok(one.params.polynomialSize < six.params.polynomialSize);
  for (const p of m.partitions) {
    const s = checkSecurity(p.params);
    assert.ok(Math.min(s.lwe.bits, s.glwe.bits) >= 128, `${p.params.name}: ${s.lwe.bits}, ${s.glwe.bits} bits`);
    assert.ok(p.log2PFail <= Math.log2(multi.parameters.pFailTarget) + 1e-9, `partition p_fail 2^${p.log2PFail}`);
  }
  // The optimizer's cost: the layout's estimate below one set's, and one set's estimate is what `single` costs.
  assert.ok(m.estimatedCost < m.singleSetCost, `${m.estimatedCost} vs ${m.singleSetCost}`);
  assert.equal(m.singleSetCost, multi.encoding.pbsCount * estimateCost(single.parameters.params).total);
  const st = multi.statistics;
  assert.equal(st.partitions?.length, m.partitions.length);
  assert.equal(st.partitions!.reduce((s, p) => s + p.pbsCount, 0), multi.encoding.pbsCount);
  assert.ok(st.estimatedMs.oneThread < single.statistics.estimatedMs.oneThread);
  assert.match(multi.describe(), /parameter partitions: 2 .*\n {2}partition 0: .* PBS at 1 bits/);
  // Same encoding, same clear semantics; simulate draws each partition's own failure rate.
  for (const [x, y] of inputset.slice(0, 8)) assert.deepEqual(multi.simulate(x, y).map(toNested), multi.runClear(x, y).map(toNested));
});

/** 1-bit lookups of x, a 4-bit lookup of y whose output joins them (a conversion), and a 2-bit lookup of the sum. */
function mixedCircuit(): Circuit {
  const inputset: [number[], number][] = [];
  for (let a = 0; a < 2; a++) for (let y = 0; y < 16; y++) inputset.push([X(a, 4), y]);
  const c = compile((x, y) => {
    const a = lut(x, (v) => 1 - v);
    const b = lut(y, (v) => ((v * 3) % 16) >> 3);
    const s = a.add(b);
    return [s, lut(s, (v) => v * v)];
  }, { x: "encrypted", y: "encrypted" }, inputset, { multiParameter: true });
  circuits.push(c);
  return c;
}

test("mixed widths in FHE through client and server halves from bytes: exact over y ∈ [0, 16), a conversion and a cross-partition key switch; a pool per partition agrees", async () => {
  const c = mixedCircuit();
  const m = c.parameters.multi!;
  assert.ok(m !== undefined && m.partitions.length >= 2);
  assert.ok(m.layout.keyswitches.some((k) => k.target === "big"), "values of two homes meet: a conversion key");
  assert.ok(m.layout.keyswitches.some((k) => k.target === "small"), "a PBS reads a value of another home");
  assert.ok(m.conversions > 0);
  const client = CircuitClient.deserialize(c.client.serialize());
  const server = CircuitServer.deserialize(c.server.serialize());
  assert.deepEqual(CircuitServer.deserialize(server.serialize()).serialize(), server.serialize(), "the layout round-trips");
  assert.deepEqual(client.serialize(), c.client.serialize());
  client.keygen();
  const keyBytes = client.serializedEvaluationKeys()!;
  const keys = server.loadKeys(keyBytes)!;
  try {
    for (let y = 0; y < 16; y++) {
      const x = X(y % 2, 4);
      const want = c.runClear(x, y).map(toNested);
      assert.deepEqual(client.decrypt(server.run(client.encrypt(x, y), keys)).map(toNested), want, `y = ${y}`);
      assert.deepEqual(c.simulate(x, y).map(toNested), want, `simulate, y = ${y}`);
    }

    // Refusals. A one-set key or key set is not the circuit's.
    const ek = client.keys.evaluationKeys as PartitionedEvaluationKeys;
    assert.throws(() => server.loadKeys(ek.partitions[0]!), ParameterMismatchError);
    const one = new ServerKey(ek.partitions[0]!);
    try {
      assert.throws(() => server.run(client.encrypt(X(0, 4), 0), one), ParameterMismatchError);
    } finally {
      one.free();
    }
    // Partitions in the wrong order: each partition's keys must be of its own parameters.
    const swapped = { ...ek, partitions: [...ek.partitions].reverse() };
    assert.throws(() => server.loadKeys(swapped), (e: unknown) => e instanceof ParameterMismatchError && /partition 0/.test(e.message));
    const good = deserializeBundle(keyBytes, KEYS_TYPE, ek.params[0]!);
    const reordered = serializeBundle({ ...good, parts: [good.parts[1]!, good.parts[0]!, ...good.parts.slice(2)] }, ek.params[0]!);
    assert.throws(() => server.loadKeys(reordered), (e: unknown) => e instanceof DeserializationError && e.code === "PARAMS_MISMATCH");
    // A missing key switch: as objects, and as bytes (the listed switches differ from the layout's).
    const missing = { ...ek, keyswitches: ek.keyswitches.slice(1) };
    assert.throws(() => server.loadKeys(missing), ParameterMismatchError);
    assert.throws(() => server.loadKeys(serializePartitionedKeys(missing)), (e: unknown) => e instanceof DeserializationError && e.code === "INVALID_VALUE");
    // Keys of another shape under the right names (the two key switches' keys exchanged).
    const [first, second] = ek.keyswitches;
    const other = { ...ek, keyswitches: [{ spec: first!.spec, key: second!.key }, { spec: second!.spec, key: first!.key }] };
    assert.throws(() => server.loadKeys(other), ParameterMismatchError);
    // A bundle of the right type whose parts are not the keys.
    const forged = serializeBundle({ type: KEYS_TYPE, json: partitionedKeysJson(ek.params, ek.keyswitches.map((k) => k.spec)), parts: [] }, ek.params[0]!);
    assert.throws(() => server.loadKeys(forged), (e: unknown) => e instanceof DeserializationError && e.code === "LENGTH_MISMATCH");
    // One key cannot serve several partitions.
    assert.throws(() => client.useKey(client.keys.client), (e: unknown) => e instanceof RangeError && /needs \d keys \(one per partition\), got 1/.test(e.message));
    // On worker threads: one pool per partition, conversions in this thread; same results.
    const pool = await server.createPool(keyBytes, { threads: 1 });
    try {
      assert.equal(pool.threads, m.partitions.length);
      for (const y of [5]) {
        const x = X(y % 2, 4);
        assert.deepEqual(client.decrypt(await server.runAsync(client.encrypt(x, y), pool)).map(toNested), c.runClear(x, y).map(toNested), `pool, y = ${y}`);
      }
    } finally {
      await pool.close();
    }
  } finally {
    (keys as { free(): void }).free();
  }
});

test("a multi-parameter artifact is refused by the one-set decoder's type, and a one-set artifact still decodes", () => {
  const c = mixedCircuit();
  const bytes = c.server.serialize();
  const single = compile((x) => lut(x, (v) => 1 - v), { x: "encrypted" }, [[0], [1]]);
  circuits.push(single);
  assert.equal(single.parameters.multi, undefined, "one precision class: the present one-set path");
  assert.equal(CircuitServer.deserialize(single.server.serialize()).spec.layout, undefined);
  // A tampered layout (a PBS moved to a partition whose ring is too small, or homes split) is refused.
  const server = CircuitServer.deserialize(bytes);
  const layout = server.spec.layout!;
  const tampered = (l: typeof layout) => () => CircuitServer.deserialize(new CircuitServer({ ...server.spec, layout: l }).serialize());
  const invalid = (e: unknown) => e instanceof DeserializationError && e.code === "INVALID_VALUE";
  assert.throws(tampered({ ...layout, keyswitches: [] }), invalid, "a key switch the homes need is missing");
  const add = server.spec.graph.nodes.find((n) => n.kind === "add")!;
  const homes = [...layout.nodeHome];
  homes[add.id] = (homes[add.id]! + 1) % layout.params.length;
  assert.throws(tampered({ ...layout, nodeHome: homes }), invalid, "linked values under different keys");
  const parts = new Map(layout.pbsPartition);
  parts.delete([...parts.keys()][0]!);
  assert.throws(tampered({ ...layout, pbsPartition: parts }), invalid, "a PBS without a partition");
});
