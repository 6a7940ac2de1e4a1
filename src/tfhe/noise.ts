// The noise model. Every variance is a fraction of q² (torus units, q = 2^64); keys are uniform binary
// (E[s] = 1/2, E[s²] = 1/2). Formulas follow the TFHE analyses (Chillotti et al., JoC 2020, §3–4) in the
// form used by Concrete's optimizer and TFHE-rs (concrete-cpu-noise-model: keyswitch_one_bit,
// external_product_glwe, modulus_switching), re-derived in the comments. Terms of order kN/q² (≤ 2^-100,
// from the rounding bias of the decomposition) are dropped.
import { groupingFactor, messageModulus, type TfheParameters } from "./parameters.js";

/**
 * FFT error scale c of `fftVariance`, as an upper confidence bound of its measurement, so that the model
 * bounds the noise instead of estimating it (p_fail and the optimizer rely on it never being low).
 * Measurement: the per-coefficient error of an external product against the exact product (the harness of
 * test/kernels/fft-noise.test.ts) over 22 shapes — k ∈ 1..6, N ∈ 256..32768, (β, l) from (30, 1) to
 * (4, 5), the named sets' shapes among them — with 3 to 30 independent products each. Shape means lie in
 * 0.0087–0.0096 (mean of all 0.0090, which also confirms the shape of the formula); the largest,
 * 0.0096 ± 0.00015 (k = 4, N = 256, β = 8, l = 2), has a one-sided 99.9% upper bound of 0.0101, rounded
 * up to 0.0105 for shapes outside the grid. (Concrete's fit for TFHE-rs's FFT is c ≈ 0.03 at N = 2048.)
 */
export const FFT_NOISE_COEFFICIENT = 0.0105;

/** The measured mean of c (see FFT_NOISE_COEFFICIENT), for reports and for tests that the bound is not vacuous. */
export const FFT_NOISE_COEFFICIENT_MEASURED = 0.009;

/** Second moment of a balanced digit uniform in [−B/2, B/2): (B² + 2)/12. */
function digitSecondMoment(baseLog: number): number {
  const B = 2 ** baseLog;
  return (B * B + 2) / 12;
}

/**
 * Rounding a torus value to the closest multiple of 1/B^l leaves an error uniform over q/B^l integers:
 * variance (B^(-2l) − q^-2)/12 (zero when β·l = 64).
 */
function roundingVariance(baseLog: number, level: number): number {
  return (2 ** (-2 * baseLog * level) - 2 ** -128) / 12;
}

/** E[s²] of a uniform binary key coefficient (or of the bit a GGSW encrypts). */
const BINARY_SECOND_MOMENT = 1 / 2;

/** Fresh encryption: the Gaussian noise itself, σ². */
export function freshVariance({ noiseStd }: { readonly noiseStd: number }): number {
  return noiseStd * noiseStd;
}

/** Σ wᵢ²·varᵢ: the variance of Σ wᵢ·cᵢ for independent ciphertexts cᵢ and clear integer weights wᵢ. */
export function linearCombinationVariance({ weights, variances }: {
  readonly weights: readonly number[]; readonly variances: readonly number[];
}): number {
  if (weights.length !== variances.length) {
    throw new RangeError(`weights and variances must have the same length, got ${weights.length} and ${variances.length}`);
  }
  let v = 0;
  for (let i = 0; i < weights.length; i++) v += weights[i]! * weights[i]! * variances[i]!;
  return v;
}

export interface KeyswitchNoiseParams {
  /** Input key dimension (k·N for the big key). */
  readonly inputDimension: number;
  readonly baseLog: number;
  readonly level: number;
  /** Noise std of the key-switching key (σ_lwe). */
  readonly noiseStd: number;
  /**
   * Output dimension n, when the server keeps the key rounded to its top 32 bits (what ServerKey does):
   * adds the rounding term below. Omit for a full 64-bit key.
   */
  readonly outputDimension?: number;
}

/**
 * Variance added by an LWE key switch. Each of the n_in mask coefficients aᵢ is rounded to l·β bits
 * (error × input key bit: (B^-2l − q^-2)/12·1/2) and decomposed into l digits, each multiplying a KSK ciphertext of
 * noise σ² (digits: (B²+2)/12): n_in · [ l·σ²·(B²+2)/12 + (B^-2l − q^-2)/24 ].
 * A 32-bit server copy of the key adds, per digit, a rounding error uniform over 2^32/q in the body and
 * in each of the n mask words (the latter multiplied by the output key): n_in·l·(B²+2)/12·(1 + n/2)·2^-64/12.
 */
export function keyswitchVariance({ inputDimension, baseLog, level, noiseStd, outputDimension }: KeyswitchNoiseParams): number {
  const keyTerm = level * noiseStd * noiseStd * digitSecondMoment(baseLog);
  const storage = outputDimension === undefined ? 0
    : level * digitSecondMoment(baseLog) * (1 + outputDimension * BINARY_SECOND_MOMENT) * 2 ** -64 / 12;
  return inputDimension * (keyTerm + roundingVariance(baseLog, level) * BINARY_SECOND_MOMENT + storage);
}

export interface ModulusSwitchNoiseParams {
  readonly lweDimension: number;
  readonly polynomialSize: number;
  /** Multi-bit grouping factor d (default 1: classic). */
  readonly groupingFactor?: number;
}

/**
 * Variance added by rounding an LWE of dimension n from q to 2N: each coefficient's error is uniform
 * over one step 1/(2N) (variance 1/(12·(2N)²)); n mask terms × E[s²] = 1/2, plus the body:
 * (n/2 + 1)/(12·(2N)²) = (n + 2)/(96·N²).
 * Multi-bit (grouped rounding, multibit kernel): each group's rotation m_{p*} = round(Σ_{j∈p*} a_j) is
 * one rounding, whose error reaches the phase when the group's bits p* are not all 0 (probability
 * 1 − 2^-d): ((n/d)·(1 − 2^-d) + 1)/(12·(2N)²).
 */
export function modulusSwitchVariance({ lweDimension, polynomialSize, groupingFactor: d = 1 }: ModulusSwitchNoiseParams): number {
  const w = 2 * polynomialSize;
  const masks = d === 1 ? lweDimension * BINARY_SECOND_MOMENT : (lweDimension / d) * (1 - 2 ** -d);
  return (masks + 1) / (12 * w * w);
}

export interface BlindRotationNoiseParams {
  /** n: number of external products (CMux). */
  readonly lweDimension: number;
  readonly glweDimension: number;
  readonly polynomialSize: number;
  readonly baseLog: number;
  readonly level: number;
  /** Noise std of the bootstrapping key (σ_glwe). */
  readonly noiseStd: number;
  /** Override of FFT_NOISE_COEFFICIENT (for calibration). */
  readonly fftCoefficient?: number;
  /** Multi-bit grouping factor d (default 1: classic, n CMux). */
  readonly groupingFactor?: number;
}

/**
 * Multi-bit blind rotation (n/d external products with C = Σ_{p≠0} (X^{m_p} − 1)·GGSW_p): how many times
 * a classic CMux's key and FFT terms one group's product carries. Each of the 2^d − 1 GGSWs' noise (and
 * Fourier magnitude) is multiplied by X^{m_p} − 1, whose square norm averages 2 over m_p uniform in
 * [0, 2N) (2 for m ∉ {0, N}, 4 at N, 0 at 0): 2·(2^d − 1). Classic: 1.
 */
export function multiBitKeyFactor(d: number): number {
  return d === 1 ? 1 : 2 * (2 ** d - 1);
}

/** External products of one blind rotation: n, or n/d. */
function externalProducts(lweDimension: number, d: number): number {
  return d === 1 ? lweDimension : lweDimension / d;
}

/**
 * FFT error of one blind rotation (n external products), our negacyclic f64 FFT. Each output coefficient
 * of an external product sums (k+1)·l·N products of a digit (~B) and a torus value (~q) through log2(N)
 * butterfly stages with a 53-bit mantissa: a rounding error of variance c·(k+1)·l·N·B²·log2(N)·2^-106.
 * The errors of the k mask polynomials reach the phase multiplied by the key (k·N/2 terms on average),
 * hence (1 + k·N/2) per product — the N² growth Concrete's fit also shows. c is an upper bound of its
 * measurement (FFT_NOISE_COEFFICIENT):
 *   c · n · (1 + k·N/2) · (k+1) · l · N · B² · log2(N) · 2^-106.
 */
export function fftVariance({ lweDimension, glweDimension, polynomialSize, baseLog, level, fftCoefficient = FFT_NOISE_COEFFICIENT,
  groupingFactor: d = 1 }: Omit<BlindRotationNoiseParams, "noiseStd">): number {
  const B2 = 2 ** (2 * baseLog);
  const perCoefficient = fftCoefficient * (glweDimension + 1) * level * polynomialSize * B2 * Math.log2(polynomialSize) * 2 ** -106;
  // Multi-bit: n/d products whose Fourier key C is multiBitKeyFactor(d) times larger in square magnitude.
  return externalProducts(lweDimension, d) * multiBitKeyFactor(d) * (1 + glweDimension * polynomialSize * BINARY_SECOND_MOMENT) * perCoefficient;
}

/**
 * Variance of one external product GGSW(bit) ⊡ GLWE without the FFT term:
 * - key term: (k+1)·l·N digit polynomials times the GGSW noise: (k+1)·l·N·(B²+2)/12·σ²;
 * - decomposition term: the k+1 polynomials are rounded to l·β bits; the error of the body and of
 *   the k masks (each output coefficient sees k·N of them times a key bit) is multiplied by the
 *   GGSW's bit: (1 + k·N/2)·(B^-2l − q^-2)/12·1/2.
 */
export function externalProductVariance({ glweDimension: k, polynomialSize: N, baseLog, level, noiseStd, messageSecondMoment = BINARY_SECOND_MOMENT }:
  Omit<BlindRotationNoiseParams, "lweDimension" | "fftCoefficient"> & {
    /** E[m²] of the GGSW's message: 1/2 for a uniform key bit (blind rotation), 1 for a known m = 1. */
    readonly messageSecondMoment?: number;
  }): number {
  const keyTerm = (k + 1) * level * N * digitSecondMoment(baseLog) * noiseStd * noiseStd;
  const roundingTerm = (1 + k * N * BINARY_SECOND_MOMENT) * roundingVariance(baseLog, level) * messageSecondMoment;
  return keyTerm + roundingTerm;
}

/**
 * Output variance of a blind rotation (hence of a PBS, sample extraction adds nothing): n external
 * products from a noiseless accumulator, plus the FFT error. Independent of the input noise.
 */
export function blindRotationVariance(p: BlindRotationNoiseParams): number {
  const d = p.groupingFactor ?? 1;
  if (d === 1) return p.lweDimension * externalProductVariance(p) + fftVariance(p);
  // Multi-bit, per group: the key term of the 2^d − 1 GGSWs, each times X^{m_p} − 1 (multiBitKeyFactor);
  // the decomposition rounding of ACC times C's message X^{m_p*} − 1, of square norm 2 when the group's
  // bits p* are not all 0 (probability 1 − 2^-d): E[m²] = 2·(1 − 2^-d).
  const keyOnly = externalProductVariance({ ...p, messageSecondMoment: 0 });
  const rounding = externalProductVariance({ ...p, noiseStd: 0, messageSecondMoment: 2 * (1 - 2 ** -d) });
  return externalProducts(p.lweDimension, d) * (multiBitKeyFactor(d) * keyOnly + rounding) + fftVariance(p);
}

/** PBS output variance of a parameter set (under the big key k·N). */
export function pbsOutputVariance(params: TfheParameters, fftCoefficient = FFT_NOISE_COEFFICIENT): number {
  return blindRotationVariance({
    lweDimension: params.lweDimension, glweDimension: params.glweDimension, polynomialSize: params.polynomialSize,
    baseLog: params.pbsBaseLog, level: params.pbsLevel, noiseStd: params.glweNoiseStd, fftCoefficient,
    groupingFactor: groupingFactor(params),
  });
}

/** Key switch big → small key of a parameter set (with the server's 32-bit key copy). */
export function pbsKeyswitchVariance(params: TfheParameters): number {
  return keyswitchVariance({
    inputDimension: params.glweDimension * params.polynomialSize,
    baseLog: params.ksBaseLog, level: params.ksLevel, noiseStd: params.lweNoiseStd,
    outputDimension: params.lweDimension,
  });
}

/** Modulus switch q → 2N of a parameter set. */
export function pbsModulusSwitchVariance(params: TfheParameters): number {
  return modulusSwitchVariance({
    lweDimension: params.lweDimension, polynomialSize: params.polynomialSize, groupingFactor: groupingFactor(params),
  });
}

function checkNorm2(maxNorm2: number): void {
  if (!Number.isFinite(maxNorm2) || maxNorm2 < 0) {
    throw new RangeError(`maxNorm2 must be a finite number ≥ 0, got ${maxNorm2}`);
  }
}

/**
 * Variance of the phase the PBS rounds (after KS and modulus switch), for an input that is a linear
 * combination of PBS outputs with squared 2-norm Σw² ≤ maxNorm2:
 * maxNorm2·v_pbs + v_ks + v_ms. (Fresh ciphertexts have σ_glwe² ≪ v_pbs.)
 */
export function pbsInputVariance(params: TfheParameters, maxNorm2 = 1, fftCoefficient = FFT_NOISE_COEFFICIENT): number {
  checkNorm2(maxNorm2);
  return maxNorm2 * pbsOutputVariance(params, fftCoefficient) + pbsKeyswitchVariance(params) + pbsModulusSwitchVariance(params);
}

/** Every term of `pbsInputVariance`, for reports and calibration. */
export interface NoiseBreakdown {
  readonly pbsOutput: number;
  readonly bootstrapKey: number;
  readonly fft: number;
  readonly keyswitch: number;
  readonly modulusSwitch: number;
  readonly pbsInput: number;
}

export function noiseBreakdown(params: TfheParameters, maxNorm2 = 1, fftCoefficient = FFT_NOISE_COEFFICIENT): NoiseBreakdown {
  checkNorm2(maxNorm2);
  const fft = fftVariance({
    lweDimension: params.lweDimension, glweDimension: params.glweDimension, polynomialSize: params.polynomialSize,
    baseLog: params.pbsBaseLog, level: params.pbsLevel, fftCoefficient, groupingFactor: groupingFactor(params),
  });
  const pbsOutput = pbsOutputVariance(params, fftCoefficient);
  const keyswitch = pbsKeyswitchVariance(params);
  const modulusSwitch = pbsModulusSwitchVariance(params);
  return {
    pbsOutput, bootstrapKey: pbsOutput - fft, fft, keyswitch, modulusSwitch,
    pbsInput: maxNorm2 * pbsOutput + keyswitch + modulusSwitch,
  };
}

// ---------------------------------------------------------------------------------------------------
// Failure probability: P(|e| > t) for e ~ N(0, v), t = Δ/2 = 1/(4p) in torus units (half a box of the
// lookup table), i.e. erfc(t / (σ·√2)). Computed in the log domain so 2^-64 … 2^-1000 are exact.

const LOG2E = Math.LOG2E;

/** log2 erfc(x) for x ≥ 0, relative accuracy ~1e-13. */
export function log2Erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) throw new RangeError(`log2Erfc expects x ≥ 0, got ${x}`);
  if (x === Infinity) return -Infinity;
  if (x < 2) {
    // erf by its Maclaurin series: 2/√π Σ (−1)^j x^(2j+1) / (j!(2j+1)); terms ≤ e^4, ample precision here.
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let j = 1; j < 80; j++) {
      term *= -x2 / j;
      const t = term / (2 * j + 1);
      sum += t;
      if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
    }
    return Math.log2(1 - (2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), by modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let j = 1; j < 500; j++) {
    const a = j / 2;
    D = x + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = x + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x * LOG2E - Math.log2(Math.sqrt(Math.PI)) - Math.log2(f);
}

export interface FailureProbability {
  /** P(|e| > 1/(4p)); may underflow to 0 below ~2^-1074. */
  readonly probability: number;
  /** log2 of the probability, finite far below the float range. */
  readonly log2: number;
}

/** Probability that Gaussian noise of this variance crosses half a box, |e| > 1/(4p). */
export function pFail(variance: number, messageModulus: number): FailureProbability {
  if (!Number.isFinite(variance) || variance < 0) throw new RangeError(`variance must be a finite number ≥ 0, got ${variance}`);
  if (!Number.isFinite(messageModulus) || messageModulus < 1) {
    throw new RangeError(`messageModulus must be a number ≥ 1, got ${messageModulus}`);
  }
  if (variance === 0) return { probability: 0, log2: -Infinity };
  const x = 1 / (4 * messageModulus) / Math.sqrt(2 * variance);
  const log2 = log2Erfc(x);
  return { probability: 2 ** log2, log2 };
}

/**
 * Largest variance with pFail(variance, p) ≤ target (target in (0, 1)): inverts the Gaussian tail by
 * bisection on z = t/σ.
 */
export function maxVarianceForPFail(target: number, messageModulus: number): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`pFail target must be in (0, 1), got ${target}`);
  const goal = Math.log2(target);
  let lo = 0; // log2 erfc(lo/√2) = 0 > goal
  let hi = 1;
  while (log2Erfc(hi / Math.SQRT2) > goal) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (log2Erfc(mid / Math.SQRT2) > goal) lo = mid;
    else hi = mid;
  }
  const t = 1 / (4 * messageModulus);
  return (t / hi) * (t / hi);
}

/** Failure probability of one PBS whose input is a combination of squared 2-norm ≤ maxNorm2. */
export function pbsFailureProbability(params: TfheParameters, maxNorm2 = 1,
  fftCoefficient = FFT_NOISE_COEFFICIENT): FailureProbability {
  return pFail(pbsInputVariance(params, maxNorm2, fftCoefficient), messageModulus(params));
}
