// Negacyclic FFT over R[X]/(X^N + 1) in f64 (docs/architecture.md "Kernels", docs/noise-model.md "FFT error").
// A real polynomial a of size N is folded into M = N/2 complex numbers c_j = (a_j + i·a_{j+M})·ω^j with
// ω = e^{iπ/N}; an M-point complex DFT of c evaluates a at the odd roots ω^{4m+1}, where negacyclic
// products are pointwise. The Fourier domain is only used for pointwise products, so the order of its
// entries is free and no bit-reversal pass is ever needed.
//
// Vectorisation (WebAssembly SIMD, f64x2). The two lanes of a vector run two independent half-size
// problems: vector k (k < H = M/2) holds (c_{2k}, c_{2k+1}), i.e. lane 0 the even subsequence E and lane 1
// the odd subsequence O, and both H-point DFTs run lane-wise with the same (splatted) twiddles, by
// decimation in frequency:
//   first pass: twist (ω^j) + one radix-2 stage;
//   middle passes: radix-4 stages;
//   last pass: the twiddle-free radix-4 (log2 H odd) or radix-8 (log2 H even) stage on consecutive
//   vectors, fused with the final decimation-in-time step that recombines the lanes:
//   X[m] = Ê[m] + e^{-2πim/M}·Ô[m], X[m+H] = Ê[m] − e^{-2πim/M}·Ô[m] (m = bitrev(p) at vector p).
// That is ⌈log2(H)/2⌉ + 1 passes over memory (5 for N = 2048) instead of log2(M) + 1. The backward
// transform is the exact inverse, pass by pass (conjugate twiddles, decimation in time); its last pass
// fuses the untwist ω^{-j}/M (scaled by 2^-64 for the conversion) and the f64 → integer conversion, done
// in SIMD (torusI64x2). Twiddles are evaluated with exact octant symmetry (storeExpPi), so the trivial ones
// (±1, ±i) are exact; stage twiddles are stored splatted, and the edge passes' twists contiguously.
//
// Layout of a Fourier polynomial (N f64): M complex values as M/2 blocks of 4 f64 [re, re, im, im] (one
// f64x2 of real parts, one of imaginary parts). Block p, p+1 (p even) hold X[m_p], X[m_{p+1}] and
// X[m_p + H], X[m_{p+1} + H]. Pointwise products (fourierMulAcc / fourierMul) only combine same-index
// entries, so the layout only has to agree between forward, product and backward, which it does for all N.
// Sizes N < 32 take a scalar radix-2 path with the same block layout (N = 2: [re, im]).

import { decompOffset, digitF64, digitMask, digitAdj, magicF64, decomposePolyF64 } from "./decompose";

const MAX_LOG_N: i32 = 17;
// Per log2(N):
//  firstTab: per j < H/2, the twists of vectors j and j + H/2 as f64x2 [re_j, im_j, re_{j+H/2}, im_{j+H/2}]
//    followed by the radix-2 twiddle e^{-2πij/H} as splatted f64x2 (re, re, im, im): 12 f64.
//  lastTab: the same for the untwist ω^{-j}·2^-64/M (same radix-2 twiddle, conjugated when used): 12 f64.
//  combTab: recombination twiddles e^{-2πi·bitrev(p)/M} per vector pair p, p+1: [re_p, re_{p+1}, im_p, im_{p+1}].
const firstTab = new StaticArray<usize>(MAX_LOG_N + 1);
const lastTab = new StaticArray<usize>(MAX_LOG_N + 1);
const combTab = new StaticArray<usize>(MAX_LOG_N + 1);
// Per log2(q): radix-4 stage of block 4q, w = e^{-2πi/(4q)}: for j < q, w^j, w^{2j}, w^{3j} as splatted
// f64x2 (re, re, im, im): 12 f64, loaded as plain vectors. Independent of N.
const r4Tab = new StaticArray<usize>(MAX_LOG_N + 1);
// Small-N path: twist / untwist (re, im arrays of M) and DIF twiddles for half-size h at [h, 2h).
const smallTw = new StaticArray<usize>(MAX_LOG_N + 1);

const TWO64: f64 = 18446744073709551616.0;
const INV_TWO64: f64 = 1.0 / 18446744073709551616.0;
const SQRT1_2: f64 = 0.70710678118654752440;

function log2i(n: i32): i32 {
  return 31 - clz<i32>(n);
}

function bitrev(x: i32, bits: i32): i32 {
  let r = 0;
  for (let b = 0; b < bits; b++) { r = (r << 1) | (x & 1); x >>= 1; }
  return r;
}

// e^{iπ·num/den} as (cos, sin) at p (den a power of two). The angle is reduced to [0, π/4] by the
// quadrant and octant symmetries, so multiples of π/2 come out exact and all values are symmetric.
export function storeExpPi(p: usize, num: i64, den: i64): void {
  num <<= 2; den <<= 2;                     // den ≥ 4
  let k = num % (den << 1);
  if (k < 0) k += den << 1;                 // θ = π·k/den, k ∈ [0, 2·den)
  const quarter = den >> 1;                 // π/2
  const quad = <i32>(k / quarter);
  let r = k - <i64>quad * quarter;          // θ = quad·π/2 + π·r/den, r ∈ [0, den/2)
  const swap = r > (quarter >> 1);
  if (swap) r = quarter - r;                // π·r/den ∈ [0, π/4]
  const ang = Math.PI * <f64>r / <f64>den;
  let c = Math.cos(ang), s = Math.sin(ang);
  if (swap) { const t = c; c = s; s = t; }
  let x = c, y = s;                         // rotate by quad·π/2
  if (quad == 1) { x = -s; y = c; } else if (quad == 2) { x = -c; y = -s; } else if (quad == 3) { x = s; y = -c; }
  store<f64>(p, x);
  store<f64>(p, y, 8);
}

/** Precompute the tables for polynomial size N (idempotent). */
export function fftInit(N: i32): void {
  const lg = log2i(N);
  if (N < 32) {
    if (smallTw[lg] != 0) return;
    const M = N >> 1;
    const t = heap.alloc(<usize>(6 * M) << 3);
    const tmp = memory.data(16);
    const invM = 1.0 / <f64>M;
    for (let j = 0; j < M; j++) {
      storeExpPi(tmp, j, N);
      const c = load<f64>(tmp), s = load<f64>(tmp, 8);
      store<f64>(t + ((<usize>j) << 3), c);
      store<f64>(t + ((<usize>(M + j)) << 3), s);
      store<f64>(t + ((<usize>(2 * M + j)) << 3), c * invM);
      store<f64>(t + ((<usize>(3 * M + j)) << 3), -s * invM);
    }
    for (let h = 1; h < M; h <<= 1) {
      for (let j = 0; j < h; j++) {
        storeExpPi(tmp, -j, h);
        store<f64>(t + ((<usize>(4 * M + h + j)) << 3), load<f64>(tmp));
        store<f64>(t + ((<usize>(5 * M + h + j)) << 3), load<f64>(tmp, 8));
      }
    }
    smallTw[lg] = t;
    return;
  }
  if (firstTab[lg] != 0) return;
  const M = N >> 1, H = M >> 1, L = lg - 2, h = H >> 1;
  const invM = INV_TWO64 / <f64>M; // the backward output is produced scaled by 2^-64 (see torusI64x2)
  const ft = heap.alloc(<usize>(12 * h) << 3), lt = heap.alloc(<usize>(12 * h) << 3);
  const tmp = heap.alloc(16);
  for (let j = 0; j < h; j++) {
    const fo = ft + (<usize>(12 * j) << 3), lo = lt + (<usize>(12 * j) << 3);
    for (let half = 0; half < 2; half++) {
      for (let lane = 0; lane < 2; lane++) {
        const idx = 2 * (j + half * h) + lane; // coefficient index of this lane
        storeExpPi(tmp, idx, N);
        const c = load<f64>(tmp), s = load<f64>(tmp, 8);
        const o = (<usize>(half * 4 + lane)) << 3;
        store<f64>(fo + o, c); store<f64>(fo + o, s, 16);
        store<f64>(lo + o, c * invM); store<f64>(lo + o, -s * invM, 16);
      }
    }
    storeExpPi(tmp, -2 * j, H);
    for (let k = 0; k < 2; k++) {
      const o = (<usize>k) << 3;
      store<f64>(fo + o, load<f64>(tmp), 64); store<f64>(fo + o, load<f64>(tmp, 8), 80);
      store<f64>(lo + o, load<f64>(tmp), 64); store<f64>(lo + o, load<f64>(tmp, 8), 80);
    }
  }
  const ct = heap.alloc(<usize>M << 3);
  for (let p = 0; p < H; p++) {
    storeExpPi(tmp, -2 * bitrev(p, L), M);
    const o = ct + ((<usize>(p >> 1)) << 5) + ((<usize>(p & 1)) << 3);
    store<f64>(o, load<f64>(tmp));
    store<f64>(o, load<f64>(tmp, 8), 16);
  }
  for (let lq = 2; (1 << lq) <= (H >> 3); lq += 1) {
    if (r4Tab[lq] != 0) continue;
    const q = 1 << lq;
    const t = heap.alloc(<usize>(12 * q) << 3);
    for (let j = 0; j < q; j++) {
      for (let e = 1; e <= 3; e++) {
        const o = t + (<usize>(12 * j + 4 * (e - 1)) << 3);
        storeExpPi(o, -2 * e * j, 4 * q);
        const c = load<f64>(o), sn = load<f64>(o, 8);
        store<f64>(o, c, 8); store<f64>(o, sn, 16); store<f64>(o, sn, 24);
      }
    }
    r4Tab[lq] = t;
  }
  heap.free(tmp);
  combTab[lg] = ct;
  lastTab[lg] = lt;
  firstTab[lg] = ft;
}

// ---------------------------------------------------------------------------------------------------
// Complex helpers on split vectors.

// The relaxed-SIMD build (scripts/build-kernels.mjs, chosen at load time by wasm.ts) fuses each multiply
// with its add (f64x2.relaxed_madd: an FMA where the engine has one, else mul + add); the baseline build
// keeps separate, exactly rounded operations. ASC_FEATURE_RELAXED_SIMD is a compile-time constant.
// madd(a, b, c) = a·b + c, nmadd(a, b, c) = c − a·b.
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}
@inline function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_nmadd(a, b, c);
  return f64x2.sub(c, f64x2.mul(a, b));
}

@inline function cmr(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return nmadd(ai, bi, f64x2.mul(ar, br));
}
@inline function cmi(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return madd(ar, bi, f64x2.mul(ai, br));
}
// s + a·b, real and imaginary parts (products accumulated into a sum: two fused operations each).
@inline function cmrAcc(s: v128, ar: v128, ai: v128, br: v128, bi: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return nmadd(ai, bi, madd(ar, br, s));
  return f64x2.add(s, cmr(ar, ai, br, bi));
}
@inline function cmiAcc(s: v128, ar: v128, ai: v128, br: v128, bi: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return madd(ai, br, madd(ar, bi, s));
  return f64x2.add(s, cmi(ar, ai, br, bi));
}
// real / imaginary part of a·conj(b)
@inline function cmcr(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return madd(ar, br, f64x2.mul(ai, bi));
}
@inline function cmci(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return nmadd(ar, bi, f64x2.mul(ai, br));
}
// (a[0], b[0]) and (a[1], b[1])
@inline function lanes0(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
@inline function lanes1(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}

// ---------------------------------------------------------------------------------------------------
// Conversions.

// Two i64 → f64x2, correctly rounded (as f64.convert_i64_s). With the sign bit flipped, the high half is
// an unsigned u; the bit patterns 0x453… | u and 0x433… | lo are 2^84 + u·2^32 and 2^52 + lo, and
// (2^84 + u·2^32 − (2^84 + 2^63 + 2^52)) is exact, so adding 2^52 + lo rounds only once.
@inline function loadI64x2(p: usize): v128 {
  const v = v128.load(p);
  const hi = v128.xor(i64x2.shr_u(v, 32), i64x2.splat(0x4530000080000000));
  const lo = i8x16.shuffle(v, i64x2.splat(0x4330000000000000), 0, 1, 2, 3, 20, 21, 22, 23, 8, 9, 10, 11, 28, 29, 30, 31);
  return f64x2.add(f64x2.sub(hi, f64x2.splat(19342822341709703277445120.0)), lo);
}

@inline function loadIn<T>(p: usize): v128 {
  if (isInteger<T>()) return loadI64x2(p);
  return v128.load(p);
}

// y = x·2^-64 (any finite x) → round(x) mod 2^64 as i64x2. f = y − round(y) ∈ [-1/2, 1/2] is exact.
// h = f + 1.5·2^20 lies in [2^20, 2^21), where the f64 spacing is 2^-32: the low 32 bits of its mantissa are
// round(f·2^32) mod 2^32. The remainder r = f − (h − 1.5·2^20) is exact with |r| ≤ 2^-33, and in
// l = r + 1.5·2^-12 (spacing 2^-64) the mantissa minus that of 1.5·2^-12 is round(r·2^64). So
// round(x) mod 2^64 = (round(f·2^32) << 32) + round(r·2^64), ties to even.
@inline function torusI64x2(y: v128): v128 {
  const f = f64x2.sub(y, f64x2.nearest(y));
  const h = f64x2.add(f, f64x2.splat(1572864.0));
  const r = f64x2.sub(f, f64x2.sub(h, f64x2.splat(1572864.0)));
  const l = f64x2.add(r, f64x2.splat(0.0003662109375));
  return i64x2.add(i64x2.shl(h, 32), i64x2.sub(l, i64x2.splat(0x3F38000000000000)));
}

// Output modes of the backward transform.
const OUT_ADD_TORUS = 0;
const OUT_TO_I64 = 1;

// ---------------------------------------------------------------------------------------------------
// Forward passes. Vector k of a Fourier polynomial f: real parts at f + 32k, imaginary parts at f + 32k + 16.

// Twist + radix-2 DIF butterfly of vectors j (a0) and j + h (a1), split re / im, with the table entry at tp;
// stores vector j at d and vector j + h at d + hd.
@inline function firstButterfly(d: usize, hd: usize, tp: usize, a0r: v128, a0i: v128, a1r: v128, a1i: v128): void {
  const c0r = v128.load(tp), c0i = v128.load(tp, 16), c1r = v128.load(tp, 32), c1i = v128.load(tp, 48);
  const x0r = cmr(a0r, a0i, c0r, c0i), x0i = cmi(a0r, a0i, c0r, c0i);
  const x1r = cmr(a1r, a1i, c1r, c1i), x1i = cmi(a1r, a1i, c1r, c1i);
  const wr = v128.load(tp, 64), wi = v128.load(tp, 80);
  v128.store(d, f64x2.add(x0r, x1r));
  v128.store(d, f64x2.add(x0i, x1i), 16);
  const dr = f64x2.sub(x0r, x1r), di = f64x2.sub(x0i, x1i);
  v128.store(d + hd, cmr(dr, di, wr, wi));
  v128.store(d + hd, cmi(dr, di, wr, wi), 16);
}

// First pass: twist + radix-2 DIF stage (vectors j, j + h, h = H/2, twiddle e^{-2πij/H}).
function forwardFirst<T>(src: usize, dst: usize, N: i32, lg: i32): void {
  const M = N >> 1, h = M >> 2;
  const mb = (<usize>M) << 3;       // src: imaginary halves
  const hs = (<usize>h) << 4;       // src: distance between vectors j and j + h
  const hd = (<usize>h) << 5;       // dst: same
  let tp = firstTab[lg];
  const end = src + hs;
  for (let s = src, d = dst; s < end; s += 16, d += 32) {
    firstButterfly(d, hd, tp,
      loadIn<T>(s), loadIn<T>(s + mb), loadIn<T>(s + hs), loadIn<T>(s + hs + mb));
    tp += 96;
  }
}

// ---------------------------------------------------------------------------------------------------
// Fused first pass of the blind rotation: the digits of X^a·P − P (P: N u64), twisted and through the
// radix-2 stage, written straight into the l Fourier buffers (no digit polynomial in memory).
// The first pass reads the coefficient pairs c, c + N/2 (vector j = c/2: real, imaginary) and c + N/4,
// c + 3N/4 (vector j + h) for c < N/4: four streams. Coefficient i of X^s·P is P[i − s] for i ≥ s and
// −P[i − s + N] for i < s (s < N; for s ≥ N, X^N = −1 negates it). Over c ∈ [0, N/4) only the stream whose
// quarter contains s changes side, at c = s mod N/4, so the range splits into two segments in which every
// stream reads a fixed base with a fixed sign, and one boundary pair (s odd) built lane by lane.

// Stream at coefficient offset o over the segment starting at c0: base rp such that the rotated pair at c
// is at rp + 8c, and sign mask (all ones: negate).
@inline function streamBase(src: usize, o: i32, c0: i32, s: i32, N: i32): usize {
  return src + ((<usize>(o - s + (c0 + o < s ? N : 0))) << 3);
}
@inline function streamSign(o: i32, c0: i32, s: i32, neg: bool): v128 {
  return i64x2.splat((c0 + o < s) != neg ? -1 : 0);
}
// (X^s·P − P) at the pair starting at coefficient i, lane by lane (any i, s < N).
function rotatedPairScalar(src: usize, i: i32, s: i32, N: i32, neg: bool): v128 {
  let v0: u64, v1: u64;
  if (i >= s) v0 = load<u64>(src + ((<usize>(i - s)) << 3)); else v0 = 0 - load<u64>(src + ((<usize>(i - s + N)) << 3));
  if (i + 1 >= s) v1 = load<u64>(src + ((<usize>(i + 1 - s)) << 3)); else v1 = 0 - load<u64>(src + ((<usize>(i + 1 - s + N)) << 3));
  if (neg) { v0 = 0 - v0; v1 = 0 - v1; }
  return i64x2.sub(i64x2.replace_lane(i64x2.splat(<i64>v0), 1, <i64>v1), v128.load(src + ((<usize>i) << 3)));
}

// Digits of the four offset vectors x' = x + decompOffset, levels 1..l, through firstButterfly into out + (j−1)·stride.
@inline function rotatedDigitsStore(
  d: usize, hd: usize, tp: usize, stride: usize, baseLog: i32, levels: i32,
  x0: v128, x1: v128, x2: v128, x3: v128, mask: v128, adj: v128, magicF: v128,
): void {
  firstButterfly(d, hd, tp,
    digitF64(x0, 1, baseLog, mask, adj, magicF), digitF64(x1, 1, baseLog, mask, adj, magicF),
    digitF64(x2, 1, baseLog, mask, adj, magicF), digitF64(x3, 1, baseLog, mask, adj, magicF));
  if (levels > 1) for (let j = 2; j <= levels; j++) {
    firstButterfly(d + <usize>(j - 1) * stride, hd, tp,
      digitF64(x0, j, baseLog, mask, adj, magicF), digitF64(x1, j, baseLog, mask, adj, magicF),
      digitF64(x2, j, baseLog, mask, adj, magicF), digitF64(x3, j, baseLog, mask, adj, magicF));
  }
}

// One segment [c0, c1) (even bounds) of the fused first pass.
@inline function rotatedFirstSegment(
  src: usize, out: usize, N: i32, lg: i32, s: i32, neg: bool, c0: i32, c1: i32, baseLog: i32, levels: i32,
  off: v128, mask: v128, adj: v128, magicF: v128,
): void {
  const Q = N >> 2;
  const stride = (<usize>N) << 3, hd = (<usize>N) << 2;
  // Streams: a0r at c, a0i at c + N/2, a1r at c + N/4, a1i at c + 3N/4.
  const r0 = streamBase(src, 0, c0, s, N), m0 = streamSign(0, c0, s, neg);
  const r1 = streamBase(src, 2 * Q, c0, s, N), m1 = streamSign(2 * Q, c0, s, neg);
  const r2 = streamBase(src, Q, c0, s, N), m2 = streamSign(Q, c0, s, neg);
  const r3 = streamBase(src, 3 * Q, c0, s, N), m3 = streamSign(3 * Q, c0, s, neg);
  const o1 = (<usize>(2 * Q)) << 3, o2 = (<usize>Q) << 3, o3 = (<usize>(3 * Q)) << 3;
  // Each stream's rotated pointer is its own induction variable: loop-invariant bases added to the loop
  // index are recomputed inside the loop by V8.
  const c0b = (<usize>c0) << 3;
  let q0 = r0 + c0b, q1 = r1 + c0b, q2 = r2 + c0b, q3 = r3 + c0b;
  let tp = firstTab[lg] + c0b * 6; // vector c/2: table entry 96·(c/2) = 48c
  let d = out + (c0b << 1);        // vector c/2: Fourier offset 32·(c/2) = 16c
  const end = src + ((<usize>c1) << 3);
  for (let p = src + c0b; p < end; p += 16) {
    let v = v128.load(q0);
    const x0 = i64x2.add(i64x2.sub(i64x2.sub(v128.xor(v, m0), m0), v128.load(p)), off);
    v = v128.load(q1);
    const x1 = i64x2.add(i64x2.sub(i64x2.sub(v128.xor(v, m1), m1), v128.load(p + o1)), off);
    v = v128.load(q2);
    const x2 = i64x2.add(i64x2.sub(i64x2.sub(v128.xor(v, m2), m2), v128.load(p + o2)), off);
    v = v128.load(q3);
    const x3 = i64x2.add(i64x2.sub(i64x2.sub(v128.xor(v, m3), m3), v128.load(p + o3)), off);
    rotatedDigitsStore(d, hd, tp, stride, baseLog, levels, x0, x1, x2, x3, mask, adj, magicF);
    q0 += 16; q1 += 16; q2 += 16; q3 += 16;
    tp += 96; d += 32;
  }
}

@inline function rotatedFirst(src: usize, a: i32, N: i32, lg: i32, baseLog: i32, levels: i32, out: usize): void {
  let s = a;
  let neg = false;
  if (s >= N) { s -= N; neg = true; }
  const Q = N >> 2;
  const b = s & (Q - 1); // the stream whose quarter holds s switches from −P[·+N] to P[·] at c = b
  const off = i64x2.splat(decompOffset(baseLog, levels));
  const mask = digitMask(baseLog), adj = digitAdj(baseLog), magicF = magicF64();
  rotatedFirstSegment(src, out, N, lg, s, neg, 0, b & ~1, baseLog, levels, off, mask, adj, magicF);
  if (b & 1) {
    const c = b - 1;
    const x0 = i64x2.add(rotatedPairScalar(src, c, s, N, neg), off);
    const x1 = i64x2.add(rotatedPairScalar(src, c + 2 * Q, s, N, neg), off);
    const x2 = i64x2.add(rotatedPairScalar(src, c + Q, s, N, neg), off);
    const x3 = i64x2.add(rotatedPairScalar(src, c + 3 * Q, s, N, neg), off);
    rotatedDigitsStore(out + ((<usize>c) << 4), (<usize>N) << 2, firstTab[lg] + <usize>c * 48, (<usize>N) << 3,
      baseLog, levels, x0, x1, x2, x3, mask, adj, magicF);
  }
  rotatedFirstSegment(src, out, N, lg, s, neg, (b + 1) & ~1, Q, baseLog, levels, off, mask, adj, magicF);
}

/**
 * Forward FFTs of the gadget digits of X^a·P − P (P: N u64, a ∈ [0, 2N)), level j (1 = most significant)
 * into out + (j−1)·N f64: the same values as rotating, decomposing (decomposePolyF64) and fftForwardF64 per
 * level, in one pass over P for the decomposition, twist and first radix-2 stage.
 */
export function fftForwardRotatedDigits(src: usize, a: i32, N: i32, baseLog: i32, levels: i32, out: usize): void {
  const lg = log2i(N);
  const stride = (<usize>N) << 3;
  if (N < 32) {
    const tmp = aliasScratch(stride * <usize>(levels + 1));
    const dig = tmp + stride;
    let s = a;
    let neg = false;
    if (s >= N) { s -= N; neg = true; }
    for (let i = 0; i < N; i++) {
      let v: u64 = i >= s ? load<u64>(src + ((<usize>(i - s)) << 3)) : 0 - load<u64>(src + ((<usize>(i - s + N)) << 3));
      if (neg) v = 0 - v;
      store<u64>(tmp + ((<usize>i) << 3), v - load<u64>(src + ((<usize>i) << 3)));
    }
    decomposePolyF64(tmp, dig, N, baseLog, levels);
    for (let j = 0; j < levels; j++) smallForward<f64>(dig + <usize>j * stride, out + <usize>j * stride, N, lg);
    return;
  }
  // (Copies specialised to constant β and l measured no faster: the digit extraction is one shift per level.)
  rotatedFirst(src, a, N, lg, baseLog, levels, out);
  for (let j = 0; j < levels; j++) forwardStages(out + <usize>j * stride, N, lg);
}

/**
 * Forward FFTs of the gadget digits of P itself (P: N u64), level j into out + (j−1)·N f64: the same
 * values as decomposePolyF64 then fftForwardF64 per level, with the decomposition fused into the first
 * pass (as fftForwardRotatedDigits, without the rotation). For the multi-bit external product.
 */
export function fftForwardDigits(src: usize, N: i32, baseLog: i32, levels: i32, out: usize): void {
  const lg = log2i(N);
  const stride = (<usize>N) << 3;
  if (N < 32) {
    const dig = aliasScratch(stride * <usize>levels);
    decomposePolyF64(src, dig, N, baseLog, levels);
    for (let j = 0; j < levels; j++) smallForward<f64>(dig + <usize>j * stride, out + <usize>j * stride, N, lg);
    return;
  }
  const off = i64x2.splat(decompOffset(baseLog, levels));
  const mask = digitMask(baseLog), adj = digitAdj(baseLog), magicF = magicF64();
  const Q = N >> 2, hd = (<usize>N) << 2;
  const o1 = (<usize>(2 * Q)) << 3, o2 = (<usize>Q) << 3, o3 = (<usize>(3 * Q)) << 3;
  let tp = firstTab[lg];
  let d = out;
  const end = src + ((<usize>Q) << 3);
  for (let p = src; p < end; p += 16) {
    rotatedDigitsStore(d, hd, tp, stride, baseLog, levels,
      i64x2.add(v128.load(p), off), i64x2.add(v128.load(p + o1), off),
      i64x2.add(v128.load(p + o2), off), i64x2.add(v128.load(p + o3), off), mask, adj, magicF);
    tp += 96; d += 32;
  }
  for (let j = 0; j < levels; j++) forwardStages(out + <usize>j * stride, N, lg);
}

/**
 * out_r = Σ_{p<P} f_p ⊙ g_p + r·N f64 for r < rows (Fourier polynomials, N f64 each): the multi-bit GGSW
 * combination in one pass per row (the sum stays in registers). factors: P polynomials at f + p·N f64;
 * ptrs: P u32 pointers to the GGSWs (rows consecutive). Summed in order p = 0, 1, … like fourierMul then
 * fourierMulAcc.
 */
export function fourierCombine(out: usize, factors: usize, ptrs: usize, P: i32, rows: i32, N: i32): void {
  const pb = (<usize>N) << 3;
  if (N < 8) {
    for (let r = 0; r < rows; r++) {
      const o = out + <usize>r * pb, off = <usize>r * pb;
      fourierMul(o, factors, <usize>load<u32>(ptrs) + off, N);
      for (let p = 1; p < P; p++) fourierMulAcc(o, factors + <usize>p * pb, <usize>load<u32>(ptrs + ((<usize>p) << 2)) + off, N);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = out + <usize>r * pb, off = <usize>r * pb;
    const g0 = <usize>load<u32>(ptrs) + off;
    for (let b: usize = 0; b < pb; b += 32) {
      let ar = v128.load(factors + b), ai = v128.load(factors + b, 16);
      let br = v128.load(g0 + b), bi = v128.load(g0 + b, 16);
      let sr = cmr(ar, ai, br, bi), si = cmi(ar, ai, br, bi);
      for (let p = 1; p < P; p++) {
        const fp = factors + <usize>p * pb + b, gp = <usize>load<u32>(ptrs + ((<usize>p) << 2)) + off + b;
        ar = v128.load(fp); ai = v128.load(fp, 16);
        br = v128.load(gp); bi = v128.load(gp, 16);
        sr = cmrAcc(sr, ar, ai, br, bi); si = cmiAcc(si, ar, ai, br, bi);
      }
      v128.store(o + b, sr); v128.store(o + b, si, 16);
    }
  }
}

// Middle passes: radix-4 DIF stages (in place), quarter q from qStart = H/8 down to 4 (log2 H odd) or 8.
function forwardMiddle(f: usize, H: i32, qStart: i32): void {
  const end = f + ((<usize>H) << 5);
  for (let q = qStart; q >= 4; q >>= 2) {
    const qb = (<usize>q) << 5;
    const tp0 = r4Tab[log2i(q)];
    for (let blk = f; blk < end; blk += qb << 2) {
      let tp = tp0;
      const bend = blk + qb;
      for (let p = blk; p < bend; p += 32) {
        const p1 = p + qb, p2 = p1 + qb, p3 = p2 + qb;
        const x0r = v128.load(p), x0i = v128.load(p, 16);
        const x1r = v128.load(p1), x1i = v128.load(p1, 16);
        const x2r = v128.load(p2), x2i = v128.load(p2, 16);
        const x3r = v128.load(p3), x3i = v128.load(p3, 16);
        const t0r = f64x2.add(x0r, x2r), t0i = f64x2.add(x0i, x2i);
        const t1r = f64x2.sub(x0r, x2r), t1i = f64x2.sub(x0i, x2i);
        const t2r = f64x2.add(x1r, x3r), t2i = f64x2.add(x1i, x3i);
        const dr = f64x2.sub(x1r, x3r), di = f64x2.sub(x1i, x3i); // t3 = -i·d = (di, -dr)
        // Each twiddle is loaded after the previous store, so it cannot be hoisted (and spilled).
        v128.store(p, f64x2.add(t0r, t2r));
        v128.store(p, f64x2.add(t0i, t2i), 16);
        let wr = v128.load(tp, 32), wi = v128.load(tp, 48);
        const ur = f64x2.sub(t0r, t2r), ui = f64x2.sub(t0i, t2i);
        v128.store(p1, cmr(ur, ui, wr, wi));
        v128.store(p1, cmi(ur, ui, wr, wi), 16);
        wr = v128.load(tp); wi = v128.load(tp, 16);
        const vr = f64x2.add(t1r, di), vi = f64x2.sub(t1i, dr);
        v128.store(p2, cmr(vr, vi, wr, wi));
        v128.store(p2, cmi(vr, vi, wr, wi), 16);
        wr = v128.load(tp, 64); wi = v128.load(tp, 80);
        tp += 96;
        const yr = f64x2.sub(t1r, di), yi = f64x2.add(t1i, dr);
        v128.store(p3, cmr(yr, yi, wr, wi));
        v128.store(p3, cmi(yr, yi, wr, wi), 16);
      }
    }
  }
}

// Recombination of vectors (y_a, y_b) = vectors p, p+1 with twiddles at ctp; stores at d, d + 32.
@inline function recombineStore(d: usize, ctp: usize, yar: v128, yai: v128, ybr: v128, ybi: v128): void {
  const er = lanes0(yar, ybr), ei = lanes0(yai, ybi);
  const or = lanes1(yar, ybr), oi = lanes1(yai, ybi);
  const wr = v128.load(ctp), wi = v128.load(ctp, 16);
  const tr = cmr(or, oi, wr, wi), ti = cmi(or, oi, wr, wi);
  v128.store(d, f64x2.add(er, tr));
  v128.store(d, f64x2.add(ei, ti), 16);
  v128.store(d, f64x2.sub(er, tr), 32);
  v128.store(d, f64x2.sub(ei, ti), 48);
}

// Twiddle-free radix-4 DIF (q = 1) on vectors x0..x3 at d, then recombination; ctp: 2 table pairs.
@inline function radix4LastStore(
  d: usize, ctp: usize,
  x0r: v128, x0i: v128, x1r: v128, x1i: v128, x2r: v128, x2i: v128, x3r: v128, x3i: v128,
): void {
  const t0r = f64x2.add(x0r, x2r), t0i = f64x2.add(x0i, x2i);
  const t1r = f64x2.sub(x0r, x2r), t1i = f64x2.sub(x0i, x2i);
  const t2r = f64x2.add(x1r, x3r), t2i = f64x2.add(x1i, x3i);
  const dr = f64x2.sub(x1r, x3r), di = f64x2.sub(x1i, x3i);
  recombineStore(d, ctp,
    f64x2.add(t0r, t2r), f64x2.add(t0i, t2i), f64x2.sub(t0r, t2r), f64x2.sub(t0i, t2i));
  recombineStore(d + 64, ctp + 32,
    f64x2.add(t1r, di), f64x2.sub(t1i, dr), f64x2.sub(t1r, di), f64x2.add(t1i, dr));
}

// Last pass, log2 H odd: radix-4 on 4 consecutive vectors + recombination.
function forwardLast4(f: usize, H: i32, ct: usize): void {
  const end = f + ((<usize>H) << 5);
  let ctp = ct;
  for (let p = f; p < end; p += 128) {
    radix4LastStore(p, ctp,
      v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48),
      v128.load(p, 64), v128.load(p, 80), v128.load(p, 96), v128.load(p, 112));
    ctp += 64;
  }
}

// Last pass, log2 H even: radix-8 on 8 consecutive vectors (radix-2 with twiddles e^{-2πit/8}, then
// two twiddle-free radix-4) + recombination.
function forwardLast8(f: usize, H: i32, ct: usize): void {
  const end = f + ((<usize>H) << 5);
  const s = f64x2.splat(SQRT1_2);
  let ctp = ct;
  for (let p = f; p < end; p += 256) {
    const x0r = v128.load(p), x0i = v128.load(p, 16), x4r = v128.load(p, 128), x4i = v128.load(p, 144);
    const x1r = v128.load(p, 32), x1i = v128.load(p, 48), x5r = v128.load(p, 160), x5i = v128.load(p, 176);
    const x2r = v128.load(p, 64), x2i = v128.load(p, 80), x6r = v128.load(p, 192), x6i = v128.load(p, 208);
    const x3r = v128.load(p, 96), x3i = v128.load(p, 112), x7r = v128.load(p, 224), x7i = v128.load(p, 240);
    // b_t = (x_t − x_{t+4})·e^{-2πit/8}
    const d1r = f64x2.sub(x1r, x5r), d1i = f64x2.sub(x1i, x5i);
    const d2r = f64x2.sub(x2r, x6r), d2i = f64x2.sub(x2i, x6i);
    const d3r = f64x2.sub(x3r, x7r), d3i = f64x2.sub(x3i, x7i);
    radix4LastStore(p + 128, ctp + 64,
      f64x2.sub(x0r, x4r), f64x2.sub(x0i, x4i),
      f64x2.mul(f64x2.add(d1r, d1i), s), f64x2.mul(f64x2.sub(d1i, d1r), s),
      d2i, f64x2.neg(d2r),
      f64x2.mul(f64x2.sub(d3i, d3r), s), f64x2.neg(f64x2.mul(f64x2.add(d3r, d3i), s)));
    radix4LastStore(p, ctp,
      f64x2.add(x0r, x4r), f64x2.add(x0i, x4i), f64x2.add(x1r, x5r), f64x2.add(x1i, x5i),
      f64x2.add(x2r, x6r), f64x2.add(x2i, x6i), f64x2.add(x3r, x7r), f64x2.add(x3i, x7i));
    ctp += 128;
  }
}

// Scratch for the aliased calls (forward with src == dst, fftBackwardToI64 with f == dst), grown on demand.
let aliasBuf: usize = 0, aliasBytes: usize = 0;
function aliasScratch(bytes: usize): usize {
  if (aliasBytes < bytes) {
    if (aliasBuf != 0) heap.free(aliasBuf);
    aliasBuf = heap.alloc(bytes);
    aliasBytes = bytes;
  }
  return aliasBuf;
}

function forward<T>(src: usize, dst: usize, N: i32): void {
  const lg = log2i(N);
  if (N < 32) { smallForward<T>(src, dst, N, lg); return; }
  if (src == dst) { // the first pass is not in place
    const bytes = (<usize>N) << 3;
    src = aliasScratch(bytes);
    memory.copy(src, dst, bytes);
  }
  forwardFirst<T>(src, dst, N, lg);
  forwardStages(dst, N, lg);
}

// The forward passes after the first (in place): the radix-4 stages, then the last pass with the
// recombination of the lanes (radix-4 for log2 H odd, radix-8 for even).
@inline function forwardStages(f: usize, N: i32, lg: i32): void {
  const H = N >> 2;
  forwardMiddle(f, H, H >> 3);
  if ((lg - 2) & 1) forwardLast4(f, H, combTab[lg]);
  else forwardLast8(f, H, combTab[lg]);
}

// ---------------------------------------------------------------------------------------------------
// Backward passes: exact inverses of the forward ones, unscaled (1/M and 2^-64 are in the untwist table).

// Twiddle-free radix-4 DIT (q = 1) on y0..y3 (already un-recombined), stores x0..x3 at d.
@inline function radix4FirstStore(
  d: usize,
  y0r: v128, y0i: v128, y1r: v128, y1i: v128, y2r: v128, y2i: v128, y3r: v128, y3i: v128,
): void {
  const s0r = f64x2.add(y0r, y1r), s0i = f64x2.add(y0i, y1i);
  const s1r = f64x2.sub(y0r, y1r), s1i = f64x2.sub(y0i, y1i);
  const s2r = f64x2.add(y2r, y3r), s2i = f64x2.add(y2i, y3i);
  const s3r = f64x2.sub(y2r, y3r), s3i = f64x2.sub(y2i, y3i);
  v128.store(d, f64x2.add(s0r, s2r)); v128.store(d, f64x2.add(s0i, s2i), 16);
  v128.store(d, f64x2.sub(s0r, s2r), 64); v128.store(d, f64x2.sub(s0i, s2i), 80);
  v128.store(d, f64x2.sub(s1r, s3i), 32); v128.store(d, f64x2.add(s1i, s3r), 48);
  v128.store(d, f64x2.add(s1r, s3i), 96); v128.store(d, f64x2.sub(s1i, s3r), 112);
}

// Un-recombine + radix-4 DIT q = 1 on 4 vectors at p (in place).
@inline function backFirst4(p: usize, ctp: usize): void {
  let ar = v128.load(p), ai = v128.load(p, 16), br = v128.load(p, 32), bi = v128.load(p, 48);
  let wr = v128.load(ctp), wi = v128.load(ctp, 16);
  let er = f64x2.add(ar, br), ei = f64x2.add(ai, bi);
  let dr = f64x2.sub(ar, br), di = f64x2.sub(ai, bi);
  let or = cmcr(dr, di, wr, wi), oi = cmci(dr, di, wr, wi);
  const y0r = lanes0(er, or), y0i = lanes0(ei, oi);
  const y1r = lanes1(er, or), y1i = lanes1(ei, oi);
  ar = v128.load(p, 64); ai = v128.load(p, 80); br = v128.load(p, 96); bi = v128.load(p, 112);
  wr = v128.load(ctp, 32); wi = v128.load(ctp, 48);
  er = f64x2.add(ar, br); ei = f64x2.add(ai, bi);
  dr = f64x2.sub(ar, br); di = f64x2.sub(ai, bi);
  or = cmcr(dr, di, wr, wi); oi = cmci(dr, di, wr, wi);
  radix4FirstStore(p, y0r, y0i, y1r, y1i, lanes0(er, or), lanes0(ei, oi), lanes1(er, or), lanes1(ei, oi));
}

// First pass, log2 H odd.
function backwardFirst4(f: usize, H: i32, ct: usize): void {
  const end = f + ((<usize>H) << 5);
  let ctp = ct;
  for (let p = f; p < end; p += 128) {
    backFirst4(p, ctp);
    ctp += 64;
  }
}

// First pass, log2 H even: two (un-recombine + radix-4 DIT q = 1) on vectors 0..3 and 4..7, then the
// radix-2 DIT stage x_t = a_t + b_t·e^{2πit/8}, x_{t+4} = a_t − b_t·e^{2πit/8}.
function backwardFirst8(f: usize, H: i32, ct: usize): void {
  const end = f + ((<usize>H) << 5);
  const s = f64x2.splat(SQRT1_2);
  let ctp = ct;
  for (let p = f; p < end; p += 256) {
    backFirst4(p, ctp);
    backFirst4(p + 128, ctp + 64);
    ctp += 128;
    const a0r = v128.load(p), a0i = v128.load(p, 16), b0r = v128.load(p, 128), b0i = v128.load(p, 144);
    v128.store(p, f64x2.add(a0r, b0r)); v128.store(p, f64x2.add(a0i, b0i), 16);
    v128.store(p, f64x2.sub(a0r, b0r), 128); v128.store(p, f64x2.sub(a0i, b0i), 144);
    // b·(1+i)/√2 = ((br − bi)/√2, (br + bi)/√2)
    const a1r = v128.load(p, 32), a1i = v128.load(p, 48), b1r = v128.load(p, 160), b1i = v128.load(p, 176);
    const c1r = f64x2.mul(f64x2.sub(b1r, b1i), s), c1i = f64x2.mul(f64x2.add(b1r, b1i), s);
    v128.store(p, f64x2.add(a1r, c1r), 32); v128.store(p, f64x2.add(a1i, c1i), 48);
    v128.store(p, f64x2.sub(a1r, c1r), 160); v128.store(p, f64x2.sub(a1i, c1i), 176);
    // b·i = (−bi, br)
    const a2r = v128.load(p, 64), a2i = v128.load(p, 80), b2r = v128.load(p, 192), b2i = v128.load(p, 208);
    v128.store(p, f64x2.sub(a2r, b2i), 64); v128.store(p, f64x2.add(a2i, b2r), 80);
    v128.store(p, f64x2.add(a2r, b2i), 192); v128.store(p, f64x2.sub(a2i, b2r), 208);
    // b·(−1+i)/√2 = (−(br + bi)/√2, (br − bi)/√2)
    const a3r = v128.load(p, 96), a3i = v128.load(p, 112), b3r = v128.load(p, 224), b3i = v128.load(p, 240);
    const c3r = f64x2.mul(f64x2.add(b3r, b3i), s), c3i = f64x2.mul(f64x2.sub(b3r, b3i), s);
    v128.store(p, f64x2.sub(a3r, c3r), 96); v128.store(p, f64x2.add(a3i, c3i), 112);
    v128.store(p, f64x2.add(a3r, c3r), 224); v128.store(p, f64x2.sub(a3i, c3i), 240);
  }
}

// Middle passes: radix-4 DIT stages (in place), quarter q from qStart (4 or 8) up to qEnd = H/8.
function backwardMiddle(f: usize, H: i32, qStart: i32, qEnd: i32): void {
  const end = f + ((<usize>H) << 5);
  for (let q = qStart; q <= qEnd; q <<= 2) {
    const qb = (<usize>q) << 5;
    const tp0 = r4Tab[log2i(q)];
    for (let blk = f; blk < end; blk += qb << 2) {
      let tp = tp0;
      const bend = blk + qb;
      for (let p = blk; p < bend; p += 32) {
        const p1 = p + qb, p2 = p1 + qb, p3 = p2 + qb;
        // Loads interleaved with the products (fewer live registers, fewer spills).
        let yr = v128.load(p1), yi = v128.load(p1, 16);
        let wr = v128.load(tp, 32), wi = v128.load(tp, 48);
        const br = cmcr(yr, yi, wr, wi), bi = cmci(yr, yi, wr, wi);
        yr = v128.load(p2); yi = v128.load(p2, 16);
        wr = v128.load(tp); wi = v128.load(tp, 16);
        const cr = cmcr(yr, yi, wr, wi), ci = cmci(yr, yi, wr, wi);
        yr = v128.load(p3); yi = v128.load(p3, 16);
        wr = v128.load(tp, 64); wi = v128.load(tp, 80);
        const dr = cmcr(yr, yi, wr, wi), di = cmci(yr, yi, wr, wi);
        tp += 96;
        const y0r = v128.load(p), y0i = v128.load(p, 16);
        const s0r = f64x2.add(y0r, br), s0i = f64x2.add(y0i, bi);
        const s1r = f64x2.sub(y0r, br), s1i = f64x2.sub(y0i, bi);
        const s2r = f64x2.add(cr, dr), s2i = f64x2.add(ci, di);
        const s3r = f64x2.sub(cr, dr), s3i = f64x2.sub(ci, di);
        v128.store(p, f64x2.add(s0r, s2r)); v128.store(p, f64x2.add(s0i, s2i), 16);
        v128.store(p2, f64x2.sub(s0r, s2r)); v128.store(p2, f64x2.sub(s0i, s2i), 16);
        v128.store(p1, f64x2.sub(s1r, s3i)); v128.store(p1, f64x2.add(s1i, s3r), 16);
        v128.store(p3, f64x2.add(s1r, s3i)); v128.store(p3, f64x2.sub(s1i, s3r), 16);
      }
    }
  }
}

// Last pass: radix-2 DIT (vectors j, j + h, twiddle e^{+2πij/H}) + untwist + conversion into dst.
@inline function backwardLast(mode: i32, f: usize, dst: usize, N: i32, lg: i32): void {
  const M = N >> 1, h = M >> 2;
  const mb = (<usize>M) << 3;
  const hs = (<usize>h) << 4, hf = (<usize>h) << 5;
  let tp = lastTab[lg];
  const end = dst + hs;
  for (let d = dst, p = f; d < end; d += 16, p += 32) {
    const wr = v128.load(tp, 64), wi = v128.load(tp, 80);
    const ar = v128.load(p), ai = v128.load(p, 16);
    const yr = v128.load(p + hf), yi = v128.load(p + hf, 16);
    const br = cmcr(yr, yi, wr, wi), bi = cmci(yr, yi, wr, wi);
    const x0r = f64x2.add(ar, br), x0i = f64x2.add(ai, bi);
    const x1r = f64x2.sub(ar, br), x1i = f64x2.sub(ai, bi);
    const c0r = v128.load(tp), c0i = v128.load(tp, 16), c1r = v128.load(tp, 32), c1i = v128.load(tp, 48);
    tp += 96;
    // All loads of dst before any store (its four streams are 4 KiB apart for N ≥ 2048: a load after a
    // store to the same address modulo 4 KiB may be delayed by memory disambiguation).
    let o0 = cmr(x0r, x0i, c0r, c0i), o1 = cmi(x0r, x0i, c0r, c0i);
    let o2 = cmr(x1r, x1i, c1r, c1i), o3 = cmi(x1r, x1i, c1r, c1i);
    o0 = torusI64x2(o0); o1 = torusI64x2(o1); o2 = torusI64x2(o2); o3 = torusI64x2(o3);
    if (mode == OUT_ADD_TORUS) {
      o0 = i64x2.add(o0, v128.load(d)); o1 = i64x2.add(o1, v128.load(d + mb));
      o2 = i64x2.add(o2, v128.load(d + hs)); o3 = i64x2.add(o3, v128.load(d + hs + mb));
    }
    v128.store(d, o0);
    v128.store(d + mb, o1);
    v128.store(d + hs, o2);
    v128.store(d + hs + mb, o3);
  }
}

@inline function backwardStages(f: usize, N: i32, lg: i32): void {
  const H = N >> 2, L = lg - 2;
  if (L & 1) {
    backwardFirst4(f, H, combTab[lg]);
    backwardMiddle(f, H, 4, H >> 3);
  } else {
    backwardFirst8(f, H, combTab[lg]);
    backwardMiddle(f, H, 8, H >> 3);
  }
}

// ---------------------------------------------------------------------------------------------------
// Small sizes (N < 32): scalar radix-2 (twist, natural-order DIF; DIT inverse), same block layout.

// Byte offset of the real part of complex entry c (imaginary part: + 16, or + 8 when M = 1).
@inline function ent(c: i32): usize {
  return ((<usize>(c >> 1)) << 5) + ((<usize>(c & 1)) << 3);
}

function smallForward<T>(src: usize, dst: usize, N: i32, lg: i32): void {
  const M = N >> 1;
  const t = smallTw[lg];
  const io: usize = M == 1 ? 8 : 16;
  const hi = src + ((<usize>M) << 3);
  const tmp = memory.data(256); // 2M ≤ 16 f64 of scratch, natural order (re then im)
  for (let j = 0; j < M; j++) {
    const o = (<usize>j) << 3;
    let a: f64, b: f64;
    if (isInteger<T>()) { a = <f64>load<i64>(src + o); b = <f64>load<i64>(hi + o); }
    else { a = load<f64>(src + o); b = load<f64>(hi + o); }
    const c = load<f64>(t + o), s = load<f64>(t + o + ((<usize>M) << 3));
    store<f64>(tmp + o, a * c - b * s);
    store<f64>(tmp + o + 128, a * s + b * c);
  }
  const tr = t + ((<usize>(4 * M)) << 3), ti = t + ((<usize>(5 * M)) << 3);
  for (let h = M >> 1; h >= 1; h >>= 1) {
    for (let s = 0; s < M; s += h << 1) {
      for (let j = 0; j < h; j++) {
        const o0 = (<usize>(s + j)) << 3, o1 = (<usize>(s + j + h)) << 3, ot = (<usize>(h + j)) << 3;
        const ar = load<f64>(tmp + o0), ai = load<f64>(tmp + o0 + 128);
        const br = load<f64>(tmp + o1), bi = load<f64>(tmp + o1 + 128);
        const w_r = load<f64>(tr + ot), w_i = load<f64>(ti + ot);
        store<f64>(tmp + o0, ar + br); store<f64>(tmp + o0 + 128, ai + bi);
        const dr = ar - br, di = ai - bi;
        store<f64>(tmp + o1, dr * w_r - di * w_i); store<f64>(tmp + o1 + 128, dr * w_i + di * w_r);
      }
    }
  }
  for (let c = 0; c < M; c++) {
    store<f64>(dst + ent(c), load<f64>(tmp + ((<usize>c) << 3)));
    store<f64>(dst + ent(c) + io, load<f64>(tmp + ((<usize>c) << 3) + 128));
  }
}

// Inverse of smallForward (×M) + untwist into a scratch of 2M f64: coefficient j at [j] and j+M at [M+j].
function smallBackward(f: usize, N: i32): usize {
  const lg = log2i(N), M = N >> 1;
  const t = smallTw[lg];
  const io: usize = M == 1 ? 8 : 16;
  const tmp = memory.data(256);
  for (let c = 0; c < M; c++) {
    store<f64>(tmp + ((<usize>c) << 3), load<f64>(f + ent(c)));
    store<f64>(tmp + ((<usize>c) << 3) + 128, load<f64>(f + ent(c) + io));
  }
  const tr = t + ((<usize>(4 * M)) << 3), ti = t + ((<usize>(5 * M)) << 3);
  for (let h = 1; h < M; h <<= 1) {
    for (let s = 0; s < M; s += h << 1) {
      for (let j = 0; j < h; j++) {
        const o0 = (<usize>(s + j)) << 3, o1 = (<usize>(s + j + h)) << 3, ot = (<usize>(h + j)) << 3;
        const ar = load<f64>(tmp + o0), ai = load<f64>(tmp + o0 + 128);
        const br = load<f64>(tmp + o1), bi = load<f64>(tmp + o1 + 128);
        const w_r = load<f64>(tr + ot), w_i = load<f64>(ti + ot);
        const xr = br * w_r + bi * w_i, xi = bi * w_r - br * w_i;
        store<f64>(tmp + o0, ar + xr); store<f64>(tmp + o0 + 128, ai + xi);
        store<f64>(tmp + o1, ar - xr); store<f64>(tmp + o1 + 128, ai - xi);
      }
    }
  }
  const ur = t + ((<usize>(2 * M)) << 3), ui = t + ((<usize>(3 * M)) << 3);
  for (let j = 0; j < M; j++) {
    const o = (<usize>j) << 3;
    const a = load<f64>(tmp + o), b = load<f64>(tmp + o + 128);
    const c = load<f64>(ur + o), s = load<f64>(ui + o);
    store<f64>(tmp + o, a * c - b * s);
    store<f64>(tmp + o + ((<usize>M) << 3), a * s + b * c);
  }
  return tmp;
}

// Reduce a real number modulo 2^64 and round: the result as a wrapping u64/i64.
// x - 2^64·round(x/2^64) is exact in f64 (both terms share an exponent range) and lies in [-2^63, 2^63].
@inline function f64ToTorus(x: f64): i64 {
  const r = x - Math.round(x * INV_TWO64) * TWO64;
  return <i64>Math.round(r);
}

// ---------------------------------------------------------------------------------------------------
// Public API.

/** Forward negacyclic FFT of a polynomial of N signed 64-bit integers (torus values read as i64). */
export function fftForwardI64(src: usize, dst: usize, N: i32): void {
  forward<i64>(src, dst, N);
}

/** Forward negacyclic FFT of a polynomial of N f64 values (already converted, e.g. decomposition digits). */
export function fftForwardF64(src: usize, dst: usize, N: i32): void {
  forward<f64>(src, dst, N);
}

/** Backward FFT of `f` (destroyed) and add the result, rounded mod 2^64, into the u64 polynomial `dst`. */
export function fftBackwardAddTorus(f: usize, dst: usize, N: i32): void {
  const lg = log2i(N);
  if (N >= 32) {
    backwardStages(f, N, lg);
    backwardLast(OUT_ADD_TORUS, f, dst, N, lg);
    return;
  }
  const tmp = smallBackward(f, N);
  for (let j = 0; j < N; j++) {
    const o = (<usize>j) << 3;
    store<i64>(dst + o, load<i64>(dst + o) + f64ToTorus(load<f64>(tmp + o)));
  }
}

/** Backward FFT of `f` (destroyed) into exact integers (caller guarantees |values| < 2^52). */
export function fftBackwardToI64(f: usize, dst: usize, N: i32): void {
  const lg = log2i(N);
  if (N >= 32) {
    backwardStages(f, N, lg);
    if (f != dst) {
      backwardLast(OUT_TO_I64, f, dst, N, lg);
    } else { // the last pass is not in place
      const bytes = (<usize>N) << 3;
      const tmp = aliasScratch(bytes);
      backwardLast(OUT_TO_I64, f, tmp, N, lg);
      memory.copy(dst, tmp, bytes);
    }
    return;
  }
  const tmp = smallBackward(f, N);
  for (let j = 0; j < N; j++) {
    const o = (<usize>j) << 3;
    store<i64>(dst + o, <i64>Math.round(load<f64>(tmp + o)));
  }
}

/** Pointwise product acc += a ⊙ b of two Fourier polynomials (N f64 each, blocks [re, re, im, im]). */
export function fourierMulAcc(acc: usize, a: usize, b: usize, N: i32): void {
  pointwise(acc, a, b, N, true);
}

/** Pointwise product out = a ⊙ b (out may alias a or b). */
export function fourierMul(out: usize, a: usize, b: usize, N: i32): void {
  pointwise(out, a, b, N, false);
}

// One body for both products: `accumulate` is a constant at each inlined call site, so each export
// compiles to its own branch-free loop.
@inline function pointwise(out: usize, a: usize, b: usize, N: i32, accumulate: bool): void {
  if (N < 4) {
    const ar = load<f64>(a), ai = load<f64>(a, 8), br = load<f64>(b), bi = load<f64>(b, 8);
    const re = ar * br - ai * bi, im = ar * bi + ai * br;
    store<f64>(out, accumulate ? load<f64>(out) + re : re);
    store<f64>(out, accumulate ? load<f64>(out, 8) + im : im, 8);
    return;
  }
  const end = a + ((<usize>N) << 3);
  if (N & 4) { // N = 4: one block
    productBlock(out, a, b, 0, accumulate);
    return;
  }
  for (; a < end; a += 64) { // two blocks per iteration
    productBlock(out, a, b, 0, accumulate);
    productBlock(out, a, b, 32, accumulate);
    b += 64; out += 64;
  }
}

@inline function productBlock(out: usize, a: usize, b: usize, o: usize, accumulate: bool): void {
  const ar = v128.load(a + o), ai = v128.load(a + o, 16);
  const br = v128.load(b + o), bi = v128.load(b + o, 16);
  if (accumulate) {
    v128.store(out + o, cmrAcc(v128.load(out + o), ar, ai, br, bi));
    v128.store(out + o, cmiAcc(v128.load(out + o, 16), ar, ai, br, bi), 16);
    return;
  }
  v128.store(out + o, cmr(ar, ai, br, bi));
  v128.store(out + o, cmi(ar, ai, br, bi), 16);
}

/**
 * The Fourier products of an external product with k = 1, in place: with R Fourier digit polynomials
 * F_r at f + r·N f64 and GGSW rows g_{r,o} at ggsw + (2r + o)·N f64, F_0 ← Σ_r F_r ⊙ g_{r,0} and
 * F_1 ← Σ_r F_r ⊙ g_{r,1} (summed in order r = 0, 1, …, as fourierMul then fourierMulAcc), one pass.
 */
export function fourierMacK1(f: usize, ggsw: usize, R: i32, N: i32): void {
  if (N < 8) { // one or two blocks (N = 2: [re, im]): per row
    const tmp = aliasScratch((<usize>N) << 4);
    const pb = (<usize>N) << 3;
    fourierMul(tmp, f, ggsw, N);
    fourierMul(tmp + pb, f, ggsw + pb, N);
    for (let r = 1; r < R; r++) {
      const g = ggsw + <usize>(2 * r) * pb;
      fourierMulAcc(tmp, f + <usize>r * pb, g, N);
      fourierMulAcc(tmp + pb, f + <usize>r * pb, g + pb, N);
    }
    memory.copy(f, tmp, pb << 1);
    return;
  }
  if (R == 2) macK1(f, ggsw, 2, N, true);
  else macK1(f, ggsw, R, N, false);
}

@inline function macK1(f: usize, ggsw: usize, R: i32, N: i32, two: bool): void {
  const pb = (<usize>N) << 3;
  const f1 = f + pb, g1 = ggsw + pb, g2 = g1 + pb, g3 = g2 + pb;
  const end = f + pb;
  for (let p = f, o: usize = 0; p < end; p += 32, o += 32) {
    let ar = v128.load(p), ai = v128.load(p, 16);
    let br = v128.load(ggsw + o), bi = v128.load(ggsw + o, 16);
    let s0r = cmr(ar, ai, br, bi), s0i = cmi(ar, ai, br, bi);
    br = v128.load(g1 + o); bi = v128.load(g1 + o, 16);
    let s1r = cmr(ar, ai, br, bi), s1i = cmi(ar, ai, br, bi);
    if (two) {
      ar = v128.load(f1 + o); ai = v128.load(f1 + o, 16);
      br = v128.load(g2 + o); bi = v128.load(g2 + o, 16);
      s0r = cmrAcc(s0r, ar, ai, br, bi); s0i = cmiAcc(s0i, ar, ai, br, bi);
      br = v128.load(g3 + o); bi = v128.load(g3 + o, 16);
      s1r = cmrAcc(s1r, ar, ai, br, bi); s1i = cmiAcc(s1i, ar, ai, br, bi);
    } else {
      for (let r = 1; r < R; r++) {
        const fr = f + <usize>r * pb + o, gr = ggsw + <usize>(2 * r) * pb + o;
        ar = v128.load(fr); ai = v128.load(fr, 16);
        br = v128.load(gr); bi = v128.load(gr, 16);
        s0r = cmrAcc(s0r, ar, ai, br, bi); s0i = cmiAcc(s0i, ar, ai, br, bi);
        br = v128.load(gr + pb); bi = v128.load(gr + pb, 16);
        s1r = cmrAcc(s1r, ar, ai, br, bi); s1i = cmiAcc(s1i, ar, ai, br, bi);
      }
    }
    v128.store(p, s0r); v128.store(p, s0i, 16);
    v128.store(f1 + o, s1r); v128.store(f1 + o, s1i, 16);
  }
}
