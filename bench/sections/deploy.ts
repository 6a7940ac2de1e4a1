// Deployment: models served over HTTP on loopback, `umbra serve` in its own process (as a user runs it).
// End-to-end latency per model (client encrypt, the request — upload, server run, download —, decrypt),
// evaluation-key sizes and upload times, and sustained predictions per second with 1, 4 and 20 concurrent
// clients: on one server process, then through Redis with `umbra serve --redis` and two `umbra worker`
// processes. The Redis rows need UMBRA_REDIS_URL (a redis-server to use); without it they are reported as
// skipped. Concurrent clients share one key set (keygen per client would dominate the run).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IRIS, IRIS_SPECIES } from "../../src/cli/data/iris.js";
import { compile, relu } from "../../src/compiler/index.js";
import { ModelDev, RemoteServer, type ModelClient } from "../../src/deploy/index.js";
import { DecisionTreeClassifier, LogisticRegression } from "../../src/ml/index.js";
import { round } from "../format.js";
import { errorText, latency, sampleAsync, size, type BenchResult } from "../harness.js";
import type { Ctx } from "../plan.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const CONCURRENCY = [1, 4, 20] as const;
/** The model of the throughput rows: a decision tree with lookups (its PBS dominate the server's time). */
const THROUGHPUT_MODEL = "iris-tree";

interface Proc { readonly proc: ChildProcess; readonly url: string; stop(): Promise<void> }

/** Runs `umbra <args>` until it prints `ready` on stdout (the URL for a server). */
async function start(args: readonly string[], ready: RegExp): Promise<Proc> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  proc.stderr!.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m !== null) resolve(m[1] ?? "");
    });
    proc.once("exit", (code) => reject(new Error(`umbra ${args[0]} exited (${code}): ${err}`)));
  });
  return {
    proc, url,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

const serve = (dir: string, extra: readonly string[]) => start(["serve", dir, "--port", "0", ...extra], /at (http:\/\/\S+)/);

interface Prepared { readonly client: ModelClient; readonly keyId: string | undefined; readonly bodies: Uint8Array[] }

/** Sustained predictions per second: `clients` loops, each sending its next request when the last returns. */
async function sustained(remote: RemoteServer, model: string, p: Prepared, clients: number, seconds: number): Promise<{ perSecond: number; done: number; ms: number }> {
  // Warm-up: concurrent requests, so that every worker process has loaded the keys (and started its pool).
  await Promise.all(p.bodies.slice(0, 4).map((b) => remote.predict(model, b, p.keyId)));
  const t0 = performance.now(), end = t0 + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; performance.now() < end; i++) {
      p.client.deserializeDecryptDequantize(await remote.predict(model, p.bodies[i % p.bodies.length]!, p.keyId));
      done++;
    }
  }));
  const ms = performance.now() - t0;
  return { perSecond: done / (ms / 1000), done, ms };
}

export async function benchDeploy(ctx: Ctx): Promise<void> {
  const { plan, emit, log } = ctx;
  const quick = plan.mode !== "full";
  const seconds = quick ? 5 : 15, reps = quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), "umbra-bench-deploy-"));
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" / ");
  const started = `measured on ${new Date().toISOString()}, load average (1/5/15 min) at the start ${load()}`;
  const X = IRIS.map((r) => [r[0], r[1], r[2], r[3]]), y = IRIS.map((r) => IRIS_SPECIES[r[4]]!);
  log("deploy: training and compiling the models (iris decision tree and logistic regression, a compiled circuit)");
  const tree = new DecisionTreeClassifier({ maxDepth: 3 }).fit(X, y).compile(X, { batchSize: 1 });
  const logreg = new LogisticRegression().fit(X, y).compile(X, { batchSize: 1 });
  const samples = Array.from({ length: 64 }, (_, i) => [i % 4, (i >> 1) % 4, (i >> 2) % 4, (i >> 4) % 4]);
  const circuit = compile((x) => {
    const score = relu(x.dot([2, -1, 3, 1]).add(-2));
    return [score, score.gt(6)];
  }, { x: "encrypted" }, samples.map((s) => [s]));
  await ModelDev.save(tree, join(dir, "iris-tree"));
  await ModelDev.save(logreg, join(dir, "iris-logreg"));
  await ModelDev.save(circuit, join(dir, "score"));
  const inputs: Record<string, (i: number) => unknown> = {
    "iris-tree": (i) => [X[(i * 7) % X.length]!], "iris-logreg": (i) => [X[(i * 7) % X.length]!], score: (i) => [samples[i % samples.length]!],
  };
  const prepared = new Map<string, Prepared>();
  const skipped = (name: string, why: string): BenchResult => ({ name, section: "deploy", error: why, n: 0, unit: "predictions/s" });

  let server: Proc | undefined;
  try {
    server = await serve(dir, ["--keys-dir", join(dir, ".keys")]);
    const remote = new RemoteServer(server.url);
    for (const id of ["iris-tree", "iris-logreg", "score"]) {
      log(`deploy: ${id}: keygen, key upload, end-to-end latency`);
      const client = await remote.client(id);
      let t = performance.now();
      client.keygen();
      emit(latency(`deploy/keygen/${id}`, "deploy", [performance.now() - t], { params: client.params.name, note: "client key and seeded evaluation keys" }));
      const keys = client.evaluationKeys();
      let keyId: string | undefined;
      if (keys !== undefined) {
        emit(size(`deploy/keys/${id}`, keys.length, "serialize", { section: "deploy", params: client.params.name, note: "seeded evaluation keys as uploaded" }));
        const ups = await sampleAsync(async () => { keyId = (await remote.uploadKeys(keys)).keyId; }, Math.min(reps, 3), 0);
        emit(latency(`deploy/upload/${id}`, "deploy", ups, { params: client.params.name, note: "POST /keys: streamed in, header checked, decoded and stored" }));
      }
      const enc: number[] = [], req: number[] = [], dec: number[] = [], total: number[] = [];
      let reqBytes = 0, resBytes = 0;
      for (let i = 0; i <= reps; i++) {
        const t0 = performance.now();
        const body = client.quantizeEncryptSerialize(inputs[id]!(i) as never);
        const t1 = performance.now();
        const response = await remote.predict(id, body, keyId);
        const t2 = performance.now();
        client.deserializeDecryptDequantize(response);
        const t3 = performance.now();
        if (i === 0) continue; // the first request loads the keys on the server (its pool starts)
        enc.push(t1 - t0); req.push(t2 - t1); dec.push(t3 - t2); total.push(t3 - t0);
        reqBytes = body.length; resBytes = response.length;
      }
      const params = client.params.name;
      emit(latency(`deploy/e2e/${id}/encrypt`, "deploy", enc, { params }));
      emit(latency(`deploy/e2e/${id}/request`, "deploy", req, { params, note: "POST /models/:id/predict on loopback: upload, queue, server run, download" }));
      emit(latency(`deploy/e2e/${id}/decrypt`, "deploy", dec, { params }));
      emit(latency(`deploy/e2e/${id}/total`, "deploy", total, { params, note: "one row (one sample for the circuit)" }));
      emit(size(`deploy/request-bytes/${id}`, reqBytes, "serialize", { section: "deploy", params }));
      emit(size(`deploy/response-bytes/${id}`, resBytes, "serialize", { section: "deploy", params }));
      const bodies = Array.from({ length: 8 }, (_, i) => client.quantizeEncryptSerialize(inputs[id]!(i) as never));
      prepared.set(id, { client, keyId, bodies });
    }
    const p = prepared.get(THROUGHPUT_MODEL)!;
    for (const c of CONCURRENCY) {
      log(`deploy: sustained predictions/s, one server process, ${c} concurrent client${c > 1 ? "s" : ""}, ${seconds} s`);
      const s = await sustained(remote, THROUGHPUT_MODEL, p, c, seconds);
      emit({
        name: `deploy/throughput/one-process/${c}-clients`, section: "deploy", value: round(s.perSecond), median_ms: round(s.ms / s.done), batch: c, params: p.client.params.name,
        note: `${s.done} predictions of one ${THROUGHPUT_MODEL} row in ${(s.ms / 1000).toFixed(1)} s; umbra serve with ${availableParallelism()} threads`, n: s.done, unit: "predictions/s",
      });
    }
  } catch (e) {
    emit({ name: "deploy/one-process", section: "deploy", error: errorText(e), n: 0, unit: "ms" });
  } finally {
    await server?.stop();
  }

  const url = process.env.UMBRA_REDIS_URL;
  if (url === undefined || url === "") {
    log("deploy: no UMBRA_REDIS_URL: the rows with two BullMQ workers are skipped");
    for (const c of CONCURRENCY) emit(skipped(`deploy/throughput/redis-2-workers/${c}-clients`, "skipped: no Redis (set UMBRA_REDIS_URL=redis://host:port to measure)"));
  } else {
    const prefix = `umbra-bench-${process.pid}`;
    const procs: Proc[] = [];
    try {
      const redisServer = await serve(dir, ["--redis", url, "--redis-prefix", prefix]);
      procs.push(redisServer);
      for (let i = 0; i < 2; i++) procs.push(await start(["worker", "--redis", url, "--redis-prefix", prefix, "--threads", "1", "--quiet"], /(taking predictions)/));
      const remote = new RemoteServer(redisServer.url);
      const p = prepared.get(THROUGHPUT_MODEL);
      if (p === undefined) throw new Error("the one-process run failed: nothing to compare with");
      const keyId = p.keyId === undefined ? undefined : (await remote.uploadKeys(p.client.evaluationKeys()!)).keyId;
      for (const c of CONCURRENCY) {
        log(`deploy: sustained predictions/s, umbra serve --redis and two umbra worker processes, ${c} concurrent client${c > 1 ? "s" : ""}, ${seconds} s`);
        const s = await sustained(remote, THROUGHPUT_MODEL, { ...p, keyId }, c, seconds);
        emit({
          name: `deploy/throughput/redis-2-workers/${c}-clients`, section: "deploy", value: round(s.perSecond), median_ms: round(s.ms / s.done), batch: c, params: p.client.params.name,
          note: `${s.done} predictions in ${(s.ms / 1000).toFixed(1)} s; two umbra worker processes with 1 thread each, Redis at ${new URL(url).host}`, n: s.done, unit: "predictions/s",
        });
      }
    } catch (e) {
      emit({ name: "deploy/redis", section: "deploy", error: errorText(e), n: 0, unit: "ms" });
    } finally {
      for (const q of procs.reverse()) await q.stop();
      try {
        const { connectRedis, deletePrefixed } = await import("../../src/deploy/redis-index.js");
        const r = connectRedis(url);
        await deletePrefixed(r, prefix);
        await r.quit();
      } catch { /* nothing left to clean, or Redis is gone */ }
    }
  }
  emit({ name: "deploy/run", section: "deploy", value: availableParallelism(), note: `${started}, at the end ${load()}; ${availableParallelism()} logical cores`, n: 1, unit: "cores" });
  circuit.dispose();
  await tree.close();
  await logreg.close();
  rmSync(dir, { recursive: true, force: true });
}
