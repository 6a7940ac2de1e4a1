// FFT throughput: forward (i64 → Fourier) + backward (Fourier → i64) negacyclic FFT pairs per second on
// the kernels, with an exactness check of the round trip.
import { kernels } from "../../src/kernels/wasm.js";
import { round } from "../format.js";
import { median, sample } from "../harness.js";
import type { Ctx } from "../plan.js";
import { fftFlops, simdPeakGflops } from "../flops.js";

export function benchFft(ctx: Ctx): void {
  const { plan, emit, log } = ctx;
  const N = plan.fftN;
  log(`FFT N=${N}`);
  const K = kernels();
  const src = K.alloc(N * 8), f = K.alloc(N * 8), dst = K.alloc(N * 8);
  try {
    const a = K.u64(src, N);
    for (let i = 0; i < N; i++) a[i] = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 20) - 2 ** 19));
    K.k.fftForwardI64(src, f, N);
    K.k.fftBackwardToI64(f, dst, N);
    const ok = K.u64(dst, N).every((v, i) => v === K.u64(src, N)[i]);
    const samples = sample(() => {
      for (let i = 0; i < plan.fftPairs; i++) {
        K.k.fftForwardI64(src, f, N);
        K.k.fftBackwardToI64(f, dst, N);
      }
    }, plan.fftReps);
    const med = median(samples);
    emit({
      name: `fft/${N}`, section: "fft", median_ms: round(med), min_ms: round(Math.min(...samples)), max_ms: round(Math.max(...samples)),
      value: round(plan.fftPairs / (med / 1000)), batch: plan.fftPairs,
      note: `forward (i64 → Fourier) + backward (Fourier → i64) negacyclic FFT pairs per second; median_ms per ${plan.fftPairs} pairs` +
        `; ≈ ${round((2 * plan.fftPairs * fftFlops(N)) / (med * 1e6), 3)} nominal GFLOP/s against a nominal 128-bit SIMD peak of ` +
        `${round(simdPeakGflops().gflops, 3)} GFLOP/s (bench/flops.ts)` +
        (ok ? "" : "; WARNING: round trip of 20-bit values was not exact"),
      n: samples.length, unit: "pairs/s",
    });
  } finally {
    K.free(src); K.free(f); K.free(dst);
  }
}
