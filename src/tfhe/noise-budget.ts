// Degree and noise-level bookkeeping of ciphertext batches, as TFHE-rs's shortint layer keeps a degree
// and a noise level on each ciphertext, and the checks a bootstrap or a decryption makes with them.
//
// Values. A batch carries [minValue, degree] ⊇ the integers it encodes (on the torus, mod 2p). A value
// ≥ p sits in the padding half: decryption would fold it mod p while a bootstrap returns −f(m − p); a
// negative value sits there too (−m ≡ 2p − m). So both need 0 ≤ minValue and degree ≤ p − 1.
// Negation: TFHE-rs keeps values non-negative by adding a correcting multiple z ≥ degree of the message
// modulus (neg(m) = z − m, new degree z), which is right modulo the message modulus only, the carry bits
// absorbing z. Our encodings read the whole message + carry space (decryption returns the value mod p),
// where any such z ≥ p would itself reach the padding bit; so instead of a hidden correction we keep the
// lower bound: neg maps [lo, hi] to [−hi, −lo], sub(a, b) gives [lo_a − hi_b, hi_a − lo_b], and the
// caller brings a difference back into range with a clear offset (addPlain(sub(a, b), c) with c ≥ hi_b).
//
// Noise. noiseLevel bounds Σw² over the fresh encryptions and bootstrap outputs a ciphertext combines,
// so its variance is ≤ noiseLevel × (PBS output variance) — a fresh encryption (σ_glwe²) and a public-key
// encryption ((k·N + 1)·σ_glwe²) are both below one PBS output, whose n·(k+1)·l·N·B²/12 terms of σ_glwe²
// dominate. Σw² adds only for independent noises; batches remember their noise sources (lwe-batch.ts),
// and combinations of batches that may share one use the triangle inequality instead:
// Var(a + b) ≤ (σ_a + σ_b)², i.e. (√ν_a + √ν_b)².
// Limit: a named set's Σw² it was sized for (NAMED_PARAMETER_SETS.maxNorm2, TFHE-rs's max noise level
// squared); any other set's largest Σw² with p_fail ≤ 2^-64 under the noise model (at least 1: a set
// too noisy for that is used at level 1 only, fresh or bootstrapped inputs).
import { isCompilerManaged, plaintextModulus, type Encoding } from "./encoding.js";
import type { CiphertextBounds, NoiseSources } from "./lwe-batch.js";
import { pbsFailureProbability } from "./noise.js";
import { NAMED_PARAMETER_SETS, parameterFingerprint, type TfheParameters } from "./parameters.js";

/** Thrown when a batch's bounds exceed what a bootstrap or a decryption allows. */
export class CiphertextBoundsError extends Error {
  override name = "CiphertextBoundsError";
}

/** log2 p_fail per PBS a parameter set outside the named ones is held to. */
export const NOISE_LEVEL_LOG2_PFAIL = -64;

const limits = new WeakMap<TfheParameters, number>();

function sameFingerprint(a: Uint8Array, b: Uint8Array): boolean {
  return a.every((x, i) => x === b[i]);
}

/** The largest noise level (Σw²) a batch may have at a bootstrap or decryption under these parameters. */
export function maxNoiseLevel(params: TfheParameters): number {
  let v = limits.get(params);
  if (v !== undefined) return v;
  const fp = parameterFingerprint(params);
  const named = NAMED_PARAMETER_SETS.find((s) => sameFingerprint(parameterFingerprint(s.params), fp));
  if (named !== undefined) v = named.maxNorm2;
  else {
    const ok = (nu: number) => pbsFailureProbability(params, nu).log2 <= NOISE_LEVEL_LOG2_PFAIL;
    // p_fail grows with ν: double, then bisect on integers.
    let lo = 1, hi = 2;
    if (!ok(1)) hi = 1;
    else {
      while (hi < 2 ** 40 && ok(hi)) { lo = hi; hi *= 2; }
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (ok(mid)) lo = mid; else hi = mid;
      }
    }
    v = lo;
  }
  if (Object.isFrozen(params)) limits.set(params, v);
  return v;
}

/**
 * Bounds of a plain batch decoded from bytes: the worst case within its encoding — any value of the
 * message space, and the parameters' largest noise level (it may be a combination made elsewhere). It
 * can be bootstrapped or decrypted as it is; a receiver that knows more states it with assumeBounds.
 * (Seeded batches and compact lists can only be fresh encryptions: noise level 1, see seeded-lwe.ts.)
 */
export function deserializedBounds(enc: Encoding, params: TfheParameters): CiphertextBounds {
  return { degree: plaintextModulus(enc) - 1, minValue: 0, noiseLevel: maxNoiseLevel(params) };
}

/** Σ of a weighted combination of one batch: the weights of output j are column j. */
export interface Combination {
  /** Per output: Σᵢ wᵢ² and Σᵢ |wᵢ| over its weights. */
  readonly sumSquares: number;
  readonly sumAbs: number;
}

/** Noise level of Σ wᵢ·xᵢ over ciphertexts of one batch (independent ones: ν·Σw²; otherwise ν·(Σ|w|)²). */
export function combinedNoiseLevel(noiseLevel: number, noise: NoiseSources, c: Combination): number {
  return noiseLevel * (noise.independent ? c.sumSquares : c.sumAbs * c.sumAbs);
}

/** Noise level of a ± b (element-wise): additive when their noises are independent. */
export function sumNoiseLevel(a: number, b: number, independent: boolean): number {
  if (independent) return a + b;
  const s = Math.sqrt(a) + Math.sqrt(b);
  return s * s;
}

/** True when two batches share no noise source. */
export function disjointSources(a: NoiseSources, b: NoiseSources): boolean {
  const [small, big] = a.sources.size <= b.sources.size ? [a, b] : [b, a];
  for (const s of small.sources) if (big.sources.has(s)) return false;
  return true;
}

function fmt(x: number): string {
  return Number.isInteger(x) || !Number.isFinite(x) ? String(x) : x.toPrecision(4);
}

/**
 * Checks that the values of a checked batch lie in [0, maxValue] (what a decryption or a table covers).
 * Compiler-managed encodings manage the padding bit themselves and are not checked.
 */
export function checkValueBounds(bounds: CiphertextBounds, enc: Encoding, maxValue: number, what: string): void {
  if (isCompilerManaged(enc)) return;
  const p = plaintextModulus(enc);
  if (bounds.minValue < 0 || bounds.degree > maxValue) {
    const why = bounds.degree > maxValue
      ? `its degree (upper bound of the encoded values) is ${fmt(bounds.degree)}, above ${maxValue}` +
        (bounds.degree >= p ? ` (values ≥ p = ${p} reach the padding bit)` : "")
      : `its values may be as low as ${fmt(bounds.minValue)} (a negative value sits in the padding half)`;
    throw new CiphertextBoundsError(`${what}: ${why}; the ${enc.bits}-bit message space allows [0, ${maxValue}]. ` +
      "Bootstrap before the values grow this far, add a clear offset (addPlain) to a difference, or state known bounds with assumeBounds");
  }
}

/** Checks the noise level of a checked batch against the parameters' limit. */
export function checkNoiseLevel(bounds: CiphertextBounds, enc: Encoding, params: TfheParameters, what: string): void {
  if (isCompilerManaged(enc)) return;
  const limit = maxNoiseLevel(params);
  if (!(bounds.noiseLevel <= limit)) {
    const why = Number.isFinite(bounds.noiseLevel)
      ? `its noise level (Σw² since the last bootstrap) is ${fmt(bounds.noiseLevel)}`
      : "its noise level is unknown (a batch built from raw words)";
    throw new CiphertextBoundsError(`${what}: ${why}, above ${fmt(limit)}, the largest "${params.name}" was sized for. ` +
      "Bootstrap earlier or use smaller weights (or state known bounds with assumeBounds)");
  }
}
