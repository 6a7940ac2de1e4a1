// Multi-core programmable bootstrapping for Node.js: a pool of worker threads, each with its own kernel
// instance and its own ServerKey built once from the evaluation keys. A batch is cut into contiguous
// chunks (one per worker), bootstrapped in parallel, and reassembled in order.
//
// NODE-ONLY. It runs on node:worker_threads; the browser will get a Web Worker pool later. To keep
// `node:` modules out of browser bundles of `umbra/tfhe`, this file has no static `node:` import: the
// modules are loaded with a dynamic import inside `PbsWorkerPool.create`, which rejects outside Node.
// The worker entry is ./pbs-worker.js (started by file URL; bundlers are not expected to package it).
import type { Worker as NodeWorker } from "node:worker_threads";
import { ParameterMismatchError } from "./errors.js";
import { LweBatch } from "./lwe-batch.js";
import { LookupTable } from "./lookup-table.js";
import type { EvaluationKeys, ServerKeyOptions } from "./server-key.js";
import { bootstrapOutputBounds, checkBootstrapBounds } from "./bootstrap-input.js";
import type { TfheParameters } from "./parameters.js";
import type { WorkerError, WorkerInit, WorkerReply, WorkerRequest } from "./pbs-worker.js";

export interface PbsWorkerPoolOptions {
  /** Worker threads (default: `os.availableParallelism()`). */
  readonly threads?: number;
  /** Options of each worker's ServerKey (e.g. `residentKeyBytes`, to stream keys from host memory). */
  readonly serverKey?: ServerKeyOptions;
}

/** Thrown when a worker thread dies, or when the pool is used after `close()`. */
export class WorkerPoolError extends Error {
  override name = "WorkerPoolError";
}

// A specifier that is not a string literal, so that bundlers do not try to resolve `node:` modules.
const nodeModule = (name: string): Promise<unknown> => import(/* @vite-ignore */ `node:${name}`);

function rebuildError(worker: number, e: WorkerError): Error {
  const message = `PBS worker ${worker}: ${e.message}`;
  switch (e.name) {
    case "ParameterMismatchError": return new ParameterMismatchError(message);
    case "RangeError": return new RangeError(message);
    case "TypeError": return new TypeError(message);
    default: {
      const err = new Error(message);
      if (e.name !== "Error") err.name = e.name;
      return err;
    }
  }
}

interface Pending {
  readonly resolve: (r: Extract<WorkerReply, { kind: "result"; ok: true }>) => void;
  readonly reject: (e: Error) => void;
}

class PoolWorker {
  readonly pending = new Map<number, Pending & { readonly weight: number }>();
  dead: Error | undefined;
  /** Ciphertexts in flight on this worker: new chunks go to the least loaded worker. */
  load = 0;

  constructor(readonly index: number, readonly worker: NodeWorker) {
    worker.on("message", (m: WorkerReply) => {
      if (m.kind !== "result") return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.load -= p.weight;
      this.#idle();
      if (m.ok) p.resolve(m);
      else p.reject(rebuildError(this.index, m.error));
    });
    worker.on("error", (e: Error) => this.#die(new WorkerPoolError(`PBS worker ${this.index} crashed: ${e.message}`)));
    worker.on("exit", (code: number) => this.#die(new WorkerPoolError(`PBS worker ${this.index} exited (code ${code})`)));
  }

  run(req: WorkerRequest, transfer: ArrayBuffer[]): Promise<Extract<WorkerReply, { kind: "result"; ok: true }>> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const weight = Math.max(1, req.batch.count);
      this.pending.set(req.id, { resolve, reject, weight });
      this.load += weight;
      // Keep the process alive only while work is in flight: a forgotten pool does not hang Node.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage(req, transfer);
    });
  }

  #idle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  #die(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    this.load = Infinity; // never chosen again while a live worker remains
  }
}

/**
 * A pool of worker threads doing programmable bootstrapping with the same evaluation keys.
 * Node.js only (node:worker_threads). Close it with `await pool.close()` or `await using`.
 *
 * ```ts
 * await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
 * const y = await pool.bootstrap(x, server.lookupTable((v) => v * v % 16));
 * ```
 */
export class PbsWorkerPool {
  readonly #workers: PoolWorker[];
  #nextId = 1;
  #closed: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<unknown>>();

  private constructor(readonly params: TfheParameters, workers: PoolWorker[]) {
    this.#workers = workers;
  }

  /** Number of worker threads. */
  get threads(): number {
    return this.#workers.length;
  }

  /** Ciphertexts in flight per worker (a live view of the load balancing). */
  get inFlight(): readonly number[] {
    return this.#workers.map((w) => (w.dead ? 0 : w.load));
  }

  /**
   * Starts `threads` workers; each receives its own copy of the key words (transferred, not shared) and
   * builds its ServerKey. Resolves once every worker is ready; rejects (and stops them all) if one fails.
   */
  static async create(keys: EvaluationKeys, options: PbsWorkerPoolOptions = {}): Promise<PbsWorkerPool> {
    if (typeof process === "undefined" || typeof process.versions?.node !== "string") {
      throw new WorkerPoolError("PbsWorkerPool runs on Node.js worker threads only");
    }
    const { Worker } = await nodeModule("worker_threads") as typeof import("node:worker_threads");
    const os = await nodeModule("os") as typeof import("node:os");
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new RangeError(`options.threads must be an integer in [1, 1024], got ${String(threads)}`);
    }
    const url = new URL("./pbs-worker.js", import.meta.url);
    const started: PoolWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      // One copy per worker, transferred: the main thread keeps its keys, each worker owns its copy.
      const bsk = keys.bootstrapKey.data.slice().buffer as ArrayBuffer;
      const ksk = keys.keyswitchKey.data.slice().buffer as ArrayBuffer;
      const init: WorkerInit = {
        params: keys.params, bskShape: keys.bootstrapKey.shape, bsk, kskShape: keys.keyswitchKey.shape, ksk,
        serverKey: { ...options.serverKey },
      };
      const w = new Worker(url, { workerData: init, transferList: [bsk, ksk] });
      started.push(new PoolWorker(i, w));
      ready.push(new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerReply): void => {
          if (m.kind === "ready") { cleanup(); resolve(); }
          else if (m.kind === "init-error") { cleanup(); reject(rebuildError(i, m.error)); }
        };
        const onError = (e: Error): void => { cleanup(); reject(new WorkerPoolError(`PBS worker ${i} failed to start: ${e.message}`)); };
        const onExit = (code: number): void => { cleanup(); reject(new WorkerPoolError(`PBS worker ${i} exited during start (code ${code})`)); };
        const cleanup = (): void => { w.off("message", onMessage); w.off("error", onError); w.off("exit", onExit); };
        w.on("message", onMessage);
        w.on("error", onError);
        w.on("exit", onExit);
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.allSettled(started.map((w) => w.worker.terminate()));
      throw e;
    }
    for (const w of started) w.worker.unref();
    return new PbsWorkerPool(keys.params, started);
  }

  /** PBS of every ciphertext with one table (as ServerKey.bootstrap), spread over the workers. */
  async bootstrap(batch: LweBatch, lut: LookupTable): Promise<LweBatch> {
    if (!(lut instanceof LookupTable)) throw new TypeError("lut must be a LookupTable");
    if (lut.offsets.length !== 1) throw new RangeError("bootstrap takes a single table; use bootstrapMany for a many-LUT");
    return (await this.bootstrapMany(batch, lut))[0]!;
  }

  /** PBS with a (many-)table; output t holds function t of every input, in input order. */
  bootstrapMany(batch: LweBatch, lut: LookupTable): Promise<LweBatch[]> {
    const p = this.#bootstrapMany(batch, lut);
    this.#inflight.add(p);
    const done = (): void => { this.#inflight.delete(p); };
    p.then(done, done);
    return p;
  }

  async #bootstrapMany(batch: LweBatch, lut: LookupTable): Promise<LweBatch[]> {
    if (this.#closed) throw new WorkerPoolError("the PBS worker pool is closed");
    if (!(batch instanceof LweBatch)) throw new TypeError("batch must be an LweBatch");
    if (!(lut instanceof LookupTable)) throw new TypeError("lut must be a LookupTable");
    // Bounds are checked here (the workers see no provenance); shapes and encodings in the workers.
    checkBootstrapBounds(this.params, batch, lut);
    // Contiguous chunks whose sizes differ by at most one, each sent to the least loaded worker (so that
    // concurrent calls, e.g. the lookups of one circuit layer, spread over the pool); an empty batch
    // still goes to one worker so that a bad table is rejected the same way.
    const chunks = Math.max(1, Math.min(this.#workers.length, batch.count));
    const base = Math.floor(batch.count / chunks), extra = batch.count % chunks;
    const jobs: Promise<Extract<WorkerReply, { kind: "result"; ok: true }>>[] = [];
    let start = 0;
    for (let c = 0; c < chunks; c++) {
      const end = start + base + (c < extra ? 1 : 0);
      const data = batch.data.slice(start * batch.size, end * batch.size).buffer as ArrayBuffer;
      const req: WorkerRequest = {
        id: this.#nextId++,
        batch: { dimension: batch.dimension, count: end - start, data, encoding: batch.encoding, bounds: batch.bounds },
        lut: {
          polynomial: lut.polynomial, inputEncoding: lut.inputEncoding, outputEncoding: lut.outputEncoding, offsets: [...lut.offsets],
          maxInput: lut.maxInput,
        },
      };
      const target = this.#workers.reduce((best, w) => (w.load < best.load ? w : best));
      jobs.push(target.run(req, [data]));
      start = end;
    }
    const results = await Promise.all(jobs);
    const { bounds, noise } = bootstrapOutputBounds(batch, lut);
    const outputs: LweBatch[] = [];
    for (let t = 0; t < lut.offsets.length; t++) {
      const parts = results.map((r) => new BigUint64Array(r.outputs[t]!));
      const data = new BigUint64Array(batch.count * (this.params.glweDimension * this.params.polynomialSize + 1));
      let off = 0;
      for (const d of parts) { data.set(d, off); off += d.length; }
      outputs.push(new LweBatch(results[0]!.dimension, batch.count, data, lut.outputEncoding, bounds[t], noise));
    }
    return outputs;
  }

  /** Waits for the calls in flight, then stops the workers. Idempotent; later calls reject. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([...this.#inflight]);
      await Promise.allSettled(this.#workers.map((w) => w.worker.terminate()));
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
