// Client (secret) keys. SECRET: for the client's own storage only (encrypt it at rest); never send it.
//   u32 n | u32 k | u32 N | ⌈n/8⌉ bytes: small-key bits | ⌈k·N/8⌉ bytes: GLWE-key bits
// Bits are packed 8 per byte, least significant bit first; the unused high bits of each section's last
// byte must be 0 (INVALID_VALUE otherwise), so every key has exactly one encoding.
import { ClientKey } from "../client-key.js";
import type { TfheParameters } from "../parameters.js";
import { GlweSecretKey, LweSecretKey } from "../secret-key.js";
import { bigDimension, expectField, mismatch, type Encoder } from "./codec.js";
import type { Plan } from "./envelope.js";
import { fail } from "./errors.js";
import { SerializedKind } from "./header.js";
import type { Limits } from "./limits.js";
import type { ByteReader } from "./reader.js";
import type { ByteWriter } from "./writer.js";

const FIELDS = 12;

function packedBytes(bits: number): number {
  return Math.ceil(bits / 8);
}

function writeBits(w: ByteWriter, bits: Uint8Array): void {
  const packed = new Uint8Array(packedBytes(bits.length));
  for (let i = 0; i < bits.length; i++) packed[i >>> 3]! |= (bits[i]! & 1) << (i & 7);
  w.raw(packed);
  packed.fill(0);
}

/** Unpacks `count` bits; the padding bits of the last byte must be zero. */
function readBits(r: ByteReader, count: number, what: string): Uint8Array {
  const packed = r.view(packedBytes(count), what);
  const rest = count & 7;
  if (rest !== 0 && packed[packed.length - 1]! >>> rest !== 0) fail("INVALID_VALUE", `${what}: non-zero padding bits`);
  const bits = new Uint8Array(count);
  for (let i = 0; i < count; i++) bits[i] = (packed[i >>> 3]! >>> (i & 7)) & 1;
  return bits;
}

export function clientKeyEncoder(ck: ClientKey): Encoder {
  const p = ck.params;
  return {
    kind: SerializedKind.ClientKey,
    params: p,
    bodyBytes: FIELDS + packedBytes(ck.lweKey.dimension) + packedBytes(ck.glweKey.key.dimension),
    check(params) {
      if (ck.lweKey.dimension !== params.lweDimension || ck.glweKey.glweDimension !== params.glweDimension
        || ck.glweKey.polynomialSize !== params.polynomialSize) {
        mismatch(`client key shape does not match parameters "${params.name}"`);
      }
    },
    write(w) {
      w.u32(ck.lweKey.dimension);
      w.u32(ck.glweKey.glweDimension);
      w.u32(ck.glweKey.polynomialSize);
      writeBits(w, ck.lweKey.bits);
      writeBits(w, ck.glweKey.key.bits);
    },
  };
}

export function parseClientKey(p: TfheParameters) {
  return (r: ByteReader, _limits: Limits): Plan<ClientKey> => {
    expectField(r.u32("client key n"), p.lweDimension, "client key LWE dimension");
    expectField(r.u32("client key k"), p.glweDimension, "client key GLWE dimension");
    expectField(r.u32("client key N"), p.polynomialSize, "client key polynomial size");
    const n = p.lweDimension, kN = bigDimension(p);
    const payload = packedBytes(n) + packedBytes(kN);
    return {
      payloadBytes: payload,
      allocBytes: n + kN,
      build: (r) => {
        const lwe = new LweSecretKey(readBits(r, n, "LWE key"));
        const glwe = new GlweSecretKey(p.glweDimension, p.polynomialSize, readBits(r, kN, "GLWE key"));
        return ClientKey.fromParts(p, lwe, glwe);
      },
    };
  };
}
