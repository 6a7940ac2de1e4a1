// Multi-bit blind rotation (Joye–Paillier 2022, "Blind rotation in fully homomorphic encryption with
// extended keys"; the grouped form of TFHE-rs's multi-bit PBS). The n key bits are cut into n/d groups
// of d bits; for each group and each non-zero pattern p ∈ [1, 2^d) the key holds a GGSW of the indicator
// [s_group = p]. Since exactly one pattern (or none, when all d bits are 0) matches,
//   X^{Σ_j ã_j·s_j}·ACC = ACC + Σ_{p≠0} [s_group = p]·(X^{m_p} − 1)·ACC,   m_p = Σ_{j∈p} ã_j,
// so one external product per group with the combined GGSW C = Σ_p (X^{m_p} − 1)·GGSW_p, built in the
// Fourier domain, rotates ACC by the group's whole contribution: n/d external products instead of n.
// Grouped rounding (as TFHE-rs): m_p = round((Σ_{j∈p} a_j)·2N/q), one rounding per pattern instead of a
// sum of roundings, so the modulus-switch error of a group is one uniform step (docs/noise-model.md).
import { fftForwardF64, fftForwardDigits, fftBackwardAddTorus, fourierCombine, fourierMacK1, storeExpPi } from "./fft";
import { externalProduct, externalProductScratchBytes } from "./bootstrap";
import { polyRotate } from "./polynomial";

const MAX_LOG_N: i32 = 17;
// Per log2(N): the exponent r_e of the root ζ_e = e^{iπ·r_e/N} at each Fourier entry e (N/2 i32, in the
// FFT's entry order), and e^{iπj/N} for j < 2N ([cos, sin] pairs).
const rootTab = new StaticArray<usize>(MAX_LOG_N + 1);
const expTab = new StaticArray<usize>(MAX_LOG_N + 1);

function log2i(n: i32): i32 {
  return 31 - clz<i32>(n);
}

// Byte offset of entry e's real part in a Fourier polynomial (blocks [re, re, im, im]; N = 2: [re, im]).
@inline function entryOffset(e: i32): usize {
  return ((<usize>(e >> 1)) << 5) + ((<usize>(e & 1)) << 3);
}

/** Builds the monomial tables of size N (idempotent; the FFT tables of N must exist). */
export function multiBitInit(N: i32): void {
  const lg = log2i(N);
  if (rootTab[lg] != 0) return;
  const M = N >> 1, twoN = N << 1;
  const polyBytes = (<usize>N) << 3;
  // The transform of X is ζ_e at each entry: its angle gives r_e (odd, spacing π/N ≫ the FFT error).
  const x = heap.alloc(polyBytes), f = heap.alloc(polyBytes);
  memory.fill(x, 0, polyBytes);
  store<f64>(x + 8, 1.0);
  fftForwardF64(x, f, N);
  const roots = heap.alloc((<usize>M) << 2);
  const im: usize = N >= 4 ? 16 : 8;
  for (let e = 0; e < M; e++) {
    const o = f + entryOffset(e);
    let r = <i32>Math.round(Math.atan2(load<f64>(o + im), load<f64>(o)) * <f64>N / Math.PI);
    r %= twoN;
    if (r < 0) r += twoN;
    store<i32>(roots + ((<usize>e) << 2), r);
  }
  heap.free(x); heap.free(f);
  const ex = heap.alloc((<usize>twoN) << 4);
  for (let j = 0; j < twoN; j++) storeExpPi(ex + ((<usize>j) << 4), j, N);
  expTab[lg] = ex;
  rootTab[lg] = roots;
}

/** i32 words of the switched masks of one ciphertext: (2^d − 1) per group, then the body. */
@inline function modsWords(n: i32, d: i32): i32 {
  return (n / d) * ((1 << d) - 1) + 1;
}
@inline function modsStride(n: i32, d: i32): usize {
  return (((<usize>modsWords(n, d)) << 2) + 15) & ~15;
}

/** Bytes of scratch `multiBitBlindRotateBatch` needs for `count` ciphertexts (`multiBitStep`: count = 0). */
export function multiBitScratchBytes(n: i32, d: i32, k: i32, N: i32, levels: i32, count: i32): usize {
  const polyBytes = (<usize>N) << 3;
  return externalProductScratchBytes(k, N, levels)
    + polyBytes * <usize>((k + 1) * (k + 1) * levels) // combined GGSW
    + polyBytes * <usize>((1 << d) - 1)               // monomial factors
    + <usize>count * modsStride(n, d);
}

/**
 * Grouped modulus switch q → 2N: out[g·(2^d − 1) + p − 1] = round((Σ_{j∈p} a_{g·d+j})·2N/q) mod 2N for each
 * group g and pattern p, then round(b·2N/q). n must be a multiple of d.
 */
export function multiBitModulusSwitch(out: usize, lwe: usize, n: i32, d: i32, N: i32): void {
  const shift = <u64>(64 - (32 - clz<i32>(N)));
  const half: u64 = <u64>1 << (shift - 1);
  const mask: u64 = (<u64>N << 1) - 1;
  const P = (1 << d) - 1;
  let o = out;
  for (let g = 0; g < n; g += d) {
    for (let p = 1; p <= P; p++) {
      let s: u64 = 0;
      for (let j = 0; j < d; j++) if (p & (1 << j)) s += load<u64>(lwe + ((<usize>(g + j)) << 3));
      store<i32>(o, <i32>(((s + half) >> shift) & mask));
      o += 4;
    }
  }
  store<i32>(o, <i32>(((load<u64>(lwe + ((<usize>n) << 3)) + half) >> shift) & mask));
}

/**
 * One group of the multi-bit blind rotation: ACC ← ACC + ExtProd(Σ_p (X^{m_p} − 1)·GGSW_p, ACC).
 * ggsws: 2^d − 1 u32 pointers to the group's Fourier GGSWs (pattern order), mods: the 2^d − 1 m_p.
 * A group whose every m_p is 0 leaves ACC unchanged (skipped, as cmuxStep skips ã = 0).
 */
export function multiBitStep(
  acc: usize, ggsws: usize, mods: usize, d: i32, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  const P = (1 << d) - 1;
  let any = false;
  for (let p = 0; p < P; p++) if (load<i32>(mods + ((<usize>p) << 2)) != 0) any = true;
  if (!any) return;
  const lg = log2i(N), M = N >> 1;
  const polyBytes = (<usize>N) << 3;
  const combined = scratch + externalProductScratchBytes(k, N, levels);
  const rows = (k + 1) * (k + 1) * levels;
  const factors = combined + polyBytes * <usize>rows;
  const roots = rootTab[lg], ex = expTab[lg];
  const maskE = (N << 1) - 1;
  const im: usize = N >= 4 ? 16 : 8;
  // X^{m_p} − 1 in the Fourier domain: ζ_e^{m_p} − 1 = e^{iπ·(r_e·m_p mod 2N)/N} − 1.
  for (let p = 0; p < P; p++) {
    const m = load<i32>(mods + ((<usize>p) << 2));
    const fp = factors + <usize>p * polyBytes;
    for (let e = 0; e < M; e++) {
      const t = ex + ((<usize>((load<i32>(roots + ((<usize>e) << 2)) * m) & maskE)) << 4);
      const o = fp + entryOffset(e);
      store<f64>(o, load<f64>(t) - 1.0);
      store<f64>(o + im, load<f64>(t, 8));
    }
  }
  fourierCombine(combined, factors, ggsws, P, rows, N);
  externalProductInPlace(acc, combined, k, N, baseLog, levels, scratch);
}

// ACC ← ACC + ExtProd(ggsw, ACC), with the digits' decomposition fused into the first FFT pass (as
// cmuxStep, without the rotation). scratch: externalProductScratchBytes (l + 1 + k + 1 polynomials).
function externalProductInPlace(acc: usize, ggsw: usize, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize): void {
  const polyBytes = (<usize>N) << 3;
  if (k == 1 && levels <= 3) {
    const F = scratch;
    fftForwardDigits(acc, N, baseLog, levels, F);
    fftForwardDigits(acc + polyBytes, N, baseLog, levels, F + polyBytes * <usize>levels);
    fourierMacK1(F, ggsw, levels << 1, N);
    fftBackwardAddTorus(F, acc, N);
    fftBackwardAddTorus(F + polyBytes, acc + polyBytes, N);
    return;
  }
  // Every input polynomial is decomposed before any output is written (acc is both).
  externalProduct(acc, ggsw, acc, k, N, baseLog, levels, scratch);
}

/** ACC = (0, …, 0, X^{-b̃}·lut) from the body's switched value. */
export function multiBitAccInit(acc: usize, lut: usize, mods: usize, n: i32, d: i32, k: i32, N: i32): void {
  const polyBytes = (<usize>N) << 3;
  const twoN = N << 1;
  memory.fill(acc, 0, polyBytes * <usize>k);
  const b = load<i32>(mods + ((<usize>(modsWords(n, d) - 1)) << 2));
  polyRotate(acc + polyBytes * <usize>k, lut, N, (twoN - b) % twoN);
}

/**
 * Multi-bit blind rotation of `count` ciphertexts (consecutive (n+1)-word LWEs at lwes, accumulators at
 * accs) with one pass over the key: groups outside, ciphertexts inside (as blindRotateBatch).
 * table: n/d·(2^d − 1) u32 pointers to the Fourier GGSWs, group by group, pattern order.
 */
export function multiBitBlindRotateBatch(
  accs: usize, lut: usize, lwes: usize, count: i32, table: usize,
  n: i32, d: i32, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  multiBitInit(N);
  const polyBytes = (<usize>N) << 3;
  const accBytes = polyBytes * <usize>(k + 1);
  const stride = modsStride(n, d);
  const mods0 = scratch + multiBitScratchBytes(n, d, k, N, levels, 0);
  for (let c = 0; c < count; c++) {
    const mods = mods0 + <usize>c * stride;
    multiBitModulusSwitch(mods, lwes + <usize>c * ((<usize>(n + 1)) << 3), n, d, N);
    multiBitAccInit(accs + <usize>c * accBytes, lut, mods, n, d, k, N);
  }
  const P = (1 << d) - 1;
  for (let g = 0; g < n / d; g++) {
    const ggsws = table + ((<usize>(g * P)) << 2);
    for (let c = 0; c < count; c++) {
      multiBitStep(accs + <usize>c * accBytes, ggsws, mods0 + <usize>c * stride + ((<usize>(g * P)) << 2),
        d, k, N, baseLog, levels, scratch);
    }
  }
}
