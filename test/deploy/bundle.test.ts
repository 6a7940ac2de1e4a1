// Bundles in one process: ModelDev.save writes the two halves; ModelClient.load and ModelServer.load read
// them back and a prediction goes through bytes only; a saved key is reused; halves of different
// compilations, a tampered fingerprint and foreign keys are refused with a typed error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, toNested } from "../../src/compiler/index.js";
import { DeployError, ModelClient, ModelDev, ModelServer } from "../../src/deploy/index.js";
import { LinearRegression, LogisticRegression } from "../../src/ml/index.js";
import { loadCsv } from "../ml/helpers.js";

test("an ML model and a compiled circuit: save, load both halves, predict through bytes; a saved key is reused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-bundle-"));
  try {
    const iris = loadCsv("iris.csv");
    const model = new LogisticRegression().fit(iris.X, iris.y).compile(iris.X, { batchSize: 4 });
    const b = await ModelDev.save(model, join(dir, "iris-lr"));
    assert.equal(b.id, "iris-lr");
    assert.equal(b.kind, "model");
    const server = await ModelServer.load(join(dir, "iris-lr"));
    assert.equal(server.bundle.fingerprint, b.fingerprint);
    const client = await ModelClient.load(join(dir, "iris-lr"));
    client.keygen();
    assert.equal(client.evaluationKeys(), undefined);
    const X = iris.X.slice(45, 55);
    const response = await server.run(client.quantizeEncryptSerialize(X));
    assert.deepEqual(client.deserializeDecryptDequantize(response), await model.predict(X));
    assert.deepEqual(client.deserializeDecryptProbabilities(response), await model.predictProba(X));
    // The same key from a file decrypts what the first client's key encrypted.
    await client.saveKey(join(dir, "key.bin"));
    const again = await ModelClient.load(readFileSync(join(dir, "iris-lr", "client.json")));
    await again.loadKey(join(dir, "key.bin"));
    assert.deepEqual(again.deserializeDecryptDequantize(response), await model.predict(X));

    // A circuit with lookups, at the parameters the compiler chose: evaluation keys as bytes.
    const circuit = compile((x) => x.mul(3).lut((v) => (v * v) % 11), { x: "encrypted" }, [[[0, 1, 2, 3]], [[3, 2, 1, 0]]]);
    await ModelDev.save(circuit, join(dir, "square"), { id: "square" });
    const cs = await ModelServer.load(join(dir, "square")), cc = await ModelClient.load(join(dir, "square"));
    assert.equal(cc.kind, "circuit");
    cc.keygen();
    const keys = cc.evaluationKeys()!;
    const out = cc.deserializeDecryptDequantize(await cs.run(cc.quantizeEncryptSerialize([[2, 0, 3, 1]]), keys)) as { data: Float64Array }[];
    assert.deepEqual(Array.from(out[0]!.data), [36 % 11, 0, 81 % 11, 9 % 11]);
    assert.deepEqual(toNested(circuit.runClear([2, 0, 3, 1])[0]!), [3, 0, 4, 9]);
    await assert.rejects(cs.run(cc.quantizeEncryptSerialize([[2, 0, 3, 1]])), (e: DeployError) => e.code === "MISSING_KEYS");
    // The iris model's key belongs to other parameters than the circuit's.
    await assert.rejects(cc.loadKey(join(dir, "key.bin")), (e: DeployError) => e.code === "BAD_KEY_FILE");
    assert.throws(() => cs.loadKeys(keys.subarray(0, 1000)), (e: DeployError) => e.code === "BAD_KEYS");
    circuit.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("halves of different compilations, a tampered fingerprint, bad ids and non-models are refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-bundle-"));
  try {
    const d = loadCsv("diabetes.csv");
    const a = new LinearRegression().fit(d.X, d.y).compile(d.X);
    const b = new LinearRegression().fit(d.X.slice(100), d.y.slice(100)).compile(d.X.slice(100));
    await ModelDev.save(a, join(dir, "a"), { id: "m" });
    await ModelDev.save(b, join(dir, "b"), { id: "m" });
    writeFileSync(join(dir, "a", "client.json"), readFileSync(join(dir, "b", "client.json")));
    await assert.rejects(ModelServer.load(join(dir, "a")), /different compilations/);
    const sj = JSON.parse(readFileSync(join(dir, "b", "server.json"), "utf8")) as { fingerprint: string };
    const forged = { ...sj, fingerprint: "0".repeat(64) };
    writeFileSync(join(dir, "b", "server.json"), JSON.stringify(forged));
    writeFileSync(join(dir, "b", "client.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, "b", "client.json"), "utf8")), fingerprint: forged.fingerprint }));
    await assert.rejects(ModelServer.load(join(dir, "b")), /does not match its fingerprint/);
    await assert.rejects(ModelDev.save(a, join(dir, "c"), { id: "../x" }), (e: DeployError) => e.code === "BAD_MODEL_ID");
    await assert.rejects(ModelDev.save({} as never, join(dir, "d")), (e: DeployError) => e.code === "NOT_DEPLOYABLE");
    assert.throws(() => ModelClient.fromBundle("{\"format\":\"umbra.deploy.client/1\"}"), (e: DeployError) => e.code === "BAD_MODEL_ID");
    assert.throws(() => ModelClient.fromBundle("not json"), (e: DeployError) => e.code === "BAD_BUNDLE");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
