// A multi-parameter circuit's keys on worker threads (Node only, like the core's PbsWorkerPool): one
// PbsWorkerPool per partition, each holding its partition's keys and the key switches from other
// partitions' big keys to its small key; conversions between big keys run in the calling thread (one key
// switch per value, far cheaper than a PBS). Each partition's pool gets `threads` workers: a layer's PBS
// of different partitions run together.
import { KernelKeyswitchKey, type LookupTable, type LweBatch, ParameterMismatchError, PbsWorkerPool, type PbsWorkerPoolOptions, type TfheParameters } from "../tfhe/index.js";
import type { PartitionedEvaluationKeys } from "./partitioned-keys.js";
import type { PartitionedBootstrapper } from "./partitioned-server-key.js";
import { keyswitchId } from "./partitions.js";

export class PartitionedWorkerPool implements PartitionedBootstrapper {
  readonly #conversions: ReadonlyMap<string, KernelKeyswitchKey>;

  private constructor(readonly params: readonly TfheParameters[], readonly pools: readonly PbsWorkerPool[], conversions: ReadonlyMap<string, KernelKeyswitchKey>) {
    this.#conversions = conversions;
  }

  static async create(keys: PartitionedEvaluationKeys, options: Omit<PbsWorkerPoolOptions, "keyswitches"> = {}): Promise<PartitionedWorkerPool> {
    const conversions = new Map<string, KernelKeyswitchKey>();
    const started: PbsWorkerPool[] = [];
    try {
      for (const { spec, key } of keys.keyswitches) if (spec.target === "big") conversions.set(keyswitchId(spec), KernelKeyswitchKey.fromStandard(key));
      for (const [p, ek] of keys.partitions.entries()) {
        const keyswitches = keys.keyswitches.filter(({ spec }) => spec.target === "small" && spec.to === p).map(({ spec, key }) => ({ id: keyswitchId(spec), key }));
        started.push(await PbsWorkerPool.create(ek, { ...options, keyswitches }));
      }
    } catch (e) {
      conversions.forEach((k) => k.free());
      await Promise.allSettled(started.map((s) => s.close()));
      throw e;
    }
    return new PartitionedWorkerPool(keys.params, started, conversions);
  }

  /** Worker threads in all. */
  get threads(): number {
    return this.pools.reduce((s, p) => s + p.threads, 0);
  }

  bootstrapMany(partition: number, from: number, batch: LweBatch, lut: LookupTable): Promise<LweBatch[]> {
    const pool = this.pools[partition];
    if (pool === undefined) return Promise.reject(new RangeError(`no partition ${partition}`));
    return from === partition ? pool.bootstrapMany(batch, lut) : pool.bootstrapMany(batch, lut, keyswitchId({ from, to: partition, target: "small" }));
  }

  convert(batch: LweBatch, from: number, to: number): LweBatch {
    if (from === to) return batch;
    const k = this.#conversions.get(keyswitchId({ from, to, target: "big" }));
    if (k === undefined) throw new ParameterMismatchError(`no conversion key ${keyswitchId({ from, to, target: "big" })} in this pool`);
    return k.apply(batch);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.pools.map((p) => p.close()));
    this.#conversions.forEach((k) => k.free());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
