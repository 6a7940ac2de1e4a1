// FLOP counts of the kernels (what the FFT and PBS rows are measured against) and the nominal peak of
// 128-bit WebAssembly SIMD on this machine, so each run shows its distance to the physical limit.
import os from "node:os";
import { readFileSync } from "node:fs";
import type { TfheParameters } from "../src/tfhe/index.js";

/**
 * Real FLOPs of one negacyclic FFT of size N: an M = N/2-point complex FFT, 5·M·log2(M) (the usual radix-2
 * count; our radix-4/8 passes do a little less), plus the twist, 6·M.
 */
export function fftFlops(N: number): number {
  const M = N / 2;
  return 5 * M * Math.log2(M) + 6 * M;
}

/**
 * FLOPs of one classic PBS's blind rotation: n CMux, each (k+1)·l forward FFTs, (k+1) backward FFTs and
 * (k+1)²·l·M complex multiply-adds (8 real FLOPs each). Key switch and sample extraction are integer work.
 */
export function pbsFlops(p: TfheParameters): number {
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsLevel: l } = p;
  const perCmux = ((k + 1) * l + (k + 1)) * fftFlops(N) + (k + 1) ** 2 * l * (N / 2) * 8;
  return n * perCmux;
}

/**
 * Nominal peak of f64x2 arithmetic: clock × 2 vector FP ports × 2 lanes (separate multiply and add, no
 * FMA in baseline WebAssembly SIMD); `fma` doubles it (relaxed_madd). The clock is the nominal one the OS
 * reports (turbo and sharing move the real figure either way).
 */
export function simdPeakGflops({ fma = false }: { fma?: boolean } = {}): { gflops: number; mhz: number } {
  let mhz = os.cpus()[0]?.speed ?? 0;
  if (!(mhz > 0)) { // some VMs report 0 through os.cpus(): /proc/cpuinfo's "cpu MHz" on Linux
    try {
      mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? 0);
    } catch {
      mhz = 0;
    }
  }
  return { gflops: (mhz / 1000) * 2 * 2 * (fma ? 2 : 1), mhz };
}
