// The server's side of a multi-parameter circuit's keys (partitioned-keys.ts has the client's): decoding an
// upload against the layout the server holds, checking key objects, and the keys in kernel form.
import { ParameterMismatchError } from "../tfhe/errors.js";
import { KernelKeyswitchKey, KeyswitchKey } from "../tfhe/keyswitch-key.js";
import type { LookupTable } from "../tfhe/lookup-table.js";
import type { LweBatch } from "../tfhe/lwe-batch.js";
import type { TfheParameters } from "../tfhe/parameters.js";
import {
  DeserializationError, type DeserializeOptions, deserializeBundle, deserializeEvaluationKeys, deserializeKeyswitchKeyOfShape,
} from "../tfhe/serialization.js";
import { ServerKey, type ServerKeyOptions } from "../tfhe/server-key.js";
import { sameParameters } from "./artifact.js";
import { KEYS_TYPE, type PartitionedEvaluationKeys, partitionedKeysJson } from "./partitioned-keys.js";
import { keyswitchId, type PartitionKeyswitch, partitionKeyswitchShape } from "./partitions.js";

/** Decodes an upload against the layout the server holds (DeserializationError on any difference). */
export function deserializePartitionedKeys(
  bytes: Uint8Array, params: readonly TfheParameters[], keyswitches: readonly PartitionKeyswitch[], opts?: DeserializeOptions,
): PartitionedEvaluationKeys {
  const b = deserializeBundle(bytes, KEYS_TYPE, params[0]!, opts);
  const got = b.json as { partitions?: unknown; keyswitches?: unknown } | null;
  const want = partitionedKeysJson(params, keyswitches);
  if (JSON.stringify(got?.partitions) !== JSON.stringify(want.partitions)) {
    throw new DeserializationError("PARAMS_MISMATCH", `circuit keys: for partitions ${JSON.stringify(got?.partitions)?.slice(0, 200)}, expected [${want.partitions.join(", ")}]`);
  }
  if (JSON.stringify(got?.keyswitches) !== JSON.stringify(want.keyswitches)) {
    throw new DeserializationError("INVALID_VALUE", `circuit keys: expected the key switches [${keyswitches.map(keyswitchId).join(", ")}] with the circuit's decompositions, got ${JSON.stringify(got?.keyswitches)?.slice(0, 200)}`);
  }
  if (b.parts.length !== params.length + keyswitches.length) {
    throw new DeserializationError("LENGTH_MISMATCH", `circuit keys: expected ${params.length} partition key sets and ${keyswitches.length} key switches, got ${b.parts.length} parts`);
  }
  return {
    params,
    partitions: params.map((p, i) => deserializeEvaluationKeys(b.parts[i]!, p, opts)),
    keyswitches: keyswitches.map((spec, i) => ({
      spec, key: deserializeKeyswitchKeyOfShape(b.parts[params.length + i]!, params[spec.to]!, partitionKeyswitchShape(params, spec), opts).decompress(),
    })),
  };
}

/** Checks decoded keys against the layout: every partition's parameters, every key switch's shape. */
export function checkPartitionedKeys(keys: PartitionedEvaluationKeys, params: readonly TfheParameters[], keyswitches: readonly PartitionKeyswitch[]): void {
  if (keys.partitions.length !== params.length) throw new ParameterMismatchError(`expected keys for ${params.length} partitions, got ${keys.partitions.length}`);
  keys.partitions.forEach((ek, i) => {
    if (!sameParameters(ek.params, params[i]!)) throw new ParameterMismatchError(`the keys of partition ${i} belong to other parameters than the circuit's`);
  });
  if (keys.keyswitches.length !== keyswitches.length) throw new ParameterMismatchError(`expected ${keyswitches.length} key switches between partitions, got ${keys.keyswitches.length}`);
  keyswitches.forEach((spec, i) => {
    const got = keys.keyswitches[i]!;
    const shape = partitionKeyswitchShape(params, spec), s = got.key?.shape;
    if (!(got.key instanceof KeyswitchKey) || keyswitchId(got.spec) !== keyswitchId(spec) || s.inputDimension !== shape.inputDimension
      || s.outputDimension !== shape.outputDimension || s.baseLog !== shape.baseLog || s.levels !== shape.levels) {
      throw new ParameterMismatchError(`key switch ${keyswitchId(spec)}: missing or of another shape than the circuit needs`);
    }
  });
}

/**
 * What the evaluator needs of a multi-parameter circuit's keys: a PBS of partition `partition` on values
 * under partition `from`'s big key, and conversions between big keys. PartitionedServerKey answers in this
 * thread; PartitionedWorkerPool (partitioned-pool.ts) on worker threads.
 */
export interface PartitionedBootstrapper {
  readonly params: readonly TfheParameters[];
  bootstrapMany(partition: number, from: number, batch: LweBatch, lut: LookupTable): LweBatch[] | Promise<LweBatch[]>;
  convert(batch: LweBatch, from: number, to: number): LweBatch;
}

export function isPartitionedBootstrapper(k: unknown): k is PartitionedBootstrapper {
  const o = k as Partial<PartitionedBootstrapper> | null;
  return typeof o === "object" && o !== null && Array.isArray(o.params) && typeof o.convert === "function" && typeof o.bootstrapMany === "function";
}

/**
 * The server side: a ServerKey per partition, and the key switches between partitions in kernel form.
 * A PBS of partition B on a value of home A key-switches with big_A → small_B, then blind-rotates with B's key.
 */
export class PartitionedServerKey implements PartitionedBootstrapper {
  readonly params: readonly TfheParameters[];
  readonly servers: readonly ServerKey[];
  readonly #switches = new Map<string, KernelKeyswitchKey>();

  constructor(keys: PartitionedEvaluationKeys, opts: ServerKeyOptions = {}) {
    this.params = keys.params;
    const servers: ServerKey[] = [];
    try {
      for (const ek of keys.partitions) servers.push(new ServerKey(ek, opts));
      for (const { spec, key } of keys.keyswitches) this.#switches.set(keyswitchId(spec), KernelKeyswitchKey.fromStandard(key));
    } catch (e) {
      servers.forEach((s) => s.free());
      this.#switches.forEach((k) => k.free());
      throw e;
    }
    this.servers = servers;
  }

  #switch(from: number, to: number, target: "small" | "big"): KernelKeyswitchKey {
    const k = this.#switches.get(keyswitchId({ from, to, target }));
    if (k === undefined) throw new ParameterMismatchError(`no key switch ${keyswitchId({ from, to, target })} among the loaded keys`);
    return k;
  }

  /** PBS of partition `partition` on ciphertexts under partition `from`'s big key. */
  bootstrapMany(partition: number, from: number, batch: LweBatch, lut: LookupTable): LweBatch[] {
    const server = this.servers[partition];
    if (server === undefined) throw new RangeError(`no partition ${partition}`);
    return from === partition ? server.bootstrapMany(batch, lut) : server.bootstrapMany(batch, lut, this.#switch(from, partition, "small"));
  }

  /** Moves ciphertexts from partition `from`'s big key to `to`'s (a conversion key switch). */
  convert(batch: LweBatch, from: number, to: number): LweBatch {
    return from === to ? batch : this.#switch(from, to, "big").apply(batch);
  }

  free(): void {
    this.servers.forEach((s) => s.free());
    this.#switches.forEach((k) => k.free());
    this.#switches.clear();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
