// Baseline SIMD vs relaxed SIMD (fused multiply-add) kernels, interleaved in one process: FFT pairs and a
// blind rotation at a parameter set's shape on each build's own instance (random key words: the time does
// not depend on them). Needs an engine with relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd).
import { createKernels, relaxedSimdSupported, type Kernels, type KernelVariant } from "../../src/kernels/wasm.js";
import type { TfheParameters } from "../../src/tfhe/index.js";
import { fftFlops, pbsFlops, simdPeakGflops } from "../flops.js";
import { round } from "../format.js";
import { latency, median, type BenchResult } from "../harness.js";

function cpuMs(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

interface Setup { K: Kernels; fft: () => void; rotate: () => void }

function setup(variant: KernelVariant, p: TfheParameters, pairs: number): Setup {
  const K = createKernels(variant);
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsBaseLog: b, pbsLevel: l } = p;
  const F = 2048;
  const src = K.alloc(F * 8), f = K.alloc(F * 8), dst = K.alloc(F * 8);
  K.u64(src, F).fill(12345n);
  const words = (k + 1) ** 2 * l * N;
  const table = K.alloc(n * 4), stage = K.alloc(words * 8);
  const w = K.u64(stage, words);
  for (let i = 0; i < words; i++) w[i] = BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n);
  const ggsws: number[] = [];
  for (let i = 0; i < n; i++) { const g = K.alloc(words * 8); K.k.fftForwardManyI64(stage, g, words / N, N); ggsws.push(g); }
  K.u32(table, n).set(ggsws);
  const acc = K.alloc((k + 1) * N * 8), lut = K.alloc(N * 8), lwe = K.alloc((n + 1) * 8);
  const lw = K.u64(lwe, n + 1);
  for (let i = 0; i <= n; i++) lw[i] = BigInt.asUintN(64, BigInt(i + 1) * 0x5851f42d4c957f2dn);
  const scratch = K.alloc(K.k.blindRotateScratchBytes(n, k, N, l));
  return {
    K,
    fft: () => { for (let i = 0; i < pairs; i++) { K.k.fftForwardI64(src, f, F); K.k.fftBackwardToI64(f, dst, F); } },
    rotate: () => K.k.blindRotate(acc, lut, lwe, table, n, k, N, b, l, scratch),
  };
}

export function benchRelaxedSimd(p: TfheParameters, emit: (r: BenchResult) => void, rounds: number): void {
  if (!relaxedSimdSupported()) {
    emit({
      name: "relaxed-simd/available", section: "speed", value: 0, n: 1, unit: "flag",
      note: "relaxed SIMD is not enabled in this engine (Node 20: run with --experimental-wasm-relaxed-simd): baseline SIMD kernels only",
    });
    return;
  }
  const pairs = 200;
  const runs = (["simd", "relaxed-simd"] as const).map((v) => ({ v, s: setup(v, p, pairs), fft: [] as number[], rot: [] as number[] }));
  for (const r of runs) { r.s.fft(); r.s.rotate(); }
  for (let i = 0; i < rounds; i++) {
    for (const r of i % 2 === 0 ? runs : [...runs].reverse()) { r.fft.push(cpuMs(r.s.fft)); r.rot.push(cpuMs(r.s.rotate)); }
  }
  const peak = simdPeakGflops(), peakFma = simdPeakGflops({ fma: true });
  for (const r of runs) {
    const gf = (2 * pairs * fftFlops(2048)) / (median(r.fft) * 1e6);
    emit({
      name: `fft/2048/${r.v}`, section: "speed", value: round(gf, 3), median_ms: round(median(r.fft)), n: r.fft.length, unit: "GFLOP/s",
      note: `${pairs} forward + backward pairs (CPU ms); nominal f64x2 peak ${round(r.v === "simd" ? peak.gflops : peakFma.gflops, 3)} GFLOP/s` +
        `${r.v === "simd" ? " (mul + add)" : " (FMA)"}`,
    });
    emit(latency(`blind-rotation/${p.name}/${r.v}`, "speed", r.rot, {
      params: p.name, note: `CPU ms; ${round(pbsFlops(p) / (median(r.rot) * 1e6), 3)} GFLOP/s`,
    }));
  }
  emit({
    name: `relaxed-simd/speedup/${p.name}`, section: "speed", value: round(median(runs[0]!.rot) / median(runs[1]!.rot), 3), n: rounds, unit: "x",
    note: `blind rotation, simd ÷ relaxed-simd CPU medians, interleaved; FFT pairs ${round(median(runs[0]!.fft) / median(runs[1]!.fft), 3)}×`,
  });
}
