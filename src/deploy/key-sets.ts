// The evaluation keys a server takes, by key set: one parameter set's keys (kind EvaluationKeys, the
// header naming the set) or a multi-parameter circuit's bundle (umbra.circuit.keys/2: every partition's
// keys and the key switches between them, the bundle's JSON naming the partitions' fingerprints and the
// key switches). An upload is matched to a key set from its first bytes alone — magic, version, kind,
// fingerprints, key switches, part lengths — and its length must be exactly the set's, so that a wrong
// upload is refused before the server takes (or allocates) the rest of it. Decoding then checks every
// part against the set (runtime's decoders).
import type { CircuitServer } from "../compiler/index.js";
import { KEYS_TYPE, type PartitionedEvaluationKeys, partitionedKeySetId, partitionedKeysJson } from "../runtime/partitioned-keys.js";
import { deserializePartitionedKeys } from "../runtime/partitioned-server-key.js";
import { keyswitchId, type PartitionKeyswitch, partitionKeyswitchShape } from "../runtime/partitions.js";
import {
  bundlePrefix, DeserializationError, deserializeEvaluationKeys, type EvaluationKeys, ParameterMismatchError, parameterFingerprint, peekBundle, peekHeader,
  seededKeyswitchKeySizeOfShape, serializedSizes, type TfheParameters,
} from "../tfhe/index.js";
import { DeployError } from "./errors.js";

/** One kind of key set a server takes: its id (what key records and clients name it by), its parameters and its exact size. */
export interface KeySet {
  /** Hex parameter fingerprint (one set), or the layout's id (partitionedKeySetId). */
  readonly id: string;
  /** The parameter set's name, or the partitions' joined by " + " (for messages). */
  readonly name: string;
  readonly params: readonly TfheParameters[];
  /** Multi-parameter circuits: the key switches between partitions. */
  readonly keyswitches?: readonly PartitionKeyswitch[];
  /** The exact length of an upload of this set. */
  readonly totalBytes: number;
  /** Multi-parameter circuits: the bytes every upload of this set starts with (header, lengths, type, JSON). */
  readonly prefix?: Uint8Array;
}

export type UploadedKeySet = EvaluationKeys | PartitionedEvaluationKeys;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const HEADER_BYTES = 16;

/** The key set a circuit's server half takes. */
export function keySetOf(server: CircuitServer): KeySet {
  const layout = server.spec.layout;
  return layout === undefined ? keySetFor([server.params]) : keySetFor(layout.params, layout.keyswitches);
}

/** The key set of one parameter set (`keyswitches` undefined) or of a multi-parameter layout. */
export function keySetFor(params: readonly TfheParameters[], keyswitches?: readonly PartitionKeyswitch[]): KeySet {
  if (keyswitches === undefined) {
    if (params.length !== 1) throw new RangeError("a key set of one parameter set takes one set; pass the layout's key switches for several");
    const p = params[0]!;
    return { id: hex(parameterFingerprint(p)), name: p.name, params: [p], totalBytes: serializedSizes(p).evaluationKeys };
  }
  const parts = [
    ...params.map((p) => serializedSizes(p).evaluationKeys),
    ...keyswitches.map((k) => seededKeyswitchKeySizeOfShape(partitionKeyswitchShape(params, k))),
  ];
  const { prefix, totalBytes } = bundlePrefix(KEYS_TYPE, partitionedKeysJson(params, keyswitches), parts, params[0]!);
  return { id: partitionedKeySetId(params, keyswitches), name: params.map((p) => p.name).join(" + "), params, keyswitches, totalBytes, prefix };
}

/**
 * How many first bytes `checkKeysHeader` reads to decide: the 16-byte header, or with key bundles the
 * longest bundle head here plus some room, so that a near miss (an extra partition) is read far enough to
 * say what differs. Every upload of keys is far longer.
 */
export function keysHeaderBytes(sets: readonly KeySet[]): number {
  return Math.max(HEADER_BYTES, ...sets.map((s) => (s.prefix === undefined ? 0 : s.prefix.length + HEAD_ROOM)));
}

const HEAD_ROOM = 4096;

const describe = (sets: readonly KeySet[]): string => sets.map((s) => s.name).join(", ") || "none: no model here needs keys";

/**
 * The key set an upload is for, from its first bytes (`keysHeaderBytes` of them, or all there are):
 * BAD_KEYS for anything but evaluation keys or a key bundle of this server's layouts, WRONG_PARAMETERS
 * for keys of parameters (or partitions) no model here uses. Returns the set and the upload's exact length.
 */
export function checkKeysHeader(head: Uint8Array, sets: readonly KeySet[]): KeySet {
  const bad = (m: string, code = "BAD_KEYS"): never => { throw new DeployError(code, `evaluation keys: ${m}`); };
  let h;
  try {
    h = peekHeader(head);
  } catch (e) {
    return bad((e as Error).message);
  }
  const multi = sets.filter((s) => s.prefix !== undefined);
  if (h.kindName === "EvaluationKeys") {
    const set = sets.find((s) => s.prefix === undefined && s.id === h.fingerprintHex);
    if (set !== undefined) return set;
    const partOf = multi.find((s) => s.params.some((p) => hex(parameterFingerprint(p)) === h.fingerprintHex));
    if (partOf !== undefined) {
      bad(`one parameter set's keys (${h.fingerprintHex.slice(0, 16)}…), but the models here with those parameters have several partitions (${partOf.name}): upload their key bundle (${KEYS_TYPE}), as CircuitClient.serializedEvaluationKeys() makes it`, "WRONG_PARAMETERS");
    }
    bad(`for parameters ${h.fingerprintHex.slice(0, 16)}…, which no model here uses (${describe(sets)})`, "WRONG_PARAMETERS");
  }
  if (h.kindName !== "Bundle") bad(`got a serialized ${h.kindName}`);
  let b;
  try {
    b = peekBundle(head);
  } catch (e) {
    if (!(e instanceof DeserializationError)) throw e;
    // The head stops short of a bundle header longer than any key bundle's here: not one of them.
    if (e.code === "TRUNCATED" && head.length >= keysHeaderBytes(sets)) bad(`a bundle whose header is longer than any key bundle this server takes (${describe(multi)})`);
    return bad(e.message);
  }
  if (b.type !== KEYS_TYPE) bad(`a bundle of type ${JSON.stringify(b.type)}, expected a key bundle (${KEYS_TYPE})`);
  const json = b.json as { partitions?: unknown; keyswitches?: unknown } | null;
  const partitions = json?.partitions;
  if (!Array.isArray(partitions) || !partitions.every((p) => typeof p === "string")) return bad("the key bundle does not list its partitions");
  const same = multi.filter((s) => JSON.stringify(partitionedKeysJson(s.params, []).partitions) === JSON.stringify(partitions));
  if (same.length === 0) {
    // The nearest layout here: one whose partition 0 is the bundle's (its header's parameters).
    const near = multi.find((s) => hex(parameterFingerprint(s.params[0]!)) === partitions[0]);
    if (near !== undefined && near.params.length !== partitions.length) {
      bad(`a key bundle of ${partitions.length} partitions, but the models here with these parameters have ${near.params.length} (${near.name})`, "WRONG_PARAMETERS");
    }
    if (near !== undefined) {
      const i = near.params.findIndex((p, j) => hex(parameterFingerprint(p)) !== partitions[j]);
      bad(`partition ${i} of this key bundle has parameters ${String(partitions[i]).slice(0, 16)}…, not those of the models here with partitions ${near.name}`, "WRONG_PARAMETERS");
    }
    const ones = sets.filter((s) => s.prefix === undefined && partitions.includes(s.id));
    if (ones.length > 0) bad(`a key bundle of ${partitions.length} partitions, but the models here with parameters ${ones[0]!.name} have one set: upload its evaluation keys alone`, "WRONG_PARAMETERS");
    bad(`a key bundle for partitions [${partitions.map((p) => p.slice(0, 16)).join(", ")}], which no model here uses (${describe(multi)})`, "WRONG_PARAMETERS");
  }
  const given = JSON.stringify(json?.keyswitches);
  const set = same.find((s) => JSON.stringify(partitionedKeysJson(s.params, s.keyswitches!).keyswitches) === given);
  if (set === undefined) {
    const ids = Array.isArray(json?.keyswitches) ? (json.keyswitches as unknown[]).map((k) => (typeof k === "object" && k !== null ? keyswitchId(k as PartitionKeyswitch) : "?")) : [];
    bad(`the key switches [${ids.join(", ").slice(0, 200)}] are not those of the models here with partitions ${same[0]!.name} ([${same.map((s) => s.keyswitches!.map(keyswitchId).join(", ")).join("] or [")}], with their decompositions)`);
  }
  const want = set!.prefix!;
  if (head.length < want.length || head.subarray(0, want.length).some((x, i) => x !== want[i])) {
    bad(`the key bundle's ${b.partLengths.length} parts (${b.partLengths.join(", ")} bytes) are not the ${set!.params.length + set!.keyswitches!.length} keys of partitions ${set!.name}`);
  }
  return set!;
}

/**
 * Decodes an upload of key set `set` (BAD_KEYS, WRONG_PARAMETERS otherwise); `maxBytes` bounds each expanded
 * key. Without it there is no bound beyond the set itself: the upload has matched one of this server's own
 * key sets by its header and its exact length, and what it expands to is fixed by those parameters (the
 * decoders' 2 GiB default would refuse the keys of a model served here whose keys are larger).
 */
export function decodeKeys(bytes: Uint8Array, set: KeySet, maxBytes?: number): UploadedKeySet {
  const opts = { maxBytes: maxBytes ?? Infinity };
  try {
    if (checkKeysHeader(bytes, [set]) !== set) throw new Error("internal: key set mismatch");
    if (bytes.length !== set.totalBytes) throw new DeployError("BAD_KEYS", `evaluation keys: ${bytes.length} bytes, but keys of ${set.name} are ${set.totalBytes}`);
    return set.keyswitches === undefined
      ? deserializeEvaluationKeys(bytes, set.params[0]!, opts)
      : deserializePartitionedKeys(bytes, set.params, set.keyswitches, opts);
  } catch (e) {
    if (e instanceof DeployError) throw e;
    if (e instanceof ParameterMismatchError || (e instanceof DeserializationError && e.code === "PARAMS_MISMATCH")) {
      throw new DeployError("WRONG_PARAMETERS", `evaluation keys: ${e.message}`, 400, { cause: e });
    }
    if (e instanceof DeserializationError || e instanceof RangeError || e instanceof TypeError) throw new DeployError("BAD_KEYS", `evaluation keys: ${e.message}`, 400, { cause: e });
    throw e;
  }
}

/** Decodes an upload for whichever of `sets` its header names. */
export function decodeUploadedKeys(bytes: Uint8Array, sets: readonly KeySet[], maxBytes?: number): { set: KeySet; keys: UploadedKeySet } {
  const set = checkKeysHeader(bytes.subarray(0, keysHeaderBytes(sets)), sets);
  return { set, keys: decodeKeys(bytes, set, maxBytes) };
}
