// The multi-bit kernels' building blocks against the plain ones: fused digit FFTs equal decomposition +
// FFT per level, the fused GGSW combination equals fourierMul + fourierMulAcc, bit for bit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernels } from "../../src/kernels/wasm.js";
import { testRng } from "../helpers/keys.js";

test("fftForwardDigits equals decomposePolyF64 + fftForwardF64 per level (N = 16 … 4096, several β·l)", () => {
  const K = kernels();
  const rng = testRng(3);
  for (const N of [16, 64, 512, 2048, 4096]) {
    for (const [b, l] of [[23, 1], [15, 2], [10, 3], [4, 5]] as const) {
      const src = K.alloc(N * 8), dig = K.alloc(l * N * 8), ref = K.alloc(l * N * 8), out = K.alloc(l * N * 8);
      try {
        const w = K.u64(src, N);
        for (let i = 0; i < N; i++) w[i] = (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
        K.k.decomposePolyF64(src, dig, N, b, l);
        for (let j = 0; j < l; j++) K.k.fftForwardF64(dig + j * N * 8, ref + j * N * 8, N);
        K.k.fftForwardDigits(src, N, b, l, out);
        assert.deepEqual(K.f64(out, l * N), K.f64(ref, l * N), `N = ${N}, β = ${b}, l = ${l}`);
      } finally {
        for (const p of [src, dig, ref, out]) K.free(p);
      }
    }
  }
});

test("fourierCombine equals fourierMul then fourierMulAcc over the patterns (P = 1, 3, 7)", () => {
  const K = kernels();
  const rng = testRng(5);
  for (const N of [4, 64, 2048]) {
    for (const P of [1, 3, 7]) {
      const rows = 4;
      const factors = K.alloc(P * N * 8), out = K.alloc(rows * N * 8), ref = K.alloc(rows * N * 8), ptrs = K.alloc(P * 4);
      const ggsws = Array.from({ length: P }, () => K.alloc(rows * N * 8));
      try {
        K.f64(factors, P * N).set(Array.from({ length: P * N }, () => rng() * 4 - 2));
        for (const g of ggsws) K.f64(g, rows * N).set(Array.from({ length: rows * N }, () => (rng() - 0.5) * 2 ** 40));
        K.u32(ptrs, P).set(ggsws);
        for (let r = 0; r < rows; r++) {
          K.k.fourierMul(ref + r * N * 8, factors, ggsws[0]! + r * N * 8, N);
          for (let p = 1; p < P; p++) K.k.fourierMulAcc(ref + r * N * 8, factors + p * N * 8, ggsws[p]! + r * N * 8, N);
        }
        K.k.fourierCombine(out, factors, ptrs, P, rows, N);
        assert.deepEqual(K.f64(out, rows * N), K.f64(ref, rows * N), `N = ${N}, P = ${P}`);
      } finally {
        for (const p of [factors, out, ref, ptrs, ...ggsws]) K.free(p);
      }
    }
  }
});
