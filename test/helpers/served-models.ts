// The two models the multi-process deployment suites serve — test/deploy/server.test.ts (the server
// evaluates) and test/deploy/redis.test.ts (`umbra worker` processes do) — and their concurrent clients:
// "cancer", a lookup-free logistic regression on the breast-cancer data, and "score", a compiled circuit
// with lookups. Every answer a client process gets is checked against the clear model.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Circuit, compile, relu, toNested } from "../../src/compiler/index.js";
import { ModelDev } from "../../src/deploy/index.js";
import { LogisticRegression } from "../../src/ml/index.js";
import { CLIENT_PROCESS, indicesOf, run } from "../deploy/helpers.js";
import { loadCsv, trainTestSplit } from "../ml/helpers.js";

export interface ServedModels {
  /** The breast-cancer rows: "cancer" is trained on Xtrain; its clients send Xtest. */
  readonly split: { Xtrain: number[][]; ytrain: number[]; Xtest: number[][]; ytest: number[] };
  readonly lr: LogisticRegression;
  /** The circuit's inputset; its clients send these, one per request. */
  readonly samples: number[][];
  readonly circuit: Circuit;
}

/** Both models, compiled ("cancer" with `batchSize` rows per encrypted run). */
export function servedModels(batchSize: number): ServedModels {
  const cancer = loadCsv("breast_cancer.csv");
  const split = trainTestSplit(cancer.X, cancer.y, 0.25, 7);
  const lr = new LogisticRegression().fit(split.Xtrain, split.ytrain.map((c) => (c === 1 ? "benign" : "malignant"))).compile(split.Xtrain, { batchSize });
  const W = [2, -1, 3, 1];
  const samples = Array.from({ length: 64 }, (_, i) => [i % 4, (i >> 1) % 4, (i >> 2) % 4, (i >> 4) % 4]);
  const circuit = compile((x) => {
    const score = relu(x.dot(W).add(-2));
    return [score, score.gt(6)];
  }, { x: "encrypted" }, samples.map((s) => [s]));
  return { split, lr, samples, circuit };
}

/** The bundles "cancer" and "score" in `modelsDir`; the rows their client processes read in `dir`. */
export async function saveServedModels(m: ServedModels, modelsDir: string, dir: string): Promise<void> {
  await ModelDev.save(m.lr, join(modelsDir, "cancer"));
  await ModelDev.save(m.circuit, join(modelsDir, "score"));
  writeFileSync(join(dir, "cancer-rows.json"), JSON.stringify(m.split.Xtest));
  writeFileSync(join(dir, "samples.json"), JSON.stringify(m.samples));
}

/** One client process (test/deploy/client-process.ts): `clients` clients at once, numbered from firstClient. */
export interface ClientJob {
  readonly model: "cancer" | "score";
  readonly clients: number;
  readonly requests: number;
  readonly rowsPerRequest: number;
  readonly firstClient: number;
}

/**
 * Runs the jobs' processes at once against a server and checks every answer: the rows each request
 * carried, and the predictions the clear model makes on them. Returns how many requests were answered,
 * the evaluation-key ids each process uploaded, and the wall time of the processes (seconds).
 */
export async function runClientJobs(m: ServedModels, server: { url: string; token: string; dir: string }, jobs: readonly ClientJob[]):
  Promise<{ requests: number; keyIds: string[][]; seconds: number }> {
  const t = performance.now();
  const outs = await Promise.all(jobs.map((j) => run(CLIENT_PROCESS, [JSON.stringify({
    url: server.url, token: server.token, model: j.model, rowsFile: join(server.dir, j.model === "cancer" ? "cancer-rows.json" : "samples.json"),
    clients: j.clients, requests: j.requests, rowsPerRequest: j.rowsPerRequest, firstClient: j.firstClient,
  })])));
  const seconds = (performance.now() - t) / 1000;
  const expected = await m.lr.predict(m.split.Xtest);
  let requests = 0;
  const keyIds: string[][] = [];
  for (const [p, o] of outs.entries()) {
    assert.equal(o.code, 0, o.stderr);
    const { results, keyIds: ids } = JSON.parse(o.stdout) as { results: { client: number; indices: number[]; predictions: unknown[] }[]; keyIds: string[] };
    for (const r of results) {
      if (jobs[p]!.model === "cancer") {
        assert.deepEqual(r.indices, indicesOf(r.client, results.filter((q) => q.client === r.client).indexOf(r), jobs[p]!.rowsPerRequest, m.split.Xtest.length));
        assert.deepEqual(r.predictions, r.indices.map((i) => expected[i]), `client ${r.client}`);
      } else {
        assert.deepEqual(r.predictions, m.circuit.runClear(m.samples[r.indices[0]!]!).map((v) => [toNested(v)].flat()), `circuit client ${r.client}`);
      }
      requests++;
    }
    keyIds.push(ids);
  }
  return { requests, keyIds, seconds };
}
