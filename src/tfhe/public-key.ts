// Compact public-key encryption (Joye, ePrint 2023/603, as TFHE-rs's CompactPublicKey; docs/architecture.md).
// The big key s' (dimension kN) is read as one polynomial S of size N' = kN mod X^{N'}+1.
//   pk = (A, B = A·S + E)                      A from a seeded stream, E Gaussian (σ_glwe)
//   encrypt m_0..m_{L-1}, L ≤ N':  r ← {0,1}^{N'},  U = A·r + E₁,  V = B·r + E₂ + Σ Δm_j X^j
// Phase of coefficient j: V_j − (U·S)_j = Δm_j + (E·r + E₂ − E₁·S)_j, so one mask U serves L bodies; the
// server expands the list by sample extraction of each coefficient (an LWE under s').
// Noise variance of an expanded ciphertext ≈ (N'/2 + N'/2 + 1)·σ² (binary r and S have weight ≈ N'/2).
import { kernels } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { encode, type Encoding } from "./encoding.js";
import { LweBatch } from "./lwe-batch.js";
import type { LweSecretKey } from "./secret-key.js";
import { fillGaussianTorus, fillUniformBinary, newSeed } from "./random.js";
import { seededMasks } from "./masks.js";

export const DOMAIN_PUBLIC_KEY = 4;

function checkSize(N: number): void {
  if (!Number.isInteger(Math.log2(N)) || N < 4) throw new RangeError(`compact public key needs a power-of-two kN, got ${N}`);
}

export class CompactPublicKey {
  constructor(
    readonly polynomialSize: number,
    readonly seed: Uint8Array,
    /** B = A·S + E (the only N' words besides the seed). */
    readonly body: BigUint64Array,
    readonly noiseStd: number,
  ) {
    checkSize(polynomialSize);
    if (body.length !== polynomialSize) throw new RangeError("public key body has the wrong size");
    if (seed.length !== 32) throw new RangeError("public key seed must be 32 bytes");
  }

  /** Derives the public key of a big (flattened GLWE) secret key. */
  static generate(bigKey: LweSecretKey, noiseStd: number, seed: Uint8Array = newSeed()): CompactPublicKey {
    const N = bigKey.dimension;
    checkSize(N);
    const K = kernels();
    K.k.fftInit(N);
    const e = new BigUint64Array(N);
    fillGaussianTorus(e, noiseStd);
    const body = withKernelMemory([N * 8, N * 8, N * 8, N * 8, 3 * N * 8], (_K, pa, pb, ps, psf, scr) => {
      seededMasks(seed, DOMAIN_PUBLIC_KEY).fillKernelU64(pa!, N);
      K.u64(ps!, N).set(bigKey.words());
      K.k.fftForwardI64(ps!, psf!, N);
      K.u64(ps!, N).fill(0n);
      K.u64(pb!, N).set(e);
      K.k.polyMulSmallAdd(pb!, pa!, psf!, N, scr!);
      K.f64(psf!, N).fill(0);
      return K.u64(pb!, N).slice();
    });
    return new CompactPublicKey(N, seed, body, noiseStd);
  }

  /** Encrypts up to N' integers into one compact list (one shared mask). */
  encrypt(messages: ArrayLike<number>, encoding: Encoding): CompactCiphertextList {
    const N = this.polynomialSize;
    if (messages.length > N) throw new RangeError(`a compact list holds at most ${N} values, got ${messages.length}`);
    const K = kernels();
    K.k.fftInit(N);
    const r = new Uint8Array(N);
    fillUniformBinary(r);
    const e1 = new BigUint64Array(N), e2 = new BigUint64Array(N);
    fillGaussianTorus(e1, this.noiseStd);
    fillGaussianTorus(e2, this.noiseStd);
    for (let j = 0; j < messages.length; j++) e2[j] = BigInt.asUintN(64, e2[j]! + encode(messages[j]!, encoding));
    const [mask, bodies] = withKernelMemory([N * 8, N * 8, N * 8, N * 8, N * 8, 3 * N * 8], (_K, pa, pb, pr, prf, pu, scr) => {
      seededMasks(this.seed, DOMAIN_PUBLIC_KEY).fillKernelU64(pa!, N);
      const rw = K.u64(pr!, N);
      for (let i = 0; i < N; i++) rw[i] = BigInt(r[i]!);
      r.fill(0);
      K.k.fftForwardI64(pr!, prf!, N);
      K.u64(pr!, N).fill(0n);
      K.u64(pu!, N).set(e1);
      K.k.polyMulSmallAdd(pu!, pa!, prf!, N, scr!);           // U = A·r + E₁
      K.u64(pa!, N).set(this.body);
      K.u64(pb!, N).set(e2);
      K.k.polyMulSmallAdd(pb!, pa!, prf!, N, scr!);           // V = B·r + E₂ + M
      K.f64(prf!, N).fill(0);
      return [K.u64(pu!, N).slice(), K.u64(pb!, N).slice(0, messages.length)] as const;
    });
    return new CompactCiphertextList(N, mask, bodies, encoding);
  }
}

/** Public-key ciphertexts: one mask of N' words plus one body per value. */
export class CompactCiphertextList {
  constructor(
    readonly polynomialSize: number,
    readonly mask: BigUint64Array,
    readonly bodies: BigUint64Array,
    readonly encoding: Encoding,
  ) {
    checkSize(polynomialSize);
    if (mask.length !== polynomialSize) throw new RangeError("compact list mask has the wrong size");
    if (bodies.length > polynomialSize) throw new RangeError("compact list has more bodies than coefficients");
  }

  get count(): number {
    return this.bodies.length;
  }

  /** Expands to ordinary LWE ciphertexts under the big key (sample extraction of each coefficient). */
  expand(): LweBatch {
    const N = this.polynomialSize, count = this.count;
    return withKernelMemory([2 * N * 8, (N + 1) * 8], (K, pg, pout) => {
      K.u64(pg!, N).set(this.mask);
      const v = K.u64(pg! + N * 8, N);
      v.fill(0n);
      v.set(this.bodies);
      const out = new BigUint64Array(count * (N + 1));
      for (let j = 0; j < count; j++) {
        K.k.sampleExtract(pout!, pg!, 1, N, j);
        out.set(K.u64(pout!, N + 1), j * (N + 1));
      }
      return new LweBatch(N, count, out, this.encoding);
    });
  }
}
