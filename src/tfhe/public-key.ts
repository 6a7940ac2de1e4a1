// Compact public-key encryption (Joye, ePrint 2023/603, as TFHE-rs's CompactPublicKey; docs/architecture.md).
// The big key s' (dimension kN) is read as one polynomial S of size N' = kN mod X^{N'}+1.
//   pk = (A, B = A·S + E)                      A from a seeded stream, E Gaussian (σ_glwe)
//   encrypt m_0..m_{L-1}, L ≤ N':  r ← {0,1}^{N'},  U = A·r + E₁,  V = B·r + E₂ + Σ Δm_j X^j
// Phase of coefficient j: V_j − (U·S)_j = Δm_j + (E·r + E₂ − E₁·S)_j, so one mask U serves L bodies; the
// server expands the list by sample extraction of each coefficient (an LWE under s').
// Noise variance of an expanded ciphertext ≈ (N'/2 + N'/2 + 1)·σ² (binary r and S have weight ≈ N'/2):
// below one PBS output's, so an expanded list has noise level 1 (noise-budget.ts). σ is the parameter
// set's σ_glwe, which must pass the library's 128-bit check at dimension N' (security.ts): with σ = 0 the
// body B = A·S would give S away by linear algebra.
// Only sets whose k·N is a power of two have one (the ring needs X^{N'} + 1 with N' a power of two): of the
// named sets, every one but PARAM_MESSAGE_1 (k·N = 6·256 = 1536).
import { kernels } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { checkEncoding, encode, isCompilerManaged, plaintextModulus, type Encoding } from "./encoding.js";
import { LweBatch, newNoiseSource, type CiphertextBounds } from "./lwe-batch.js";
import type { LweSecretKey } from "./secret-key.js";
import { fillGaussianTorus, fillUniformBinary, newSeed } from "./random.js";
import { seededMasks } from "./masks.js";
import { isUnsafeTestOnlyParameters, type TfheParameters } from "./parameters.js";
import { checkSecurity } from "./security.js";
import { messageList } from "./lwe-encryption.js";

export const DOMAIN_PUBLIC_KEY = 4;

function checkSize(N: number): void {
  if (!Number.isInteger(N) || N < 4 || (N & (N - 1)) !== 0) throw new RangeError(`compact public key needs a power-of-two kN, got ${N}`);
}

/**
 * Throws unless `params` can have a compact public key: k·N a power of two, and σ_glwe secure at
 * dimension k·N (InsecureParametersError-like RangeError naming the estimate), unless the set was made by
 * unsafeTestOnlyParameters (tests).
 */
export function checkPublicKeyParameters(params: TfheParameters): void {
  const { glweDimension: k, polynomialSize: N, name } = params;
  const kN = k * N;
  if ((kN & (kN - 1)) !== 0) {
    throw new RangeError(`parameter set "${name}" cannot have a compact public key: k·N = ${k}·${N} = ${kN} is not a power of two ` +
      "(the key is one polynomial mod X^{k·N} + 1); of the named sets, only PARAM_MESSAGE_1 has none");
  }
  if (isUnsafeTestOnlyParameters(params)) return;
  const glwe = checkSecurity(params).glwe;
  if (!glwe.ok) {
    throw new RangeError(`parameter set "${name}" cannot have a compact public key: σ_glwe = ${params.glweNoiseStd} at k·N = ${kN} ` +
      `gives ≈ ${glwe.bits.toFixed(1)} bits of security, below 128`);
  }
}

export class CompactPublicKey {
  constructor(
    readonly polynomialSize: number,
    readonly seed: Uint8Array,
    /** B = A·S + E (the only N' words besides the seed). */
    readonly body: BigUint64Array,
    /** σ of the encryption noise: the parameter set's σ_glwe. */
    readonly noiseStd: number,
  ) {
    checkSize(polynomialSize);
    if (!(body instanceof BigUint64Array) || body.length !== polynomialSize) throw new RangeError("public key body has the wrong size");
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError("public key seed must be 32 bytes");
    // σ = 0 would make every encryption's mask U = A·r exact, hence r and the messages recoverable.
    if (typeof noiseStd !== "number" || !(noiseStd > 0 && noiseStd < 0.25)) {
      throw new RangeError(`public key noise std must be a number in (0, 0.25), got ${String(noiseStd)}`);
    }
  }

  /**
   * Derives the public key of a big (flattened GLWE) secret key for a parameter set, with its σ_glwe and
   * a fresh seed. Throws for sets that cannot have one (checkPublicKeyParameters: k·N not a power of two,
   * e.g. PARAM_MESSAGE_1; or σ_glwe below 128-bit security) and for a key of another dimension.
   */
  static generate(bigKey: LweSecretKey, params: TfheParameters, ...rest: never[]): CompactPublicKey {
    if (rest.length > 0) throw new TypeError("CompactPublicKey.generate takes no seed: every key gets a fresh CSPRNG seed");
    if (typeof params !== "object" || params === null || typeof params.glweNoiseStd !== "number") {
      throw new TypeError(`CompactPublicKey.generate expects a parameter set, got ${typeof params === "number" ? `the number ${params}` : String(params)}`);
    }
    checkPublicKeyParameters(params);
    const N = bigKey.dimension;
    if (N !== params.glweDimension * params.polynomialSize) {
      throw new RangeError(`secret key dimension ${N} ≠ k·N = ${params.glweDimension * params.polynomialSize} of "${params.name}"`);
    }
    const noiseStd = params.glweNoiseStd, seed = newSeed();
    const K = kernels();
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

  /**
   * Encrypts up to N' integers into one compact list (one shared mask); a checked encoding reduces them
   * mod 2^bits, as ClientKey.encrypt does.
   */
  encrypt(messages: ArrayLike<number>, encoding: Encoding): CompactCiphertextList {
    checkEncoding(encoding);
    const list = messageList(messages, "encrypt");
    const p = plaintextModulus(encoding), managed = isCompilerManaged(encoding);
    messages = Array.from(list, (m) => (managed ? m : ((m % p) + p) % p));
    const N = this.polynomialSize;
    if (messages.length > N) throw new RangeError(`a compact list holds at most ${N} values, got ${messages.length}`);
    const K = kernels();
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
    let lo = messages.length > 0 ? Infinity : 0, hi = messages.length > 0 ? -Infinity : 0;
    for (let j = 0; j < messages.length; j++) { lo = Math.min(lo, messages[j]!); hi = Math.max(hi, messages[j]!); }
    return new CompactCiphertextList(N, mask, bodies, encoding, { degree: hi, minValue: lo, noiseLevel: 1 });
  }
}

/**
 * Public-key ciphertexts: one mask of N' words plus one body per value. Its form can only come from an
 * encryption (one fresh mask shared by every body), so an expanded list has noise level 1, as TFHE-rs's
 * expansion assumes; a list received from elsewhere may hold any value of the encoding (degree p − 1).
 */
export class CompactCiphertextList {
  readonly bounds: CiphertextBounds;

  constructor(
    readonly polynomialSize: number,
    readonly mask: BigUint64Array,
    readonly bodies: BigUint64Array,
    readonly encoding: Encoding,
    /** Known bounds (a list encrypted here); default: any value of the encoding, noise level 1. */
    bounds?: CiphertextBounds,
  ) {
    checkEncoding(encoding);
    this.bounds = bounds ?? { degree: plaintextModulus(encoding) - 1, minValue: 0, noiseLevel: 1 };
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
      // The bodies share the mask's randomness (r, E₁): their noises are correlated.
      return new LweBatch(N, count, out, this.encoding, this.bounds, newNoiseSource(false));
    });
  }
}
