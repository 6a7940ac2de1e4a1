// Parameter optimizer: the cheapest KS→PBS parameter set for a precision, a squared 2-norm before the PBS,
// a failure probability and a security level (in the manner of Concrete's optimizer, on our noise model).
//
// Search (exact over the grid):
//   k ∈ 1..6, N ∈ 2^8..2^16 with k·N ≤ 2^16 (k·N ≥ 450, where the security curve is valid), p ≤ N;
//   n ∈ 480, 488, …, 1600; PBS l ∈ 1..12, β ≤ min(30, 64/l); KS l_ks ∈ 1..24, β_ks ≤ 64/l_ks;
//   σ_glwe, σ_lwe at the minimum the security curve allows for k·N and n at securityBits + securityMarginBits
//   (less noise only helps; the margin, 4 bits by default, keeps the chosen sets at 132 bits like TFHE-rs's
//   rather than exactly on the 128-bit curve, so a small shift of the curve fits leaves them above 128).
// Structure used to prune: the cost does not depend on β or β_ks, so for each (k, N, l) the best β is
// the one minimising the external-product noise, and for each (n, l_ks) the best β_ks minimises the
// key-switch noise. For each (k, N, l, l_ks) the cost grows with n: the smallest feasible n wins,
// and the scan stops at the first feasible n or once the cost reaches the best found.
// The named sets (parameters.ts) are TFHE-rs's shapes; for the same precision and their maxNorm2 this
// returns a set of comparable cost by `estimateCost` (σ on the same 132-bit curve by default, β chosen for
// our FFT model), not the same set.
import { defineParameters, groupingFactor, MAX_GROUPING_FACTOR, type TfheParameters } from "./parameters.js";
import { minimumNoiseStd, MIN_SECURE_DIMENSION } from "./security.js";
import {
  externalProductVariance, fftVariance, keyswitchVariance, maxVarianceForPFail, modulusSwitchVariance, multiBitKeyFactor,
  FFT_NOISE_COEFFICIENT, pbsKeyswitchVariance, pbsModulusSwitchVariance, pbsOutputVariance, pFail,
} from "./noise.js";

/**
 * One noise requirement on a parameter set, for circuits whose values are read at several precisions
 * (`ChooseParametersOptions.constraints`). A value is a linear combination of fresh encryptions under
 * the big key (variance σ_glwe² each) and of bootstrap outputs (the PBS output variance each), possibly
 * scaled up before it is read (the scale squared is folded into the norms).
 */
export interface NoiseConstraint {
  /** Bits the value is read at: a PBS input's precision, or a decrypted value's message space (2^precision). */
  readonly precision: number;
  /** Σw² of fresh encryptions in the value. */
  readonly freshNorm2: number;
  /** Σw² of bootstrap outputs in the value. */
  readonly pbsNorm2: number;
  /** A PBS input (key switch and modulus switch noise added, 2^precision ≤ N), or a decryption. */
  readonly bootstrap: boolean;
}

/** Variance of a constrained value at a parameter set, as the optimizer bounds it. */
export function constraintVariance(params: TfheParameters, c: NoiseConstraint, fftCoefficient = FFT_NOISE_COEFFICIENT): number {
  const base = c.pbsNorm2 * pbsOutputVariance(params, fftCoefficient) + c.freshNorm2 * params.glweNoiseStd ** 2;
  return c.bootstrap ? base + pbsKeyswitchVariance(params) + pbsModulusSwitchVariance(params) : base;
}

/** log2 of the largest failure probability over the constraints (per PBS or per decryption). */
export function constraintsLog2PFail(params: TfheParameters, constraints: readonly NoiseConstraint[]): number {
  return constraints.reduce((m, c) => Math.max(m, pFail(constraintVariance(params, c), 2 ** c.precision).log2), -Infinity);
}

export interface ChooseParametersOptions {
  /** Bits of message + carry (the plaintext modulus is 2^precision), 1..16. */
  readonly precision: number;
  /** Of those bits, how many are carry (default 0). */
  readonly carryBits?: number;
  /** Largest squared 2-norm Σw² of the linear combination feeding a PBS (default 1). */
  readonly maxNorm2?: number;
  /** Largest failure probability per PBS (default 2^-64). */
  readonly pFail?: number;
  /** Security level, ≥ 128 (default 128): both keys are checked against it. */
  readonly securityBits?: number;
  /**
   * Bits added to `securityBits` when placing σ on the security curve (default 4: the sets sit at 132 bits,
   * as TFHE-rs's do), a margin against the uncertainty of the curve fits. 0 places σ exactly on the curve.
   */
  readonly securityMarginBits?: number;
  /** Largest Fourier bootstrapping key, in bytes (default: no limit). */
  readonly maxBootstrapKeyBytes?: number;
  /** Largest key-switching key, in bytes (default: no limit). */
  readonly maxKeyswitchKeyBytes?: number;
  /** FFT noise coefficient (default FFT_NOISE_COEFFICIENT); for calibration studies. */
  readonly fftCoefficient?: number;
  /**
   * Several requirements instead of one (`precision` and `maxNorm2` then only set the name): each PBS
   * input and decrypted value of a circuit with its own precision and norms. Every one must meet pFail.
   */
  readonly constraints?: readonly NoiseConstraint[];
  /**
   * Blind rotation kinds to consider (default [1]: classic only): 1 = classic, 2 and 3 = multi-bit with that
   * grouping factor. The cheapest set by `estimateCost` over all of them wins; a multi-bit result carries
   * its `groupingFactor`.
   */
  readonly groupingFactors?: readonly number[];
}

export interface CostEstimate {
  /** Key switch: k·N·l_ks·(n+1) multiply-adds. */
  readonly keyswitch: number;
  /**
   * Blind rotation: n × ((k+1)·l forward + (k+1) inverse FFTs of size N/2, (k+1)²·l·N/2 complex MACs);
   * multi-bit: n/d × (the same external product + combining 2^d − 1 GGSWs: (2^d − 1)·(k+1)²·l·N/2 complex
   * MACs at memory speed and (2^d − 1)·N/2 monomial-factor entries; constants measured, see groupCost).
   */
  readonly pbs: number;
  readonly total: number;
}

/** Default of `securityMarginBits`: σ on the 132-bit curve, where TFHE-rs's classic sets sit. */
export const DEFAULT_SECURITY_MARGIN_BITS = 4;

const MIN_N = 480;
const MAX_N = 1600;
const N_STEP = 8;
const MAX_K = 6;
const MIN_LOG_POLY = 8;
const MAX_LOG_POLY = 16;
const MAX_KN = 65536;
const MAX_PBS_LEVEL = 12;
/** f64 FFT: beyond ~2^30 digits the products lose too many bits for the linear FFT-noise model. */
const MAX_PBS_BASE_LOG = 30;
const MAX_KS_LEVEL = 24;

/** Cost of the blind rotation per small-key coefficient (one external product), in flops. */
function externalProductCost(k: number, N: number, l: number): number {
  const M = N / 2;
  const fft = 5 * M * Math.log2(M); // one complex FFT of size N/2
  return ((k + 1) * l + (k + 1)) * fft + (k + 1) * (k + 1) * l * M * 4; // complex MAC ≈ 4 FMA
}

/**
 * Per complex multiply-add of the multi-bit GGSW combination, and per monomial-factor entry (a scalar
 * table gather): the combination streams one key value per MAC, so it runs at memory speed, not at the
 * FFT's 4 FMA. Calibrated on the kernels (bench/speed.ts, thread CPU time): at N = 2048, k = 1, l = 1 one
 * external product took 19 µs, combining 3 (7) GGSWs 7.7 (20) µs and their factors 4.4 (8.5) µs; when the
 * group's GGSWs exceed COMBINE_CACHE_BYTES (N = 8192, l = 2: 1.5 MiB at d = 2) they stream from memory,
 * and classic and d = 2 measured equal per PBS in a batch of 8 at 6 bits: about 16 per MAC.
 */
const COMBINE_MAC_COST = 10;
const COMBINE_MAC_COST_STREAMED = 16;
const COMBINE_CACHE_BYTES = 1 << 20;
const FACTOR_ENTRY_COST = 12;

/** Cost of one multi-bit group (combine 2^d − 1 GGSWs in the Fourier domain + one external product). */
function groupCost(d: number, k: number, N: number, l: number): number {
  if (d === 1) return externalProductCost(k, N, l);
  const P = 2 ** d - 1, M = N / 2, rows = (k + 1) * (k + 1) * l;
  const mac = P * rows * N * 8 > COMBINE_CACHE_BYTES ? COMBINE_MAC_COST_STREAMED : COMBINE_MAC_COST;
  return externalProductCost(k, N, l) + P * M * (rows * mac + FACTOR_ENTRY_COST);
}

/** Rough operation count of one KS + PBS: the optimizer's objective. */
export function estimateCost(p: TfheParameters): CostEstimate {
  const kN = p.glweDimension * p.polynomialSize;
  const keyswitch = kN * p.ksLevel * (p.lweDimension + 1);
  const d = groupingFactor(p);
  const pbs = (p.lweDimension / d) * groupCost(d, p.glweDimension, p.polynomialSize, p.pbsLevel);
  return { keyswitch, pbs, total: keyswitch + pbs };
}

function integerIn(v: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
}

interface Best {
  d: number; cost: number; n: number; k: number; N: number; beta: number; l: number; betaKs: number; lKs: number;
  sigmaLwe: number; sigmaGlwe: number;
}

const cache = new Map<string, TfheParameters>();
const CACHE_SIZE = 64;

/**
 * The cheapest parameter set (by `estimateCost`) with per-PBS failure probability ≤ pFail for inputs of
 * squared norm ≤ maxNorm2, at `securityBits` (both keys). Deterministic. Throws RangeError if none exists.
 */
export function chooseParameters(options: ChooseParametersOptions): TfheParameters {
  const {
    precision, carryBits = 0, maxNorm2 = 1, pFail = 2 ** -64, securityBits = 128, securityMarginBits = DEFAULT_SECURITY_MARGIN_BITS,
    maxBootstrapKeyBytes = Infinity, maxKeyswitchKeyBytes = Infinity, fftCoefficient = FFT_NOISE_COEFFICIENT,
  } = options;
  integerIn(precision, "precision", 1, 16);
  integerIn(carryBits, "carryBits", 0, precision - 1);
  if (!Number.isFinite(maxNorm2) || maxNorm2 < 0) throw new RangeError(`maxNorm2 must be a finite number ≥ 0, got ${maxNorm2}`);
  if (!(pFail > 0 && pFail < 1)) throw new RangeError(`pFail must be in (0, 1), got ${pFail}`);
  if (!(securityBits >= 128 && securityBits <= 256)) throw new RangeError(`securityBits must be in [128, 256], got ${securityBits}`);
  if (!(securityMarginBits >= 0 && securityBits + securityMarginBits <= 256)) {
    throw new RangeError(`securityMarginBits must be ≥ 0 with securityBits + securityMarginBits ≤ 256, got ${securityMarginBits}`);
  }
  if (!(maxBootstrapKeyBytes > 0)) throw new RangeError(`maxBootstrapKeyBytes must be > 0, got ${maxBootstrapKeyBytes}`);
  if (!(maxKeyswitchKeyBytes > 0)) throw new RangeError(`maxKeyswitchKeyBytes must be > 0, got ${maxKeyswitchKeyBytes}`);
  if (!(fftCoefficient >= 0 && Number.isFinite(fftCoefficient))) {
    throw new RangeError(`fftCoefficient must be a finite number ≥ 0, got ${fftCoefficient}`);
  }

  const constraints = options.constraints ?? [{ precision, freshNorm2: 0, pbsNorm2: maxNorm2, bootstrap: true }];
  if (!Array.isArray(constraints) || constraints.length === 0) throw new RangeError("constraints must be a non-empty array");
  for (const c of constraints) {
    integerIn(c.precision, "constraint precision", 1, c.bootstrap ? 16 : 30);
    if (!(Number.isFinite(c.freshNorm2) && c.freshNorm2 >= 0 && Number.isFinite(c.pbsNorm2) && c.pbsNorm2 >= 0)) {
      throw new RangeError(`constraint norms must be finite numbers ≥ 0, got ${c.freshNorm2}, ${c.pbsNorm2}`);
    }
  }
  const groupingFactors = options.groupingFactors ?? [1];
  if (!Array.isArray(groupingFactors) || groupingFactors.length === 0
    || groupingFactors.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_GROUPING_FACTOR)) {
    throw new RangeError(`groupingFactors must be a non-empty array of integers in [1, ${MAX_GROUPING_FACTOR}], got ${JSON.stringify(groupingFactors)}`);
  }
  const pbsPrecision = constraints.reduce((m, c) => (c.bootstrap ? Math.max(m, c.precision) : m), precision);
  const key = JSON.stringify([precision, carryBits, maxNorm2, pFail, securityBits, securityMarginBits, maxBootstrapKeyBytes,
    maxKeyswitchKeyBytes, fftCoefficient, options.constraints ?? null, groupingFactors]);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;

  const best = search({
    precision: pbsPrecision, bits: securityBits + securityMarginBits,
    constraints: constraints.map((c) => ({ ...c, maxVariance: maxVarianceForPFail(pFail, 2 ** c.precision) })),
    maxBskBytes: maxBootstrapKeyBytes, maxKskBytes: maxKeyswitchKeyBytes, fftCoefficient, groupingFactors,
  });
  if (best === undefined) {
    const limits = (maxBootstrapKeyBytes < Infinity ? ` BSK ≤ ${maxBootstrapKeyBytes} bytes` : "") +
      (maxKeyswitchKeyBytes < Infinity ? ` KSK ≤ ${maxKeyswitchKeyBytes} bytes` : "");
    const what = options.constraints === undefined ? `precision ${precision} with maxNorm2 ${maxNorm2}`
      : `these ${constraints.length} noise constraints (PBS precision up to ${pbsPrecision} bits, decryption up to ` +
        `${constraints.reduce((m, c) => (c.bootstrap ? m : Math.max(m, c.precision)), 0)} bits, Σw² up to ` +
        `${Math.max(...constraints.map((c) => c.pbsNorm2))} of PBS outputs and ${Math.max(...constraints.map((c) => c.freshNorm2))} of fresh encryptions)`;
    throw new RangeError(`no parameters in the search space reach ${what}, pFail ${pFail}, ${securityBits}-bit security${limits}`);
  }
  const params = defineParameters({
    name: `optimized-p${precision}-norm2_${maxNorm2}-pfail_2^${Math.log2(pFail).toFixed(1)}-sec${securityBits}` +
      (securityMarginBits === DEFAULT_SECURITY_MARGIN_BITS ? "" : `-margin${securityMarginBits}`) + (best.d > 1 ? `-mb${best.d}` : ""),
    messageBits: precision - carryBits, carryBits,
    lweDimension: best.n, glweDimension: best.k, polynomialSize: best.N,
    lweNoiseStd: best.sigmaLwe, glweNoiseStd: best.sigmaGlwe,
    pbsBaseLog: best.beta, pbsLevel: best.l, ksBaseLog: best.betaKs, ksLevel: best.lKs,
    ...(best.d > 1 ? { groupingFactor: best.d } : {}),
  });
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, params);
  return params;
}

interface SearchInput {
  precision: number; bits: number; constraints: readonly (NoiseConstraint & { maxVariance: number })[];
  maxBskBytes: number; maxKskBytes: number; fftCoefficient: number; groupingFactors: readonly number[];
}

function search(input: SearchInput): Best | undefined {
  const { precision, bits, constraints, maxBskBytes, maxKskBytes, fftCoefficient, groupingFactors } = input;
  const nCount = Math.floor((MAX_N - MIN_N) / N_STEP) + 1;
  // Per n: σ_lwe and, per l_ks, the best key-switch noise per input coefficient (and its β_ks).
  const sigmaLwe = new Float64Array(nCount);
  const ksVar = new Float64Array(nCount * MAX_KS_LEVEL);
  const ksBeta = new Uint8Array(nCount * MAX_KS_LEVEL);
  for (let i = 0; i < nCount; i++) {
    const s = minimumNoiseStd(MIN_N + i * N_STEP, bits);
    sigmaLwe[i] = s;
    for (let lKs = 1; lKs <= MAX_KS_LEVEL; lKs++) {
      let bestV = Infinity;
      let bestB = 0;
      for (let b = 1; b * lKs <= 64 && b <= 32; b++) {
        // With the server's 32-bit key copy (its rounding term), as ServerKey runs it.
        const v = keyswitchVariance({ inputDimension: 1, outputDimension: MIN_N + i * N_STEP, baseLog: b, level: lKs, noiseStd: s });
        if (v < bestV) { bestV = v; bestB = b; }
      }
      ksVar[i * MAX_KS_LEVEL + lKs - 1] = bestV;
      ksBeta[i * MAX_KS_LEVEL + lKs - 1] = bestB;
    }
  }

  let best: Best | undefined;
  for (let k = 1; k <= MAX_K; k++) {
    for (let logN = MIN_LOG_POLY; logN <= MAX_LOG_POLY; logN++) {
      const N = 2 ** logN;
      const kN = k * N;
      if (kN > MAX_KN || kN < MIN_SECURE_DIMENSION || 2 ** precision > N) continue;
      const sigmaGlwe = minimumNoiseStd(kN, bits);
      for (let l = 1; l <= MAX_PBS_LEVEL; l++) for (const d of groupingFactors) {
        // Best β for (k, N, l, d): minimal noise of one external product (multi-bit: of one group, per
        // noise.ts's blindRotationVariance) including its FFT share.
        let ext = Infinity;
        let beta = 0;
        for (let b = 1; b <= MAX_PBS_BASE_LOG && b * l <= 64; b++) {
          const shape = { glweDimension: k, polynomialSize: N, baseLog: b, level: l };
          const v = d === 1
            ? externalProductVariance({ ...shape, noiseStd: sigmaGlwe }) + fftVariance({ ...shape, lweDimension: 1, fftCoefficient })
            : multiBitKeyFactor(d) * externalProductVariance({ ...shape, noiseStd: sigmaGlwe, messageSecondMoment: 0 })
              + externalProductVariance({ ...shape, noiseStd: 0, messageSecondMoment: 2 * (1 - 2 ** -d) })
              + fftVariance({ ...shape, lweDimension: d, fftCoefficient, groupingFactor: d });
          if (v < ext) { ext = v; beta = b; }
        }
        if (beta === 0) continue;
        const pbsCostPerGroup = groupCost(d, k, N, l);
        const bskBytesPerGroup = (2 ** d - 1) * (k + 1) * (k + 1) * l * N * 8;
        for (let lKs = 1; lKs <= MAX_KS_LEVEL; lKs++) {
          for (let i = 0; i < nCount; i++) {
            const n = MIN_N + i * N_STEP;
            if (n % d !== 0) continue;
            const cost = kN * lKs * (n + 1) + (n / d) * pbsCostPerGroup;
            if (best !== undefined && cost >= best.cost) break;
            if ((n / d) * bskBytesPerGroup > maxBskBytes || kN * lKs * (n + 1) * 8 > maxKskBytes) break;
            const switching = kN * ksVar[i * MAX_KS_LEVEL + lKs - 1]! + modulusSwitchVariance({ lweDimension: n, polynomialSize: N, groupingFactor: d });
            const fresh = sigmaGlwe * sigmaGlwe, out = (n / d) * ext;
            if (constraints.every((c) => c.pbsNorm2 * out + c.freshNorm2 * fresh + (c.bootstrap ? switching : 0) <= c.maxVariance)) {
              best = {
                d, cost, n, k, N, beta, l, betaKs: ksBeta[i * MAX_KS_LEVEL + lKs - 1]!, lKs,
                sigmaLwe: sigmaLwe[i]!, sigmaGlwe,
              };
              break;
            }
          }
        }
      }
    }
  }
  return best;
}
