// RemoteModel in Node against an in-process server: the first connection makes keys and uploads the
// evaluation keys once; a second one with the same key file reuses both (no keygen, no upload); a server
// that lost the keys gets them again, once; forget() deletes them on the server and the file. The page
// and the Web Worker are tested in Chromium (browser.test.ts); the fetch code is the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, DeployError, KeyFileStore, ModelDev, type ProgressEvent, RemoteModel } from "../../src/deploy/index.js";
import { irisTree } from "./iris-model.js";

const uploads = (metrics: string): number => Number(/umbra_http_requests_total\{route="\/keys",method="POST",status="201"\} (\d+)/.exec(metrics)?.[1] ?? 0);

test("RemoteModel: keygen and upload once, then the key file and its uploaded id are reused; lost keys are uploaded again", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "umbra-remote-model-"));
  const { model, test: X } = irisTree(4); // small batches: each prediction costs one batch of PBS
  const server = await createServer({ modelsDir: (await ModelDev.save(model, join(dir, "iris")), join(dir, "iris")), keysDir: join(dir, "keys") });
  try {
    const url = await server.listen();
    const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    const keyFile = join(dir, "client.key");
    const events: ProgressEvent[] = [];
    const first = await RemoteModel.connect(url, "iris", { keyStore: new KeyFileStore(keyFile), onProgress: (e) => events.push(e) });
    assert.deepEqual({ reused: first.keys.reused, uploads: first.keys.uploads }, { reused: false, uploads: 1 });
    assert.deepEqual(events.filter((e) => e.state !== "step").map((e) => `${e.phase} ${e.state}`),
      ["spec start", "spec end", "keygen start", "keygen end", "upload start", "upload end"]);
    assert.deepEqual(events.filter((e) => e.state === "step").map((e) => e.detail), ["secret key", "evaluation keys"]);
    const rows = [X[0]!, X[12]!, X[25]!, X[17]!]; // X: 10 flowers of each species in turn
    assert.deepEqual(await first.predict(rows), await model.predict(rows));
    assert.equal(first.lastPrediction!.rows, 4);
    assert.equal(uploads(await metrics()), 1);
    // The file layout `umbra predict --key` shares: the key (0600) and its ids by server and parameters.
    assert.equal(statSync(keyFile).mode & 0o077, 0, "the secret key file is the owner's only");
    const ids = JSON.parse(readFileSync(`${keyFile}.ids.json`, "utf8")) as Record<string, { keyId: string }>;
    assert.deepEqual(Object.keys(ids), [`${url} ${first.client.parametersId}`]);
    assert.equal(Object.values(ids)[0]!.keyId, first.keyId);

    // A returning client: no keygen, no upload, and its predictions decrypt.
    const second = await RemoteModel.connect(url, "iris", { keyStore: new KeyFileStore(keyFile) });
    assert.deepEqual(second.keys, { reused: true, uploads: 0, keygenMs: 0 });
    assert.equal(second.keyId, first.keyId);
    assert.deepEqual(await second.predict(X.slice(8, 12)), await model.predict(X.slice(8, 12)));
    assert.equal(uploads(await metrics()), 1, "no second upload");

    // The server lost them (deleted here with the token): the next prediction uploads them again, once.
    const token = (JSON.parse(readFileSync(`${keyFile}.ids.json`, "utf8")) as Record<string, { token: string }>)[`${url} ${first.client.parametersId}`]!.token;
    await second.api.deleteKeys(second.keyId!, token);
    assert.deepEqual(await second.predict(X.slice(18, 22)), await model.predict(X.slice(18, 22)));
    assert.equal(second.keys.uploads, 1);
    assert.notEqual(second.keyId, first.keyId);
    assert.equal(uploads(await metrics()), 2);
    t.diagnostic(`iris tree (${model.statistics.parameters.name}): keygen ${first.keys.keygenMs.toFixed(0)} ms, evaluation keys ` +
      `${((first.keys.evaluationKeyBytes ?? 0) / 2 ** 20).toFixed(1)} MiB; 4 rows: encrypt ${first.lastPrediction!.encryptMs.toFixed(0)} ms, ` +
      `server ${first.lastPrediction!.serverMs.toFixed(0)} ms, decrypt ${first.lastPrediction!.decryptMs.toFixed(1)} ms`);

    // forget(): the server's copy and the file are gone; the connection refuses to predict.
    const keyId = second.keyId!, request = second.client.quantizeEncryptSerialize(X.slice(0, 1));
    await second.forget();
    assert.equal(existsSync(keyFile), false);
    await assert.rejects(second.api.predict("iris", request, keyId), (e: unknown) => e instanceof DeployError && e.code === "UNKNOWN_KEY");
    await assert.rejects(second.predict(X.slice(0, 1)), (e: unknown) => e instanceof DeployError && e.code === "FORGOTTEN");
  } finally {
    await server.close();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

