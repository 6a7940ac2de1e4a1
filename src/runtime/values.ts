// The wire format of a circuit's arguments and results: one bundle ("umbra.circuit.values/1") holding,
// in order, each value as a clear tensor (in the JSON) or a ciphertext batch (a part: a serialized
// LweBatch, or a SeededLweBatch for uploads, 72 bytes per value instead of 8·(kN + 1)). Decoding checks
// the shapes and counts against what the receiver expects before it expands any seeded batch.
import { COMPILER_MANAGED } from "../tfhe/encoding.js";
import { LweBatch } from "../tfhe/lwe-batch.js";
import type { TfheParameters } from "../tfhe/parameters.js";
import { SeededLweBatch } from "../tfhe/seeded-lwe.js";
import {
  DeserializationError, deserializeBundle, deserializeLweBatch, deserializeSeededLweBatch, type DeserializeOptions,
  peekHeader, serialize, serializeBundle, SerializedKind,
} from "../tfhe/serialization.js";
import { invalid } from "./artifact.js";
import { formatShape, isShape, sameShape, type Shape, sizeOf } from "./shape.js";
import { firstUnsafe, type Tensor } from "./tensor.js";

export const VALUES_TYPE = "umbra.circuit.values/1";

/** A value on the wire: ciphertexts (plain or seeded) or a clear tensor. */
export type WireValue = { readonly shape: Shape; readonly encrypted: LweBatch | SeededLweBatch } | Tensor;

/** What the receiver expects at one position: the shape, whether it is encrypted, and its message space. */
export interface ValueSpec {
  readonly shape: Shape;
  readonly encrypted: boolean;
  /** Message bits of an encrypted value's region (compiler/encoding.ts); unused for clear values. */
  readonly bits: number;
  /**
   * The parameters of the key the value lives under, when not the bundle's own (a multi-parameter
   * circuit's value whose home is another partition, runtime/partitions.ts).
   */
  readonly params?: TfheParameters;
}

/** `homes[i]`: the parameters value i's ciphertexts are under, when not `params` (multi-parameter circuits). */
export function serializeValues(values: readonly WireValue[], params: TfheParameters, homes?: readonly (TfheParameters | undefined)[]): Uint8Array {
  const json: unknown[] = [];
  const parts: Uint8Array[] = [];
  for (const [i, v] of values.entries()) {
    if ("encrypted" in v) {
      if (v.encrypted.count !== sizeOf(v.shape)) throw new RangeError(`${v.encrypted.count} ciphertexts for shape ${formatShape(v.shape)}`);
      json.push({ shape: [...v.shape], encrypted: true });
      parts.push(serialize(v.encrypted, homes?.[i] ?? params));
    } else {
      json.push({ shape: [...v.shape], encrypted: false, data: Array.from(v.data) });
    }
  }
  return serializeBundle({ type: VALUES_TYPE, json: { values: json }, parts }, params);
}

/**
 * Decodes values for `specs` (count, shapes and encryptedness must match: LENGTH_MISMATCH / INVALID_VALUE).
 * Seeded batches are expanded after every check; `opts` bounds each part (maxBytes, maxCount).
 */
export function deserializeValues(
  bytes: Uint8Array, params: TfheParameters, specs: readonly ValueSpec[], opts?: DeserializeOptions,
): { readonly shape: Shape; readonly value: LweBatch | Tensor }[] {
  const bundle = deserializeBundle(bytes, VALUES_TYPE, params, opts);
  const list = (bundle.json as { values?: unknown } | null)?.values;
  if (!Array.isArray(list)) invalid("values: expected { values: [...] }");
  if (list.length !== specs.length) throw new DeserializationError("LENGTH_MISMATCH", `expected ${specs.length} value(s), got ${list.length}`);
  const encryptedCount = specs.filter((s) => s.encrypted).length;
  if (bundle.parts.length !== encryptedCount) throw new DeserializationError("LENGTH_MISMATCH", `expected ${encryptedCount} ciphertext part(s), got ${bundle.parts.length}`);
  let part = 0;
  // First pass: every check; second: decode (so nothing is expanded for a request that fails late).
  const plan = list.map((v: unknown, i) => {
    const spec = specs[i]!;
    const o = v as { shape?: unknown; encrypted?: unknown; data?: unknown } | null;
    if (typeof o !== "object" || o === null || !isShape(o.shape)) invalid(`value ${i}: bad shape`);
    if (!sameShape(o.shape, spec.shape)) invalid(`value ${i}: shape ${formatShape(o.shape)}, expected ${formatShape(spec.shape)}`);
    if (o.encrypted !== spec.encrypted) invalid(`value ${i}: expected ${spec.encrypted ? "an encrypted" : "a clear"} value`);
    if (!spec.encrypted) {
      const data = o.data;
      if (!Array.isArray(data) || data.length !== sizeOf(spec.shape)) invalid(`value ${i}: expected ${sizeOf(spec.shape)} clear elements`);
      const t = Float64Array.from(data as unknown[], (x) => (typeof x === "number" ? x : NaN));
      if (firstUnsafe(t) >= 0) invalid(`value ${i}: clear elements must be safe integers`);
      return { shape: spec.shape, clear: t };
    }
    const bytesOf = bundle.parts[part++]!;
    const kind = peekHeader(bytesOf).kind;
    if (kind !== SerializedKind.LweBatch && kind !== SerializedKind.SeededLweBatch) {
      throw new DeserializationError("WRONG_KIND", `value ${i}: expected an LWE ciphertext batch`);
    }
    return { shape: spec.shape, bytes: bytesOf, seeded: kind === SerializedKind.SeededLweBatch };
  });
  return plan.map((p, i) => {
    if ("clear" in p) return { shape: p.shape, value: { shape: p.shape, data: p.clear! } };
    const home = specs[i]!.params ?? params;
    const batch = p.seeded ? deserializeSeededLweBatch(p.bytes!, home, opts) : deserializeLweBatch(p.bytes!, home, opts);
    if (batch.count !== sizeOf(p.shape)) throw new DeserializationError("LENGTH_MISMATCH", `value ${i}: ${batch.count} ciphertexts for shape ${formatShape(p.shape)}`);
    // Circuit values live under the big key (k·N) of their home, each in its region's message space (spec.bits).
    const kN = home.glweDimension * home.polynomialSize;
    if (batch.dimension !== kN) throw new DeserializationError("LENGTH_MISMATCH", `value ${i}: LWE dimension ${batch.dimension}, expected k·N = ${kN}`);
    const bits = specs[i]!.bits;
    if (batch.encoding.bits !== bits) invalid(`value ${i}: encoded with ${batch.encoding.bits} bits, the circuit uses ${bits}`);
    // The format stores the bits only: circuit values are compiler-managed (values mod 2p, compiler/encoding.ts).
    const value = (batch instanceof SeededLweBatch ? batch.decompress() : batch).withEncoding({ bits, unchecked: COMPILER_MANAGED });
    return { shape: p.shape, value };
  });
}
