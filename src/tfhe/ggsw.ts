// GGSW ciphertexts and the external product (CGGI 2020 §3.3–3.4).
// GGSW(m) row (p, j), p ≤ k, level j = 1..l, gadget g_j = q/B^j: a GLWE encryption of −m·g_j·S_p (p < k) or
// of m·g_j (p = k). This has the phase of "add m·g_j to component p" but keeps every mask a pure stream
// output (so seeded keys compress). External product: GGSW(m) ⊡ GLWE(μ) = GLWE(m·μ), with the noise of
// noise.ts externalProductVariance. Layout: row r = p·l + (j−1), then polynomial o ≤ k, N words each.
import { kernels, type Kernels } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { KernelGlweKey, encryptGlweAt } from "./_glwe-kernel.js";
import { GlweCiphertext } from "./glwe.js";
import { csprngMasks, type MaskSource } from "./masks.js";
import { fillGaussianTorus } from "./random.js";
import type { GlweSecretKey } from "./secret-key.js";
import { ParameterMismatchError } from "./errors.js";

export interface GgswShape {
  readonly glweDimension: number;
  readonly polynomialSize: number;
  readonly baseLog: number;
  readonly levels: number;
}

/** Words of one GGSW: (k+1)·l rows of (k+1) polynomials of N. */
export function ggswWordCount({ glweDimension: k, polynomialSize: N, levels }: GgswShape): number {
  return (k + 1) * levels * (k + 1) * N;
}

export class GgswCiphertext {
  constructor(readonly shape: GgswShape, readonly data: BigUint64Array) {
    if (data.length !== ggswWordCount(shape)) throw new RangeError(`GGSW needs ${ggswWordCount(shape)} words, got ${data.length}`);
  }
}

/**
 * Encrypts the small integer m as a GGSW at kernel pointer `ct`, drawing noise (σ) and masks in row order.
 * `noise` is a reusable buffer of (k+1)·l·N words.
 */
export function encryptGgswAt(
  key: KernelGlweKey, ct: number, m: bigint, shape: GgswShape, noiseStd: number, masks: MaskSource, noise: BigUint64Array,
): void {
  const { K } = key;
  const { glweDimension: k, polynomialSize: N, baseLog, levels } = shape;
  fillGaussianTorus(noise, noiseStd);
  const polyBytes = N * 8;
  for (let p = 0; p <= k; p++) {
    for (let j = 0; j < levels; j++) {
      const row = p * levels + j;
      const rowPtr = ct + row * (k + 1) * polyBytes;
      const body = noise.subarray(row * N, (row + 1) * N);
      encryptGlweAt(key, rowPtr, body, masks);
      if (m === 0n) continue;
      const g = 1n << BigInt(64 - baseLog * (j + 1)); // q / B^(j+1)
      const bodyPtr = rowPtr + k * polyBytes;
      if (p < k) K.k.mulAddAssign(bodyPtr, key.words + p * polyBytes, N, BigInt.asIntN(64, -m * g));
      else { const b = K.u64(bodyPtr, 1); b[0] = BigInt.asUintN(64, b[0]! + m * g); }
    }
  }
}

export function encryptGgsw(key: GlweSecretKey, m: number, shape: GgswShape, noiseStd: number, masks: MaskSource = csprngMasks()): GgswCiphertext {
  if (!Number.isSafeInteger(m)) throw new RangeError(`GGSW message must be an integer, got ${m}`);
  if (key.glweDimension !== shape.glweDimension || key.polynomialSize !== shape.polynomialSize) {
    throw new ParameterMismatchError("GLWE key and GGSW shapes differ");
  }
  const K = kernels();
  const kk = new KernelGlweKey(K, key);
  const words = ggswWordCount(shape);
  try {
    return withKernelMemory([words * 8], (_K, ct) => {
      const noise = new BigUint64Array((shape.glweDimension + 1) * shape.levels * shape.polynomialSize);
      encryptGgswAt(kk, ct!, BigInt(m), shape, noiseStd, masks, noise);
      return new GgswCiphertext(shape, K.u64(ct!, words).slice());
    });
  } finally {
    kk.free();
  }
}

function toFourier(K: Kernels, ggsw: GgswCiphertext, dst: number): void {
  const { polynomialSize: N } = ggsw.shape;
  withKernelMemory([ggsw.data.length * 8], (_K, src) => {
    K.u64(src!, ggsw.data.length).set(ggsw.data);
    K.k.fftForwardManyI64(src!, dst, ggsw.data.length / N, N);
  });
}

/** GGSW(m) ⊡ GLWE(μ) = GLWE(m·μ). */
export function externalProduct(ggsw: GgswCiphertext, glwe: GlweCiphertext): GlweCiphertext {
  return cmuxLike(ggsw, glwe, undefined);
}

/** CMux(b, c0, c1) = c0 + GGSW(b) ⊡ (c1 − c0): selects c1 if b = 1, c0 if b = 0. */
export function cmux(bit: GgswCiphertext, c0: GlweCiphertext, c1: GlweCiphertext): GlweCiphertext {
  return cmuxLike(bit, c1, c0);
}

function cmuxLike(ggsw: GgswCiphertext, c1: GlweCiphertext, c0: GlweCiphertext | undefined): GlweCiphertext {
  const { glweDimension: k, polynomialSize: N, baseLog, levels } = ggsw.shape;
  for (const c of [c1, c0]) {
    if (c && (c.glweDimension !== k || c.polynomialSize !== N)) throw new ParameterMismatchError("GGSW and GLWE shapes differ");
  }
  const K = kernels();
  const words = (k + 1) * N;
  const scratchBytes = K.k.externalProductScratchBytes(k, N, levels);
  return withKernelMemory([ggsw.data.length * 8, words * 8, words * 8, scratchBytes], (_K, f, inp, out, scr) => {
    toFourier(K, ggsw, f!);
    K.u64(inp!, words).set(c1.data);
    if (c0) {
      K.u64(out!, words).set(c0.data);
      K.k.subAssign(inp!, out!, words); // c1 − c0
    } else {
      K.u64(out!, words).fill(0n);
    }
    K.k.externalProduct(out!, f!, inp!, k, N, baseLog, levels, scr!);
    return new GlweCiphertext(k, N, K.u64(out!, words).slice());
  });
}
