// The client/server split at real parameters: both halves travel as bytes; the server runs in another
// process with only the server artifact, the evaluation keys and the encrypted arguments; the worker-pool
// schedule gives the same results as one thread; bad artifacts, arguments and keys are refused with
// DeserializationError (or TypeError for a secret key object) and the server never accepts a client key.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Circuit, CircuitClient, CircuitServer, compile, InputOutOfRangeError, maximum, relu, round, toNested, lut,
  graphToJson, SERVER_TYPE,
} from "../../src/compiler/index.js";
import {
  DeserializationError, PARAM_MESSAGE_2, serialize, serializeBundle,
} from "../../src/tfhe/index.js";
import { _recomputeChecksum } from "../../src/tfhe/serialization/checksum.js";

const circuits: Circuit[] = [];
after(async () => { for (const c of circuits) await c.close(); });

const W = [[1, -1], [2, 1], [-1, 1]];
/** Lookups in two layers (relu of a matmul, then a max and a table), a clear input, two outputs. */
function mlpCircuit(): Circuit {
  const inputset: number[][][] = [];
  for (let a = 0; a <= 3; a++) for (let b = 0; b <= 3; b++) inputset.push([[a, b, (a + b) % 4], [b - 1]]);
  const c = compile(
    (x, bias) => {
      const h = relu(x.matmul(W).add(bias));
      return [maximum(h.slice([0, 1]), h.slice([1, 2])), lut(h, (v) => (v * v) % 5)];
    },
    { x: "encrypted", bias: "clear" },
    inputset.map(([x, b]) => [x!, b!]),
  );
  circuits.push(c);
  return c;
}

const helper = fileURLToPath(new URL("../helpers/circuit-server-process.js", import.meta.url));

function runServerProcess(dir: string, threads?: number): { files: string[] } {
  const r = spawnSync(process.execPath, [helper, dir, ...(threads === undefined ? [] : [String(threads)])], { encoding: "utf8" });
  assert.equal(r.status, 0, `server process failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as { files: string[] };
}

test("client and server artifacts round trip through bytes; the server runs in another process with evaluation keys only", () => {
  const c = mlpCircuit();
  assert.equal(c.parameters.linearOnly, false);
  // Model owner: ships the two halves.
  const clientBytes = c.client.serialize(), serverBytes = c.server.serialize();
  // Client: fresh keys, uploads evaluation keys and encrypted arguments.
  const client = CircuitClient.deserialize(clientBytes);
  assert.deepEqual(client.spec.inputs.map((i) => [i.name, i.encrypted]), [["x", true], ["bias", false]]);
  client.keygen();
  const dir = mkdtempSync(join(tmpdir(), "umbra-circuit-"));
  try {
    writeFileSync(join(dir, "server.bin"), serverBytes);
    writeFileSync(join(dir, "keys.bin"), client.serializedEvaluationKeys()!);
    for (const [x, bias] of [[[3, 0, 2], [1]], [[0, 1, 3], [-1]], [[2, 2, 1], [0]]] as const) {
      writeFileSync(join(dir, "args.bin"), client.encrypt(x, bias));
      rmSync(join(dir, "result.bin"), { force: true });
      const seen = runServerProcess(dir);
      assert.deepEqual(seen.files, ["args.bin", "keys.bin", "server.bin"], "the server process gets no secret key");
      const got = client.decrypt(readFileSync(join(dir, "result.bin")));
      assert.deepEqual(got.map(toNested), c.runClear(x, bias).map(toNested), `x = ${x}, bias = ${bias}`);
    }
    // The same, with the lookups of each layer batched on 2 worker threads in the server process.
    writeFileSync(join(dir, "args.bin"), client.encrypt([1, 3, 0], [1]));
    runServerProcess(dir, 2);
    assert.deepEqual(client.decrypt(readFileSync(join(dir, "result.bin"))).map(toNested), c.runClear([1, 3, 0], [1]).map(toNested));
    assert.deepEqual(readdirSync(dir).sort(), ["args.bin", "keys.bin", "result.bin", "server.bin"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a lookup-free circuit needs no keys on the server; decoded halves re-serialize to the same bytes", () => {
  const inputset = [[[-8, 0, 7, 3]], [[7, -8, 0, 1]], [[0, 0, 0, 0]]];
  const c = compile((x) => x.dot([300, -200, 17, 5]).add(1000), { x: "encrypted" }, inputset);
  circuits.push(c);
  assert.equal(c.parameters.linearOnly, true);
  const client = CircuitClient.deserialize(c.client.serialize());
  const server = CircuitServer.deserialize(c.server.serialize());
  assert.deepEqual(client.serialize(), c.client.serialize());
  assert.deepEqual(server.serialize(), c.server.serialize());
  client.keygen();
  assert.equal(client.serializedEvaluationKeys(), undefined);
  const x = [7, -8, 3, 1];
  assert.deepEqual(toNested(client.decrypt(server.run(client.encrypt(x), undefined))[0]!), toNested(c.runClear(x)[0]!));
});

test("in-process: encryptRunDecryptAsync (layer-batched on 2 workers) equals encryptRunDecrypt and run", async () => {
  const c = mlpCircuit();
  for (const [x, b] of [[[3, 3, 3], [2]], [[0, 0, 0], [-1]], [[1, 2, 3], [0]]] as const) {
    const want = c.runClear(x, b).map(toNested);
    assert.deepEqual((await c.encryptRunDecryptAsync([x, b], { threads: 2 })).map(toNested), want);
    assert.deepEqual(c.encryptRunDecrypt(x, b).map(toNested), want);
  }
  // A round before a lookup, on the pool too.
  const inputset = Array.from({ length: 16 }, (_, v) => [[v, 15 - v]]);
  const r = compile((x) => lut(round(x.mul(3), 2), (v) => v >> 2), { x: "encrypted" }, inputset);
  circuits.push(r);
  assert.deepEqual((await r.encryptRunDecryptAsync([[13, 2]], { threads: 2 })).map(toNested), r.runClear([13, 2]).map(toNested));
});

test("the server never takes a secret key; keys and arguments of other parameters or shapes are refused", () => {
  const c = mlpCircuit();
  const client = CircuitClient.deserialize(c.client.serialize());
  const { client: secret } = client.keygen();
  const server = CircuitServer.deserialize(c.server.serialize());
  assert.throws(() => server.loadKeys(serialize(secret)), (e: unknown) => e instanceof DeserializationError && e.code === "WRONG_KIND");
  assert.throws(() => server.loadKeys(secret as never), (e: unknown) => e instanceof TypeError && /never a client \(secret\) key/.test(e.message));
  assert.throws(() => server.run(client.encrypt([1, 1, 1], [0]), secret as never), TypeError);
  // Evaluation keys of another parameter set.
  const other = CircuitClient.deserialize(c.client.serialize());
  // (This circuit has several parameter partitions: every partition's set replaced.)
  const { partitions } = other.spec;
  const otherSpec = new CircuitClient({
    ...other.spec, params: PARAM_MESSAGE_2,
    ...(partitions === undefined ? {} : { partitions: { ...partitions, params: partitions.params.map(() => PARAM_MESSAGE_2) } }),
  });
  otherSpec.keygen();
  assert.throws(() => server.loadKeys(otherSpec.serializedEvaluationKeys()!), (e: unknown) => e instanceof DeserializationError && e.code === "PARAMS_MISMATCH");
  // Arguments: wrong shape, encrypted where clear is expected, out of range on the client, truncated bytes.
  assert.throws(() => client.encrypt([1, 1], [0]), /shape|expected/);
  assert.throws(() => client.encrypt([9, 1, 1], [0]), (e: unknown) => e instanceof InputOutOfRangeError && e.where === "x");
  const key = server.loadKeys(client.serializedEvaluationKeys()!);
  try {
    const args = client.encrypt([1, 2, 3], [0]);
    for (const len of [0, 10, 40, args.length - 1]) {
      assert.throws(() => server.run(args.subarray(0, len), key), (e: unknown) => e instanceof DeserializationError && e.code === "TRUNCATED");
    }
    const swapped = serializeBundle({ type: "umbra.circuit.values/1", json: { values: [{ shape: [1], encrypted: false, data: [0] }, { shape: [3], encrypted: true }] }, parts: [] }, c.parameters.params);
    assert.throws(() => server.run(swapped, key), (e: unknown) => e instanceof DeserializationError);
    // A result decrypts only as results of this circuit: arguments have other shapes.
    assert.throws(() => client.decrypt(args), (e: unknown) => e instanceof DeserializationError);
  } finally {
    key?.free();
  }
});

test("artifact decoders: truncation, bad JSON fields, cyclic graphs and mutations give DeserializationError only", () => {
  const c = mlpCircuit();
  const serverBytes = c.server.serialize(), clientBytes = c.client.serialize();
  for (const len of [0, 16, 30, serverBytes.length >> 1, serverBytes.length - 1]) {
    assert.throws(() => CircuitServer.deserialize(serverBytes.subarray(0, len)), DeserializationError);
    assert.throws(() => CircuitClient.deserialize(clientBytes.subarray(0, Math.min(len, clientBytes.length - 1))), DeserializationError);
  }
  assert.throws(() => CircuitServer.deserialize(clientBytes), (e: unknown) => e instanceof DeserializationError && e.code === "WRONG_KIND");
  assert.throws(() => CircuitClient.deserialize(serverBytes), (e: unknown) => e instanceof DeserializationError && e.code === "WRONG_KIND");
  const params = c.parameters.params;
  const spec = JSON.parse(JSON.stringify({
    nodeBits: c.encoding.nodeBits, linearOnly: false, graph: graphToJson(c.graph),
    lookups: [...c.encoding.lookups.values()].map((l) => ({ ...l, values: Array.from(l.values) })),
    inputRanges: c.server.spec.inputRanges,
  })) as { graph: { nodes: { args: number[]; shape: number[] }[] }; lookups: { values: number[]; inputBits: number; step: number; outBits: number }[]; nodeBits: number[]; inputRanges: { min: number; max: number }[] };
  const encode = (json: unknown): Uint8Array => serializeBundle({ type: SERVER_TYPE, json, parts: [serialize(params)] }, params);
  assert.ok(CircuitServer.deserialize(encode(spec)) instanceof CircuitServer);
  const edits: [string, (s: typeof spec) => void][] = [
    ["cycle", (s) => { s.graph.nodes[1]!.args = [5]; }],
    ["shape", (s) => { s.graph.nodes[0]!.shape = [4]; }],
    ["huge shape", (s) => { s.graph.nodes[0]!.shape = [1 << 20, 1 << 20]; }],
    ["table length", (s) => { s.lookups[0]!.values.pop(); }],
    ["table value", (s) => { s.lookups[0]!.values[0] = 0.5; }],
    ["bits", (s) => { s.nodeBits[0] = 40; }],
    ["region", (s) => { s.nodeBits[0]! += 1; }],
    ["lookup precision", (s) => { s.lookups[0]!.inputBits = 9; }],
    ["lookup step", (s) => { s.lookups[0]!.step = 3; }],
    ["lookup output encoding", (s) => { s.lookups[0]!.outBits += 1; }],
    ["no lookups", (s) => { s.lookups = []; }],
    ["input ranges", (s) => { s.inputRanges.pop(); }],
    ["inverted range", (s) => { s.inputRanges[1] = { min: 2, max: 1 }; }],
  ];
  for (const [what, edit] of edits) {
    const s = structuredClone(spec);
    edit(s);
    assert.throws(() => CircuitServer.deserialize(encode(s)), (e: unknown) => e instanceof DeserializationError && e.code === "INVALID_VALUE", what);
  }
  // Parameters below 128 bits in the artifact are refused when decoding it.
  // Random mutations with a valid checksum: a DeserializationError or a valid artifact, nothing else.
  let s = 12345;
  const next = (): number => { s = (s * 1103515245 + 12345) >>> 0; return s; };
  for (const [bytes, decode] of [[serverBytes, CircuitServer.deserialize], [clientBytes, CircuitClient.deserialize]] as const) {
    for (let i = 0; i < 1500; i++) {
      const m = bytes.slice();
      for (let j = 1 + (next() % 3); j > 0; j--) m[16 + (next() % (m.length - 20))] = next() & 0xff;
      try {
        decode(_recomputeChecksum(m));
      } catch (e) {
        if (!(e instanceof DeserializationError)) assert.fail(`mutant ${i}: ${String(e)}`);
      }
    }
  }
});
