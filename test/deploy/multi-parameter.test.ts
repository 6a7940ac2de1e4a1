// A multi-parameter circuit deployed like any other: saved as bundles, served over HTTP (the server half
// from its bundle directory, the client half from GET /models/:id/spec), keys made per partition and
// uploaded as one key bundle, reused from the client's key file, predictions equal to the clear
// function. Every wrong key set gets a typed 4xx: one set's keys for the multi-parameter model and the
// reverse, bundles with a missing, extra or foreign partition, other key switches, truncated bundles;
// all but a forged part's own header are refused from the upload's first bytes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Circuit, compile, lut, toNested } from "../../src/compiler/index.js";
import { CLI, earlyAnswer, run } from "./helpers.js";
import { bits, mixedCircuit } from "./mixed-circuit.js";
import { createServer, inlineKeygen, type Keygen, KeyFileStore, ModelClient, ModelDev, RemoteModel, type UmbraServer } from "../../src/deploy/index.js";
import { KEYS_TYPE, partitionedKeysJson } from "../../src/runtime/partitioned-keys.js";
import { checkSecurity, deserializeBundle, PARAM_MESSAGE_2, serialize, serializeBundle } from "../../src/tfhe/index.js";
import { _recomputeChecksum } from "../../src/tfhe/serialization/checksum.js";

const X = bits;
const dir = mkdtempSync(join(tmpdir(), "umbra-deploy-multi-"));
let mixed: Circuit, flip: Circuit, server: UmbraServer, url: string;
/** The key bundle the first client uploaded (the refusals below are variations of it). */
let uploaded: Uint8Array | undefined;
const capturing: Keygen = async (bundle, secretKey, onStep) => {
  const r = await inlineKeygen(bundle, secretKey, onStep);
  uploaded = r.evaluationKeys;
  return r;
};

before(async () => {
  mixed = mixedCircuit();
  // A one-set circuit beside it (its one set is the 1-bit partition's).
  flip = compile((x) => lut(x, (v) => 1 - v), { x: "encrypted" }, [[0], [1]]);
  await ModelDev.save(mixed, join(dir, "models", "mixed"));
  await ModelDev.save(flip, join(dir, "models", "flip"));
  server = await createServer({ modelsDir: join(dir, "models"), keysDir: join(dir, "keys"), limits: { threads: 1 } });
  url = await server.listen();
});

after(async () => {
  await server?.close();
  await mixed?.close();
  await flip?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}${path}`, { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream", ...headers } });

async function expectError(res: Promise<Response>, status: number, error: string, message: RegExp): Promise<void> {
  const r = await res;
  const body = (await r.json()) as { error: string; message: string };
  assert.equal(r.status, status, body.message);
  assert.equal(body.error, error, body.message);
  assert.match(body.message, message);
}

test("a mixed-precision circuit with several parameter sets over HTTP: saved, served, keys per partition uploaded once and reused, every output the clear function's", async (t) => {
  const m = mixed.parameters.multi!;
  assert.ok(m !== undefined && m.partitions.length >= 2, "the compiler splits it into partitions");
  assert.ok(new Set(m.partitions.map((p) => p.params.polynomialSize)).size >= 2);
  for (const p of m.partitions) assert.ok(Math.min(checkSecurity(p.params).lwe.bits, checkSecurity(p.params).glwe.bits) >= 128, p.params.name);
  const info = ((await (await fetch(`${url}/models`)).json()) as { models: { id: string; parameters: string }[] }).models.find((x) => x.id === "mixed")!;
  assert.equal(info.parameters, m.partitions.map((p) => p.params.name).join(" + "));

  const keyFile = join(dir, "client.key");
  const first = await RemoteModel.connect(url, "mixed", { keyStore: new KeyFileStore(keyFile), keygen: capturing });
  assert.deepEqual({ reused: first.keys.reused, uploads: first.keys.uploads }, { reused: false, uploads: 1 });
  assert.equal(first.client.partitions.length, m.partitions.length);
  const inputs: [number[], number][] = [[X(0), 0], [X(1), 5], [X(0), 10], [X(1), 15], [[1, 1, 0, 0], 7]];
  for (const [x, y] of inputs) {
    assert.deepEqual((await first.predict([x, y]) as { shape: number[]; data: Float64Array }[]).map(toNested), mixed.runClear(x, y).map(toNested), `x = ${x}, y = ${y}`);
  }
  // A returning client: the key file holds every partition's secret key; no keygen, no upload.
  const second = await RemoteModel.connect(url, "mixed", { keyStore: new KeyFileStore(keyFile) });
  assert.deepEqual(second.keys, { reused: true, uploads: 0, keygenMs: 0 });
  assert.equal(second.keyId, first.keyId);
  assert.deepEqual((await second.predict([X(1), 9]) as { shape: number[]; data: Float64Array }[]).map(toNested), mixed.runClear(X(1), 9).map(toNested));
  t.diagnostic(`${m.partitions.length} partitions (${info.parameters}): keygen ${first.keys.keygenMs.toFixed(0)} ms, key bundle ` +
    `${((first.keys.evaluationKeyBytes ?? 0) / 2 ** 20).toFixed(1)} MiB; a run: server ${first.lastPrediction!.serverMs.toFixed(0)} ms`);

  // The one-set model beside it shares partition 0's parameters: its keys and the bundle are not interchangeable.
  const flipClient = await RemoteModel.connect(url, "flip");
  assert.deepEqual((await flipClient.predict([1]) as { data: Float64Array }[])[0]!.data, Float64Array.of(0));
  const mixedBody = second.client.quantizeEncryptSerialize([X(0), 3]), flipBody = flipClient.client.quantizeEncryptSerialize([0]);
  await expectError(post("/models/mixed/predict", mixedBody, { "x-umbra-key-id": flipClient.keyId! }), 400, "WRONG_PARAMETERS", /one parameter set.*model mixed.*partitions' key bundle/);
  await expectError(post("/models/flip/predict", flipBody, { "x-umbra-key-id": second.keyId! }), 400, "WRONG_PARAMETERS", /multi-parameter circuit's key bundle.*model flip/);
  // A secret key file of one set is not the multi-parameter model's, and the reverse.
  const flipLocal = new ModelClient(await (await fetch(`${url}/models/flip/spec`)).text());
  assert.throws(() => second.client.useSecretKey(flipClient.client.secretKey()), (e: Error & { code?: string }) => e.code === "BAD_KEY_FILE" && /secret keys of partitions/.test(e.message));
  assert.throws(() => flipLocal.useSecretKey(second.client.secretKey()), (e: Error & { code?: string }) => e.code === "BAD_KEY_FILE");
});

test("uploads of the wrong key set are refused with a typed error: one set's keys for partitions, missing, extra and foreign partitions, other key switches, truncated bundles", async () => {
  assert.ok(uploaded !== undefined, "the first test's upload");
  const bytes = uploaded;
  const params = mixed.parameters.multi!.partitions.map((p) => p.params), ks = mixed.parameters.multi!.layout.keyswitches;
  const keys = deserializeBundle(bytes, KEYS_TYPE, params[0]!);
  const json = partitionedKeysJson(params, ks);
  const bundle = (j: unknown, parts: readonly Uint8Array[]): Uint8Array => serializeBundle({ type: KEYS_TYPE, json: j, parts }, params[0]!);
  // Refused from its first bytes: the answer comes before the rest of the upload is sent.
  const refused = async (body: Uint8Array, error: string, message: RegExp): Promise<void> => {
    const a = await earlyAnswer(url, "/keys", body);
    assert.deepEqual([a.status, a.error], [400, error], a.message);
    assert.match(a.message, message);
  };

  // The whole bundle is accepted (as a control for every refusal below).
  assert.equal((await post("/keys", bytes)).status, 201);
  // One set's evaluation keys of a partition no one-set model uses: the bundle is expected.
  const last = params.length - 1;
  const partKeys = keys.parts[last]!;
  await refused(partKeys, "WRONG_PARAMETERS", /one parameter set's keys.*several partitions/);
  // A partition missing, an extra one, a foreign one (PARAM_MESSAGE_2's fingerprint listed instead of partition 1's).
  const n = params.length;
  await refused(bundle({ ...json, partitions: json.partitions.slice(0, n - 1) }, keys.parts.slice(0, n - 1)), "WRONG_PARAMETERS", new RegExp(`${n - 1} partitions.*have ${n}`));
  const foreign = bundle({ ...json, partitions: [...json.partitions, Buffer.from(serialize(PARAM_MESSAGE_2).subarray(8, 16)).toString("hex")] }, keys.parts);
  await refused(foreign, "WRONG_PARAMETERS", new RegExp(`${n + 1} partitions.*have ${n}`));
  const other = [...json.partitions];
  other[1] = Buffer.from(serialize(PARAM_MESSAGE_2).subarray(8, 16)).toString("hex");
  await refused(bundle({ ...json, partitions: other }, keys.parts), "WRONG_PARAMETERS", /partition 1 of this key bundle/);
  // A part whose own header names other parameters (the JSON and lengths honest): the full decode refuses it.
  const forged = Uint8Array.from(keys.parts[1]!);
  forged.set(serialize(PARAM_MESSAGE_2).subarray(8, 16), 8);
  _recomputeChecksum(forged);
  await expectError(post("/keys", bundle(json, [keys.parts[0]!, forged, ...keys.parts.slice(2)])), 400, "WRONG_PARAMETERS", /expected/);
  // Key switches: one missing, or another decomposition.
  await refused(bundle({ ...json, keyswitches: json.keyswitches.slice(1) }, [...keys.parts.slice(0, n), ...keys.parts.slice(n + 1)]), "BAD_KEYS", /key switches/);
  await refused(bundle({ ...json, keyswitches: json.keyswitches.map((k, i) => (i === 0 ? { ...k, baseLog: k.baseLog + 1 } : k)) }, keys.parts), "BAD_KEYS", /key switches/);
  // The previous format's type, and a bundle of the right layout whose parts are swapped (lengths differ).
  await refused(serializeBundle({ type: "umbra.circuit.keys/1", json, parts: keys.parts }, params[0]!), "BAD_KEYS", /type "umbra.circuit.keys\/1"/);
  await refused(bundle(json, [keys.parts[1]!, keys.parts[0]!, ...keys.parts.slice(2)]), "BAD_KEYS", /parts/);
  // Truncated: the Content-Length is checked against the layout's size before the body is taken; a body
  // cut inside its header is refused as such.
  for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 1000, 200, 40, 10]) {
    await refused(bytes.subarray(0, cut), "BAD_KEYS", cut >= 1000 ? /exactly \d+ bytes/ : /TRUNCATED/);
  }
  // Extended by a byte.
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  await refused(longer, "BAD_KEYS", /exactly \d+ bytes/);
  // Still serving, and the good bundle still goes in.
  assert.equal((await post("/keys", bytes)).status, 201);
});

test("umbra keygen with a multi-parameter bundle: one key file holding every partition's secret key (0600), restored by the bundle's client only", async () => {
  const keyFile = join(dir, "cli.key");
  const k = await run(CLI, ["keygen", "--bundle", join(dir, "models", "mixed"), "--out", keyFile, "--json"]);
  assert.equal(k.code, 0, k.stderr);
  assert.equal((JSON.parse(k.stdout) as { parameters: string }).parameters, mixed.parameters.multi!.partitions.map((p) => p.params.name).join(" + "));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const client = await ModelClient.load(join(dir, "models", "mixed"));
  await client.loadKey(keyFile);
  assert.deepEqual(client.secretKey(), new Uint8Array(readFileSync(keyFile)), "the file's keys, every partition's");
  const one = await ModelClient.load(join(dir, "models", "flip"));
  await assert.rejects(one.loadKey(keyFile), (e: Error & { code?: string }) => e.code === "BAD_KEY_FILE" && e.message.includes(keyFile));
});
