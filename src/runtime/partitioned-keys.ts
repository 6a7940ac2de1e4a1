// The keys of a multi-parameter circuit (partitions.ts): per partition a secret key pair (client) and
// its evaluation keys (BSK + its own KSK), plus the key switches between partitions the layout lists.
// Uploaded as one bundle ("umbra.circuit.keys/2", under partition 0's fingerprint): JSON naming every
// partition's parameter fingerprint and every key switch with its decomposition, so that the bundle's
// first bytes say which circuit's layout it is for; parts: each partition's seeded evaluation keys (under
// its own fingerprint), then each key switch's seeded key (under its output partition's fingerprint, with
// the shape the layout implies). The server decodes it against the layout it holds
// (partitioned-server-key.ts): a missing, extra or reordered key, or one of other parameters or shape, is
// refused before anything is expanded. The secret keys, for the client's own storage, are a bundle too
// ("umbra.circuit.secret-keys/1": one client key per partition). This file is the client's side (no
// server code: it is part of the browser client).
import { ClientKey } from "../tfhe/client-key.js";
import { generateKeyswitchKey, type KeyswitchKey } from "../tfhe/keyswitch-key.js";
import { fnv1a64, parameterFingerprint, type TfheParameters } from "../tfhe/parameters.js";
import {
  DeserializationError, type DeserializeOptions, deserializeBundle, deserializeClientKey, serialize, serializeBundle, serializeKeyswitchKeyOfShape,
} from "../tfhe/serialization.js";
import type { EvaluationKeys } from "../tfhe/server-key.js";
import { type PartitionKeyswitch, partitionKeyswitchNoiseStd, partitionKeyswitchShape } from "./partitions.js";

export const KEYS_TYPE = "umbra.circuit.keys/2";
/** SECRET: a multi-parameter circuit's client keys, one per partition (the client's own storage only). */
export const SECRET_KEYS_TYPE = "umbra.circuit.secret-keys/1";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** What a key bundle's JSON says: every partition's parameter fingerprint, every key switch in full. */
export function partitionedKeysJson(params: readonly TfheParameters[], keyswitches: readonly PartitionKeyswitch[]): { partitions: string[]; keyswitches: PartitionKeyswitch[] } {
  return {
    partitions: params.map((p) => hex(parameterFingerprint(p))),
    keyswitches: keyswitches.map(({ from, to, target, baseLog, levels }) => ({ from, to, target, baseLog, levels })),
  };
}

/**
 * The id of a multi-parameter circuit's key set: its partitions' fingerprints joined by "+", then an
 * FNV-1a 64 of the key switches. Circuits of one layout share keys; one-set circuits' id is their
 * parameter fingerprint (hex), which this never equals.
 */
export function partitionedKeySetId(params: readonly TfheParameters[], keyswitches: readonly PartitionKeyswitch[]): string {
  const ks = JSON.stringify(partitionedKeysJson(params, keyswitches).keyswitches);
  return `${params.map((p) => hex(parameterFingerprint(p))).join("+")}.${hex(fnv1a64(new TextEncoder().encode(ks)))}`;
}

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
  return serializeBundle({ type: KEYS_TYPE, json: partitionedKeysJson(params, keys.keyswitches.map(({ spec }) => spec)), parts }, params[0]!);
}

/** SECRET: every partition's client key, for the client's own storage (never sent anywhere). */
export function serializePartitionSecretKeys(keys: readonly ClientKey[]): Uint8Array {
  return serializeBundle({ type: SECRET_KEYS_TYPE, json: { partitions: keys.length }, parts: keys.map((k) => serialize(k)) }, keys[0]!.params);
}

/** Restores what serializePartitionSecretKeys wrote: one key per partition, each of its partition's parameters. */
export function deserializePartitionSecretKeys(bytes: Uint8Array, params: readonly TfheParameters[], opts?: DeserializeOptions): ClientKey[] {
  const b = deserializeBundle(bytes, SECRET_KEYS_TYPE, params[0]!, opts);
  if ((b.json as { partitions?: unknown } | null)?.partitions !== params.length || b.parts.length !== params.length) {
    throw new DeserializationError("LENGTH_MISMATCH", `secret keys: expected the keys of ${params.length} partitions, got ${b.parts.length}`);
  }
  return params.map((p, i) => deserializeClientKey(b.parts[i]!, p, opts));
}

