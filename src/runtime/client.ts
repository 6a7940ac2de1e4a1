// The client half of a compiled circuit (Concrete's ClientSpecs + Client): parameters, the input and output
// encodings, key generation, encryption of arguments and decryption of results. It holds the secret key
// and never sends it: what leaves the client is the serialized evaluation keys and encrypted arguments.
// Serialized as a bundle ("umbra.circuit.client/1"): JSON with the input/output specs, one part with the
// parameters (re-checked for 128-bit security when decoded).
// The core's own modules, not its index: a browser bundle of the client must never reach the Node-only
// worker pool (test/runtime/client-bundle.test.ts).
import { ClientKey } from "../tfhe/client-key.js";
import { LweBatch } from "../tfhe/lwe-batch.js";
import { parameterFingerprint, type TfheParameters } from "../tfhe/parameters.js";
import { type DeserializeOptions, deserializeClientKey, serialize } from "../tfhe/serialization.js";
import type { EvaluationKeys } from "../tfhe/server-key.js";
import { decodeArtifactAny, encodeArtifact, encodeArtifactMulti, invalid, sameParameters } from "./artifact.js";
import { InputOutOfRangeError } from "./errors.js";
import {
  deserializePartitionSecretKeys, generatePartitionedKeys, type PartitionedEvaluationKeys, partitionedKeySetId, serializePartitionedKeys, serializePartitionSecretKeys,
} from "./partitioned-keys.js";
import { keyswitchId, type PartitionKeyswitch } from "./partitions.js";
import { cipherEncoding, liftResidue, MAX_LINEAR_CIRCUIT_BITS, residueOf } from "./encoding.js";
import { isShape, type Shape, sizeOf } from "./shape.js";
import { type Tensor, type TensorLike, toTensor } from "./tensor.js";
import { deserializeValues, serializeValues, type WireValue } from "./values.js";

export const CLIENT_TYPE = "umbra.circuit.client/2";

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
/** A multi-parameter circuit's client half: one parameter part per partition, homes and key switches in the JSON. */
export const CLIENT_TYPE_MULTI = "umbra.circuit.client/3";

export interface ClientInputSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly encrypted: boolean;
  /**
   * The range the circuit accepts and is correct for: an encrypted input's whole bit width (of the
   * inputset's range with the margin), a clear input's inputset range with the margin.
   */
  readonly min: number;
  readonly max: number;
  /** Message space of the value's region (compiler/encoding.ts): values mod 2^(bits+1); 0 for clear values. */
  readonly bits: number;
  /** Multi-parameter circuits: the partition whose key the value is encrypted under. */
  readonly home?: number;
}

export interface ClientOutputSpec {
  readonly shape: Shape;
  readonly encrypted: boolean;
  /** The output's decoding range (its bit width): decryption lifts residues mod 2p into [min, min + 2p). */
  readonly min: number;
  readonly max: number;
  /** Message space of the value's region: values mod 2^(bits+1); 0 for clear values. */
  readonly bits: number;
  /** Multi-parameter circuits: the partition whose key decrypts the value. */
  readonly home?: number;
}

export interface ClientSpec {
  /** The parameters (of partition 0 for a multi-parameter circuit: the values' header). */
  readonly params: TfheParameters;
  /** Several parameter partitions (runtime/partitions.ts): a secret key pair each, and these key switches. */
  readonly partitions?: { readonly params: readonly TfheParameters[]; readonly keyswitches: readonly PartitionKeyswitch[] };
  /** True when the circuit has no lookups (no evaluation keys). */
  readonly linearOnly: boolean;
  readonly inputs: readonly ClientInputSpec[];
  readonly outputs: readonly ClientOutputSpec[];
}

/** Keys made by `CircuitClient.keygen`: the secret key stays here; the evaluation keys go to the server. */
export interface CircuitKeys {
  /** SECRET: never leaves the client. (Partition 0's for a multi-parameter circuit.) */
  readonly client: ClientKey;
  /** SECRET: every partition's key, for a multi-parameter circuit. */
  readonly partitionKeys?: readonly ClientKey[];
  /**
   * Bootstrapping + key-switching keys (each partition's and the key switches between them for a
   * multi-parameter circuit); undefined for lookup-free circuits (they need none).
   */
  readonly evaluationKeys: EvaluationKeys | PartitionedEvaluationKeys | undefined;
}

/** Keys whose evaluation keys are generated once, when first read (they cost far more than the secret key). */
function keysOf(client: ClientKey, linearOnly: boolean): CircuitKeys {
  let evaluationKeys: EvaluationKeys | undefined;
  return {
    client,
    get evaluationKeys() {
      if (!linearOnly) evaluationKeys ??= client.evaluationKeys();
      return evaluationKeys;
    },
  };
}

export class CircuitClient {
  #keys: CircuitKeys | undefined;

  constructor(readonly spec: ClientSpec) {}

  get params(): TfheParameters {
    return this.spec.params;
  }

  /**
   * Fresh secret keys (kept by this client; the secret key never leaves it). The evaluation keys are made on
   * first use of `evaluationKeys`: a client that only encrypts and decrypts (its keys already on the server)
   * never pays for them.
   */
  keygen(): CircuitKeys {
    // One key pair per partition for a multi-parameter circuit; the evaluation keys on first read (useKey).
    const { partitions } = this.spec;
    this.useKey(partitions === undefined ? ClientKey.generate(this.spec.params) : partitions.params.map((p) => ClientKey.generate(p)));
    return this.#keys!;
  }

  /** The secret key of a value's home (partition 0's for a one-set circuit). */
  #keyOf(home: number | undefined): ClientKey {
    const keys = this.keys;
    return keys.partitionKeys?.[home ?? 0] ?? keys.client;
  }

  /** The parameters of each value's home, for the values' parts (undefined: the header's). */
  #homes(specs: readonly { readonly home?: number }[]): (TfheParameters | undefined)[] {
    return specs.map((s) => (s.home === undefined ? undefined : this.spec.partitions?.params[s.home]));
  }

  /**
   * Uses existing secret keys (e.g. restored from the client's own storage) instead of keygen(): one
   * ClientKey, or for a multi-parameter circuit one per partition, in partition order.
   */
  useKey(keys: ClientKey | readonly ClientKey[]): void {
    const list = Array.isArray(keys) ? keys as readonly ClientKey[] : [keys as ClientKey];
    if (!list.every((k) => k instanceof ClientKey)) throw new TypeError("useKey expects a ClientKey (or one per partition)");
    const { partitions } = this.spec;
    if (partitions !== undefined) {
      if (list.length !== partitions.params.length) {
        throw new RangeError(`this circuit has ${partitions.params.length} parameter partitions: it needs ${partitions.params.length} keys (one per partition), got ${list.length}`);
      }
      list.forEach((k, i) => {
        if (!sameParameters(k.params, partitions.params[i]!)) throw new RangeError(`the key of partition ${i} belongs to other parameters than the partition's (${partitions.params[i]!.name})`);
      });
      let evaluationKeys: PartitionedEvaluationKeys | undefined;
      this.#keys = {
        client: list[0]!, partitionKeys: [...list],
        get evaluationKeys() { return (evaluationKeys ??= generatePartitionedKeys(list, partitions.keyswitches)); },
      };
      return;
    }
    if (list.length !== 1) throw new RangeError(`this circuit has one parameter set: it takes one key, got ${list.length}`);
    if (!sameParameters(list[0]!.params, this.spec.params)) throw new RangeError("this key belongs to other parameters than the circuit's");
    this.#keys = keysOf(list[0]!, this.spec.linearOnly);
  }

  /**
   * The id of the key set this circuit needs: its parameter fingerprint (hex), or for a multi-parameter
   * circuit its layout's (partitionedKeySetId). Circuits with the same id take the same keys.
   */
  get keySetId(): string {
    const { partitions } = this.spec;
    return partitions === undefined ? hexOf(parameterFingerprint(this.spec.params)) : partitionedKeySetId(partitions.params, partitions.keyswitches);
  }

  /** SECRET: the secret keys as bytes, for the client's own storage (a ClientKey, or one per partition in a bundle). */
  serializeSecretKey(): Uint8Array {
    const keys = this.keys;
    return keys.partitionKeys === undefined ? serialize(keys.client) : serializePartitionSecretKeys(keys.partitionKeys);
  }

  /** Restores keys from `serializeSecretKey()`'s bytes (DeserializationError if they are not this circuit's). */
  useSerializedSecretKey(bytes: Uint8Array, opts?: DeserializeOptions): void {
    const { partitions } = this.spec;
    this.useKey(partitions === undefined ? deserializeClientKey(bytes, this.spec.params, opts) : deserializePartitionSecretKeys(bytes, partitions.params, opts));
  }

  /** True once keygen() or useKey() has run. */
  get hasKeys(): boolean {
    return this.#keys !== undefined;
  }

  get keys(): CircuitKeys {
    if (this.#keys === undefined) throw new Error("no keys yet: call keygen() (or useKey) first");
    return this.#keys;
  }

  /** What the server needs, as bytes (seeded keys); undefined for lookup-free circuits. */
  serializedEvaluationKeys(): Uint8Array | undefined {
    const ek = this.keys.evaluationKeys;
    if (ek === undefined) return undefined;
    return "partitions" in ek ? serializePartitionedKeys(ek) : serialize(ek);
  }

  /**
   * Checks each input against its spec (shape; range, InputOutOfRangeError naming the input) and encrypts
   * the encrypted ones (seeded: 72 bytes per value). Clear inputs travel in the clear.
   */
  encryptValues(...inputs: readonly (TensorLike | Tensor)[]): WireValue[] {
    const { spec } = this;
    if (inputs.length !== spec.inputs.length) throw new RangeError(`expected ${spec.inputs.length} input(s), got ${inputs.length}`);
    return spec.inputs.map((s, i) => {
      const t = toTensor(inputs[i]!, { what: `input "${s.name}"`, shape: s.shape });
      t.data.forEach((v, j) => {
        if (v < s.min || v > s.max) {
          throw new InputOutOfRangeError(`input "${s.name}" element ${j} = ${v} is outside [${s.min}, ${s.max}], the range this circuit accepts`, s.name, v);
        }
      });
      return s.encrypted ? { shape: s.shape, encrypted: this.#keyOf(s.home).encryptCompressed(t.data, cipherEncoding(s.bits)) } : t;
    });
  }

  /** `encryptValues`, serialized: the request body for the server. */
  encrypt(...inputs: readonly (TensorLike | Tensor)[]): Uint8Array {
    return serializeValues(this.encryptValues(...inputs), this.spec.params, this.#homes(this.spec.inputs));
  }

  /** Decrypts the server's serialized results (shapes and counts checked against the outputs). */
  decrypt(results: Uint8Array, opts?: DeserializeOptions): Tensor[] {
    const { spec } = this;
    const specs = spec.outputs.map((o, i) => ({ ...o, ...(this.#homes(spec.outputs)[i] === undefined ? {} : { params: this.#homes(spec.outputs)[i]! }) }));
    return this.decryptValues(deserializeValues(results, spec.params, specs, opts).map((v) => v.value));
  }

  /** Decrypts decoded results: round(phase/Δ) mod 2p, lifted into each output's range. */
  decryptValues(values: readonly (LweBatch | Tensor)[]): Tensor[] {
    const { spec } = this;
    if (values.length !== spec.outputs.length) throw new RangeError(`expected ${spec.outputs.length} output(s), got ${values.length}`);
    return values.map((value, o) => {
      const out = spec.outputs[o]!, client = this.#keyOf(out.home);
      if (!(value instanceof LweBatch)) return value;
      if (!out.encrypted || value.count !== sizeOf(out.shape)) throw new RangeError(`output ${o}: expected ${out.encrypted ? `${sizeOf(out.shape)} ciphertexts` : "a clear value"}`);
      return { shape: out.shape, data: Float64Array.from(client.phases(value), (ph) => liftResidue(residueOf(ph, out.bits), out.min, out.bits)) };
    });
  }

  serialize(): Uint8Array {
    const { params, partitions, ...rest } = this.spec;
    if (partitions === undefined) return encodeArtifact(CLIENT_TYPE, rest, params);
    return encodeArtifactMulti(CLIENT_TYPE_MULTI, { ...rest, keyswitches: partitions.keyswitches }, partitions.params);
  }

  /** Decodes a client spec: DeserializationError on any malformed field; the parameters must be ≥ 128-bit. */
  static deserialize(bytes: Uint8Array, opts?: DeserializeOptions): CircuitClient {
    const { params, json, multi } = decodeArtifactAny(bytes, CLIENT_TYPE, CLIENT_TYPE_MULTI, "client spec", opts);
    const spec = parseSpecJson(json, multi ? params.length : 0);
    if (!multi) return new CircuitClient({ params: params[0]!, ...spec });
    const keyswitches = parseKeyswitches((json as { keyswitches?: unknown }).keyswitches, params.length);
    return new CircuitClient({ params: params[0]!, ...spec, partitions: { params, keyswitches } });
  }
}

/** Key switches between `count` partitions: distinct, in range, a decomposition of at most 64 bits. */
function parseKeyswitches(json: unknown, count: number): PartitionKeyswitch[] {
  if (!Array.isArray(json)) invalid("client spec: bad keyswitches");
  const seen = new Set<string>();
  return (json as unknown[]).map((v, i) => {
    const k = v as Partial<Record<keyof PartitionKeyswitch, unknown>> | null;
    const ok = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < count;
    if (typeof k !== "object" || k === null || !ok(k.from) || !ok(k.to) || k.from === k.to || (k.target !== "small" && k.target !== "big")
      || !Number.isInteger(k.baseLog) || !Number.isInteger(k.levels) || (k.baseLog as number) < 1 || (k.levels as number) < 1
      || (k.baseLog as number) * (k.levels as number) > 64) invalid(`client spec: bad key switch ${i}`);
    const spec = { from: k.from as number, to: k.to as number, target: k.target as "small" | "big", baseLog: k.baseLog as number, levels: k.levels as number };
    if (seen.has(keyswitchId(spec))) invalid(`client spec: key switch ${keyswitchId(spec)} listed twice`);
    seen.add(keyswitchId(spec));
    return spec;
  });
}

function parseHome(v: unknown, where: string, partitions: number, encrypted: boolean): { home?: number } {
  const h = (v as { home?: unknown }).home;
  if (partitions === 0 || !encrypted) {
    if (h !== undefined) invalid(`${where}: a home without partitions`);
    return {};
  }
  if (!Number.isInteger(h) || (h as number) < 0 || (h as number) >= partitions) invalid(`${where}: bad home partition`);
  return { home: h as number };
}

function parseRangeSpec(v: unknown, where: string): ClientOutputSpec {
  const o = v as Partial<Record<keyof ClientOutputSpec, unknown>> | null;
  if (typeof o !== "object" || o === null || !isShape(o.shape) || typeof o.encrypted !== "boolean") invalid(`${where}: bad shape or encrypted flag`);
  if (!Number.isSafeInteger(o.min) || !Number.isSafeInteger(o.max) || (o.min as number) > (o.max as number)) invalid(`${where}: bad range`);
  const bits = o.bits;
  if (!Number.isInteger(bits) || (o.encrypted ? (bits as number) < 1 || (bits as number) > MAX_LINEAR_CIRCUIT_BITS : bits !== 0)) invalid(`${where}: bad bits`);
  // Decryption lifts residues mod 2^(bits+1) into [min, max]: the range must fit.
  if (o.encrypted && (o.max as number) - (o.min as number) >= 2 ** ((bits as number) + 1)) invalid(`${where}: range wider than its message space`);
  return { shape: o.shape, encrypted: o.encrypted, min: o.min as number, max: o.max as number, bits: bits as number };
}

function parseSpecJson(json: unknown, partitions: number): Omit<ClientSpec, "params" | "partitions"> {
  const o = json as { linearOnly?: unknown; inputs?: unknown; outputs?: unknown } | null;
  if (typeof o !== "object" || o === null) invalid("client spec must be an object");
  if (typeof o.linearOnly !== "boolean") invalid("client spec: bad linearOnly");
  if (!Array.isArray(o.inputs) || !Array.isArray(o.outputs) || o.outputs.length === 0) invalid("client spec: bad inputs/outputs");
  const inputs = o.inputs.map((v: unknown, i) => {
    const name = (v as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name.length === 0) invalid(`input ${i}: bad name`);
    const r = parseRangeSpec(v, `input "${name}"`);
    return { name, ...r, ...parseHome(v, `input "${name}"`, partitions, r.encrypted) };
  });
  if (new Set(inputs.map((i) => i.name)).size !== inputs.length) invalid("client spec: duplicate input names");
  const outputs = o.outputs.map((v: unknown, i) => {
    const r = parseRangeSpec(v, `output ${i}`);
    return { ...r, ...parseHome(v, `output ${i}`, partitions, r.encrypted) };
  });
  return { linearOnly: o.linearOnly, inputs, outputs };
}
