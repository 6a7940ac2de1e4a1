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
 * Nominal peak of 128-bit f64 SIMD: clock × 4 vector FP pipes × 2 lanes, multiplies and adds issued
 * separately (baseline WebAssembly SIMD has no FMA) — the "≈ 24 GFLOP/s at 3 GHz" of a Zen 3 core; with
 * `fma` (relaxed_madd) two of the pipes count twice. The clock is the nominal one the OS reports (turbo and
 * sharing move the real figure either way), and fftFlops is the radix-2 count, above what the radix-4/8
 * passes execute: "GFLOP/s" figures are nominal work per second, comparable between runs, not pipe usage.
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
  return { gflops: (mhz / 1000) * 2 * (fma ? 6 : 4), mhz };
}
