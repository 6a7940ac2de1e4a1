// Loaded evaluation keys, by key id, with an LRU bound: each entry holds the decoded keys and, once a
// model with lookups has used them, a PbsWorkerPool of its own (one pool per key set: a request's keys
// are never used for another key id). An evicted entry's pool closes when its last job finishes.
import { type EvaluationKeys, PbsWorkerPool } from "../tfhe/index.js";

interface Entry {
  readonly keys: EvaluationKeys;
  readonly parametersId: string;
  pool: Promise<PbsWorkerPool> | undefined;
  users: number;
  evicted: boolean;
}

export interface Lease {
  readonly parametersId: string;
  pool(): Promise<PbsWorkerPool>;
  release(): void;
}

export class KeyCache {
  readonly #entries = new Map<string, Entry>();

  constructor(readonly maxEntries: number, readonly threads: number) {}

  get size(): number { return this.#entries.size; }

  has(id: string): boolean { return this.#entries.has(id); }

  set(id: string, keys: EvaluationKeys, parametersId: string): void {
    this.#drop(id);
    this.#entries.set(id, { keys, parametersId, pool: undefined, users: 0, evicted: false });
    while (this.#entries.size > this.maxEntries) this.#drop(this.#entries.keys().next().value!);
  }

  /** Uses an entry (most recently used from now on); undefined if not loaded. */
  lease(id: string): Lease | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, e);
    e.users++;
    let released = false;
    return {
      parametersId: e.parametersId,
      pool: () => (e.pool ??= PbsWorkerPool.create(e.keys, { threads: this.threads })),
      release: () => {
        if (released) return;
        released = true;
        if (--e.users === 0 && e.evicted) void this.#close(e);
      },
    };
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
