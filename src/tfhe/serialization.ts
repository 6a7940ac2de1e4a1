// Versioned binary format of every ciphertext and key type (plain and seeded/compressed) and of
// parameter sets. One frame for all kinds (little-endian throughout):
//
//   offset  size  field
//   0       4     magic "UMBR"
//   4       2     format version (u16, currently 1)
//   6       2     kind (u16, SerializedKind)
//   8       8     parameter fingerprint (parameterFingerprint of the parameter set)
//   16      …     kind-specific length/shape fields (u32), then the payload: u64 words, 32-byte seeds,
//                 secret-key bits packed 8 per byte (see serialization/codec-*.ts for each layout)
//   end−4   4     CRC-32 (IEEE) of every byte before it
//
// Decoders take the parameters the caller expects and check, in this order and before allocating
// anything sized from the input: magic, version, kind, fingerprint, every length field against the
// parameters and the limits (maxCount, maxBytes), the exact byte count, the checksum. Every failure is
// a DeserializationError with a `code`; messages never contain key material.
import { BootstrapKey, SeededBootstrapKey } from "./bootstrap-key.js";
import { ClientKey } from "./client-key.js";
import { ParameterMismatchError } from "./errors.js";
import { KeyswitchKey, type KeyswitchKeyShape, SeededKeyswitchKey } from "./keyswitch-key.js";
import { LweBatch } from "./lwe-batch.js";
import { parameterFingerprint, type TfheParameters } from "./parameters.js";
import { CompactCiphertextList, CompactPublicKey } from "./public-key.js";
import { SeededLweBatch } from "./seeded-lwe.js";
import type { EvaluationKeys } from "./server-key.js";
import type { Encoder } from "./serialization/codec.js";
import { bootstrapKeyCodec as bsk } from "./serialization/codec-bootstrap-key.js";
import { type Bundle, bundleEncoder, jsonTextDepth, MAX_JSON_DEPTH, MAX_PARTS, MAX_TYPE_BYTES, parseBundle } from "./serialization/codec-bundle.js";
import { clientKeyEncoder, parseClientKey } from "./serialization/codec-client-key.js";
import { evaluationKeysBodyBytes, evaluationKeysEncoder, parseEvaluationKeys } from "./serialization/codec-evaluation-keys.js";
import { keyswitchKeyCodec as ksk, keyswitchKeyCodecOfShape } from "./serialization/codec-keyswitch-key.js";
import { lweBatchBodyBytes, lweBatchEncoder, parseLweBatch, parseSeededLweBatch, seededLweBatchEncoder } from "./serialization/codec-lwe.js";
import { parametersEncoder, parseParameters, type ParametersDecodeOptions } from "./serialization/codec-parameters.js";
import { compactListEncoder, compactPublicKeyEncoder, parseCompactList, parseCompactPublicKey } from "./serialization/codec-public-key.js";
import { assertBytes, decodeObject, encodeObject, framedSize, type Parser } from "./serialization/envelope.js";
import { fingerprintHex, HEADER_BYTES, kindName, peekHeaderWith, readHeader, sameFingerprint, SerializedKind, writeHeader, type PeekedHeader } from "./serialization/header.js";
import type { DeserializeOptions } from "./serialization/limits.js";
import { ByteReader } from "./serialization/reader.js";
import { ByteWriter } from "./serialization/writer.js";
import { DeserializationError, fail } from "./serialization/errors.js";

export { DeserializationError, type DeserializationErrorCode } from "./serialization/errors.js";
export { FORMAT_VERSION, SerializedKind, type SerializedKindName, type PeekedHeader } from "./serialization/header.js";
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, type DeserializeOptions } from "./serialization/limits.js";
export type { ParametersDecodeOptions } from "./serialization/codec-parameters.js";
export { MAX_JSON_DEPTH, MAX_PARTS, MAX_TYPE_BYTES, type Bundle } from "./serialization/codec-bundle.js";

/** Everything `serialize` accepts. */
export type Serializable =
  | TfheParameters | LweBatch | SeededLweBatch | BootstrapKey | SeededBootstrapKey | KeyswitchKey | SeededKeyswitchKey
  | ClientKey | CompactPublicKey | CompactCiphertextList | EvaluationKeys;

function isEvaluationKeys(o: object): o is EvaluationKeys {
  const e = o as Partial<EvaluationKeys>;
  return e.bootstrapKey instanceof BootstrapKey && e.keyswitchKey instanceof KeyswitchKey;
}

function isParameters(o: object): o is TfheParameters {
  const p = o as Partial<TfheParameters>;
  return typeof p.name === "string" && typeof p.polynomialSize === "number" && typeof p.glweNoiseStd === "number";
}

function encoderOf(obj: Serializable): Encoder {
  if (obj === null || typeof obj !== "object") throw new TypeError("serialize: expected a key, ciphertext or parameter set");
  if (obj instanceof LweBatch) return lweBatchEncoder(obj);
  if (obj instanceof SeededLweBatch) return seededLweBatchEncoder(obj);
  if (obj instanceof BootstrapKey) return bsk.encoder(obj);
  if (obj instanceof SeededBootstrapKey) return bsk.seededEncoder(obj);
  if (obj instanceof KeyswitchKey) return ksk.encoder(obj);
  if (obj instanceof SeededKeyswitchKey) return ksk.seededEncoder(obj);
  if (obj instanceof ClientKey) return clientKeyEncoder(obj);
  if (obj instanceof CompactPublicKey) return compactPublicKeyEncoder(obj);
  if (obj instanceof CompactCiphertextList) return compactListEncoder(obj);
  if (isEvaluationKeys(obj)) return evaluationKeysEncoder(obj);
  if (isParameters(obj)) return parametersEncoder(obj);
  throw new TypeError("serialize: expected a key, ciphertext or parameter set");
}

/**
 * Serializes a ciphertext, key or parameter set. Objects that do not carry their parameters
 * (ciphertexts, single keys, public keys) need `params`: their fingerprint goes into the header and the
 * object's shape is checked against them (ParameterMismatchError). Client keys, evaluation keys and
 * parameter sets carry their own (a `params` given as well must have the same fingerprint).
 *
 * - EvaluationKeys serialize in seeded form (what a client uploads): both keys must come from seeds, as
 *   `ClientKey.evaluationKeys()` makes them.
 * - SECRET: a ClientKey serializes its secret keys. That is for the client's own storage only — keep the
 *   bytes on the client, encrypted at rest, and never send them to a server.
 */
export function serialize(obj: Serializable, params?: TfheParameters): Uint8Array {
  const enc = encoderOf(obj);
  const own = enc.params;
  const p = own ?? params;
  if (p === undefined) {
    throw new TypeError(`serialize: a ${kindName(enc.kind)} does not carry its parameters; call serialize(obj, params)`);
  }
  const fingerprint = parameterFingerprint(p);
  if (own !== undefined && params !== undefined && !sameFingerprint(fingerprint, parameterFingerprint(params))) {
    throw new ParameterMismatchError(`serialize: the ${kindName(enc.kind)} belongs to parameters ${fingerprintHex(fingerprint)}, not ${fingerprintHex(parameterFingerprint(params))}`);
  }
  enc.check(p);
  return encodeObject(enc.kind, fingerprint, enc.bodyBytes, (w) => enc.write(w));
}

/** Serialized sizes, in bytes, of what a parameter set implies (no key is generated). */
export interface SerializedSizes {
  /** The client's upload: both evaluation keys, seeded. */
  readonly evaluationKeys: number;
  readonly bootstrapKey: number;
  readonly seededBootstrapKey: number;
  readonly keyswitchKey: number;
  readonly seededKeyswitchKey: number;
  /** One ciphertext under the big key (k·N), plain and seeded; add `perExtraCiphertext` per more in a batch. */
  readonly ciphertext: number;
  readonly seededCiphertext: number;
  readonly perExtraCiphertext: number;
  readonly perExtraSeededCiphertext: number;
}

export function serializedSizes(p: TfheParameters): SerializedSizes {
  const kN = p.glweDimension * p.polynomialSize;
  const one = lweBatchBodyBytes(kN, 1), two = lweBatchBodyBytes(kN, 2);
  const b = bsk.bodyBytesFor(p), k = ksk.bodyBytesFor(p);
  return {
    evaluationKeys: framedSize(evaluationKeysBodyBytes(p)),
    bootstrapKey: framedSize(b.plain), seededBootstrapKey: framedSize(b.seeded),
    keyswitchKey: framedSize(k.plain), seededKeyswitchKey: framedSize(k.seeded),
    ciphertext: framedSize(one.plain), seededCiphertext: framedSize(one.seeded),
    perExtraCiphertext: two.plain - one.plain, perExtraSeededCiphertext: two.seeded - one.seeded,
  };
}

/** The exact length of `serialize(obj)` in bytes, without serializing. */
export function serializedSize(obj: Serializable): number {
  return framedSize(encoderOf(obj).bodyBytes);
}

/**
 * Reads the 16-byte header only (no length or checksum check): kind, version, fingerprint. Throws
 * DeserializationError (TRUNCATED, BAD_MAGIC, BAD_VERSION, UNKNOWN_KIND).
 */
export function peekHeader(bytes: Uint8Array): PeekedHeader {
  assertBytes(bytes);
  return peekHeaderWith(new ByteReader(bytes));
}

/** The typed deserializer of one kind: the header must name `kind` and carry the fingerprint of `params`. */
function deserializerOf<T>(kind: SerializedKind, parse: (p: TfheParameters) => Parser<T>) {
  return (bytes: Uint8Array, params: TfheParameters, opts?: DeserializeOptions): T =>
    decodeObject(bytes, kind, parameterFingerprint(params), opts, parse(params));
}

/** An LWE ciphertext batch (dimension k·N or n of `params`). */
export const deserializeLweBatch = deserializerOf(SerializedKind.LweBatch, parseLweBatch);
/** A seeded (compressed) LWE batch; `maxBytes` bounds its expanded size. */
export const deserializeSeededLweBatch = deserializerOf(SerializedKind.SeededLweBatch, parseSeededLweBatch);
export const deserializeBootstrapKey = deserializerOf(SerializedKind.BootstrapKey, bsk.parse);
/** A seeded bootstrapping key; `maxBytes` bounds its expanded size. */
export const deserializeSeededBootstrapKey = deserializerOf(SerializedKind.SeededBootstrapKey, bsk.parseSeeded);
export const deserializeKeyswitchKey = deserializerOf(SerializedKind.KeyswitchKey, ksk.parse);
/** A seeded key-switching key; `maxBytes` bounds its expanded size. */
export const deserializeSeededKeyswitchKey = deserializerOf(SerializedKind.SeededKeyswitchKey, ksk.parseSeeded);
/** SECRET: a client key (the client's own storage). */
export const deserializeClientKey = deserializerOf(SerializedKind.ClientKey, parseClientKey);
export const deserializeCompactPublicKey = deserializerOf(SerializedKind.CompactPublicKey, parseCompactPublicKey);
export const deserializeCompactCiphertextList = deserializerOf(SerializedKind.CompactCiphertextList, parseCompactList);
/**
 * Evaluation keys as uploaded by a client (seeded form), expanded and ready for `new ServerKey(keys)`.
 * `maxBytes` bounds the expanded keys.
 */
export const deserializeEvaluationKeys = deserializerOf(SerializedKind.EvaluationKeys, parseEvaluationKeys);

/**
 * A seeded key-switching key between the keys of two parameter sets (multi-parameter circuits), whose shape
 * `shape` the caller expects (input: one set's big dimension; output: another set's small or big
 * dimension, base log, levels). `params` is the set whose key the key encrypts under (its output key):
 * its fingerprint goes into the header.
 */
export function serializeKeyswitchKeyOfShape(key: SeededKeyswitchKey, params: TfheParameters, shape: KeyswitchKeyShape): Uint8Array {
  if (!(key instanceof SeededKeyswitchKey)) throw new TypeError("serializeKeyswitchKeyOfShape expects a SeededKeyswitchKey");
  const enc = keyswitchKeyCodecOfShape(shape).seededEncoder(key);
  enc.check(params);
  return encodeObject(enc.kind, parameterFingerprint(params), enc.bodyBytes, (w) => enc.write(w));
}

/** Decodes what serializeKeyswitchKeyOfShape wrote: every shape field must equal `shape` (LENGTH_MISMATCH). */
export function deserializeKeyswitchKeyOfShape(
  bytes: Uint8Array, params: TfheParameters, shape: KeyswitchKeyShape, opts?: DeserializeOptions,
): SeededKeyswitchKey {
  return decodeObject(bytes, SerializedKind.SeededKeyswitchKey, parameterFingerprint(params), opts, keyswitchKeyCodecOfShape(shape).parseSeeded(params));
}

/**
 * A parameter set. The shape is re-validated (INVALID_VALUE), the header fingerprint must be the
 * decoded parameters' (PARAMS_MISMATCH) and the 128-bit security check is re-run (INSECURE_PARAMETERS)
 * unless `unsafeTestOnlyAllowInsecure` is set.
 */
export function deserializeParameters(bytes: Uint8Array, opts?: DeserializeOptions & ParametersDecodeOptions): TfheParameters {
  return decodeObject(bytes, SerializedKind.Parameters, null, opts, parseParameters(opts));
}

/**
 * Serializes a bundle — a higher layer's artifact (type tag, JSON, parts that are serialized core objects)
 * — in the core's frame, under the fingerprint of `params`.
 */
export function serializeBundle(bundle: Bundle, params: TfheParameters): Uint8Array {
  const enc = bundleEncoder(bundle);
  return encodeObject(enc.kind, parameterFingerprint(params), enc.bodyBytes, (w) => enc.write(w));
}

/**
 * The first bytes every bundle of this type, JSON and part lengths starts with (header, length fields,
 * type, JSON), and the whole bundle's length: what a receiver compares an upload's beginning with before
 * it takes the rest.
 */
export function bundlePrefix(type: string, json: unknown, partLengths: readonly number[], params: TfheParameters): { prefix: Uint8Array; totalBytes: number } {
  const enc = bundleEncoder({ type, json, parts: [] });
  const head = enc.bodyBytes;
  const w = new ByteWriter(HEADER_BYTES + head + 8 * partLengths.length);
  writeHeader(w, SerializedKind.Bundle, parameterFingerprint(params));
  const typeBytes = new TextEncoder().encode(type), jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  w.u32(typeBytes.length);
  w.u32(jsonBytes.length);
  w.u32(partLengths.length);
  for (const len of partLengths) { w.u32(len % 2 ** 32); w.u32(Math.floor(len / 2 ** 32)); }
  w.raw(typeBytes);
  w.raw(jsonBytes);
  return { prefix: w.bytes, totalBytes: framedSize(head + 8 * partLengths.length + partLengths.reduce((s, n) => s + n, 0)) };
}

/** What a bundle's first bytes say (no checksum: the rest may not have arrived). */
export interface PeekedBundle {
  readonly fingerprint: Uint8Array;
  readonly type: string;
  readonly json: unknown;
  readonly partLengths: readonly number[];
  /** The bundle's whole length, as its length fields give it. */
  readonly totalBytes: number;
}

/**
 * Reads a bundle's header, length fields, type and JSON from its first bytes (TRUNCATED when they stop
 * short, WRONG_KIND for another kind of object, INVALID_VALUE for a JSON that is not canonical).
 */
export function peekBundle(bytes: Uint8Array): PeekedBundle {
  assertBytes(bytes);
  const r = new ByteReader(bytes);
  const fingerprint = readHeader(r, SerializedKind.Bundle, null);
  const typeBytes = r.u32("type length"), jsonBytes = r.u32("JSON length"), count = r.u32("part count");
  if (typeBytes < 1 || typeBytes > MAX_TYPE_BYTES) fail("LENGTH_MISMATCH", `bundle type length ${typeBytes} outside [1, ${MAX_TYPE_BYTES}]`);
  if (count > MAX_PARTS) fail("TOO_LARGE", `bundle has ${count} parts, at most ${MAX_PARTS}`);
  r.need(8 * count + typeBytes + jsonBytes, "bundle head");
  const partLengths: number[] = [];
  for (let i = 0; i < count; i++) {
    const lo = r.u32("part length"), hi = r.u32("part length");
    if (hi >= 2 ** 21) fail("TOO_LARGE", `bundle part ${i} is longer than 2^53 bytes`);
    partLengths.push(hi * 2 ** 32 + lo);
  }
  const type = new TextDecoder().decode(r.view(typeBytes, "type"));
  let json: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(r.view(jsonBytes, "JSON"));
    if (jsonTextDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) fail("INVALID_VALUE", `bundle JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    json = JSON.parse(text);
    if (JSON.stringify(json) !== text) fail("INVALID_VALUE", "bundle JSON is not in canonical form");
  } catch (e) {
    if (e instanceof DeserializationError) throw e;
    fail("INVALID_VALUE", "bundle JSON is not valid UTF-8 JSON", e);
  }
  const totalBytes = framedSize(12 + 8 * count + typeBytes + jsonBytes + partLengths.reduce((s, n) => s + n, 0));
  return { fingerprint, type, json, partLengths, totalBytes };
}

/** The length of `serializeKeyswitchKeyOfShape` of a key of this shape. */
export function seededKeyswitchKeySizeOfShape(shape: KeyswitchKeyShape): number {
  return framedSize(keyswitchKeyCodecOfShape(shape).shapeBytes + 32 + keyswitchKeyCodecOfShape(shape).seededWords(shape) * 8);
}

/**
 * Decodes a bundle of type `type` (WRONG_KIND otherwise). With `params`, the header must carry their
 * fingerprint (PARAMS_MISMATCH); with null, the caller checks the returned `fingerprint` itself (e.g.
 * against parameters stored in a part). Parts are views of `bytes`; `maxBytes` bounds the JSON.
 */
export function deserializeBundle(
  bytes: Uint8Array, type: string, params: TfheParameters | null, opts?: DeserializeOptions,
): Bundle & { readonly fingerprint: Uint8Array } {
  const parse = parseBundle(type);
  return decodeObject(bytes, SerializedKind.Bundle, params === null ? null : parameterFingerprint(params), opts,
    (r, limits, fingerprint) => {
      const plan = parse(r, limits);
      return { ...plan, build: (r2) => ({ ...plan.build(r2), fingerprint }) };
    });
}
