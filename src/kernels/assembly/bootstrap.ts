// Programmable bootstrapping kernels (CGGI 2020; docs/architecture.md): blind rotation, external product, sample extraction.
import {
  fftForwardF64, fftForwardI64, fftBackwardAddTorus, fourierMulAcc, fourierMul, fftForwardRotatedDigits, fourierMacK1,
} from "./fft";
import { decomposePolyF64 } from "./decompose";
import { polyRotate } from "./polynomial";

/** Bytes of scratch memory `blindRotate` needs. */
export function blindRotateScratchBytes(n: i32, k: i32, N: i32, levels: i32): usize {
  return ((<usize>N) << 3) * (<usize>(1 + levels + (k + 1))) + ((<usize>(n + 1)) << 2);
}

/** Converts `count` u64 polynomials of size N to the Fourier domain (BSK preparation). */
export function fftForwardManyI64(src: usize, dst: usize, count: i32, N: i32): void {
  const stride = (<usize>N) << 3;
  for (let i = 0; i < count; i++) fftForwardI64(src + <usize>i * stride, dst + <usize>i * stride, N);
}

/**
 * Modulus switch of an LWE (n mask coefficients + body) from q = 2^64 to 2N: ã = round(a·2N/q) mod 2N.
 */
export function modulusSwitch(out: usize, lwe: usize, n: i32, N: i32): void {
  const logTwoN = <u64>(32 - clz<i32>(N)); // log2(2N)
  const shift = <u64>64 - logTwoN;
  const half: u64 = <u64>1 << (shift - 1);
  const mask: u64 = (<u64>N << 1) - 1;
  for (let i = 0; i <= n; i++) {
    const x = load<u64>(lwe + ((<usize>i) << 3));
    store<i32>(out + ((<usize>i) << 2), <i32>(((x + half) >> shift) & mask));
  }
}

/**
 * Blind rotation with the Fourier bootstrapping key (CGGI 2020, Alg. 3, CMux form):
 *   ACC ← X^{-b̃}·(0,…,0,lut);  for i: ACC ← ACC + ExtProd(BSK_i, X^{ã_i}·ACC − ACC).
 * After it, the constant coefficient of ACC's phase is lut[phase] (negacyclically extended).
 * acc: (k+1)·N u64 (output), lut: N u64, lwe: n+1 u64 under the small key.
 * bskTable: n u32 pointers, one per GGSW (the key is allocated in blocks, each below the allocator's 1 GiB
 * limit). GGSW layout: row r = p·l + j ((k+1)·l rows), out poly o (k+1): N f64 in Fourier form.
 */
export function blindRotate(
  acc: usize, lut: usize, lwe: usize, bskTable: usize,
  n: i32, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  const aT = blindRotateInit(acc, lut, lwe, n, k, N, levels, scratch);
  for (let i = 0; i < n; i++) {
    const ggsw = <usize>load<u32>(bskTable + ((<usize>i) << 2));
    cmuxStep(acc, ggsw, load<i32>(aT + ((<usize>i) << 2)), k, N, baseLog, levels, scratch);
  }
}

/**
 * First half of a blind rotation whose key is streamed one GGSW at a time (keys larger than this
 * module's memory): modulus switch (ã written at the returned pointer inside scratch) and ACC init.
 */
export function blindRotateInit(
  acc: usize, lut: usize, lwe: usize, n: i32, k: i32, N: i32, levels: i32, scratch: usize,
): usize {
  const polyBytes = (<usize>N) << 3;
  const aT = scratch + polyBytes * <usize>(levels + 1 + (k + 1));
  modulusSwitch(aT, lwe, n, N);
  accInit(acc, lut, aT, n, k, N);
  return aT;
}

// ACC = trivial GLWE (0, …, 0, X^{-b̃}·lut), b̃ = aT[n].
@inline function accInit(acc: usize, lut: usize, aT: usize, n: i32, k: i32, N: i32): void {
  const polyBytes = (<usize>N) << 3;
  const twoN = N << 1;
  memory.fill(acc, 0, polyBytes * <usize>k);
  const b = load<i32>(aT + ((<usize>n) << 2));
  polyRotate(acc + polyBytes * <usize>k, lut, N, (twoN - b) % twoN);
}

/** Bytes of scratch `blindRotateBatch` needs for `count` ciphertexts (the CMux buffers + count switched masks). */
export function blindRotateBatchScratchBytes(n: i32, k: i32, N: i32, levels: i32, count: i32): usize {
  return ((<usize>N) << 3) * (<usize>(1 + levels + (k + 1))) + <usize>count * ((((<usize>(n + 1)) << 2) + 15) & ~15);
}

/**
 * Blind rotation of `count` ciphertexts with one pass over the bootstrapping key: key bits outside,
 * ciphertexts inside, so each GGSW is read from memory once per batch instead of once per ciphertext
 * (the key is far larger than any cache from N = 4096 on). Every accumulator goes through exactly the
 * operations of `blindRotate`, in the same order, so the results are bit-identical to it.
 * accs: count × (k+1)·N u64 (outputs, consecutive), lwes: count × (n+1) u64 (consecutive), one shared lut.
 */
export function blindRotateBatch(
  accs: usize, lut: usize, lwes: usize, count: i32, bskTable: usize,
  n: i32, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  const polyBytes = (<usize>N) << 3;
  const accBytes = polyBytes * <usize>(k + 1);
  const aStride = (((<usize>(n + 1)) << 2) + 15) & ~15; // 16-byte aligned rows
  const aT0 = scratch + polyBytes * <usize>(levels + 1 + (k + 1));
  for (let c = 0; c < count; c++) {
    const aT = aT0 + <usize>c * aStride;
    modulusSwitch(aT, lwes + <usize>c * ((<usize>(n + 1)) << 3), n, N);
    accInit(accs + <usize>c * accBytes, lut, aT, n, k, N);
  }
  for (let i = 0; i < n; i++) {
    const ggsw = <usize>load<u32>(bskTable + ((<usize>i) << 2));
    const ai = (<usize>i) << 2;
    for (let c = 0; c < count; c++) {
      cmuxStep(accs + <usize>c * accBytes, ggsw, load<i32>(aT0 + <usize>c * aStride + ai), k, N, baseLog, levels, scratch);
    }
  }
}

/** One CMux of the blind rotation: ACC ← ACC + ExtProd(ggsw, X^a·ACC − ACC). */
export function cmuxStep(
  acc: usize, ggsw: usize, a: i32, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  if (a == 0) return;
  const polyBytes = (<usize>N) << 3;
  // The digits of X^a·ACC_p − ACC_p go straight into the Fourier domain (fused rotation, decomposition
  // and first FFT pass), one buffer per level.
  if (k == 1 && levels <= 3) {
    // All 2l Fourier digit polynomials fit the scratch (l + 3 polynomials): one in-place product pass
    // leaves the two Fourier outputs in the first two buffers.
    const F = scratch;
    fftForwardRotatedDigits(acc, a, N, baseLog, levels, F);
    fftForwardRotatedDigits(acc + polyBytes, a, N, baseLog, levels, F + polyBytes * <usize>levels);
    fourierMacK1(F, ggsw, levels << 1, N);
    fftBackwardAddTorus(F, acc, N);
    fftBackwardAddTorus(F + polyBytes, acc + polyBytes, N);
    return;
  }
  const digitsF = scratch;
  const outF = digitsF + polyBytes * <usize>(levels + 1);
  for (let p = 0; p <= k; p++) {
    fftForwardRotatedDigits(acc + <usize>p * polyBytes, a, N, baseLog, levels, digitsF);
    for (let j = 0; j < levels; j++) {
      const f = digitsF + <usize>j * polyBytes;
      const row = ggsw + <usize>(p * levels + j) * <usize>(k + 1) * polyBytes;
      // The first row initialises the Fourier accumulators (no zero fill, one pass less).
      for (let o = 0; o <= k; o++) {
        if (p == 0 && j == 0) fourierMul(outF + <usize>o * polyBytes, f, row + <usize>o * polyBytes, N);
        else fourierMulAcc(outF + <usize>o * polyBytes, f, row + <usize>o * polyBytes, N);
      }
    }
  }
  for (let o = 0; o <= k; o++) {
    fftBackwardAddTorus(outF + <usize>o * polyBytes, acc + <usize>o * polyBytes, N);
  }
}

/**
 * Sample extraction of coefficient `idx` of a GLWE (k polys of mask + body) into an LWE of dimension kN
 * under the flattened GLWE key: a_{pN+i} = A_p[idx-i] (i ≤ idx), -A_p[N+idx-i] (i > idx); b = B[idx].
 */
export function sampleExtract(out: usize, glwe: usize, k: i32, N: i32, idx: i32): void {
  for (let p = 0; p < k; p++) {
    const A = glwe + (<usize>(p * N) << 3);
    const O = out + (<usize>(p * N) << 3);
    for (let i = 0; i < N; i++) {
      let v: u64;
      if (i <= idx) v = load<u64>(A + ((<usize>(idx - i)) << 3));
      else v = 0 - load<u64>(A + ((<usize>(N + idx - i)) << 3));
      store<u64>(O + ((<usize>i) << 3), v);
    }
  }
  store<u64>(out + (<usize>(k * N) << 3), load<u64>(glwe + (<usize>(k * N + idx) << 3)));
}

/** Bytes of scratch `externalProduct` needs. */
export function externalProductScratchBytes(k: i32, N: i32, levels: i32): usize {
  return ((<usize>N) << 3) * (<usize>(levels + 1 + (k + 1)));
}

/**
 * out += GGSW ⊡ GLWE (CGGI 2020 §3.4): decompose the k+1 polynomials of `glwe`, multiply each digit
 * polynomial by its GGSW row in the Fourier domain, and add the inverse transform to `out`.
 */
export function externalProduct(
  out: usize, ggsw: usize, glwe: usize, k: i32, N: i32, baseLog: i32, levels: i32, scratch: usize,
): void {
  const polyBytes = (<usize>N) << 3;
  const digits = scratch;
  const f = digits + polyBytes * <usize>levels;
  const outF = f + polyBytes;
  memory.fill(outF, 0, polyBytes * <usize>(k + 1));
  for (let p = 0; p <= k; p++) {
    decomposePolyF64(glwe + <usize>p * polyBytes, digits, N, baseLog, levels);
    for (let j = 0; j < levels; j++) {
      fftForwardF64(digits + <usize>j * polyBytes, f, N);
      const row = ggsw + <usize>(p * levels + j) * <usize>(k + 1) * polyBytes;
      for (let o = 0; o <= k; o++) fourierMulAcc(outF + <usize>o * polyBytes, f, row + <usize>o * polyBytes, N);
    }
  }
  for (let o = 0; o <= k; o++) fftBackwardAddTorus(outF + <usize>o * polyBytes, out + <usize>o * polyBytes, N);
}
