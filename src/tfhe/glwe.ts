// GLWE ciphertexts (docs/architecture.md): k mask polynomials and a body of size N mod X^N + 1, u64 coefficients.
// Encrypt: B = Σ A_q·S_q + E + Δ·M; decrypt: round((B − Σ A_q·S_q) / Δ).
import { kernels } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { KernelGlweKey, encryptGlweAt, glwePhaseAt } from "./_glwe-kernel.js";
import { decode, encode, type Encoding } from "./encoding.js";
import { csprngMasks, type MaskSource } from "./masks.js";
import { fillGaussianTorus } from "./random.js";
import type { GlweSecretKey } from "./secret-key.js";
import { ParameterMismatchError } from "./errors.js";

export class GlweCiphertext {
  constructor(readonly glweDimension: number, readonly polynomialSize: number, readonly data: BigUint64Array) {
    if (data.length !== (glweDimension + 1) * polynomialSize) {
      throw new RangeError(`GLWE of k = ${glweDimension}, N = ${polynomialSize} needs ${(glweDimension + 1) * polynomialSize} words, got ${data.length}`);
    }
  }
}

function checkKey(key: GlweSecretKey, k: number, N: number): void {
  if (key.glweDimension !== k || key.polynomialSize !== N) throw new ParameterMismatchError("GLWE key and ciphertext shapes differ");
}

/** Encrypts a plaintext polynomial of N raw torus coefficients. */
export function encryptGlwePlaintext(key: GlweSecretKey, plaintext: BigUint64Array, noiseStd: number, masks: MaskSource = csprngMasks()): GlweCiphertext {
  const { glweDimension: k, polynomialSize: N } = key;
  if (plaintext.length !== N) throw new RangeError(`plaintext polynomial needs N = ${N} coefficients, got ${plaintext.length}`);
  const body = new BigUint64Array(N);
  fillGaussianTorus(body, noiseStd);
  for (let i = 0; i < N; i++) body[i] = BigInt.asUintN(64, body[i]! + plaintext[i]!);
  const K = kernels();
  const kk = new KernelGlweKey(K, key);
  try {
    return withKernelMemory([(k + 1) * N * 8], (_K, ct) => {
      encryptGlweAt(kk, ct!, body, masks);
      return new GlweCiphertext(k, N, K.u64(ct!, (k + 1) * N).slice());
    });
  } finally {
    kk.free();
  }
}

/** Encrypts up to N integers as the coefficients of one polynomial (missing ones are 0). */
export function encryptGlwe(key: GlweSecretKey, messages: ArrayLike<number>, encoding: Encoding, noiseStd: number): GlweCiphertext {
  const N = key.polynomialSize;
  if (messages.length > N) throw new RangeError(`at most N = ${N} messages, got ${messages.length}`);
  const pt = new BigUint64Array(N);
  for (let i = 0; i < messages.length; i++) pt[i] = encode(messages[i]!, encoding);
  return encryptGlwePlaintext(key, pt, noiseStd);
}

/** Phase polynomial B − Σ A_q·S_q = Δ·M + E. */
export function glwePhase(key: GlweSecretKey, ct: GlweCiphertext): BigUint64Array {
  checkKey(key, ct.glweDimension, ct.polynomialSize);
  const K = kernels();
  const kk = new KernelGlweKey(K, key);
  try {
    return withKernelMemory([ct.data.length * 8], (_K, p) => {
      K.u64(p!, ct.data.length).set(ct.data);
      return glwePhaseAt(kk, p!);
    });
  } finally {
    kk.free();
  }
}

/** Decrypts all N coefficients. */
export function decryptGlwe(key: GlweSecretKey, ct: GlweCiphertext, encoding: Encoding): Uint32Array {
  const ph = glwePhase(key, ct);
  return Uint32Array.from(ph, (x) => decode(x, encoding));
}
