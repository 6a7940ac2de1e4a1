// What the compiler's serialized artifacts share: a bundle of the core's format whose one part is the
// parameter set (re-checked for 128-bit security when decoded) and whose header carries its fingerprint,
// and the error every malformed field raises (DeserializationError "INVALID_VALUE").
import { parameterFingerprint, type TfheParameters } from "../tfhe/parameters.js";
import {
  DeserializationError, type DeserializeOptions, deserializeBundle, deserializeParameters, serialize, serializeBundle,
} from "../tfhe/serialization.js";

export function invalid(message: string): never {
  throw new DeserializationError("INVALID_VALUE", message);
}

export function sameParameters(a: TfheParameters, b: TfheParameters): boolean {
  const x = parameterFingerprint(a), y = parameterFingerprint(b);
  return x.every((v, i) => v === y[i]);
}

export function encodeArtifact(type: string, json: unknown, params: TfheParameters): Uint8Array {
  return serializeBundle({ type, json, parts: [serialize(params)] }, params);
}

/** The parameters and the JSON of an artifact of `type`; `what` names it in errors. */
export function decodeArtifact(bytes: Uint8Array, type: string, what: string, opts?: DeserializeOptions): { params: TfheParameters; json: unknown } {
  const b = deserializeBundle(bytes, type, null, opts);
  if (b.parts.length !== 1) invalid(`${what}: expected one part (the parameters)`);
  const params = deserializeParameters(b.parts[0]!, opts);
  const fp = parameterFingerprint(params);
  if (fp.some((x, i) => x !== b.fingerprint[i])) throw new DeserializationError("PARAMS_MISMATCH", `${what}: header and parameters disagree`);
  return { params, json: b.json };
}

/** An artifact of a multi-parameter circuit: one part per partition's parameters, the header under partition 0's. */
export function encodeArtifactMulti(type: string, json: unknown, params: readonly TfheParameters[]): Uint8Array {
  return serializeBundle({ type, json, parts: params.map((p) => serialize(p)) }, params[0]!);
}

/**
 * The parameters (one set, or one per partition) and the JSON of an artifact of type `single` (one set)
 * or `multi` (several; its version of the format); any other type is WRONG_KIND.
 */
export function decodeArtifactAny(
  bytes: Uint8Array, single: string, multi: string, what: string, opts?: DeserializeOptions,
): { params: TfheParameters[]; json: unknown; multi: boolean } {
  let b: ReturnType<typeof deserializeBundle>, isMulti = false;
  try {
    b = deserializeBundle(bytes, single, null, opts);
  } catch (e) {
    if (!(e instanceof DeserializationError) || e.code !== "WRONG_KIND") throw e;
    b = deserializeBundle(bytes, multi, null, opts);
    isMulti = true;
  }
  if (isMulti ? b.parts.length < 2 : b.parts.length !== 1) invalid(`${what}: expected ${isMulti ? "two or more parts" : "one part"} (the parameters)`);
  const params = b.parts.map((part) => deserializeParameters(part, opts));
  const fp = parameterFingerprint(params[0]!);
  if (fp.some((x, i) => x !== b.fingerprint[i])) throw new DeserializationError("PARAMS_MISMATCH", `${what}: header and parameters disagree`);
  return { params, json: b.json, multi: isMulti };
}
