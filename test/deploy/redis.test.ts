// The scale-out on a real redis-server (UMBRA_REDIS_URL): `umbra serve --redis` in its own process, two
// `umbra worker` processes (one with the bundles on disk, one fetching them from Redis), clients in
// others, over loopback. 20 clients and 200 requests on two models, every answer the clear model's; bad
// input gets the in-process server's 4xx; a client that goes away takes its job off the queue; keys
// survive a server restart; a worker killed mid-job loses nothing (the other one retries the job); a
// multi-parameter circuit's key bundle goes through the Redis key store to the workers' pools.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toNested } from "../../src/compiler/index.js";
import { createServer, KEY_ID_HEADER, ModelClient, ModelDev, RemoteServer, type UmbraServer } from "../../src/deploy/index.js";
import { connectRedis, deletePrefixed, RedisKeyStore } from "../../src/deploy/redis-index.js";
import { DecisionTreeClassifier } from "../../src/ml/index.js";
import { IRIS, IRIS_SPECIES } from "../../src/cli/data/iris.js";
import { runClientJobs, saveServedModels, servedModels } from "../helpers/served-models.js";
import { serve, type Served } from "./helpers.js";
import { bits, mixedCircuit } from "./mixed-circuit.js";
import { REDIS_URL, redisOrSkip, type Spawned, startWorker, testPrefix } from "./redis-helpers.js";

const TOKEN = "redis-test-token-51c0";
const PREFIX = testPrefix("scale");
const dir = mkdtempSync(join(tmpdir(), "umbra-redis-"));
const modelsDir = join(dir, "models");
const serverArgs = ["--redis", REDIS_URL ?? "", "--redis-prefix", PREFIX, "--auth-token", TOKEN, "--timeout", "120", "--log"];
// A short lock: a killed worker's job is handed on within seconds (the default is 30 s).
// Not shorter: on a loaded machine a live worker's lock renewal can be late by seconds (a false stall runs
// the job twice, which is harmless but noisy).
const workerArgs = ["--redis-prefix", PREFIX, "--threads", "1", "--lock-ms", "10000", "--stalled-ms", "2000"];

const models = servedModels(2);
const { split, samples, circuit } = models;
const irisX = IRIS.map((r) => [r[0], r[1], r[2], r[3]]);
const tree = new DecisionTreeClassifier({ maxDepth: 3 }).fit(irisX, IRIS.map((r) => IRIS_SPECIES[r[4]]!)).compile(irisX);
const mixed = mixedCircuit();

let server: Served | undefined;
const workers: Spawned[] = [];

before(async () => {
  if (REDIS_URL === undefined || REDIS_URL === "") return;
  await saveServedModels(models, modelsDir, dir);
  await ModelDev.save(tree, join(modelsDir, "iris"));
  await ModelDev.save(mixed, join(modelsDir, "mixed"));
  server = await serve(modelsDir, serverArgs);
  workers.push(await startWorker(REDIS_URL, [...workerArgs, "--models", modelsDir]), await startWorker(REDIS_URL, workerArgs));
});

after(async () => {
  await server?.stop();
  for (const w of workers) await w.stop();
  circuit.dispose();
  await tree.close();
  await mixed.close();
  if (REDIS_URL !== undefined && REDIS_URL !== "") {
    const redis = connectRedis(REDIS_URL);
    await deletePrefixed(redis, PREFIX);
    await redis.quit();
  }
  rmSync(dir, { recursive: true, force: true });
});

test("the Redis key store: put, meta, get, delete; bad ids refused before Redis sees them", async (t) => {
  const url = redisOrSkip(t);
  if (url === undefined) return;
  const store = new RedisKeyStore(connectRedis(url), { prefix: PREFIX, owned: true });
  try {
    const id = "0123456789abcdef0123456789abcdef", keys = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 255);
    assert.equal(await store.get(id), undefined);
    await store.put(id, { keys, parametersId: "ab".repeat(8), tokenHash: "cd".repeat(32) });
    assert.deepEqual(await store.meta(id), { parametersId: "ab".repeat(8), tokenHash: "cd".repeat(32) });
    const r = await store.get(id);
    assert.deepEqual(r && Array.from(r.keys), Array.from(keys));
    assert.equal(await store.delete(id), true);
    assert.equal(await store.delete(id), false);
    assert.equal(await store.meta(id), undefined);
    await assert.rejects(store.get("../x"), /expected 32 hex digits/);
  } finally {
    await store.close();
  }
});

test("20 concurrent clients, 200 requests on two models through two workers: every answer is the clear model's, no mix-up", async (t) => {
  if (redisOrSkip(t) === undefined) return;
  const t0 = performance.now();
  const { requests } = await runClientJobs(models, { url: server!.url, token: TOKEN, dir }, [
    { model: "cancer", clients: 9, requests: 10, rowsPerRequest: 2, firstClient: 0 },
    { model: "cancer", clients: 9, requests: 10, rowsPerRequest: 2, firstClient: 9 },
    { model: "score", clients: 2, requests: 10, rowsPerRequest: 1, firstClient: 100 },
  ]);
  assert.equal(requests, 200);
  // Both workers took jobs, and 200 jobs ended (a job run twice after a false stall is counted once).
  const doneIds = workers.map((w) => new Set(w.stderr().split("\n").filter((l) => l.includes('"msg":"done"')).map((l) => (JSON.parse(l) as { job: string }).job)));
  const done = doneIds.map((s) => s.size);
  assert.ok(done.every((n) => n > 0), `jobs per worker: ${done}`);
  assert.equal(new Set([...doneIds[0]!, ...doneIds[1]!]).size, 200);
  t.diagnostic(`200 requests from 20 clients through 2 workers in ${((performance.now() - t0) / 1000).toFixed(1)} s (jobs per worker: ${done})`);
});

test("bad input through Redis gets the in-process server's 4xx, and both keep serving", async (t) => {
  const url = redisOrSkip(t);
  if (url === undefined) return;
  const local: UmbraServer = await createServer({ modelsDir });
  const localUrl = await local.listen();
  try {
    const remote = new RemoteServer(server!.url, { authToken: TOKEN }), localRemote = new RemoteServer(localUrl);
    const sc = await remote.client("score");
    sc.keygen();
    const keys = sc.evaluationKeys()!;
    const [{ keyId }, { keyId: localKeyId }] = await Promise.all([remote.uploadKeys(keys), localRemote.uploadKeys(keys)]);
    const lrClient = await ModelClient.load(join(modelsDir, "cancer"));
    lrClient.keygen();
    const good = lrClient.quantizeEncryptSerialize(split.Xtest.slice(0, 2));
    const sample = sc.quantizeEncryptSerialize([samples[5]!]);
    const mutated = sample.slice();
    mutated[Math.floor(sample.length / 2)]! ^= 0x40;
    const inner = good.slice(0, good.length - 100);
    new DataView(inner.buffer).setUint32(16, good.length - 100 - 20, true);
    const cases: [string, Uint8Array, boolean][] = [
      ["cancer", good.subarray(0, good.length - 100), false],                 // a truncated frame
      ["cancer", inner, false],                                               // a truncated run in a consistent frame
      ["score", mutated, true],                                               // a mutated ciphertext
      ["score", good, true],                                                  // another model's request (its parameters)
      ["score", lrClient.quantizeEncryptSerialize(split.Xtest.slice(0, 5)), true], // several runs for a circuit
      ["score", sample, false],                                               // no key id for a model with lookups
    ];
    const answer = async (base: string, auth: boolean, model: string, body: Uint8Array, id: string | undefined): Promise<[number, string]> => {
      const res = await fetch(`${base}/models/${model}/predict`, {
        method: "POST", body: body as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "application/octet-stream", ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}), ...(id === undefined ? {} : { [KEY_ID_HEADER]: id }) },
      });
      const text = await res.text();
      assert.ok(!/\n\s+at /.test(text), text);
      return [res.status, res.status === 200 ? "OK" : (JSON.parse(text) as { error: string }).error];
    };
    for (const [i, [model, body, withKey]] of cases.entries()) {
      const viaRedis = await answer(server!.url, true, model, body, withKey ? keyId : undefined);
      const inProcess = await answer(localUrl, false, model, body, withKey ? localKeyId : undefined);
      assert.deepEqual(viaRedis, inProcess, `case ${i}`);
      assert.ok(viaRedis[0] >= 400 && viaRedis[0] < 500, `case ${i}: ${viaRedis}`);
    }
    assert.deepEqual(await answer(server!.url, true, "score", sample, "0".repeat(32)), [404, "UNKNOWN_KEY"]);
    // Still serving, correctly, through the workers.
    const out = sc.deserializeDecryptDequantize(await remote.predict("score", sample, keyId)) as { data: Float64Array }[];
    assert.deepEqual(out.map((x) => Array.from(x.data)), circuit.runClear(samples[5]!).map((v) => [toNested(v)].flat()));
    // Nothing secret or encrypted in a job or a worker's log: ids, model names, times.
    for (const w of workers) assert.ok(!w.stderr().includes(Buffer.from(sample.subarray(16, 64)).toString("base64")));
    assert.ok(!server!.stderr().includes(TOKEN));
  } finally {
    await local.close();
  }
});

test("a client that goes away takes its queued job off the queue, payload and all", async (t) => {
  const url = redisOrSkip(t);
  if (url === undefined) return;
  // A server of its own, with no worker: the job waits until the client gives up.
  const prefix = testPrefix("cancel");
  const lonely = await createServer({ modelsDir, redis: { url, prefix } });
  const lonelyUrl = await lonely.listen();
  const redis = connectRedis(url);
  try {
    const client = await ModelClient.load(join(modelsDir, "cancer"));
    client.keygen();
    const gauge = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(await (await fetch(`${lonelyUrl}/metrics`)).text())![1]);
    const abort = new AbortController();
    const req = fetch(`${lonelyUrl}/models/cancer/predict`, {
      method: "POST", body: client.quantizeEncryptSerialize(split.Xtest.slice(0, 2)) as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream" }, signal: abort.signal,
    });
    for (let i = 0; (await gauge("umbra_queue_waiting")) === 0; i++) {
      assert.ok(i < 200, "the job never reached the queue");
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal((await redis.keys(`${prefix}:data:*`)).length, 1);
    abort.abort();
    await assert.rejects(req);
    for (let i = 0; (await gauge("umbra_queue_waiting")) > 0 || (await redis.keys(`${prefix}:data:*`)).length > 0; i++) {
      assert.ok(i < 200, "the job stayed queued after its client went away");
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await lonely.close();
    await deletePrefixed(redis, prefix);
    await redis.quit();
  }
});

test("uploaded keys survive a restart of the server (Redis key store)", async (t) => {
  if (redisOrSkip(t) === undefined) return;
  const remote = new RemoteServer(server!.url, { authToken: TOKEN });
  const sc = await remote.client("score");
  sc.keygen();
  const { keyId } = await remote.uploadKeys(sc.evaluationKeys()!);
  await server!.stop();
  server = await serve(modelsDir, serverArgs);
  const again = new RemoteServer(server.url, { authToken: TOKEN });
  const out = sc.deserializeDecryptDequantize(await again.predict("score", sc.quantizeEncryptSerialize([samples[9]!]), keyId)) as { data: Float64Array }[];
  assert.deepEqual(out.map((x) => Array.from(x.data)), circuit.runClear(samples[9]!).map((v) => [toNested(v)].flat()));
});

test("a worker killed mid-job (SIGKILL): the other worker retries the job and the request is answered correctly", async (t) => {
  if (redisOrSkip(t) === undefined) return;
  const remote = new RemoteServer(server!.url, { authToken: TOKEN });
  const client = await remote.client("iris");
  client.keygen();
  // Fresh keys: whichever worker takes the job first decodes them and starts their pool, a long window.
  const { keyId } = await remote.uploadKeys(client.evaluationKeys()!);
  const X = irisX.filter((_, i) => i % 10 === 3);
  const marks = workers.map((w) => w.stderr().length);
  const answer = remote.predict("iris", client.quantizeEncryptSerialize(X), keyId);
  const started = await Promise.race(workers.map((w, i) => w.waitFor(/"msg":"job".*"model":"iris"/).then((line) => ({ i, line }))));
  const victim = workers[started.i]!, survivor = workers[1 - started.i]!;
  victim.proc.kill("SIGKILL");
  const jobId = (JSON.parse(started.line) as { job: string }).job;
  const got = client.deserializeDecryptDequantize(await answer);
  assert.deepEqual(got, await tree.predict(X));
  assert.ok(!victim.stderr().slice(marks[started.i]).includes(`"msg":"done","job":"${jobId}"`), "the killed worker had already finished the job");
  assert.ok(survivor.stderr().slice(marks[1 - started.i]).includes(`"msg":"done","job":"${jobId}"`), "the job was not retried on the other worker");
});

test("a multi-parameter circuit on the workers: its key bundle through the Redis key store, one pool per partition, outputs = the clear function's", async (t) => {
  if (redisOrSkip(t) === undefined) return;
  const remote = new RemoteServer(server!.url, { authToken: TOKEN });
  const client = await remote.client("mixed");
  assert.ok(client.partitions.length >= 2);
  client.keygen();
  const { keyId } = await remote.uploadKeys(client.evaluationKeys()!);
  for (const [x, y] of [[bits(0), 6], [bits(1), 13]] as const) {
    const out = client.deserializeDecryptDequantize(await remote.predict("mixed", client.quantizeEncryptSerialize([x, y]), keyId)) as { shape: number[]; data: Float64Array }[];
    assert.deepEqual(out.map(toNested), mixed.runClear(x, y).map(toNested), `x = ${x}, y = ${y}`);
  }
  // The bundle's id is the multi-parameter model's only: the one-set model refuses it.
  const sc = await remote.client("score");
  sc.keygen(); // the secret key only: its evaluation keys are never made
  await assert.rejects(remote.predict("score", sc.quantizeEncryptSerialize([samples[3]!]), keyId), (e: Error & { code?: string }) => e.code === "WRONG_PARAMETERS" && /multi-parameter/.test(e.message));
});
