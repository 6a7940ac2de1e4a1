// `umbra serve` in its own process, clients in others, over loopback: a lookup-free model (logistic
// regression), a compiled circuit with lookups and an imported XGBoost model (compiled by `umbra compile`,
// queried by `umbra predict`); 20 concurrent clients and 200+ requests, every answer the clear model's;
// bad input of every kind gets a typed 4xx and the server keeps serving; keys survive a restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toNested } from "../../src/compiler/index.js";
import { DeployError, KEY_ID_HEADER, KEY_TOKEN_HEADER, ModelClient, RemoteServer } from "../../src/deploy/index.js";
import { ClientKey, PARAM_MESSAGE_1, serialize } from "../../src/tfhe/index.js";
import { fixturePath, readJson } from "../ml/helpers.js";
import { runClientJobs, saveServedModels, servedModels } from "../helpers/served-models.js";
import { CLI, earlyAnswer, run, serve, type Served } from "./helpers.js";

const TOKEN = "test-token-8d1f2c";
const MAX_KEY_BYTES = 64 * 2 ** 20, MAX_REQUEST_BYTES = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), "umbra-deploy-"));
const modelsDir = join(dir, "models"), keysDir = join(dir, "keys");
const serverArgs = ["--keys-dir", keysDir, "--auth-token", TOKEN, "--max-key-bytes", String(MAX_KEY_BYTES), "--max-request-bytes", String(MAX_REQUEST_BYTES), "--threads", "2"];

const models = servedModels(4);
const { split, lr, samples, circuit } = models;
const irisExpected = readJson<{ X: number[][]; predictions: number[] }>("xgb_iris.expected.json");

let server: Served;
const http = (path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  if (init.auth !== false) headers.set("authorization", `Bearer ${TOKEN}`);
  return fetch(`${server.url}${path}`, { ...init, headers });
};
const octet = (body: Uint8Array, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream", ...headers },
});
/** A 4xx with the typed JSON error, never a stack trace. */
async function expectError(res: Response | Promise<Response>, status: number, error: string): Promise<string> {
  const r = await res;
  const text = await r.text();
  assert.equal(r.status, status, text);
  const body = JSON.parse(text) as { error: string; message: string };
  assert.equal(body.error, error, text);
  assert.ok(body.message.length > 0 && !/\n\s+at /.test(text), text);
  return body.message;
}

/**
 * An oversized body: 413 TOO_LARGE, or — when the server has answered and closed before the client finished
 * sending (the limit is checked as the body streams in) — a reset write, EPIPE or ECONNRESET. Either way the
 * body was refused; the checks after it show the server still serving.
 */
async function expectTooLarge(res: Promise<Response>): Promise<void> {
  let r: Response;
  try {
    r = await res;
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    assert.ok(code === "EPIPE" || code === "ECONNRESET", `expected 413 or a reset connection, got ${String(e)}`);
    return;
  }
  await expectError(r, 413, "TOO_LARGE");
}

before(async () => {
  await saveServedModels(models, modelsDir, dir);
  // The XGBoost model through the CLI, as a user compiles it.
  const c = await run(CLI, ["compile", fixturePath("xgb_iris.json").pathname, "--out", join(modelsDir, "iris"), "--json"]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).linearOnly, false);
  writeFileSync(join(dir, "iris.csv"), "sepal_length,sepal_width,petal_length,petal_width\n" + irisExpected.X.slice(0, 2).map((r) => r.join(",")).join("\n") + "\n");
  server = await serve(modelsDir, serverArgs);
});

after(async () => {
  await server?.stop();
  circuit.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("20 concurrent clients in 5 processes, 210 requests on two models: every answer is the clear model's, no mix-up", async () => {
  const { requests, keyIds, seconds } = await runClientJobs(models, { url: server.url, token: TOKEN, dir }, [
    ...[0, 1, 2, 3].map((p) => ({ model: "cancer", clients: 5, requests: 10, rowsPerRequest: 3, firstClient: p * 5 }) as const),
    { model: "score", clients: 2, requests: 5, rowsPerRequest: 1, firstClient: 100 },
  ]);
  assert.equal(new Set(keyIds[4]).size, 2);
  assert.equal(requests, 210);
  const metrics = await (await http("/metrics")).text();
  assert.match(metrics, /umbra_http_requests_total\{route="\/models\/:id\/predict",method="POST",status="200"\} 2\d\d/);
  assert.match(metrics, /umbra_prediction_seconds_count\{model="cancer"\} 200/);
  console.log(`# ${requests} requests from 20 clients in ${seconds.toFixed(1)} s`);
});

test("umbra predict: keygen, key upload once, encrypted prediction; the CSV's last column is the XGBoost model's", async () => {
  const key = join(dir, "iris.key"), out = join(dir, "iris-out.csv");
  const p = await run(CLI, ["predict", "--server", server.url, "--model", "iris", "--input", join(dir, "iris.csv"), "--out", out, "--key", key, "--json"], { UMBRA_AUTH_TOKEN: TOKEN });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(JSON.parse(p.stderr).keysUploaded, true);
  const lines = readFileSync(out, "utf8").trim().split("\n");
  assert.equal(lines[0], "sepal_length,sepal_width,petal_length,petal_width,prediction");
  assert.deepEqual(lines.slice(1).map((l) => Number(l.split(",").at(-1))), irisExpected.predictions.slice(0, 2));
  assert.ok(existsSync(`${key}.ids.json`));
});

test("bad input: a typed 4xx for each, and the server keeps serving", async () => {
  const remote = new RemoteServer(server.url, { authToken: TOKEN });
  // Access.
  await expectError(http("/models", { auth: false }), 401, "UNAUTHORIZED");
  await expectError(http("/models", { auth: false, headers: { authorization: "Bearer wrong" } }), 401, "UNAUTHORIZED");
  assert.equal((await http("/health", { auth: false })).status, 200);
  // Models and routes.
  await expectError(http("/models/nope/spec"), 404, "UNKNOWN_MODEL");
  await expectError(http("/models/..%2Fkeys/spec"), 400, "BAD_REQUEST");
  await expectError(http("/nothing"), 404, "NOT_FOUND");

  const client = await ModelClient.load(join(modelsDir, "cancer"));
  client.keygen();
  const good = client.quantizeEncryptSerialize(split.Xtest.slice(0, 2));
  const predict = (model: string, body: Uint8Array, headers: Record<string, string> = {}) => http(`/models/${model}/predict`, octet(body, headers));
  // Ciphertexts: truncated (the frame, and a run inside a consistent frame), mutated, oversized, empty, not binary.
  await expectError(predict("cancer", good.subarray(0, good.length - 100)), 400, "BAD_FRAMES");
  const inner = good.slice(0, good.length - 100);
  new DataView(inner.buffer).setUint32(16, good.length - 100 - 20, true);
  await expectError(predict("cancer", inner), 400, "BAD_CIPHERTEXT");
  const mutated = good.slice();
  mutated[Math.floor(good.length / 2)]! ^= 0x40;
  await expectError(predict("cancer", mutated), 400, "BAD_CIPHERTEXT");
  await expectTooLarge(predict("cancer", new Uint8Array(MAX_REQUEST_BYTES + 1)));
  await expectError(predict("cancer", new Uint8Array(0)), 400, "BAD_FRAMES");
  await expectError(http("/models/cancer/predict", { method: "POST", body: "{\"rows\": [1, 2", headers: { "content-type": "application/json" } }), 400, "BAD_JSON");
  await expectError(http("/models/cancer/predict", { method: "POST", body: "{\"rows\": [1, 2]}", headers: { "content-type": "application/json" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
  await expectError(http("/models/cancer/predict", { method: "POST", body: "x", headers: { "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE");

  // Keys: the circuit's client uploads real keys; then broken and foreign ones.
  const sc = await remote.client("score");
  sc.keygen();
  const keys = sc.evaluationKeys()!;
  assert.ok(keys.length < MAX_KEY_BYTES);
  const { keyId, token } = await remote.uploadKeys(keys);
  assert.match(keyId, /^[0-9a-f]{32}$/);
  const upload = (body: Uint8Array) => http("/keys", octet(body));
  // Refused from their first bytes (the answer comes before the rest is sent): a Content-Length other than
  // the keys' size, a secret key, keys of parameters no model here uses.
  const early = async (body: Uint8Array, error: string): Promise<void> => {
    const a = await earlyAnswer(server.url, "/keys", body, { authorization: `Bearer ${TOKEN}` });
    assert.deepEqual([a.status, a.error], [400, error], a.message);
  };
  await early(keys.subarray(0, keys.length >> 1), "BAD_KEYS");
  const badKeys = keys.slice();
  badKeys[keys.length - 1000]! ^= 1;
  await expectError(upload(badKeys), 400, "BAD_KEYS");
  await expectTooLarge(upload(new Uint8Array(MAX_KEY_BYTES + 1)));
  // A secret key is never taken for evaluation keys.
  await early(serialize(ClientKey.generate(sc.params)), "BAD_KEYS");
  const foreign = serialize(ClientKey.generate(PARAM_MESSAGE_1).evaluationKeys());
  await early(foreign, "WRONG_PARAMETERS");
  // Through fetch (RemoteServer, the browser), which may see the early refusal as a reset: a typed error
  // either way, never a bare network failure.
  for (let i = 0; i < 6; i++) {
    await assert.rejects(remote.uploadKeys(foreign), (e: unknown) => e instanceof DeployError && (e.code === "WRONG_PARAMETERS" || e.code === "UPLOAD_REFUSED"));
  }

  // Key ids and the model they are used with.
  const sample = sc.quantizeEncryptSerialize([samples[5]!]);
  await expectError(predict("score", sample), 400, "MISSING_KEY_ID");
  await expectError(predict("score", sample, { [KEY_ID_HEADER]: "0".repeat(32) }), 404, "UNKNOWN_KEY");
  await expectError(predict("score", sample, { [KEY_ID_HEADER]: "../../etc/passwd" }), 400, "BAD_REQUEST");
  // The wrong model: another model's request (its parameters), or several runs for a circuit that takes one.
  await expectError(predict("score", good, { [KEY_ID_HEADER]: keyId }), 400, "WRONG_PARAMETERS");
  await expectError(predict("score", client.quantizeEncryptSerialize(split.Xtest.slice(0, 5)), { [KEY_ID_HEADER]: keyId }), 400, "BAD_FRAMES");
  await expectError(predict("cancer", sample), 400, "WRONG_PARAMETERS");
  // The iris model's keys (uploaded by umbra predict) belong to other parameters than the circuit's.
  const irisIds = JSON.parse(readFileSync(join(dir, "iris.key.ids.json"), "utf8")) as Record<string, { keyId: string }>;
  await expectError(predict("score", sample, { [KEY_ID_HEADER]: Object.values(irisIds)[0]!.keyId }), 400, "WRONG_PARAMETERS");

  // Deletion needs the upload's token.
  await expectError(http(`/keys/${keyId}`, { method: "DELETE" }), 400, "BAD_REQUEST");
  await expectError(http(`/keys/${keyId}`, { method: "DELETE", headers: { [KEY_TOKEN_HEADER]: "not-the-token" } }), 403, "FORBIDDEN");
  // Still serving, with these keys, correctly.
  const [score, gt] = sc.deserializeDecryptDequantize(await remote.predict("score", sample, keyId)) as { data: Float64Array }[];
  assert.deepEqual([...score!.data, ...gt!.data], circuit.runClear(samples[5]!).map((v) => [toNested(v)].flat()).flat());
  assert.equal((await http(`/keys/${keyId}`, { method: "DELETE", headers: { [KEY_TOKEN_HEADER]: token } })).status, 204);
  await expectError(predict("score", sample, { [KEY_ID_HEADER]: keyId }), 404, "UNKNOWN_KEY");
  assert.deepEqual(client.deserializeDecryptDequantize(await remote.predict("cancer", good)), await lr.predict(split.Xtest.slice(0, 2)));
});

test("uploaded keys survive a restart (file store); logs hold no token, key or ciphertext", async () => {
  const remote = new RemoteServer(server.url, { authToken: TOKEN });
  const sc = await remote.client("score");
  sc.keygen();
  const { keyId } = await remote.uploadKeys(sc.evaluationKeys()!);
  await server.stop();
  server = await serve(modelsDir, [...serverArgs, "--log"]);
  const again = new RemoteServer(server.url, { authToken: TOKEN });
  const body = sc.quantizeEncryptSerialize([samples[9]!]);
  const out = sc.deserializeDecryptDequantize(await again.predict("score", body, keyId)) as { data: Float64Array }[];
  assert.deepEqual(out.map((t) => Array.from(t.data)), circuit.runClear(samples[9]!).map((v) => [toNested(v)].flat()));
  // umbra predict with its saved key: the key id it remembers still works, nothing is uploaded again.
  const key = join(dir, "iris.key"), ids = JSON.parse(readFileSync(`${key}.ids.json`, "utf8")) as Record<string, unknown>;
  writeFileSync(`${key}.ids.json`, JSON.stringify({ [`${server.url} ${(await again.client("iris")).parametersId}`]: Object.values(ids)[0] }));
  const p = await run(CLI, ["predict", "--server", server.url, "--model", "iris", "--input", join(dir, "iris.csv"), "--key", key, "--auth-token", TOKEN, "--json"]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(JSON.parse(p.stderr.trim().split("\n").at(-1)!).keysUploaded, false);
  assert.deepEqual(p.stdout.trim().split("\n").slice(1).map((l) => Number(l.split(",").at(-1))), irisExpected.predictions.slice(0, 2));
  const logs = server.stderr();
  assert.match(logs, /"url":"\/models\/iris\/predict"/);
  assert.ok(!logs.includes(TOKEN), "the auth token reached the logs");
  assert.ok(!logs.includes(Buffer.from(body.subarray(16, 64)).toString("base64")), "a ciphertext reached the logs");
});
