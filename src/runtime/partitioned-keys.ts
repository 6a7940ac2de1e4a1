// The keys of a multi-parameter circuit (partitions.ts): per partition a secret key pair (client) and
// its evaluation keys (BSK + its own KSK), plus the key switches between partitions the layout lists.
// Uploaded as one bundle ("umbra.circuit.keys/1", under partition 0's fingerprint): JSON listing the key
// switches; parts: each partition's seeded evaluation keys (under its own fingerprint), then each key
// switch's seeded key (under its output partition's fingerprint, with the shape the layout implies).
// The server decodes it against the layout it holds (partitioned-server-key.ts): a missing, extra or
// reordered key, or one of other parameters or shape, is refused before anything is expanded. This file
// is the client's side (no server code: it is part of the browser client).
import { ClientKey } from "../tfhe/client-key.js";
import { generateKeyswitchKey, type KeyswitchKey } from "../tfhe/keyswitch-key.js";
import type { TfheParameters } from "../tfhe/parameters.js";
import { serialize, serializeBundle, serializeKeyswitchKeyOfShape } from "../tfhe/serialization.js";
import type { EvaluationKeys } from "../tfhe/server-key.js";
import { keyswitchId, type PartitionKeyswitch, partitionKeyswitchNoiseStd, partitionKeyswitchShape } from "./partitions.js";

export const KEYS_TYPE = "umbra.circuit.keys/1";

/** Evaluation keys of a multi-parameter circuit (no secret material). */
export interface PartitionedEvaluationKeys {
  readonly params: readonly TfheParameters[];
  /** Each partition's bootstrapping key and own key-switching key. */
  readonly partitions: readonly EvaluationKeys[];
  /** The key switches between partitions, in the layout's order. */
  readonly keyswitches: readonly { readonly spec: PartitionKeyswitch; readonly key: KeyswitchKey }[];
}

export function isPartitionedEvaluationKeys(k: unknown): k is PartitionedEvaluationKeys {
  const o = k as Partial<PartitionedEvaluationKeys> | null;
  return typeof o === "object" && o !== null && Array.isArray(o.partitions) && Array.isArray(o.keyswitches) && Array.isArray(o.params);
}

/** Generates the evaluation keys from the partitions' client keys (client side). */
export function generatePartitionedKeys(clients: readonly ClientKey[], keyswitches: readonly PartitionKeyswitch[]): PartitionedEvaluationKeys {
  const params = clients.map((c) => c.params);
  return {
    params,
    partitions: clients.map((c) => c.evaluationKeys()),
    keyswitches: keyswitches.map((spec) => {
      const from = clients[spec.from]!.bigKey, to = spec.target === "small" ? clients[spec.to]!.lweKey : clients[spec.to]!.bigKey;
      return { spec, key: generateKeyswitchKey(from, to, spec.baseLog, spec.levels, partitionKeyswitchNoiseStd(params, spec)) };
    }),
  };
}

/** The upload: seeded keys in one bundle. */
export function serializePartitionedKeys(keys: PartitionedEvaluationKeys): Uint8Array {
  const { params } = keys;
  const parts = [
    ...keys.partitions.map((ek) => serialize(ek)),
    ...keys.keyswitches.map(({ spec, key }) => serializeKeyswitchKeyOfShape(key.compress(), params[spec.to]!, partitionKeyswitchShape(params, spec))),
  ];
  return serializeBundle({ type: KEYS_TYPE, json: { keyswitches: keys.keyswitches.map(({ spec }) => keyswitchId(spec)) }, parts }, params[0]!);
}

