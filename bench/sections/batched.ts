// Batched blind rotation: per-PBS time of `count` ciphertexts blind-rotated one at a time (blindRotate,
// one pass over the Fourier bootstrapping key each) and together (blindRotateBatch, one pass for all),
// measured interleaved in the same process (the machine is shared: A/B in alternation, medians), with
// the key bytes each PBS streams and the FLOP rate against the nominal SIMD peak.
import { kernels } from "../../src/kernels/wasm.js";
import type { ServerKey, TfheParameters } from "../../src/tfhe/index.js";
import { fmtBytes } from "../format.js";
import { latency, type BenchResult } from "../harness.js";
import { pbsFlops, simdPeakGflops } from "../flops.js";
import { round } from "../format.js";

export const BATCH_SIZES: readonly number[] = [1, 2, 4, 8];

/** Interleaved A/B rounds of one-at-a-time vs batched blind rotation at each batch size (resident keys). */
export function benchBatchedRotation(
  server: ServerKey, emit: (r: BenchResult) => void, rounds: number, sizes: readonly number[] = BATCH_SIZES,
): void {
  const p: TfheParameters = server.params;
  const table = server.bsk.table;
  if (!table) return; // streamed keys: the pass over host memory dominates anyway
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsBaseLog: b, pbsLevel: l } = p;
  const K = kernels();
  const maxB = Math.max(...sizes);
  const accWords = (k + 1) * N;
  const lwes = K.alloc(maxB * (n + 1) * 8), lut = K.alloc(N * 8), accs = K.alloc(maxB * accWords * 8);
  const scratch = K.alloc(K.k.blindRotateBatchScratchBytes(n, k, N, l, maxB));
  const scratch1 = K.alloc(K.k.blindRotateScratchBytes(n, k, N, l));
  try {
    const words = K.u64(lwes, maxB * (n + 1));
    for (let i = 0; i < words.length; i++) words[i] = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 53)) << 11n);
    K.u64(lut, N).fill(1n << 60n);
    const single = (count: number): void => {
      for (let c = 0; c < count; c++) K.k.blindRotate(accs + c * accWords * 8, lut, lwes + c * (n + 1) * 8, table.ptr, n, k, N, b, l, scratch1);
    };
    const batch = (count: number): void => { K.k.blindRotateBatch(accs, lut, lwes, count, table.ptr, n, k, N, b, l, scratch); };
    // Thread CPU time, not wall time: on a shared machine the wall clock also counts the time other
    // processes held this core (the cache effects of sharing remain).
    const timeOf = (fn: () => void): number => { const t = process.cpuUsage(); fn(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };
    single(1); batch(1); // warm-up (FFT tables, code)
    const a = new Map<number, number[]>(sizes.map((s) => [s, []])), z = new Map<number, number[]>(sizes.map((s) => [s, []]));
    for (let r = 0; r < rounds; r++) {
      for (const s of sizes) {
        // Alternate which goes first, so neither always runs on a cache the other warmed.
        if (r % 2 === 0) { a.get(s)!.push(timeOf(() => single(s)) / s); z.get(s)!.push(timeOf(() => batch(s)) / s); }
        else { z.get(s)!.push(timeOf(() => batch(s)) / s); a.get(s)!.push(timeOf(() => single(s)) / s); }
      }
    }
    const keyBytes = server.bsk.blocks.reduce((t, blk) => t + blk.byteLength, 0);
    const flops = pbsFlops(p);
    const peak = simdPeakGflops();
    for (const s of sizes) {
      const one = latency(`blind-rotation/${p.name}/one-at-a-time/x${s}`, "speed", a.get(s)!, {
        params: p.name, batch: s,
        note: `CPU ms per PBS; ${s} blindRotate calls, each streaming the whole Fourier BSK (${fmtBytes(keyBytes)} per PBS)`,
      });
      const bat = latency(`blind-rotation/${p.name}/batched/x${s}`, "speed", z.get(s)!, {
        params: p.name, batch: s,
        note: `CPU ms per PBS; one blindRotateBatch of ${s}: the Fourier BSK streamed once per batch (${fmtBytes(keyBytes / s)} per PBS); ` +
          `${round(flops / 1e6, 3)} MFLOP per PBS → ${round(flops / (bat0(z.get(s)!) * 1e6), 3)} GFLOP/s ` +
          `(nominal f64x2 peak ${round(peak.gflops, 3)} GFLOP/s at ${peak.mhz} MHz, 4 pipes, no FMA)`,
      });
      emit(one);
      emit(bat);
      emit({
        name: `blind-rotation/${p.name}/batch-speedup/x${s}`, section: "speed", params: p.name, batch: s,
        value: round(one.median_ms! / bat.median_ms!, 3), n: a.get(s)!.length, unit: "x",
        note: "one-at-a-time ÷ batched per-PBS medians, interleaved in the same run",
      });
    }
  } finally {
    for (const ptr of [lwes, lut, accs, scratch, scratch1]) K.free(ptr);
  }
}

function bat0(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}
