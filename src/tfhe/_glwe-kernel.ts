// GLWE encryption in kernel memory, shared by GLWE/GGSW encryption and bootstrapping-key generation.
// A GLWE ciphertext is k mask polynomials A_q (uniform) and a body B = Σ_q A_q·S_q + E + M (mod X^N + 1).
import type { Kernels } from "../kernels/wasm.js";
import type { GlweSecretKey } from "./secret-key.js";
import type { MaskSource } from "./masks.js";

/** The GLWE key inside kernel memory: coefficient words and Fourier form (for exact products). */
export class KernelGlweKey {
  readonly words: number;
  readonly fourier: number;
  readonly scratch: number;

  constructor(readonly K: Kernels, readonly key: GlweSecretKey) {
    const { glweDimension: k, polynomialSize: N } = key;
    this.words = K.alloc(k * N * 8);
    this.fourier = K.alloc(k * N * 8);
    this.scratch = K.alloc(3 * N * 8);
    K.u64(this.words, k * N).set(key.asLweKey().words());
    for (let p = 0; p < k; p++) K.k.fftForwardI64(this.words + p * N * 8, this.fourier + p * N * 8, N);
  }

  /** Wipes and frees the key copies. */
  free(): void {
    const { glweDimension: k, polynomialSize: N } = this.key;
    this.K.u64(this.words, k * N).fill(0n);
    this.K.f64(this.fourier, k * N).fill(0);
    this.K.free(this.words); this.K.free(this.fourier); this.K.free(this.scratch);
  }
}

/**
 * Encrypts in place at `ct` ((k+1)·N words): masks from `masks`, body = `bodyInit` (noise + plaintext,
 * N words) + Σ A_q·S_q computed exactly.
 */
export function encryptGlweAt(key: KernelGlweKey, ct: number, bodyInit: BigUint64Array, masks: MaskSource): void {
  const { K } = key;
  const { glweDimension: k, polynomialSize: N } = key.key;
  const body = ct + k * N * 8;
  masks.fillKernelU64(ct, k * N);
  K.u64(body, N).set(bodyInit);
  for (let q = 0; q < k; q++) K.k.polyMulSmallAdd(body, ct + q * N * 8, key.fourier + q * N * 8, N, key.scratch);
}

/** Phase B − Σ A_q·S_q of the GLWE at `ct`, as N words. */
export function glwePhaseAt(key: KernelGlweKey, ct: number): BigUint64Array {
  const { K } = key;
  const { glweDimension: k, polynomialSize: N } = key.key;
  const acc = K.alloc(N * 8), neg = K.alloc(N * 8);
  try {
    K.u64(acc, N).fill(0n);
    for (let q = 0; q < k; q++) K.k.polyMulSmallAdd(acc, ct + q * N * 8, key.fourier + q * N * 8, N, key.scratch);
    K.u64(neg, N).set(K.u64(ct + k * N * 8, N));
    K.k.subAssign(neg, acc, N);
    return K.u64(neg, N).slice();
  } finally {
    K.free(acc); K.free(neg);
  }
}
