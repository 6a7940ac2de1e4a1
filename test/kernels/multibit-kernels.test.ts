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

test("multi-bit exports build their tables on first use at a fresh size (batch kernel vs step API, N = 256 and 128)", () => {
  const K = kernels();
  const rng = testRng(8);
  const word = (): bigint => (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  for (const [N, firstBatch] of [[256, true], [128, false]] as const) {
    const n = 6, d = 3, k = 1, l = 2, b = 12, P = 7;
    const words = (k + 1) * l * (k + 1) * N, ggsws = (n / d) * P;
    const key = K.alloc(ggsws * words * 8), table = K.alloc(ggsws * 4), stage = K.alloc(words * 8);
    const lwe = K.alloc((n + 1) * 8), lut = K.alloc(N * 8), a1 = K.alloc((k + 1) * N * 8), a2 = K.alloc((k + 1) * N * 8);
    const scratch = K.alloc(K.k.multiBitScratchBytes(n, d, k, N, l, 1)), mods = K.alloc(((n / d) * P + 1) * 4);
    try {
      K.u64(lwe, n + 1).set(Array.from({ length: n + 1 }, word));
      K.u64(lut, N).set(Array.from({ length: N }, word));
      const run = (): void => {
        for (let g = 0; g < ggsws; g++) {
          K.u64(stage, words).set(Array.from({ length: words }, word));
          K.k.fftForwardManyI64(stage, key + g * words * 8, words / N, N);
        }
        K.u32(table, ggsws).set(Array.from({ length: ggsws }, (_, g) => key + g * words * 8));
      };
      const batch = (): void => K.k.multiBitBlindRotateBatch(a1, lut, lwe, 1, table, n, d, k, N, b, l, scratch);
      const steps = (): void => {
        K.k.multiBitModulusSwitch(mods, lwe, n, d, N);
        K.k.multiBitAccInit(a2, lut, mods, n, d, k, N);
        for (let g = 0; g < n / d; g++) K.k.multiBitStep(a2, table + g * P * 4, mods + g * P * 4, d, k, N, b, l, scratch);
      };
      // First call at this N with an all-zero key (no transform needed to build it): the export itself
      // must build the FFT and monomial tables.
      K.u8(key, ggsws * words * 8).fill(0);
      K.u32(table, ggsws).set(Array.from({ length: ggsws }, (_, g) => key + g * words * 8));
      if (firstBatch) { batch(); steps(); } else { steps(); batch(); }
      assert.deepEqual(K.u64(a1, (k + 1) * N), K.u64(a2, (k + 1) * N), `N = ${N}, zero key`);
      run();
      if (firstBatch) { batch(); steps(); } else { steps(); batch(); }
      assert.deepEqual(K.u64(a1, (k + 1) * N), K.u64(a2, (k + 1) * N), `N = ${N}`);
    } finally {
      for (const p of [key, table, stage, lwe, lut, a1, a2, scratch, mods]) K.free(p);
    }
  }
});
