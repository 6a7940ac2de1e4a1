// Where the HTTP server's predictions run: in this process (a FIFO queue in front of one worker pool per
// key set), or on `umbra worker` processes through a BullMQ queue (redis-executor.ts). The server has
// checked the model, the key id and its parameter set before a prediction reaches an executor.
import { FifoQueue } from "./fifo.js";
import { KeyCache } from "./key-cache.js";
import type { KeyStore } from "./key-store.js";
import { DeployError } from "./errors.js";
import type { UploadedKeySet } from "./key-sets.js";
import type { ModelServer } from "./model-server.js";

export interface Prediction {
  readonly model: ModelServer;
  readonly body: Uint8Array;
  /** The evaluation keys' id (models with lookups). */
  readonly keyId?: string;
  /** Aborted when the client goes away: queued work is dropped. */
  readonly signal: AbortSignal;
}

export interface Executor {
  run(p: Prediction): Promise<Uint8Array>;
  /** Keys just uploaded (and decoded by the server): an executor in this process keeps them loaded. */
  uploaded(keyId: string, keys: UploadedKeySet, parametersId: string): void;
  /** Keys deleted: whatever was loaded for them goes. */
  deleted(keyId: string): void;
  /** Gauges for GET /metrics. */
  gauges(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface LocalExecutorOptions {
  readonly store: KeyStore;
  readonly loadedKeys: number;
  readonly threads: number;
  readonly concurrency: number;
  readonly queued: number;
}

/** Loads a key set for `model` from `store` (UNKNOWN_KEY if it is gone), decoded for the model's key set. */
export async function loadKeysFor(store: KeyStore, keyId: string, model: ModelServer): Promise<{ keys: UploadedKeySet; parametersId: string }> {
  const r = await store.get(keyId);
  if (r === undefined) throw new DeployError("UNKNOWN_KEY", `no evaluation keys with id ${keyId} (upload them with POST /keys)`, 404);
  checkKeySetFor(model, r.parametersId);
  return { keys: model.loadKeys(r.keys), parametersId: r.parametersId };
}

/**
 * A key record's set must be the model's (WRONG_PARAMETERS otherwise, saying which kind each is: one
 * parameter set's keys for a multi-parameter model, or the reverse, or other parameters).
 */
export function checkKeySetFor(model: ModelServer, parametersId: string): void {
  if (parametersId === model.parametersId) return;
  const multiKeys = parametersId.includes("+");
  const what = multiKeys === model.multiParameter ? "other parameters than"
    : multiKeys ? "a multi-parameter circuit's key bundle; they do not serve" : "one parameter set; they do not serve";
  const needs = model.multiParameter ? `its ${model.keySet.params.length} partitions' key bundle (${model.keySet.name})` : `the keys of ${model.keySet.name}`;
  throw new DeployError("WRONG_PARAMETERS", `these evaluation keys belong to ${what} model ${model.id}, which needs ${needs}`);
}

export class LocalExecutor implements Executor {
  readonly #cache: KeyCache;
  readonly #queue: FifoQueue;

  constructor(readonly options: LocalExecutorOptions) {
    this.#cache = new KeyCache(options.loadedKeys, options.threads);
    this.#queue = new FifoQueue(options.concurrency, options.queued);
  }

  async run({ model, body, keyId, signal }: Prediction): Promise<Uint8Array> {
    // The lease is held while the request waits, so that its keys are not evicted before its turn.
    const lease = keyId === undefined ? undefined : await this.#cache.leaseOrLoad(keyId, () => loadKeysFor(this.options.store, keyId, model));
    try {
      return await this.#queue.push(async () => model.run(body, lease === undefined ? undefined : await lease.pool()), () => signal.aborted);
    } finally {
      lease?.release();
    }
  }

  uploaded(keyId: string, keys: UploadedKeySet, parametersId: string): void {
    this.#cache.set(keyId, keys, parametersId);
  }

  deleted(keyId: string): void {
    this.#cache.delete(keyId);
  }

  async gauges(): Promise<Record<string, number>> {
    return { umbra_queue_waiting: this.#queue.queued, umbra_queue_running: this.#queue.running, umbra_loaded_key_sets: this.#cache.size };
  }

  async close(): Promise<void> {
    await this.#cache.close();
  }
}
