// TFHE parameter sets: shape validation, the 128-bit security gate, a fingerprint, and named sets.
// Order KS→PBS (docs/architecture.md): ciphertexts live under the big key (dimension k·N, σ_glwe); a PBS key-switches
// to the small key (n, σ_lwe), modulus-switches to 2N and blind-rotates.
import { checkSecurity, InsecureParametersError } from "./security.js";

export interface TfheParameters {
  readonly name: string;
  /** Message bits. */
  readonly messageBits: number;
  /** Carry bits; message space p = 2^(messageBits + carryBits), plus one padding bit. */
  readonly carryBits: number;
  /** n: dimension of the small LWE key (after key switch). */
  readonly lweDimension: number;
  /** k: GLWE dimension. */
  readonly glweDimension: number;
  /** N: polynomial size, a power of two. */
  readonly polynomialSize: number;
  /** Gaussian std of LWE noise under the small key (the key-switching key), fraction of q = 2^64. */
  readonly lweNoiseStd: number;
  /** Gaussian std of GLWE noise (bootstrapping key; fresh ciphertexts under the big key k·N), fraction of q. */
  readonly glweNoiseStd: number;
  readonly pbsBaseLog: number;
  readonly pbsLevel: number;
  readonly ksBaseLog: number;
  readonly ksLevel: number;
  /**
   * Blind rotation kind: absent or 1 = classic (one CMux per key bit); 2 or 3 = multi-bit with this grouping
   * factor d (n/d external products per PBS, 2^d − 1 GGSWs per group of d key bits; multibit kernel).
   * lweDimension must then be a multiple of d.
   */
  readonly groupingFactor?: number;
}

/** Largest supported grouping factor (the key grows as (2^d − 1)/d: 7/3 of a classic key at d = 3). */
export const MAX_GROUPING_FACTOR = 3;

/** d of a parameter set: 1 for classic blind rotation. */
export function groupingFactor(p: TfheParameters): number {
  return p.groupingFactor ?? 1;
}

/** "classic" or "multi-bit": which blind rotation a set's keys and PBS use. */
export function pbsKind(p: TfheParameters): "classic" | "multi-bit" {
  return groupingFactor(p) > 1 ? "multi-bit" : "classic";
}

/** GGSWs in the bootstrapping key: n (classic), or n/d·(2^d − 1) (multi-bit). */
export function bootstrapKeyGgswCount(p: { readonly lweDimension: number; readonly groupingFactor?: number }): number {
  const d = p.groupingFactor ?? 1;
  return d === 1 ? p.lweDimension : (p.lweDimension / d) * (2 ** d - 1);
}

const MIN_POLY = 256;
const MAX_POLY = 65536;

function int(p: TfheParameters, field: keyof TfheParameters, min: number, max: number): void {
  const v = p[field] as unknown;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`parameters.${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

function std(p: TfheParameters, field: "lweNoiseStd" | "glweNoiseStd"): void {
  const v = p[field] as unknown;
  // A std ≥ 1/4 of q leaves no room for any message; 0 is only meaningful for tests (rejected as insecure).
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v >= 0.25) {
    throw new RangeError(`parameters.${field} must be a number in [0, 0.25) (a fraction of q), got ${String(v)}`);
  }
}

function validateShape(p: TfheParameters): TfheParameters {
  if (p === null || typeof p !== "object") throw new TypeError("parameters must be an object");
  if (typeof p.name !== "string" || p.name.length === 0 || p.name.length > 200) {
    throw new RangeError("parameters.name must be a non-empty string of at most 200 characters");
  }
  int(p, "messageBits", 1, 16);
  int(p, "carryBits", 0, 15);
  int(p, "lweDimension", 1, 1 << 16);
  int(p, "glweDimension", 1, 16);
  int(p, "polynomialSize", MIN_POLY, MAX_POLY);
  const N = p.polynomialSize;
  if ((N & (N - 1)) !== 0) throw new RangeError(`parameters.polynomialSize must be a power of two, got ${N}`);
  const bits = p.messageBits + p.carryBits;
  if (bits > 16) throw new RangeError(`parameters.carryBits: messageBits + carryBits must be ≤ 16, got ${bits}`);
  // The lookup table holds p boxes of N/p coefficients: p ≤ N.
  if (2 ** bits > N) {
    throw new RangeError(`parameters.polynomialSize ${N} is too small for ${bits} bits of message and carry (need N ≥ 2^${bits})`);
  }
  std(p, "lweNoiseStd");
  std(p, "glweNoiseStd");
  // Digits must stay exact through the kernels (f64 conversion; 32-bit key-switch lanes): β ≤ 32.
  int(p, "pbsBaseLog", 1, 32);
  int(p, "pbsLevel", 1, 64);
  if (p.pbsBaseLog * p.pbsLevel > 64) {
    throw new RangeError(`parameters.pbsLevel: pbsBaseLog·pbsLevel must be ≤ 64, got ${p.pbsBaseLog}·${p.pbsLevel}`);
  }
  int(p, "ksBaseLog", 1, 32);
  int(p, "ksLevel", 1, 64);
  if (p.ksBaseLog * p.ksLevel > 64) {
    throw new RangeError(`parameters.ksLevel: ksBaseLog·ksLevel must be ≤ 64, got ${p.ksBaseLog}·${p.ksLevel}`);
  }
  if (p.groupingFactor !== undefined) {
    int(p, "groupingFactor", 1, MAX_GROUPING_FACTOR);
    if (p.lweDimension % p.groupingFactor !== 0) {
      throw new RangeError(`parameters.lweDimension must be a multiple of groupingFactor ${p.groupingFactor}, got ${p.lweDimension}`);
    }
  }
  // A canonical frozen copy: only the known fields, in a fixed order (groupingFactor only when multi-bit,
  // so a classic set is the same object as before the field existed).
  return Object.freeze({
    name: p.name,
    messageBits: p.messageBits,
    carryBits: p.carryBits,
    lweDimension: p.lweDimension,
    glweDimension: p.glweDimension,
    polynomialSize: p.polynomialSize,
    lweNoiseStd: p.lweNoiseStd,
    glweNoiseStd: p.glweNoiseStd,
    pbsBaseLog: p.pbsBaseLog,
    pbsLevel: p.pbsLevel,
    ksBaseLog: p.ksBaseLog,
    ksLevel: p.ksLevel,
    ...(p.groupingFactor !== undefined && p.groupingFactor > 1 ? { groupingFactor: p.groupingFactor } : {}),
  });
}

/**
 * Validates the shape (RangeError naming the field) and the 128-bit security of both keys
 * (InsecureParametersError with the report). Returns a frozen canonical copy.
 */
export function defineParameters(p: TfheParameters): TfheParameters {
  const params = validateShape(p);
  const report = checkSecurity(params, 128);
  if (!report.ok) {
    const weak = [
      report.lwe.ok ? "" : `LWE (n=${report.lwe.dimension}, σ=${report.lwe.noiseStd}) ≈ ${report.lwe.bits.toFixed(1)} bits`,
      report.glwe.ok ? "" : `GLWE (k·N=${report.glwe.dimension}, σ=${report.glwe.noiseStd}) ≈ ${report.glwe.bits.toFixed(1)} bits`,
    ].filter((s) => s !== "").join("; ");
    throw new InsecureParametersError(`parameters "${params.name}" are below 128-bit security: ${weak}`, report);
  }
  return params;
}

/**
 * DANGER: validates the shape only and skips the security check. For fast unit tests with toy
 * dimensions; never for data that matters.
 */
export function unsafeTestOnlyParameters(p: TfheParameters): TfheParameters {
  const params = validateShape(p);
  TEST_ONLY.add(params);
  return params;
}

const TEST_ONLY = new WeakSet<TfheParameters>();

/** True for a set made by unsafeTestOnlyParameters (checks that would refuse its toy sizes let it pass). */
export function isUnsafeTestOnlyParameters(p: TfheParameters): boolean {
  return TEST_ONLY.has(p);
}

/** Plaintext modulus p = 2^(messageBits + carryBits). */
export function messageModulus(p: TfheParameters): number {
  return 2 ** (p.messageBits + p.carryBits);
}

/** Δ = 2^63 / p (one padding bit). */
export function delta(p: TfheParameters): bigint {
  return (1n << 63n) / BigInt(messageModulus(p));
}

/**
 * Fourier bootstrapping key: n GGSW (multi-bit: n/d·(2^d − 1)) of (k+1)·l rows of k+1 polynomials, N f64
 * each (N/2 complex).
 */
export function bootstrapKeyBytes(p: TfheParameters): number {
  return bootstrapKeyGgswCount(p) * (p.glweDimension + 1) ** 2 * p.pbsLevel * p.polynomialSize * 8;
}

/** Key-switching key: k·N · l_ks LWE ciphertexts of size n+1, u64 each. */
export function keyswitchKeyBytes(p: TfheParameters): number {
  return p.glweDimension * p.polynomialSize * p.ksLevel * (p.lweDimension + 1) * 8;
}

/**
 * 8-byte identifier of the numeric fields (the name is excluded: two sets with the same numbers are
 * interchangeable). FNV-1a 64 over a versioned canonical encoding: integers as u32 LE, stds as
 * IEEE-754 f64 LE, then (multi-bit sets only, so classic fingerprints never changed) the grouping
 * factor as u32 LE. Not a cryptographic hash: it detects mismatches, it does not resist forgery.
 */
export function parameterFingerprint(p: TfheParameters): Uint8Array {
  const tag = "umbra/tfhe-params/v1";
  const d = groupingFactor(p);
  const buf = new DataView(new ArrayBuffer(tag.length + 9 * 4 + 2 * 8 + (d > 1 ? 4 : 0)));
  let o = 0;
  for (let i = 0; i < tag.length; i++) buf.setUint8(o++, tag.charCodeAt(i));
  for (const v of [p.messageBits, p.carryBits, p.lweDimension, p.glweDimension, p.polynomialSize,
    p.pbsBaseLog, p.pbsLevel, p.ksBaseLog, p.ksLevel]) {
    buf.setUint32(o, v, true);
    o += 4;
  }
  buf.setFloat64(o, p.lweNoiseStd, true);
  buf.setFloat64(o + 8, p.glweNoiseStd, true);
  if (d > 1) buf.setUint32(o + 16, d, true);
  return fnv1a64(new Uint8Array(buf.buffer));
}

/**
 * FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of `bytes`, big-endian: the
 * fingerprints' hash. Not cryptographic: it tells layouts apart, it does not resist forgery.
 */
export function fnv1a64(bytes: Uint8Array): Uint8Array {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + carry) >>> 0;
    lo = newLo;
  }
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, hi, false);
  view.setUint32(4, lo, false);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Named sets. The shapes and stds are TFHE-rs 0.10's classic KS-PBS Gaussian sets for p_fail ≈ 2^-64
// ("PARAM_MESSAGE_x_CARRY_y_KS_PBS_GAUSSIAN_2M64"; docs/parameters-and-security.md). Their stds sit on the 132-bit
// curve, so our 128-bit check passes with margin. TFHE-rs sized each for inputs of squared 2-norm ν²
// (ν = its max noise level): `maxNorm2` below. Under our noise model (noise.ts, with the measured FFT
// coefficient) each has log2 p_fail ≤ −64 at that maxNorm2 (`umbra params` prints them; the test
// "named sets: … p_fail ≤ 2^-64" enforces it). Our FFT error is below Concrete's fit for TFHE-rs's.
// Memory (Fourier BSK / KSK, MB = 10^6 B): 1 bit 72/27, 2: 80/38, 3: 63/42, 4: 55/68, 5: 237/178,
// 6: 514/386, 7: 1658/968, 8: 5841/3508. PARAM_MESSAGE_8 (N = 32768, l = 5) does not fit our 32-bit
// WebAssembly memory (4 GiB): its BSK alone is 5.4 GiB and its KSK 3.3 GiB, so ServerKey streams both
// from host memory (server-key.ts; ≈ 15 GB of RAM in all). The others are below
// 3 GiB (PARAM_MESSAGE_7: 1.5 GiB + 0.9 GiB).
export interface NamedParameterSet {
  /** Total bits of message + carry. */
  readonly precision: number;
  /** Squared 2-norm Σw² of the linear combination before a PBS the set was sized for. */
  readonly maxNorm2: number;
  readonly params: TfheParameters;
}

interface Shape {
  m: number; c: number; n: number; k: number; N: number; sl: number; sg: number;
  b: number; l: number; bks: number; lks: number;
}

function named({ m, c, n, k, N, sl, sg, b, l, bks, lks }: Shape): TfheParameters {
  return defineParameters({
    name: `PARAM_MESSAGE_${m + c}`,
    messageBits: m, carryBits: c, lweDimension: n, glweDimension: k, polynomialSize: N,
    lweNoiseStd: sl, glweNoiseStd: sg, pbsBaseLog: b, pbsLevel: l, ksBaseLog: bks, ksLevel: lks,
  });
}

// σ_glwe values: 1.9524e-11 (k·N = 1536), 2.8453e-15 (k·N = 2048), 2^-62 (the floor, k·N ≥ 4096).
const SG_1536 = 1.9524392655548086e-11;
const SG_2048 = 2.845267479601915e-15;
const SG_FLOOR = 2.168404344971009e-19;

/** 1 bit (1+0): n=720, k=6, N=256, PBS 2^17×1, KS 2^4×3. ν² = 1. */
export const PARAM_MESSAGE_1 = named({ m: 1, c: 0, n: 720, k: 6, N: 256, sl: 2.540544392252957e-5, sg: SG_1536, b: 17, l: 1, bks: 4, lks: 3 });
/** 2 bits (1+1): n=781, k=4, N=512, PBS 2^23×1, KS 2^4×3. ν² = 9. */
export const PARAM_MESSAGE_2 = named({ m: 1, c: 1, n: 781, k: 4, N: 512, sl: 8.868480365938865e-6, sg: SG_2048, b: 23, l: 1, bks: 4, lks: 3 });
/** 3 bits (1+2): n=858, k=2, N=1024, PBS 2^23×1, KS 2^5×3. ν² = 49. */
export const PARAM_MESSAGE_3 = named({ m: 1, c: 2, n: 858, k: 2, N: 1024, sl: 2.348996819227123e-6, sg: SG_2048, b: 23, l: 1, bks: 5, lks: 3 });
/** 4 bits (2+2): n=834, k=1, N=2048, PBS 2^23×1, KS 2^3×5. ν² = 25. */
export const PARAM_MESSAGE_4 = named({ m: 2, c: 2, n: 834, k: 1, N: 2048, sl: 3.5539902359442825e-6, sg: SG_2048, b: 23, l: 1, bks: 3, lks: 5 });
/** 5 bits (1+4): n=902, k=1, N=4096, PBS 2^15×2, KS 2^3×6. ν² = 961. */
export const PARAM_MESSAGE_5 = named({ m: 1, c: 4, n: 902, k: 1, N: 4096, sl: 1.0994794733558207e-6, sg: SG_FLOOR, b: 15, l: 2, bks: 3, lks: 6 });
/** 6 bits (1+5): n=981, k=1, N=8192, PBS 2^15×2, KS 2^3×6. ν² = 3969. */
export const PARAM_MESSAGE_6 = named({ m: 1, c: 5, n: 981, k: 1, N: 8192, sl: 2.8134175707144757e-7, sg: SG_FLOOR, b: 15, l: 2, bks: 3, lks: 6 });
/** 7 bits (1+6): n=1054, k=1, N=16384, PBS 2^11×3, KS 2^3×7. ν² = 16129. BSK 1.7 GB. */
export const PARAM_MESSAGE_7 = named({ m: 1, c: 6, n: 1054, k: 1, N: 16384, sl: 7.984352743330102e-8, sg: SG_FLOOR, b: 11, l: 3, bks: 3, lks: 7 });
/**
 * 8 bits (1+7): n=1114, k=1, N=32768, PBS 2^7×5, KS 2^2×12. ν² = 65025.
 * Keys too large for 32-bit WebAssembly memory (BSK 5.4 GiB Fourier, KSK 3.3 GiB): ServerKey streams them
 * from host memory.
 */
export const PARAM_MESSAGE_8 = named({ m: 1, c: 7, n: 1114, k: 1, N: 32768, sl: 2.8356668849263424e-8, sg: SG_FLOOR, b: 7, l: 5, bks: 2, lks: 12 });

/** The named sets by precision (index 0 = 1 bit), with the squared norm each was sized for. */
export const NAMED_PARAMETER_SETS: readonly NamedParameterSet[] = Object.freeze([
  { precision: 1, maxNorm2: 1, params: PARAM_MESSAGE_1 },
  { precision: 2, maxNorm2: 9, params: PARAM_MESSAGE_2 },
  { precision: 3, maxNorm2: 49, params: PARAM_MESSAGE_3 },
  { precision: 4, maxNorm2: 25, params: PARAM_MESSAGE_4 },
  { precision: 5, maxNorm2: 961, params: PARAM_MESSAGE_5 },
  { precision: 6, maxNorm2: 3969, params: PARAM_MESSAGE_6 },
  { precision: 7, maxNorm2: 16129, params: PARAM_MESSAGE_7 },
  { precision: 8, maxNorm2: 65025, params: PARAM_MESSAGE_8 },
].map((s) => Object.freeze(s)));

// ---------------------------------------------------------------------------------------------------
// Multi-bit sets (grouping factor d = 2, 3; multibit kernel). Shapes and stds are TFHE-rs 0.10's
// "PARAM_MULTI_BIT_GROUP_{d}_MESSAGE_x_CARRY_y_KS_PBS_GAUSSIAN_2M64" for the same precisions and the same
// ν² as the classic sets above; each passes our 128-bit check (defineParameters) and our noise model's
// p_fail ≤ 2^-64 at maxNorm2 (test "multi-bit sets: … p_fail"). n is a multiple of d.

function namedMultiBit(d: number, { m, c, n, k, N, sl, sg, b, l, bks, lks }: Shape): TfheParameters {
  return defineParameters({
    name: `PARAM_MESSAGE_${m + c}_MULTI_BIT_${d}`,
    messageBits: m, carryBits: c, lweDimension: n, glweDimension: k, polynomialSize: N,
    lweNoiseStd: sl, glweNoiseStd: sg, pbsBaseLog: b, pbsLevel: l, ksBaseLog: bks, ksLevel: lks, groupingFactor: d,
  });
}

/** 2 bits (1+1), multi-bit d = 2: n=750, k=2, N=1024, PBS 2^22×1, KS 2^4×3. ν² = 9. */
export const PARAM_MESSAGE_2_MULTI_BIT_2 = namedMultiBit(2, { m: 1, c: 1, n: 750, k: 2, N: 1024, sl: 1.5140301927925663e-5, sg: SG_2048, b: 22, l: 1, bks: 4, lks: 3 });
/** 2 bits (1+1), multi-bit d = 3: n=750, k=2, N=1024, PBS 2^20×1, KS 2^4×3. ν² = 9. */
export const PARAM_MESSAGE_2_MULTI_BIT_3 = namedMultiBit(3, { m: 1, c: 1, n: 750, k: 2, N: 1024, sl: 1.5140301927925663e-5, sg: SG_2048, b: 20, l: 1, bks: 4, lks: 3 });
/** 4 bits (2+2), multi-bit d = 2: n=888, k=1, N=2048, PBS 2^21×1, KS 2^4×4. ν² = 25. */
export const PARAM_MESSAGE_4_MULTI_BIT_2 = namedMultiBit(2, { m: 2, c: 2, n: 888, k: 1, N: 2048, sl: 1.3998779623487315e-6, sg: SG_2048, b: 21, l: 1, bks: 4, lks: 4 });
/** 4 bits (2+2), multi-bit d = 3: n=891, k=1, N=2048, PBS 2^21×1, KS 2^4×4. ν² = 25. */
export const PARAM_MESSAGE_4_MULTI_BIT_3 = namedMultiBit(3, { m: 2, c: 2, n: 891, k: 1, N: 2048, sl: 1.3292631075564801e-6, sg: SG_2048, b: 21, l: 1, bks: 4, lks: 4 });

/** The multi-bit sets, with the squared norm each was sized for. */
export const MULTI_BIT_PARAMETER_SETS: readonly NamedParameterSet[] = Object.freeze([
  { precision: 2, maxNorm2: 9, params: PARAM_MESSAGE_2_MULTI_BIT_2 },
  { precision: 2, maxNorm2: 9, params: PARAM_MESSAGE_2_MULTI_BIT_3 },
  { precision: 4, maxNorm2: 25, params: PARAM_MESSAGE_4_MULTI_BIT_2 },
  { precision: 4, maxNorm2: 25, params: PARAM_MESSAGE_4_MULTI_BIT_3 },
].map((s) => Object.freeze(s)));

// ---------------------------------------------------------------------------------------------------
// DANGER: toy sets for fast unit tests only. Dimensions far below any security (≈ 0 bits); the stds are
// small so that PBS almost never fails. Built through `unsafeTestOnlyParameters`.

/**
 * DANGER (insecure): 2-bit messages (p = 4), n=256, k=1, N=512, PBS 2^20×1, KS 2^4×4.
 * Model: log2 p_fail ≈ −279 at maxNorm2 1. Fourier BSK 4.2 MB, KSK 4.2 MB.
 */
export const UNSAFE_TEST_PARAMS_TINY = unsafeTestOnlyParameters({
  name: "UNSAFE_TEST_PARAMS_TINY",
  messageBits: 2, carryBits: 0, lweDimension: 256, glweDimension: 1, polynomialSize: 512,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 20, pbsLevel: 1, ksBaseLog: 4, ksLevel: 4,
});

/**
 * DANGER (insecure): 2+2 bits (p = 16), n=256, k=1, N=1024, PBS 2^15×2 (exercises several levels),
 * KS 2^4×5. Model: log2 p_fail ≈ −72 at maxNorm2 ≤ 9. Fourier BSK 16.8 MB, KSK 10.5 MB.
 */
export const UNSAFE_TEST_PARAMS_SMALL = unsafeTestOnlyParameters({
  name: "UNSAFE_TEST_PARAMS_SMALL",
  messageBits: 2, carryBits: 2, lweDimension: 256, glweDimension: 1, polynomialSize: 1024,
  lweNoiseStd: 2 ** -30, glweNoiseStd: 2 ** -45, pbsBaseLog: 15, pbsLevel: 2, ksBaseLog: 4, ksLevel: 5,
});
