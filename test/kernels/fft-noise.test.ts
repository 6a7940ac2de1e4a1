// The FFT term of the noise model against measurement: the per-coefficient error of an FFT external
// product (GGSW ⊡ GLWE) versus the exact product computed with the naive negacyclic kernel, for shapes
// with different k, N, β and l. Expect c = var / ((k+1)·l·N·B²·log2(N)·2^-106) ≈ FFT_NOISE_COEFFICIENT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernels } from "../../src/kernels/wasm.js";
import { balancedDigits } from "../helpers/reference.js";
import { GlweSecretKey, encryptGgsw, encryptGlwe, externalProduct, FFT_NOISE_COEFFICIENT } from "../../src/tfhe/index.js";

const K = kernels();


function measuredCoefficient(k: number, N: number, beta: number, l: number): number {
  const key = GlweSecretKey.generate(k, N);
  const g = encryptGgsw(key, 1, { glweDimension: k, polynomialSize: N, baseLog: beta, levels: l }, 1e-15);
  const c = encryptGlwe(key, [], { bits: 4 }, 1e-15);
  const out = externalProduct(g, c);
  const exact = Array.from({ length: k + 1 }, () => new BigUint64Array(N));
  const [a, b, o] = [K.alloc(N * 8), K.alloc(N * 8), K.alloc(N * 8)];
  try {
    for (let p = 0; p <= k; p++) {
      const ds = Array.from({ length: l }, () => new BigUint64Array(N));
      for (let i = 0; i < N; i++) balancedDigits(c.data[p * N + i]!, beta, l).forEach((d, j) => { ds[j]![i] = BigInt.asUintN(64, d); });
      for (let j = 0; j < l; j++) {
        K.u64(a, N).set(ds[j]!);
        for (let q = 0; q <= k; q++) {
          const row = (p * l + j) * (k + 1) + q;
          K.u64(b, N).set(g.data.subarray(row * N, (row + 1) * N));
          K.k.polyMulNaive(o, a, b, N);
          const r = K.u64(o, N);
          for (let i = 0; i < N; i++) exact[q]![i] = BigInt.asUintN(64, exact[q]![i]! + r[i]!);
        }
      }
    }
  } finally {
    [a, b, o].forEach((p) => K.free(p));
  }
  let s2 = 0;
  for (let q = 0; q <= k; q++) for (let i = 0; i < N; i++) s2 += (Number(BigInt.asIntN(64, out.data[q * N + i]! - exact[q]![i]!)) / 2 ** 64) ** 2;
  const variance = s2 / ((k + 1) * N);
  return variance / ((k + 1) * l * N * 2 ** (2 * beta) * Math.log2(N) * 2 ** -106);
}

for (const [k, N, beta, l] of [[4, 512, 23, 1], [1, 2048, 23, 1], [1, 4096, 15, 2]] as const) {
  test(`FFT error coefficient at k=${k}, N=${N}, β=${beta}, l=${l} matches FFT_NOISE_COEFFICIENT (±25%)`, () => {
    const c = measuredCoefficient(k, N, beta, l);
    assert.ok(Math.abs(c / FFT_NOISE_COEFFICIENT - 1) < 0.25, `measured c = ${c.toFixed(4)} vs ${FFT_NOISE_COEFFICIENT}`);
  });
}
