// Parameter sets. The header's fingerprint is the fingerprint of the stored values (checked on decode).
//   u32 name bytes (1..800) | u32 × 9: messageBits, carryBits, lweDimension, glweDimension, polynomialSize,
//   pbsBaseLog, pbsLevel, ksBaseLog, ksLevel | f64 lweNoiseStd | f64 glweNoiseStd | name (UTF-8)
// A multi-bit set stores its grouping factor d in bits 16–23 of the name-length word (0 for a classic set,
// so classic encodings are unchanged; a reader without multi-bit support sees a name length above its
// limit and refuses the set instead of misreading it).
// Decoding re-validates the shape (INVALID_VALUE) and re-runs the 128-bit security check
// (INSECURE_PARAMETERS) unless the caller passes the unsafe test-only option.
import { defineParameters, parameterFingerprint, unsafeTestOnlyParameters, type TfheParameters } from "../parameters.js";
import { InsecureParametersError } from "../security.js";
import type { Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { fail } from "./errors.js";
import { fingerprintHex, SerializedKind, sameFingerprint } from "./header.js";
import type { Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";

const FIELDS = 4 + 9 * 4 + 2 * 8;
/** Names are ≤ 200 UTF-16 units (parameters.ts), so ≤ 600 UTF-8 bytes; some slack. */
export const MAX_NAME_BYTES = 800;

const INT_FIELDS = [
  "messageBits", "carryBits", "lweDimension", "glweDimension", "polynomialSize", "pbsBaseLog", "pbsLevel", "ksBaseLog", "ksLevel",
] as const;

export interface ParametersDecodeOptions {
  /**
   * DANGER: accept parameters below 128-bit security (they are still shape-checked), as
   * unsafeTestOnlyParameters does. For tests with toy parameters only.
   */
  readonly unsafeTestOnlyAllowInsecure?: boolean;
}

export function parametersEncoder(p: TfheParameters): Encoder {
  const canonical = unsafeTestOnlyParameters(p); // shape check: never write what cannot be read
  const name = new TextEncoder().encode(canonical.name);
  return {
    kind: SerializedKind.Parameters,
    params: canonical,
    bodyBytes: FIELDS + name.length,
    check() {},
    write(w) {
      const d = canonical.groupingFactor ?? 1;
      w.u32(name.length | (d > 1 ? d << 16 : 0));
      for (const f of INT_FIELDS) w.u32(canonical[f]);
      w.f64(canonical.lweNoiseStd);
      w.f64(canonical.glweNoiseStd);
      w.raw(name);
    },
  };
}

export function parseParameters(opts: ParametersDecodeOptions | undefined) {
  return (r: ByteReader, _limits: Limits, stored: Uint8Array): Plan<TfheParameters> => {
    const word = r.u32("name length");
    const nameBytes = word & 0xffff, grouping = word >>> 16;
    if (grouping > 0xff) fail("INVALID_VALUE", `parameter name-length word 0x${word.toString(16)} has undefined bits`);
    if (nameBytes < 1 || nameBytes > MAX_NAME_BYTES) fail("LENGTH_MISMATCH", `parameter name length ${nameBytes} outside [1, ${MAX_NAME_BYTES}]`);
    return {
      payloadBytes: FIELDS - 4 + nameBytes,
      allocBytes: FIELDS + nameBytes,
      build: (r) => {
        const raw: Record<string, number | string> = {};
        for (const f of INT_FIELDS) raw[f] = r.u32(f);
        raw["lweNoiseStd"] = r.f64("lweNoiseStd");
        raw["glweNoiseStd"] = r.f64("glweNoiseStd");
        let name: string;
        try {
          name = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(r.view(nameBytes, "name"));
        } catch (e) {
          fail("INVALID_VALUE", "parameter name is not valid UTF-8", e);
        }
        raw["name"] = name;
        if (grouping !== 0) raw["groupingFactor"] = grouping;
        let params: TfheParameters;
        try {
          params = unsafeTestOnlyParameters(raw as unknown as TfheParameters);
        } catch (e) {
          fail("INVALID_VALUE", e instanceof Error ? e.message : "invalid parameters", e);
        }
        const actual = parameterFingerprint(params);
        if (!sameFingerprint(stored, actual)) {
          fail("PARAMS_MISMATCH", `header fingerprint ${fingerprintHex(stored)} is not the parameters' ${fingerprintHex(actual)}`);
        }
        if (opts?.unsafeTestOnlyAllowInsecure === true) return params;
        try {
          return defineParameters(params);
        } catch (e) {
          if (e instanceof InsecureParametersError) fail("INSECURE_PARAMETERS", e.message, e);
          fail("INVALID_VALUE", e instanceof Error ? e.message : "invalid parameters", e);
        }
      },
    };
  };
}
