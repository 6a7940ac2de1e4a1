// The FFT kernels set up their tables on first use: no caller has to initialise anything. Each test below
// is the first use of its polynomial size in this process (node --test runs every file in its own
// process, and no test here shares a size with another), entering through a different kernel export.
// Fourier inputs are built by hand where an export needs one: a constant polynomial c evaluates to c at
// every root of X^N + 1, so its Fourier form is c in every complex slot (layout: blocks [re, re, im, im],
// or [re, im] for N = 2), which test 1 checks against the forward transform.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernels } from "../../src/kernels/wasm.js";
import { testRng } from "../helpers/keys.js";

const K = kernels();
const rng = testRng(11);

function withMemory<T>(bytes: readonly number[], fn: (...ptrs: number[]) => T): T {
  const ptrs = bytes.map((b) => K.alloc(b));
  try { return fn(...ptrs); } finally { ptrs.forEach((p) => K.free(p)); }
}

const randomU64 = (n: number): BigUint64Array =>
  BigUint64Array.from({ length: n }, () => (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32)));
const smallInts = (n: number, bound: number): BigUint64Array =>
  BigUint64Array.from({ length: n }, () => BigInt.asUintN(64, BigInt(Math.floor(rng() * 2 * bound) - bound)));
const bits = (n: number): BigUint64Array => BigUint64Array.from({ length: n }, () => BigInt(rng() < 0.5 ? 0 : 1));

/** The Fourier form of the constant polynomial c (see the header). */
function constantFourier(N: number, c: number): Float64Array {
  const f = new Float64Array(N);
  if (N === 2) { f[0] = c; return f; }
  for (let b = 0; b < N; b += 4) { f[b] = c; f[b + 1] = c; }
  return f;
}

function naiveProduct(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const N = a.length;
  return withMemory([N * 8, N * 8, N * 8], (pa, pb, po) => {
    K.u64(pa!, N).set(a); K.u64(pb!, N).set(b);
    K.k.polyMulNaive(po!, pa!, pb!, N);
    return K.u64(po!, N).slice();
  });
}

/** X^shift · p mod X^N + 1 (u64 coefficients). */
function rotate(p: BigUint64Array, shift: number): BigUint64Array {
  const N = p.length, out = new BigUint64Array(N);
  for (let i = 0; i < N; i++) {
    const j = (i + shift) % (2 * N);
    out[j % N] = j < N ? p[i]! : BigInt.asUintN(64, -p[i]!);
  }
  return out;
}

/** Largest |a − b| over the coefficients, as signed 64-bit distances. */
function maxDistance(a: BigUint64Array, b: BigUint64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(BigInt.asIntN(64, a[i]! - b[i]!))));
  return m;
}

/** A noiseless GGSW of 1 in the Fourier domain: row (p, j), polynomial o is g_{j+1} = q/B^(j+1) when o = p. */
function trivialFourierGgswOfOne(ptr: number, k: number, N: number, baseLog: number, levels: number): void {
  const f = K.f64(ptr, (k + 1) * levels * (k + 1) * N);
  f.fill(0);
  for (let p = 0; p <= k; p++) {
    for (let j = 0; j < levels; j++) {
      const row = p * levels + j;
      f.set(constantFourier(N, 2 ** (64 - baseLog * (j + 1))), (row * (k + 1) + p) * N);
    }
  }
}

test("fftForwardI64 first (N = 2, 32): products exact, and a constant's Fourier form is as the header says", () => {
  for (const N of [2, 32]) {
    const a = smallInts(N, 1 << 10), s = bits(N);
    const got = withMemory([N * 8, N * 8, N * 8], (pa, ps, pf) => {
      K.u64(pa!, N).set(a); K.u64(ps!, N).set(s);
      K.k.fftForwardI64(pa!, pf!, N);
      K.k.fftForwardI64(ps!, pa!, N);
      K.k.fourierMul(pf!, pf!, pa!, N);
      K.k.fftBackwardToI64(pf!, ps!, N);
      const product = K.u64(ps!, N).slice();
      const c = new BigUint64Array(N);
      c[0] = 5n;
      K.u64(pa!, N).set(c);
      K.k.fftForwardI64(pa!, pf!, N);
      assert.deepEqual(K.f64(pf!, N).slice(), constantFourier(N, 5), `Fourier form of the constant 5, N = ${N}`);
      return product;
    });
    assert.deepEqual(got, naiveProduct(a, s), `N = ${N}`);
  }
});

test("fftForwardF64 first (N = 4, 64): products exact", () => {
  for (const N of [4, 64]) {
    const a = smallInts(N, 1 << 10), s = bits(N);
    const got = withMemory([N * 8, N * 8, N * 8, N * 8], (pa, ps, pf, pg) => {
      const fa = K.f64(pa!, N);
      for (let i = 0; i < N; i++) fa[i] = Number(BigInt.asIntN(64, a[i]!));
      K.u64(ps!, N).set(s);
      K.k.fftForwardF64(pa!, pf!, N);
      K.k.fftForwardI64(ps!, pg!, N);
      K.k.fourierMul(pf!, pf!, pg!, N);
      K.k.fftBackwardToI64(pf!, ps!, N);
      return K.u64(ps!, N).slice();
    });
    assert.deepEqual(got, naiveProduct(a, s), `N = ${N}`);
  }
});

test("fftForwardManyI64 first (N = 8, 128): products exact", () => {
  for (const N of [8, 128]) {
    const a = smallInts(N, 1 << 10), s = bits(N);
    const got = withMemory([2 * N * 8, 2 * N * 8], (pin, pf) => {
      K.u64(pin!, 2 * N).set(a);
      K.u64(pin! + N * 8, N).set(s);
      K.k.fftForwardManyI64(pin!, pf!, 2, N);
      K.k.fourierMul(pf!, pf!, pf! + N * 8, N);
      K.k.fftBackwardToI64(pf!, pin!, N);
      return K.u64(pin!, N).slice();
    });
    assert.deepEqual(got, naiveProduct(a, s), `N = ${N}`);
  }
});

test("polyMulSmallAdd first (N = 16, 256): out += a · 1, exact on full 64-bit coefficients", () => {
  for (const N of [16, 256]) {
    const a = randomU64(N), out0 = randomU64(N);
    const got = withMemory([N * 8, N * 8, N * 8, 3 * N * 8], (pa, pone, pout, scratch) => {
      K.u64(pa!, N).set(a);
      K.f64(pone!, N).set(constantFourier(N, 1));
      K.u64(pout!, N).set(out0);
      K.k.polyMulSmallAdd(pout!, pa!, pone!, N, scratch!);
      return K.u64(pout!, N).slice();
    });
    assert.deepEqual(got, out0.map((x, i) => BigInt.asUintN(64, x + a[i]!)), `N = ${N}`);
  }
});

test("fftBackwardAddTorus and fftBackwardToI64 first (N = 512, 1024): a constant's Fourier form back to c·X^0", () => {
  const N1 = 512, N2 = 1024;
  const start = randomU64(N1);
  const [added, exact] = withMemory([N1 * 8, N1 * 8, N2 * 8, N2 * 8], (pf1, pd1, pf2, pd2) => {
    K.f64(pf1!, N1).set(constantFourier(N1, 7));
    K.u64(pd1!, N1).set(start);
    K.k.fftBackwardAddTorus(pf1!, pd1!, N1);
    K.f64(pf2!, N2).set(constantFourier(N2, -3));
    K.k.fftBackwardToI64(pf2!, pd2!, N2);
    return [K.u64(pd1!, N1).slice(), K.u64(pd2!, N2).slice()];
  });
  const expectAdded = start.slice();
  expectAdded[0] = BigInt.asUintN(64, expectAdded[0]! + 7n);
  assert.deepEqual(added, expectAdded);
  const expectExact = new BigUint64Array(N2);
  expectExact[0] = BigInt.asUintN(64, -3n);
  assert.deepEqual(exact, expectExact);
});

// The GGSW tests: k = 1, β = 10, l = 2, so a product with GGSW(1) returns its input rounded to 20 bits
// (error ≤ q/2^21 = 2^43) plus the FFT error (far smaller).
const k = 1, BETA = 10, LEVELS = 2, ROUNDING = 2 ** 44;

test("externalProduct first (N = 2048): GGSW(1) ⊡ GLWE(μ) ≈ GLWE(μ)", () => {
  const N = 2048, words = (k + 1) * N, ggswWords = (k + 1) * LEVELS * words;
  const glwe = randomU64(words);
  const out = withMemory([ggswWords * 8, words * 8, words * 8, K.k.externalProductScratchBytes(k, N, LEVELS)], (pg, pin, pout, scr) => {
    trivialFourierGgswOfOne(pg!, k, N, BETA, LEVELS);
    K.u64(pin!, words).set(glwe);
    K.u64(pout!, words).fill(0n);
    K.k.externalProduct(pout!, pg!, pin!, k, N, BETA, LEVELS, scr!);
    return K.u64(pout!, words).slice();
  });
  assert.ok(maxDistance(out, glwe) <= ROUNDING, `distance ${maxDistance(out, glwe)}`);
});

test("cmuxStep first (N = 4096): ACC + GGSW(1) ⊡ (X^a·ACC − ACC) ≈ X^a·ACC", () => {
  const N = 4096, words = (k + 1) * N, ggswWords = (k + 1) * LEVELS * words, a = 37;
  const acc = randomU64(words);
  const got = withMemory([ggswWords * 8, words * 8, K.k.blindRotateScratchBytes(1, k, N, LEVELS)], (pg, pacc, scr) => {
    trivialFourierGgswOfOne(pg!, k, N, BETA, LEVELS);
    K.u64(pacc!, words).set(acc);
    K.k.cmuxStep(pacc!, pg!, a, k, N, BETA, LEVELS, scr!);
    return K.u64(pacc!, words).slice();
  });
  for (let p = 0; p <= k; p++) {
    const want = rotate(acc.subarray(p * N, (p + 1) * N), a);
    const d = maxDistance(got.subarray(p * N, (p + 1) * N), want);
    assert.ok(d <= ROUNDING, `polynomial ${p}: distance ${d}`);
  }
});

test("blindRotate first (N = 8192): two key bits of 1 rotate the table by ã₁ + ã₂ − b̃", () => {
  const N = 8192, n = 2, words = (k + 1) * N, ggswWords = (k + 1) * LEVELS * words;
  const lut = randomU64(N);
  const [a1, a2, b] = [3, 10, 7];
  const shift = BigInt(64 - Math.log2(2 * N)); // ã = x·2N/q exactly for x = ã·q/(2N)
  const got = withMemory([ggswWords * 8, ggswWords * 8, n * 4, N * 8, (n + 1) * 8, words * 8,
    K.k.blindRotateScratchBytes(n, k, N, LEVELS)], (g1, g2, table, plut, plwe, pacc, scr) => {
    trivialFourierGgswOfOne(g1!, k, N, BETA, LEVELS);
    trivialFourierGgswOfOne(g2!, k, N, BETA, LEVELS);
    K.u32(table!, n).set([g1!, g2!]);
    K.u64(plut!, N).set(lut);
    K.u64(plwe!, n + 1).set([BigInt(a1) << shift, BigInt(a2) << shift, BigInt(b) << shift]);
    K.k.blindRotate(pacc!, plut!, plwe!, table!, n, k, N, BETA, LEVELS, scr!);
    return K.u64(pacc!, words).slice();
  });
  assert.ok(maxDistance(got.subarray(0, N), new BigUint64Array(N)) <= 2 * ROUNDING, "mask");
  const d = maxDistance(got.subarray(N), rotate(lut, a1 + a2 - b));
  assert.ok(d <= 2 * ROUNDING, `body: distance ${d}`);
});

test("a polynomial size the FFT cannot take is a RangeError, before any kernel runs", () => {
  withMemory([64 * 8, 64 * 8], (src, dst) => {
    for (const N of [0, 1, 3, 48, 2 ** 18]) {
      assert.throws(() => K.k.fftForwardI64(src!, dst!, N), (e: unknown) =>
        e instanceof RangeError && /power of two/.test(e.message) && e.message.includes(String(N)), `N = ${N}`);
    }
  });
});
