// Negacyclic FFT over R[X]/(X^N + 1) in f64 (DESIGN.md "Negacyclic FFT").
// A real polynomial a of size N is folded into M = N/2 complex numbers c_j = (a_j + i·a_{j+M})·ω^j with
// ω = e^{iπ/N}; an M-point complex DFT of c evaluates a at the odd roots ω^{4m+1}, where negacyclic
// products are pointwise. Forward = decimation in frequency (natural in, bit-reversed out), backward =
// decimation in time (bit-reversed in, natural out), so no bit-reversal pass is ever needed: the Fourier
// domain is only used for pointwise products.
// Layout of a Fourier polynomial: M f64 real parts, then M f64 imaginary parts (split format, so one
// f64x2 holds two butterflies' worth of real or imaginary parts).

const MAX_LOG_N: i32 = 17;
// Per log2(N): twiddles w_h+j = e^{-2πi j/(2h)} for each half-size h (M-1 entries, re then im arrays),
// twist ω^j (j < M), untwist ω^{-j}/M.
const twRe = new StaticArray<usize>(MAX_LOG_N + 1);
const twIm = new StaticArray<usize>(MAX_LOG_N + 1);
const twistRe = new StaticArray<usize>(MAX_LOG_N + 1);
const twistIm = new StaticArray<usize>(MAX_LOG_N + 1);
const untwistRe = new StaticArray<usize>(MAX_LOG_N + 1);
const untwistIm = new StaticArray<usize>(MAX_LOG_N + 1);

const TWO64: f64 = 18446744073709551616.0;
const INV_TWO64: f64 = 1.0 / 18446744073709551616.0;

function log2i(n: i32): i32 {
  return 31 - clz<i32>(n);
}

/** Precompute the tables for polynomial size N (idempotent). */
export function fftInit(N: i32): void {
  const lg = log2i(N);
  if (twRe[lg] != 0) return;
  const M = N >> 1;
  const tr = heap.alloc(<usize>M << 3), ti = heap.alloc(<usize>M << 3);
  // Twiddles for half-size h at indices [h, 2h): e^{-2πi j/(2h)}.
  for (let h = 1; h < M; h <<= 1) {
    for (let j = 0; j < h; j++) {
      const ang = -Math.PI * <f64>j / <f64>h;
      store<f64>(tr + ((<usize>(h + j)) << 3), Math.cos(ang));
      store<f64>(ti + ((<usize>(h + j)) << 3), Math.sin(ang));
    }
  }
  const wr = heap.alloc(<usize>M << 3), wi = heap.alloc(<usize>M << 3);
  const ur = heap.alloc(<usize>M << 3), ui = heap.alloc(<usize>M << 3);
  const invM = 1.0 / <f64>M;
  for (let j = 0; j < M; j++) {
    const ang = Math.PI * <f64>j / <f64>N;
    const c = Math.cos(ang), s = Math.sin(ang);
    store<f64>(wr + ((<usize>j) << 3), c);
    store<f64>(wi + ((<usize>j) << 3), s);
    store<f64>(ur + ((<usize>j) << 3), c * invM);
    store<f64>(ui + ((<usize>j) << 3), -s * invM);
  }
  twRe[lg] = tr; twIm[lg] = ti;
  twistRe[lg] = wr; twistIm[lg] = wi;
  untwistRe[lg] = ur; untwistIm[lg] = ui;
}

// In-place M-point DIF FFT, split format (re at p, im at p + 8M). Output in bit-reversed order.
function difInPlace(re: usize, im: usize, M: i32, tr: usize, ti: usize): void {
  for (let h = M >> 1; h >= 2; h >>= 1) {
    const len = h << 1;
    for (let s = 0; s < M; s += len) {
      const r0 = re + ((<usize>s) << 3), i0 = im + ((<usize>s) << 3);
      const r1 = r0 + ((<usize>h) << 3), i1 = i0 + ((<usize>h) << 3);
      const wro = tr + ((<usize>h) << 3), wio = ti + ((<usize>h) << 3);
      for (let j = 0; j < h; j += 2) {
        const o = (<usize>j) << 3;
        const ar = v128.load(r0 + o), ai = v128.load(i0 + o);
        const br = v128.load(r1 + o), bi = v128.load(i1 + o);
        const wr = v128.load(wro + o), wi = v128.load(wio + o);
        v128.store(r0 + o, f64x2.add(ar, br));
        v128.store(i0 + o, f64x2.add(ai, bi));
        const dr = f64x2.sub(ar, br), di = f64x2.sub(ai, bi);
        v128.store(r1 + o, f64x2.sub(f64x2.mul(dr, wr), f64x2.mul(di, wi)));
        v128.store(i1 + o, f64x2.add(f64x2.mul(dr, wi), f64x2.mul(di, wr)));
      }
    }
  }
  // h = 1: twiddle 1.
  for (let s = 0; s < M; s += 2) {
    const o = (<usize>s) << 3;
    const ar = load<f64>(re + o), br = load<f64>(re + o + 8);
    const ai = load<f64>(im + o), bi = load<f64>(im + o + 8);
    store<f64>(re + o, ar + br); store<f64>(re + o + 8, ar - br);
    store<f64>(im + o, ai + bi); store<f64>(im + o + 8, ai - bi);
  }
}

// In-place M-point DIT inverse FFT (conjugate twiddles, unscaled), bit-reversed in, natural out.
function ditInPlace(re: usize, im: usize, M: i32, tr: usize, ti: usize): void {
  for (let s = 0; s < M; s += 2) {
    const o = (<usize>s) << 3;
    const ar = load<f64>(re + o), br = load<f64>(re + o + 8);
    const ai = load<f64>(im + o), bi = load<f64>(im + o + 8);
    store<f64>(re + o, ar + br); store<f64>(re + o + 8, ar - br);
    store<f64>(im + o, ai + bi); store<f64>(im + o + 8, ai - bi);
  }
  for (let h = 2; h < M; h <<= 1) {
    const len = h << 1;
    for (let s = 0; s < M; s += len) {
      const r0 = re + ((<usize>s) << 3), i0 = im + ((<usize>s) << 3);
      const r1 = r0 + ((<usize>h) << 3), i1 = i0 + ((<usize>h) << 3);
      const wro = tr + ((<usize>h) << 3), wio = ti + ((<usize>h) << 3);
      for (let j = 0; j < h; j += 2) {
        const o = (<usize>j) << 3;
        const ar = v128.load(r0 + o), ai = v128.load(i0 + o);
        const br = v128.load(r1 + o), bi = v128.load(i1 + o);
        const wr = v128.load(wro + o), wi = v128.load(wio + o);
        // b·conj(w)
        const tr2 = f64x2.add(f64x2.mul(br, wr), f64x2.mul(bi, wi));
        const ti2 = f64x2.sub(f64x2.mul(bi, wr), f64x2.mul(br, wi));
        v128.store(r0 + o, f64x2.add(ar, tr2));
        v128.store(i0 + o, f64x2.add(ai, ti2));
        v128.store(r1 + o, f64x2.sub(ar, tr2));
        v128.store(i1 + o, f64x2.sub(ai, ti2));
      }
    }
  }
}

/** Forward negacyclic FFT of a polynomial of N signed 64-bit integers (torus values read as i64). */
export function fftForwardI64(src: usize, dst: usize, N: i32): void {
  const lg = log2i(N), M = N >> 1;
  const wr = twistRe[lg], wi = twistIm[lg];
  const re = dst, im = dst + ((<usize>M) << 3);
  const hi = src + ((<usize>M) << 3);
  for (let j = 0; j < M; j++) {
    const o = (<usize>j) << 3;
    const a = <f64>load<i64>(src + o), b = <f64>load<i64>(hi + o);
    const c = load<f64>(wr + o), s = load<f64>(wi + o);
    store<f64>(re + o, a * c - b * s);
    store<f64>(im + o, a * s + b * c);
  }
  if (M >= 2) difInPlace(re, im, M, twRe[lg], twIm[lg]);
}

/** Forward negacyclic FFT of a polynomial of N f64 values (already converted, e.g. decomposition digits). */
export function fftForwardF64(src: usize, dst: usize, N: i32): void {
  const lg = log2i(N), M = N >> 1;
  const wr = twistRe[lg], wi = twistIm[lg];
  const re = dst, im = dst + ((<usize>M) << 3);
  const hi = src + ((<usize>M) << 3);
  for (let j = 0; j < M; j += 2) {
    const o = (<usize>j) << 3;
    const a = v128.load(src + o), b = v128.load(hi + o);
    const c = v128.load(wr + o), s = v128.load(wi + o);
    v128.store(re + o, f64x2.sub(f64x2.mul(a, c), f64x2.mul(b, s)));
    v128.store(im + o, f64x2.add(f64x2.mul(a, s), f64x2.mul(b, c)));
  }
  if (M >= 2) difInPlace(re, im, M, twRe[lg], twIm[lg]);
}

// Inverse FFT + untwist in place; afterwards re[j] holds coefficient j and im[j] coefficient j+M (as f64).
function backwardInPlace(f: usize, N: i32): void {
  const lg = log2i(N), M = N >> 1;
  const re = f, im = f + ((<usize>M) << 3);
  if (M >= 2) ditInPlace(re, im, M, twRe[lg], twIm[lg]);
  const ur = untwistRe[lg], ui = untwistIm[lg];
  for (let j = 0; j < M; j += 2) {
    const o = (<usize>j) << 3;
    const a = v128.load(re + o), b = v128.load(im + o);
    const c = v128.load(ur + o), s = v128.load(ui + o);
    v128.store(re + o, f64x2.sub(f64x2.mul(a, c), f64x2.mul(b, s)));
    v128.store(im + o, f64x2.add(f64x2.mul(a, s), f64x2.mul(b, c)));
  }
}

// Reduce a real number modulo 2^64 and round: the result as a wrapping u64/i64.
// x - 2^64·round(x/2^64) is exact in f64 (both terms share an exponent range) and lies in [-2^63, 2^63].
@inline function f64ToTorus(x: f64): i64 {
  const r = x - Math.round(x * INV_TWO64) * TWO64;
  return <i64>Math.round(r);
}

/** Backward FFT of `f` (destroyed) and add the result, rounded mod 2^64, into the u64 polynomial `dst`. */
export function fftBackwardAddTorus(f: usize, dst: usize, N: i32): void {
  backwardInPlace(f, N);
  const M = N >> 1;
  const im = f + ((<usize>M) << 3);
  const hi = dst + ((<usize>M) << 3);
  for (let j = 0; j < M; j++) {
    const o = (<usize>j) << 3;
    store<i64>(dst + o, load<i64>(dst + o) + f64ToTorus(load<f64>(f + o)));
    store<i64>(hi + o, load<i64>(hi + o) + f64ToTorus(load<f64>(im + o)));
  }
}

/** Backward FFT of `f` (destroyed) into exact integers (caller guarantees |values| < 2^52). */
export function fftBackwardToI64(f: usize, dst: usize, N: i32): void {
  backwardInPlace(f, N);
  const M = N >> 1;
  const im = f + ((<usize>M) << 3);
  const hi = dst + ((<usize>M) << 3);
  for (let j = 0; j < M; j++) {
    const o = (<usize>j) << 3;
    store<i64>(dst + o, <i64>Math.round(load<f64>(f + o)));
    store<i64>(hi + o, <i64>Math.round(load<f64>(im + o)));
  }
}

/** Pointwise product acc += a ⊙ b of two Fourier polynomials (split format, N f64 each). */
export function fourierMulAcc(acc: usize, a: usize, b: usize, N: i32): void {
  const M = N >> 1;
  const mo = (<usize>M) << 3;
  for (let j = 0; j < M; j += 2) {
    const o = (<usize>j) << 3;
    const ar = v128.load(a + o), ai = v128.load(a + mo + o);
    const br = v128.load(b + o), bi = v128.load(b + mo + o);
    const cr = v128.load(acc + o), ci = v128.load(acc + mo + o);
    v128.store(acc + o, f64x2.add(cr, f64x2.sub(f64x2.mul(ar, br), f64x2.mul(ai, bi))));
    v128.store(acc + mo + o, f64x2.add(ci, f64x2.add(f64x2.mul(ar, bi), f64x2.mul(ai, br))));
  }
}

/** Pointwise product out = a ⊙ b. */
export function fourierMul(out: usize, a: usize, b: usize, N: i32): void {
  const M = N >> 1;
  const mo = (<usize>M) << 3;
  for (let j = 0; j < M; j += 2) {
    const o = (<usize>j) << 3;
    const ar = v128.load(a + o), ai = v128.load(a + mo + o);
    const br = v128.load(b + o), bi = v128.load(b + mo + o);
    v128.store(out + o, f64x2.sub(f64x2.mul(ar, br), f64x2.mul(ai, bi)));
    v128.store(out + mo + o, f64x2.add(f64x2.mul(ar, bi), f64x2.mul(ai, br)));
  }
}
