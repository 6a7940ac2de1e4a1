// Polynomial helpers mod X^N + 1 with u64 (torus) coefficients.
import { fftForwardI64, fftBackwardToI64, fourierMul } from "./fft";

/** dst = X^shift · src (negacyclic rotation), shift in [0, 2N). dst must not alias src. */
export function polyRotate(dst: usize, src: usize, N: i32, shift: i32): void {
  let s = shift % (N << 1);
  if (s < 0) s += N << 1;
  let negate = false;
  if (s >= N) { s -= N; negate = true; }
  // coefficient c of X^s·P: P[c - s] for c ≥ s, -P[c - s + N] for c < s.
  for (let c = 0; c < N; c++) {
    let v: u64;
    if (c >= s) v = load<u64>(src + ((<usize>(c - s)) << 3));
    else v = 0 - load<u64>(src + ((<usize>(c - s + N)) << 3));
    if (negate) v = 0 - v;
    store<u64>(dst + ((<usize>c) << 3), v);
  }
}

/**
 * out += a · small exactly (mod 2^64), for a u64 polynomial a and a polynomial `smallF` with small integer
 * coefficients (|coeff| ≤ 2^8, e.g. a binary key) given in the Fourier domain. a is split into two signed
 * 32-bit limbs so every FFT product stays below 2^52 in magnitude and rounds back exactly.
 * scratch: 2N i64 + N f64.
 */
export function polyMulSmallAdd(out: usize, a: usize, smallF: usize, N: i32, scratch: usize): void {
  const lo = scratch, hi = scratch + ((<usize>N) << 3), f = scratch + ((<usize>N) << 4);
  for (let c = 0; c < N; c++) {
    const o = (<usize>c) << 3;
    const x = load<i64>(a + o);
    const l = <i64><i32>x;                     // signed low limb in [-2^31, 2^31)
    store<i64>(lo + o, l);
    store<i64>(hi + o, (x - l) >> 32);         // signed high limb
  }
  fftForwardI64(lo, f, N);
  fourierMul(f, f, smallF, N);
  fftBackwardToI64(f, lo, N);
  fftForwardI64(hi, f, N);
  fourierMul(f, f, smallF, N);
  fftBackwardToI64(f, hi, N);
  for (let c = 0; c < N; c++) {
    const o = (<usize>c) << 3;
    store<i64>(out + o, load<i64>(out + o) + load<i64>(lo + o) + (load<i64>(hi + o) << 32));
  }
}

/** Naive exact negacyclic product out = a · b (u64, O(N²)): the reference for tests. */
export function polyMulNaive(out: usize, a: usize, b: usize, N: i32): void {
  for (let c = 0; c < N; c++) store<u64>(out + ((<usize>c) << 3), 0);
  for (let i = 0; i < N; i++) {
    const ai = load<u64>(a + ((<usize>i) << 3));
    if (ai == 0) continue;
    for (let j = 0; j < N; j++) {
      const p = ai * load<u64>(b + ((<usize>j) << 3));
      let idx = i + j;
      const o = out + ((<usize>(idx >= N ? idx - N : idx)) << 3);
      if (idx >= N) store<u64>(o, load<u64>(o) - p);
      else store<u64>(o, load<u64>(o) + p);
    }
  }
}
