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
import type { Bootstrapper } from "./bootstrapper.js";
import { checkEvaluationKeys, type EvaluationKeys, type ServerKeyOptions } from "./server-key.js";
import { KeyswitchKey } from "./keyswitch-key.js";
import { bootstrapOutputBounds, checkBootstrapBounds } from "./bootstrap-input.js";
import type { TfheParameters } from "./parameters.js";
import type { WorkerError, WorkerInit, WorkerReply, WorkerRequest } from "./pbs-worker.js";

export interface PbsWorkerPoolOptions {
  /** Worker threads (default: `os.availableParallelism()`). */
  readonly threads?: number;
  /** Options of each worker's ServerKey (e.g. `residentKeyBytes`, to stream keys from host memory). */
  readonly serverKey?: ServerKeyOptions;
  /**
   * Key-switching keys from other parameter sets' big keys to this set's small key, by name (multi-parameter
   * circuits): `bootstrapMany(batch, lut, name)` key-switches with one of them instead of the set's own.
   */
  readonly keyswitches?: readonly { readonly id: string; readonly key: KeyswitchKey }[];
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

type Result = Extract<WorkerReply, { kind: "result"; ok: true }>;

/** A chunk on its way to a worker: rebuilt from the caller's batch if it must be sent again. */
interface Job {
  readonly id: number;
  readonly weight: number;
  readonly message: () => [WorkerRequest, ArrayBuffer[]];
  readonly resolve: (r: Result) => void;
  readonly reject: (e: Error) => void;
  /** Threads this chunk was sent to (a chunk whose thread dies is sent once more, to its replacement). */
  sends: number;
}

/**
 * One slot of the pool: a worker thread, replaced by a fresh one (built from the same keys) when it dies.
 * A replacement that dies or fails before it is ready is not replaced again: the slot is then lost.
 */
class PoolWorker {
  readonly pending = new Map<number, Job>();
  /** Ciphertexts in flight on this slot: new chunks go to the least loaded slot. */
  load = 0;
  /** Why this slot has no thread any more (its replacement failed, or the pool closed). */
  dead: Error | undefined;
  /** Threads started in this slot after the first (a live view for tests and monitoring). */
  restarts = 0;
  worker!: NodeWorker;
  /** Settles when the current thread is ready (or fails to start). */
  started!: Promise<void>;
  #ready = false;
  closing = false;

  constructor(readonly index: number, readonly spawn: () => NodeWorker) {
    this.#start();
  }

  #start(): void {
    const w = this.spawn();
    this.worker = w;
    this.#ready = false;
    let ready!: () => void, failed!: (e: Error) => void;
    this.started = new Promise<void>((res, rej) => { ready = res; failed = rej; });
    this.started.catch(() => undefined); // observed by create() for the first thread only
    w.on("message", (m: WorkerReply) => {
      if (w !== this.worker) return;
      if (m.kind === "ready") { this.#ready = true; ready(); return; }
      if (m.kind === "init-error") { this.#fail(rebuildError(this.index, m.error), failed); void w.terminate(); return; }
      const job = this.pending.get(m.id);
      if (!job) return;
      this.pending.delete(m.id);
      this.load -= job.weight;
      if (this.pending.size === 0) w.unref();
      if (m.ok) job.resolve(m);
      else job.reject(rebuildError(this.index, m.error));
    });
    w.on("error", (e: Error) => this.#lost(w, `crashed: ${e.message}`, failed));
    w.on("exit", (code: number) => this.#lost(w, `exited (code ${code})`, failed));
  }

  run(job: Job): void {
    if (this.dead) { job.reject(this.dead); return; }
    this.pending.set(job.id, job);
    this.load += job.weight;
    this.#send(job);
  }

  #send(job: Job): void {
    job.sends++;
    // Keep the process alive only while work is in flight: a forgotten pool does not hang Node.
    this.worker.ref();
    const [req, transfer] = job.message();
    this.worker.postMessage(req, transfer);
  }

  /** The thread `w` is gone: replace it and send its chunks again, unless it never became ready. */
  #lost(w: NodeWorker, why: string, failed: (e: Error) => void): void {
    if (w !== this.worker || this.dead) return; // "error" is followed by "exit"; a closed slot stays closed
    if (this.closing) { this.#fail(new WorkerPoolError("the PBS worker pool is closed"), failed); return; }
    if (!this.#ready) {
      this.#fail(new WorkerPoolError(`PBS worker ${this.index} ${why} before it was ready${this.restarts > 0 ? " (as a replacement): not restarted again" : ""}`), failed);
      return;
    }
    this.restarts++;
    this.#start();
    for (const job of this.pending.values()) {
      if (job.sends >= 2) {
        this.pending.delete(job.id);
        this.load -= job.weight;
        job.reject(new WorkerPoolError(`PBS worker ${this.index} ${why}; this chunk was already sent to a thread that died`));
      } else {
        this.#send(job);
      }
    }
    if (this.pending.size === 0) this.worker.unref();
  }

  #fail(e: Error, failed: (e: Error) => void): void {
    this.dead ??= e;
    failed(this.dead);
    for (const job of this.pending.values()) job.reject(this.dead);
    this.pending.clear();
    this.load = Infinity; // never chosen again while a live slot remains
  }
}

/**
 * A pool of worker threads doing programmable bootstrapping with the same evaluation keys.
 * Node.js only (node:worker_threads). Close it with `await pool.close()` or `await using`.
 *
 * A thread that dies (a crash, `process.exit`, termination from outside) is replaced by a new one built
 * from the same keys (the pool keeps a reference to them for that), and the chunks it was running are
 * sent once more, to the replacement: the call completes with the right result. A chunk whose second
 * thread dies too rejects with WorkerPoolError, as does every chunk of a slot whose replacement fails to
 * start (that slot is then lost: `threads` counts the slots that still have a thread).
 *
 * ```ts
 * await using pool = await PbsWorkerPool.create(client.evaluationKeys(), { threads: 2 });
 * const y = await pool.bootstrap(x, server.lookupTable((v) => v * v % 16));
 * ```
 */
export class PbsWorkerPool implements Bootstrapper {
  readonly #workers: PoolWorker[];
  #nextId = 1;
  #closed: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<unknown>>();

  readonly #switches: ReadonlyMap<string, number>;

  private constructor(readonly params: TfheParameters, workers: PoolWorker[], switches: ReadonlyMap<string, number>) {
    this.#workers = workers;
    this.#switches = switches;
  }

  /** Number of worker threads (slots whose thread is alive or being replaced). */
  get threads(): number {
    return this.#workers.filter((w) => !w.dead).length;
  }

  /** Ciphertexts in flight per worker (a live view of the load balancing). */
  get inFlight(): readonly number[] {
    return this.#workers.map((w) => (w.dead ? 0 : w.load));
  }

  /** Threads started to replace dead ones, per slot. */
  get restarts(): readonly number[] {
    return this.#workers.map((w) => w.restarts);
  }

  /**
   * Starts `threads` workers; each receives its own copy of the key words (transferred, not shared) and
   * builds its ServerKey. Resolves once every worker is ready; rejects (and stops them all) if one fails.
   */
  static async create(keys: EvaluationKeys, options: PbsWorkerPoolOptions = {}): Promise<PbsWorkerPool> {
    checkEvaluationKeys(keys, "PbsWorkerPool.create");
    if (typeof process === "undefined" || typeof process.versions?.node !== "string") {
      throw new WorkerPoolError("PbsWorkerPool runs on Node.js worker threads only");
    }
    const { Worker } = await nodeModule("worker_threads") as typeof import("node:worker_threads");
    const os = await nodeModule("os") as typeof import("node:os");
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new RangeError(`options.threads must be an integer in [1, 1024], got ${String(threads)}`);
    }
    const extra = options.keyswitches ?? [];
    const switches = new Map<string, number>();
    for (const { id, key } of extra) {
      if (typeof id !== "string" || !(key instanceof KeyswitchKey) || switches.has(id)) throw new TypeError("options.keyswitches: distinct names and KeyswitchKeys expected");
      if (key.shape.outputDimension !== keys.params.lweDimension) {
        throw new ParameterMismatchError(`key switch "${id}" outputs dimension ${key.shape.outputDimension}, this set's PBS reads ${keys.params.lweDimension}`);
      }
      switches.set(id, key.shape.inputDimension);
    }
    const url = new URL("./pbs-worker.js", import.meta.url);
    const spawn = (): NodeWorker => {
      // One copy per thread, transferred: the main thread keeps its keys, each worker owns its copy.
      const bsk = keys.bootstrapKey.data.slice().buffer as ArrayBuffer;
      const ksk = keys.keyswitchKey.data.slice().buffer as ArrayBuffer;
      const more = extra.map(({ id, key }) => ({ id, shape: key.shape, data: key.data.slice().buffer as ArrayBuffer }));
      const init: WorkerInit = {
        params: keys.params, bskShape: keys.bootstrapKey.shape, bsk, kskShape: keys.keyswitchKey.shape, ksk,
        serverKey: { ...options.serverKey }, ...(more.length > 0 ? { keyswitches: more } : {}),
      };
      return new Worker(url, { workerData: init, transferList: [bsk, ksk, ...more.map((m) => m.data)] });
    };
    const started = Array.from({ length: threads }, (_, i) => new PoolWorker(i, spawn));
    try {
      await Promise.all(started.map((w) => w.started));
    } catch (e) {
      for (const w of started) w.closing = true;
      await Promise.allSettled(started.map((w) => w.worker.terminate()));
      throw e instanceof WorkerPoolError ? new WorkerPoolError(e.message.replace(/ before it was ready/, " during start")) : e;
    }
    for (const w of started) w.worker.unref();
    return new PbsWorkerPool(keys.params, started, switches);
  }

  /** PBS of every ciphertext with one table (as ServerKey.bootstrap), spread over the workers. */
  async bootstrap(batch: LweBatch, lut: LookupTable): Promise<LweBatch> {
    if (!(lut instanceof LookupTable)) throw new TypeError("lut must be a LookupTable");
    if (lut.offsets.length !== 1) throw new RangeError("bootstrap takes a single table; use bootstrapMany for a many-LUT");
    return (await this.bootstrapMany(batch, lut))[0]!;
  }

  /**
   * PBS with a (many-)table; output t holds function t of every input, in input order. `keyswitch` names
   * one of the pool's extra key switches (options.keyswitches) for inputs under another set's big key.
   */
  bootstrapMany(batch: LweBatch, lut: LookupTable, keyswitch?: string): Promise<LweBatch[]> {
    const p = this.#bootstrapMany(batch, lut, keyswitch);
    this.#inflight.add(p);
    const done = (): void => { this.#inflight.delete(p); };
    p.then(done, done);
    return p;
  }

  async #bootstrapMany(batch: LweBatch, lut: LookupTable, keyswitch?: string): Promise<LweBatch[]> {
    if (keyswitch !== undefined && !this.#switches.has(keyswitch)) throw new RangeError(`no key switch "${keyswitch}" in this pool`);
    if (this.#closed) throw new WorkerPoolError("the PBS worker pool is closed");
    if (!(batch instanceof LweBatch)) throw new TypeError("batch must be an LweBatch");
    if (!(lut instanceof LookupTable)) throw new TypeError("lut must be a LookupTable");
    // Bounds are checked here (the workers see no provenance); shapes and encodings in the workers.
    checkBootstrapBounds(this.params, batch, lut);
    const live = this.#workers.filter((w) => !w.dead);
    if (live.length === 0) throw this.#workers[0]!.dead!;
    // Contiguous chunks whose sizes differ by at most one, each sent to the least loaded worker (so that
    // concurrent calls, e.g. the lookups of one circuit layer, spread over the pool); an empty batch
    // still goes to one worker so that a bad table is rejected the same way.
    const chunks = Math.max(1, Math.min(live.length, batch.count));
    const base = Math.floor(batch.count / chunks), extra = batch.count % chunks;
    const table = {
      polynomial: lut.polynomial, inputEncoding: lut.inputEncoding, outputEncoding: lut.outputEncoding, offsets: [...lut.offsets],
      maxInput: lut.maxInput,
    };
    const jobs: Promise<Result>[] = [];
    let start = 0;
    for (let c = 0; c < chunks; c++) {
      const [from, end] = [start, start + base + (c < extra ? 1 : 0)];
      const id = this.#nextId++;
      // The chunk's words are copied at each send (the copy is transferred to the thread).
      const message = (): [WorkerRequest, ArrayBuffer[]] => {
        const data = batch.data.slice(from * batch.size, end * batch.size).buffer as ArrayBuffer;
        return [{
          id, batch: { dimension: batch.dimension, count: end - from, data, encoding: batch.encoding, bounds: batch.bounds }, lut: table,
          ...(keyswitch === undefined ? {} : { keyswitch }),
        }, [data]];
      };
      const target = live.reduce((best, w) => (w.load < best.load ? w : best));
      jobs.push(new Promise<Result>((resolve, reject) => {
        target.run({ id, weight: Math.max(1, end - from), message, resolve, reject, sends: 0 });
      }));
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

  /**
   * @internal Test hook: terminates the thread of slot `index` from outside, as a crash would (the pool
   * replaces it as it would any dead thread).
   */
  _unsafeTestOnlyKillWorker(index: number): Promise<number> {
    const w = this.#workers[index];
    if (w === undefined) throw new RangeError(`no worker ${index}`);
    return w.worker.terminate();
  }

  /** Waits for the calls in flight, then stops the workers. Idempotent; later calls reject. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([...this.#inflight]);
      for (const w of this.#workers) w.closing = true;
      await Promise.allSettled(this.#workers.map((w) => w.worker.terminate()));
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
