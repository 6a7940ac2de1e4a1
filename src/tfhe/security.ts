// Security of LWE / GLWE with binary keys, Gaussian noise, q = 2^64, from curves fitted to the
// lattice estimator. Source: TFHE-rs core_crypto `secure_noise` (minimal_variance_for_132_bits_security_
// gaussian_impl, which carries the 128-bit and 132-bit fits; docs/parameters-and-security.md):
//   λ = 128: log2(σ²) ≥ −0.05139355742296919·n + 5.351862745098032
//   λ = 132: log2(σ²) ≥ −0.04978291316526609·n + 5.31469187675068
// never below log2(σ²) = 2·(2 − 64) (σ of 4 integer units: a smaller noise rounds away).
// σ is a fraction of q (torus units). For a GLWE, n = k·N (the flattened key).
import type { TfheParameters } from "./parameters.js";

const SLOPE_128 = -0.05139355742296919;
const BIAS_128 = 5.351862745098032;
const SLOPE_132 = -0.04978291316526609;
const BIAS_132 = 5.31469187675068;

/** log2(σ²) floor: 2·(2 − log2 q) with q = 2^64. */
export const MIN_LOG2_VARIANCE = 2 * (2 - 64);

/**
 * Smallest dimension where the fitted curves are trusted (Concrete's security curves use 450 as the
 * minimal LWE dimension of their 128-bit fit); below it we report 0 bits.
 */
export const MIN_SECURE_DIMENSION = 450;

/** Security levels outside this range are refused (the family is an extrapolation far from 128–132). */
const MIN_BITS = 64;
const MAX_BITS = 256;
/** Cap of `securityBits` estimates. */
const MAX_ESTIMATE = 512;

// The family of curves. Writing the fit as log2(σ²) = (A/λ)·n + b, the two published fits give
// A = 128·slope₁₂₈ = −6.5784 and A = 132·slope₁₃₂ = −6.5713: nearly the same, i.e. security grows like
// n / (b − log2 σ²), the usual "λ ∝ n / log2(q/σ)" shape of lattice attacks. We interpolate A and b
// linearly in λ between the two fits, which reproduces both exactly and extrapolates smoothly
// (at 80 and 192 bits it lands within ~1 bit of log2 σ of Concrete's own 80/192-bit curves).
const A_128 = SLOPE_128 * 128;
const A_132 = SLOPE_132 * 132;
const A_PER_BIT = (A_132 - A_128) / 4;
const B_PER_BIT = (BIAS_132 - BIAS_128) / 4;

function curveLog2Variance(dimension: number, bits: number): number {
  const a = A_128 + (bits - 128) * A_PER_BIT;
  const b = BIAS_128 + (bits - 128) * B_PER_BIT;
  return (a / bits) * dimension + b;
}

/** Absolute tolerance (in log2 σ²) of the curve comparison, so minimumNoiseStd(n) itself passes. */
const LOG2_TOLERANCE = 1e-9;

/** Thrown by `defineParameters` for parameters below the required security. */
export class InsecureParametersError extends Error {
  override name = "InsecureParametersError";
  readonly report: SecurityReport;
  constructor(message: string, report: SecurityReport) {
    super(message);
    this.report = report;
  }
}

function checkDimension(dimension: number): void {
  if (!Number.isSafeInteger(dimension) || dimension < 1) {
    throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
  }
}

function checkBits(bits: number): void {
  if (!Number.isFinite(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new RangeError(`bits must be in [${MIN_BITS}, ${MAX_BITS}], got ${bits}`);
  }
}

/**
 * log2 of the smallest secure noise variance (fraction of q²) for `bits` of security: the fitted
 * curve (exact TFHE-rs fit at 128 and 132), never below the floor MIN_LOG2_VARIANCE.
 */
export function minimumLog2Variance(dimension: number, bits = 128): number {
  checkDimension(dimension);
  checkBits(bits);
  if (dimension < MIN_SECURE_DIMENSION) {
    throw new RangeError(`dimension ${dimension} is below ${MIN_SECURE_DIMENSION}, where the security curve is not valid`);
  }
  return Math.max(curveLog2Variance(dimension, bits), MIN_LOG2_VARIANCE);
}

/** Smallest secure Gaussian std (fraction of q) for an LWE of this dimension (binary key). */
export function minimumNoiseStd(dimension: number, bits = 128): number {
  return 2 ** (minimumLog2Variance(dimension, bits) / 2);
}

/**
 * Estimated bits of security of an LWE (binary key, q = 2^64) of this dimension and noise std.
 * Method: solve curve(n, λ) = log2 σ² for λ in the interpolated family above (exact at 128 and 132,
 * a smooth extrapolation elsewhere: read values far from 128 as rough). Returns 0 outside the fit's
 * validity (dimension < MIN_SECURE_DIMENSION, or σ below the 4-unit floor, or σ = 0).
 */
export function securityBits(dimension: number, noiseStd: number): number {
  checkDimension(dimension);
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) {
    throw new RangeError(`noiseStd must be a finite number ≥ 0, got ${noiseStd}`);
  }
  if (dimension < MIN_SECURE_DIMENSION || noiseStd === 0) return 0;
  const y = 2 * Math.log2(noiseStd);
  if (y < MIN_LOG2_VARIANCE - LOG2_TOLERANCE) return 0;
  // curve(n, λ) is increasing in λ on [1, 512] for n ≥ 450 (its λ-derivative 6.80·n/λ² − 0.0093 stays
  // positive there): bisection, with the estimate capped at 512.
  if (curveLog2Variance(dimension, MAX_ESTIMATE) <= y) return MAX_ESTIMATE;
  let lo = 1;
  let hi = MAX_ESTIMATE;
  if (curveLog2Variance(dimension, lo) >= y) return 0;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (curveLog2Variance(dimension, mid) <= y) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** True if (dimension, noiseStd) reaches `bits` of security under the fitted curve. */
export function isSecure(dimension: number, noiseStd: number, bits = 128): boolean {
  checkDimension(dimension);
  checkBits(bits);
  if (dimension < MIN_SECURE_DIMENSION || !(noiseStd > 0) || !Number.isFinite(noiseStd)) return false;
  return 2 * Math.log2(noiseStd) >= minimumLog2Variance(dimension, bits) - LOG2_TOLERANCE;
}

export interface SecurityEntry {
  readonly dimension: number;
  readonly noiseStd: number;
  /** Estimated security in bits (see `securityBits`). */
  readonly bits: number;
  readonly ok: boolean;
}

export interface SecurityReport {
  /** The small key (dimension n, σ_lwe): key-switching key and PBS inputs. */
  readonly lwe: SecurityEntry;
  /** The GLWE key flattened (dimension k·N, σ_glwe): bootstrapping key and ciphertexts. */
  readonly glwe: SecurityEntry;
  /** Required security level. */
  readonly requiredBits: number;
  readonly ok: boolean;
}

function entry(dimension: number, noiseStd: number, bits: number): SecurityEntry {
  return { dimension, noiseStd, bits: securityBits(dimension, noiseStd), ok: isSecure(dimension, noiseStd, bits) };
}

/** Checks both keys of a parameter set: LWE (n, σ_lwe) and GLWE (k·N, σ_glwe). */
export function checkSecurity(params: TfheParameters, bits = 128): SecurityReport {
  checkBits(bits);
  const lwe = entry(params.lweDimension, params.lweNoiseStd, bits);
  const glwe = entry(params.glweDimension * params.polynomialSize, params.glweNoiseStd, bits);
  return { lwe, glwe, requiredBits: bits, ok: lwe.ok && glwe.ok };
}
