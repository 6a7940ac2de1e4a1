// Negacyclic FFT kernels against the naive O(N²) product mod X^N + 1 (property tests).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { kernels } from "../../src/kernels/wasm.js";

const K = kernels();
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function withPolys<T>(N: number, count: number, fn: (ptrs: number[]) => T): T {
  const ptrs = Array.from({ length: count }, () => K.alloc(N * 8 * 4));
  try { return fn(ptrs); } finally { ptrs.forEach((p) => K.free(p)); }
}

function naive(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const N = a.length;
  return withPolys(N, 3, ([pa, pb, po]) => {
    K.u64(pa!, N).set(a); K.u64(pb!, N).set(b);
    K.k.polyMulNaive(po!, pa!, pb!, N);
    return K.u64(po!, N).slice();
  });
}

/** Reference negacyclic product in BigInt (checks the naive kernel itself). */
function bigintProduct(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const N = a.length, out = new Array<bigint>(N).fill(0n);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    const p = a[i]! * b[j]!;
    if (i + j < N) out[i + j]! += p; else out[i + j - N]! -= p;
  }
  return BigUint64Array.from(out.map((x) => BigInt.asUintN(64, x)));
}

test("naive kernel product equals a BigInt negacyclic product", () => {
  fc.assert(fc.property(fc.array(u64, { minLength: 16, maxLength: 16 }), fc.array(u64, { minLength: 16, maxLength: 16 }), (a, b) => {
    const A = BigUint64Array.from(a), B = BigUint64Array.from(b);
    assert.deepEqual(naive(A, B), bigintProduct(A, B));
  }), { numRuns: 50 });
});

for (const N of [256, 1024, 2048, 8192]) {
  test(`FFT product u64 × binary is exact (N = ${N})`, () => {
    fc.assert(fc.property(fc.array(u64, { minLength: N, maxLength: N }), fc.array(fc.integer({ min: 0, max: 1 }), { minLength: N, maxLength: N }), (a, s) => {
      const A = BigUint64Array.from(a), S = BigUint64Array.from(s.map(BigInt));
      const got = withPolys(N, 4, ([pa, ps, pf, po]) => {
        K.u64(pa!, N).set(A); K.u64(ps!, N).set(S); K.u64(po!, N).fill(0n);
        K.k.fftForwardI64(ps!, pf!, N);
        K.k.polyMulSmallAdd(po!, pa!, pf!, N, pa! + N * 8);
        return K.u64(po!, N).slice();
      });
      assert.deepEqual(got, naive(A, S));
    }), { numRuns: N >= 8192 ? 3 : 10 });
  });
}

test("FFT product of balanced digits × torus polynomial: error far below the PBS budget", () => {
  // Random inputs (not shrunk adversarially): the error std is the FFT noise of the noise model.
  const N = 2048;
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
    let s = seed;
    const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s; };
    const d = Array.from({ length: N }, () => (rnd() % 2 ** 23) - 2 ** 22);
    const T = BigUint64Array.from({ length: N }, () => (BigInt(rnd()) << 32n) | BigInt(rnd()));
    const D = BigUint64Array.from(d.map((x) => BigInt.asUintN(64, BigInt(x))));
    const exact = naive(D, T);
    const got = withPolys(N, 4, ([pd, pt, pf, pg]) => {
      const fd = K.f64(pd!, N);
      for (let i = 0; i < N; i++) fd[i] = d[i]!;
      K.u64(pt!, N).set(T);
      K.k.fftForwardF64(pd!, pf!, N);
      K.k.fftForwardI64(pt!, pg!, N);
      K.k.fourierMul(pf!, pf!, pg!, N);
      K.u64(pt!, N).fill(0n);
      K.k.fftBackwardAddTorus(pf!, pt!, N);
      return K.u64(pt!, N).slice();
    });
    let maxErr = 0;
    for (let i = 0; i < N; i++) maxErr = Math.max(maxErr, Math.abs(Number(BigInt.asIntN(64, got[i]! - exact[i]!)) / 2 ** 64));
    // Measured max ≈ 2^-23.5 for β = 23 digits (f64 keeps 53 of the ~90 bits of each sum); its variance
    // over a blind rotation is the FFT term of the noise model. One product must stay ≪ Δ/2 = 2^-6.
    assert.ok(maxErr < 2 ** -20, `max error ${maxErr}`);
  }), { numRuns: 5 });
});

test("forward then backward FFT is the identity on torus polynomials up to tiny rounding", () => {
  const N = 4096;
  fc.assert(fc.property(fc.array(u64, { minLength: N, maxLength: N }), (a) => {
    const A = BigUint64Array.from(a);
    const back = withPolys(N, 2, ([pa, pf]) => {
      K.u64(pa!, N).set(A);
      K.k.fftForwardI64(pa!, pf!, N);
      K.u64(pa!, N).fill(0n);
      K.k.fftBackwardAddTorus(pf!, pa!, N);
      return K.u64(pa!, N).slice();
    });
    for (let i = 0; i < N; i++) {
      const e = Number(BigInt.asIntN(64, back[i]! - A[i]!));
      assert.ok(Math.abs(e) < 2 ** 16, `coefficient ${i} off by ${e}`);
    }
  }), { numRuns: 5 });
});

test("negacyclic rotation: X^a · X^b = X^(a+b) and X^N = −1", () => {
  const N = 256;
  fc.assert(fc.property(fc.array(u64, { minLength: N, maxLength: N }), fc.integer({ min: 0, max: 2 * N - 1 }), fc.integer({ min: 0, max: 2 * N - 1 }), (a, s, t) => {
    const A = BigUint64Array.from(a);
    withPolys(N, 3, ([p0, p1, p2]) => {
      K.u64(p0!, N).set(A);
      K.k.polyRotate(p1!, p0!, N, s);
      K.k.polyRotate(p2!, p1!, N, t);
      K.k.polyRotate(p1!, p0!, N, (s + t) % (2 * N));
      assert.deepEqual(K.u64(p2!, N).slice(), K.u64(p1!, N).slice());
      K.k.polyRotate(p1!, p0!, N, N);
      assert.deepEqual(K.u64(p1!, N).slice(), A.map((x) => BigInt.asUintN(64, -x)));
    });
  }), { numRuns: 50 });
});
