// Blind rotation timing shared by the browser benchmark's two halves (bench/browser.ts on Node,
// bench/browser-entry.ts in a Chromium Web Worker), so both time exactly the same work. It is bundled for
// the browser: no Node imports here. Wall-clock times (a browser has no thread CPU clock); the key words
// are arbitrary (the time does not depend on them).
import { createKernels, type KernelVariant } from "../src/kernels/wasm.js";

/** A parameter set's shape: LWE dimension n, GLWE dimension k, polynomial size N, base log b, levels l. */
export interface RotationShape { n: number; k: number; N: number; b: number; l: number }

/** Wall ms per run: one blind rotation alone, and per rotation inside a batch. */
export interface RotationTimes { single: number[]; batched: number[] }

export function rotationTimes(variant: KernelVariant, s: RotationShape, reps: number, batch: number): RotationTimes {
  const K = createKernels(variant);
  const { n, k, N, b, l } = s;
  const words = (k + 1) ** 2 * l * N;
  const stage = K.alloc(words * 8), table = K.alloc(n * 4);
  const w = K.u64(stage, words);
  for (let i = 0; i < words; i++) w[i] = BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n);
  const ptrs: number[] = [];
  for (let i = 0; i < n; i++) { const g = K.alloc(words * 8); K.k.fftForwardManyI64(stage, g, words / N, N); ptrs.push(g); }
  K.u32(table, n).set(ptrs);
  const accs = K.alloc(batch * (k + 1) * N * 8), lut = K.alloc(N * 8), lwes = K.alloc(batch * (n + 1) * 8);
  const lw = K.u64(lwes, batch * (n + 1));
  for (let i = 0; i < lw.length; i++) lw[i] = BigInt.asUintN(64, BigInt(i + 1) * 0x5851f42d4c957f2dn);
  const scratch = K.alloc(K.k.blindRotateBatchScratchBytes(n, k, N, l, batch));
  const single: number[] = [], batched: number[] = [];
  K.k.blindRotate(accs, lut, lwes, table, n, k, N, b, l, scratch); // warm-up
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    K.k.blindRotate(accs, lut, lwes, table, n, k, N, b, l, scratch);
    single.push(performance.now() - t);
    t = performance.now();
    K.k.blindRotateBatch(accs, lut, lwes, batch, table, n, k, N, b, l, scratch);
    batched.push((performance.now() - t) / batch);
  }
  return { single, batched };
}
