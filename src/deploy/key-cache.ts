// Loaded evaluation keys, by key id, with an LRU bound: each entry holds the decoded keys and, once a
// model with lookups has used them, a worker pool of its own (one pool per key set: a request's keys are
// never used for another key id; a multi-parameter circuit's key bundle gets one pool per partition,
// PartitionedWorkerPool). An evicted entry's pool closes when its last job finishes.
import { PartitionedWorkerPool } from "../runtime/partitioned-pool.js";
import { isPartitionedEvaluationKeys } from "../runtime/partitioned-keys.js";
import { PbsWorkerPool } from "../tfhe/index.js";
import type { UploadedKeySet } from "./key-sets.js";

type Pool = PbsWorkerPool | PartitionedWorkerPool;

const startPool = (keys: UploadedKeySet, threads: number): Promise<Pool> =>
  isPartitionedEvaluationKeys(keys) ? PartitionedWorkerPool.create(keys, { threads }) : PbsWorkerPool.create(keys, { threads });

interface Entry {
  readonly keys: UploadedKeySet;
  readonly parametersId: string;
  pool: Promise<Pool> | undefined;
  users: number;
  evicted: boolean;
}

export interface Lease {
  readonly parametersId: string;
  pool(): Promise<Pool>;
  release(): void;
}

export class KeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<Entry>>();

  constructor(readonly maxEntries: number, readonly threads: number) {}

  get size(): number { return this.#entries.size; }

  has(id: string): boolean { return this.#entries.has(id); }

  set(id: string, keys: UploadedKeySet, parametersId: string): void {
    this.#set(id, keys, parametersId);
  }

  #set(id: string, keys: UploadedKeySet, parametersId: string): Entry {
    this.#drop(id);
    const e: Entry = { keys, parametersId, pool: undefined, users: 0, evicted: false };
    this.#entries.set(id, e);
    while (this.#entries.size > this.maxEntries) this.#drop(this.#entries.keys().next().value!);
    return e;
  }

  /** Uses an entry (most recently used from now on); undefined if not loaded. */
  lease(id: string): Lease | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, e);
    return this.#lease(e);
  }

  // An entry evicted while its loader was awaited is still leased: its pool closes when the lease ends.
  #lease(e: Entry): Lease {
    e.users++;
    let released = false;
    return {
      parametersId: e.parametersId,
      pool: () => (e.pool ??= startPool(e.keys, this.threads)),
      release: () => {
        if (released) return;
        released = true;
        if (--e.users === 0 && e.evicted) void this.#close(e);
      },
    };
  }

  /** The entry of `id`, loaded by `load` on a miss (one load per id at a time, however many ask). */
  async leaseOrLoad(id: string, load: () => Promise<{ keys: UploadedKeySet; parametersId: string }>): Promise<Lease> {
    const lease = this.lease(id);
    if (lease !== undefined) return lease;
    let p = this.#loading.get(id);
    if (p === undefined) {
      p = load().then((r) => this.#set(id, r.keys, r.parametersId)).finally(() => this.#loading.delete(id));
      this.#loading.set(id, p);
    }
    return this.#lease(await p);
  }

  delete(id: string): void {
    this.#drop(id);
  }

  #drop(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined) return;
    this.#entries.delete(id);
    e.evicted = true;
    if (e.users === 0) void this.#close(e);
  }

  async #close(e: Entry): Promise<void> {
    const p = e.pool;
    e.pool = undefined;
    if (p !== undefined) await (await p.catch(() => undefined))?.close();
  }

  async close(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => this.#close(e)));
  }
}
