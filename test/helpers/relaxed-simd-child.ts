// Child process of test/kernels/relaxed-simd.test.ts, started with --experimental-wasm-relaxed-simd (Node
// 20 has relaxed SIMD behind that flag). Measures the FFT error coefficient of the external product with
// both kernel builds, checks exact FFT round trips, and runs PBS with the default build (relaxed here);
// prints one JSON line.
import { createKernels, kernels, relaxedSimdSupported, type Kernels, type KernelVariant } from "../../src/kernels/wasm.js";
import { ClientKey, ServerKey, UNSAFE_TEST_PARAMS_SMALL } from "../../src/tfhe/index.js";
import { testRng } from "./keys.js";

/** c of fftVariance's model for one random external product (GGSW and GLWE words uniform). */
function fftCoefficient(K: Kernels, k: number, N: number, beta: number, l: number, seed: number): number {
  const rng = testRng(seed);
  const word = (): bigint => (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  const polys = (k + 1) * l * (k + 1);
  const ggsw = K.alloc(polys * N * 8), ggswF = K.alloc(polys * N * 8), glwe = K.alloc((k + 1) * N * 8), out = K.alloc((k + 1) * N * 8);
  const scratch = K.alloc(K.k.externalProductScratchBytes(k, N, l));
  const dig = K.alloc(l * N * 8), a = K.alloc(N * 8), o = K.alloc(N * 8);
  try {
    K.u64(ggsw, polys * N).set(Array.from({ length: polys * N }, word));
    K.u64(glwe, (k + 1) * N).set(Array.from({ length: (k + 1) * N }, word));
    K.k.fftForwardManyI64(ggsw, ggswF, polys, N);
    K.u64(out, (k + 1) * N).fill(0n);
    K.k.externalProduct(out, ggswF, glwe, k, N, beta, l, scratch);
    const exact = Array.from({ length: k + 1 }, () => new BigUint64Array(N));
    for (let p = 0; p <= k; p++) {
      K.k.decomposePolyF64(glwe + p * N * 8, dig, N, beta, l);
      for (let j = 0; j < l; j++) {
        const d = K.f64(dig + j * N * 8, N);
        K.u64(a, N).set(Array.from(d, (x) => BigInt.asUintN(64, BigInt(x))));
        for (let q = 0; q <= k; q++) {
          K.k.polyMulNaive(o, a, ggsw + ((p * l + j) * (k + 1) + q) * N * 8, N);
          const r = K.u64(o, N);
          for (let i = 0; i < N; i++) exact[q]![i] = BigInt.asUintN(64, exact[q]![i]! + r[i]!);
        }
      }
    }
    const got = K.u64(out, (k + 1) * N);
    let s2 = 0;
    for (let q = 0; q <= k; q++) for (let i = 0; i < N; i++) s2 += (Number(BigInt.asIntN(64, got[q * N + i]! - exact[q]![i]!)) / 2 ** 64) ** 2;
    return s2 / ((k + 1) * N) / ((k + 1) * l * N * 2 ** (2 * beta) * Math.log2(N) * 2 ** -106);
  } finally {
    for (const p of [ggsw, ggswF, glwe, out, scratch, dig, a, o]) K.free(p);
  }
}

function roundTripExact(K: Kernels): boolean {
  const N = 2048, rng = testRng(9);
  const src = K.alloc(N * 8), f = K.alloc(N * 8), dst = K.alloc(N * 8);
  try {
    K.u64(src, N).set(Array.from({ length: N }, () => BigInt.asUintN(64, BigInt(Math.floor(rng() * 2 ** 20) - 2 ** 19))));
    K.k.fftForwardI64(src, f, N);
    K.k.fftBackwardToI64(f, dst, N);
    return K.u64(dst, N).every((v, i) => v === K.u64(src, N)[i]);
  } finally {
    K.free(src); K.free(f); K.free(dst);
  }
}

const shapes = [[1, 2048, 23, 1], [1, 1024, 15, 2], [2, 512, 10, 3]] as const;
const result: Record<string, unknown> = { supported: relaxedSimdSupported(), defaultVariant: kernels().variant };
for (const variant of ["simd", "relaxed-simd"] as KernelVariant[]) {
  const K = createKernels(variant);
  result[variant] = {
    roundTripExact: roundTripExact(K),
    coefficients: shapes.map(([k, N, b, l], i) => fftCoefficient(K, k, N, b, l, 100 + i)),
  };
}
// PBS with the default build of this process (relaxed SIMD under the flag): every 4-bit input.
const client = ClientKey.generate(UNSAFE_TEST_PARAMS_SMALL);
const server = new ServerKey(client.evaluationKeys());
const xs = Array.from({ length: 16 }, (_, i) => i);
const got = client.decrypt(server.apply(client.encrypt(xs), (x) => (x * 7 + 5) % 16));
result["pbsCorrect"] = xs.every((x, i) => got[i] === (x * 7 + 5) % 16);
server.free();
process.stdout.write(JSON.stringify(result) + "\n");
