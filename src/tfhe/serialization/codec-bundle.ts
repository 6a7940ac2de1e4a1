// Bundles: the frame higher layers use for their own artifacts (a compiled circuit's client or server
// half, a list of arguments), so that they get the same magic, version, fingerprint, length and checksum
// checks as every core object. A bundle is a type tag, a JSON document and binary parts; each part is
// itself a serialized core object that the caller decodes with the typed deserializer it expects.
//   u32 type bytes (1..MAX_TYPE_BYTES) | u32 JSON bytes | u32 part count (≤ MAX_PARTS)
//   | part lengths (u32 low, u32 high each; < 2^53) | type (ASCII) | JSON (UTF-8) | parts, back to back
// The JSON must be canonical (exactly JSON.stringify's output), so that each bundle has one encoding,
// and nest at most MAX_JSON_DEPTH arrays/objects deep (checked on the text before parsing, so that a
// deeply nested document is INVALID_VALUE rather than a stack overflow in the parser or a consumer).
import type { Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { fail } from "./errors.js";
import { SerializedKind } from "./header.js";
import { checkAllocation, type Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";

export const MAX_TYPE_BYTES = 64;
export const MAX_PARTS = 4096;
/** Deepest nesting of arrays and objects a bundle's JSON may have (a value at top level is depth 0). */
export const MAX_JSON_DEPTH = 64;
const TYPE_PATTERN = /^[a-z0-9][a-z0-9._/-]*$/;

/** What a bundle holds. Parts returned by the decoder are views of the input bytes (no copy). */
export interface Bundle {
  /** What the bundle is, e.g. "umbra.circuit.server/1" (lower-case ASCII, dots, slashes, dashes). */
  readonly type: string;
  /** A JSON-serializable document (numbers, strings, booleans, null, arrays, plain objects). */
  readonly json: unknown;
  readonly parts: readonly Uint8Array[];
}

export function checkBundleType(type: string): void {
  if (typeof type !== "string" || type.length < 1 || type.length > MAX_TYPE_BYTES || !TYPE_PATTERN.test(type)) {
    throw new RangeError(`bundle type must match ${String(TYPE_PATTERN)} with 1..${MAX_TYPE_BYTES} characters`);
  }
}

/** Nesting depth of a JSON text (arrays and objects), scanning no further than one level past `limit`. */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/** Nesting depth of a value, iteratively (the encoder's check, before JSON.stringify recurses). */
function valueDepth(value: unknown, limit: number): number {
  const stack: [unknown, number][] = [[value, 0]];
  let max = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) continue;
    if (d + 1 > max && (max = d + 1) > limit) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

export function bundleEncoder(b: Bundle): Encoder {
  checkBundleType(b.type);
  if (valueDepth(b.json, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new RangeError(`bundle json nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (!Array.isArray(b.parts) || b.parts.length > MAX_PARTS || !b.parts.every((p) => p instanceof Uint8Array)) {
    throw new RangeError(`bundle parts must be an array of at most ${MAX_PARTS} Uint8Array`);
  }
  const text = JSON.stringify(b.json);
  if (text === undefined) throw new TypeError("bundle json must be JSON-serializable");
  const type = new TextEncoder().encode(b.type);
  const json = new TextEncoder().encode(text);
  if (json.length > 0xffffffff) throw new RangeError("bundle json exceeds 4 GiB");
  const partBytes = b.parts.reduce((s, p) => s + p.length, 0);
  return {
    kind: SerializedKind.Bundle,
    bodyBytes: 12 + 8 * b.parts.length + type.length + json.length + partBytes,
    check() {},
    write(w) {
      w.u32(type.length);
      w.u32(json.length);
      w.u32(b.parts.length);
      for (const p of b.parts) { w.u32(p.length % 2 ** 32); w.u32(Math.floor(p.length / 2 ** 32)); }
      w.raw(type);
      w.raw(json);
      for (const p of b.parts) w.raw(p);
    },
  };
}

/** Decodes a bundle whose type must be `expectedType` (WRONG_KIND otherwise). */
export function parseBundle(expectedType: string) {
  checkBundleType(expectedType);
  return (r: ByteReader, limits: Limits): Plan<Bundle> => {
    const typeBytes = r.u32("type length");
    if (typeBytes < 1 || typeBytes > MAX_TYPE_BYTES) fail("LENGTH_MISMATCH", `bundle type length ${typeBytes} outside [1, ${MAX_TYPE_BYTES}]`);
    const jsonBytes = r.u32("JSON length");
    checkAllocation(jsonBytes, limits, "bundle JSON");
    const count = r.u32("part count");
    if (count > MAX_PARTS) fail("TOO_LARGE", `bundle has ${count} parts, at most ${MAX_PARTS}`);
    r.need(8 * count, "part lengths");
    const lengths: number[] = [];
    let total = typeBytes + jsonBytes;
    for (let i = 0; i < count; i++) {
      const lo = r.u32("part length"), hi = r.u32("part length");
      if (hi >= 2 ** 21) fail("TOO_LARGE", `bundle part ${i} is longer than 2^53 bytes`);
      const len = hi * 2 ** 32 + lo;
      lengths.push(len);
      total += len;
    }
    return {
      payloadBytes: total,
      // Only the JSON text is decoded into new memory; parts are views.
      allocBytes: 2 * jsonBytes,
      build: (r) => {
        const type = new TextDecoder().decode(r.view(typeBytes, "type"));
        if (type !== expectedType) fail("WRONG_KIND", `expected a bundle of type "${expectedType}", got ${JSON.stringify(type.slice(0, MAX_TYPE_BYTES))}`);
        let json: unknown, text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true }).decode(r.view(jsonBytes, "JSON"));
        } catch (e) {
          fail("INVALID_VALUE", "bundle JSON is not valid UTF-8", e);
        }
        // Before any recursion over the document (the parser, the canonical check, the caller's decoder).
        if (jsonTextDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) fail("INVALID_VALUE", `bundle JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
        let canonical: boolean;
        try {
          json = JSON.parse(text);
          // The format is canonical: exactly what JSON.stringify writes (one encoding per document).
          canonical = JSON.stringify(json) === text;
        } catch (e) {
          fail("INVALID_VALUE", "bundle JSON is not valid JSON", e);
        }
        if (!canonical) fail("INVALID_VALUE", "bundle JSON is not in canonical form");
        const parts = lengths.map((len, i) => r.view(len, `part ${i}`));
        return { type, json, parts };
      },
    };
  };
}
