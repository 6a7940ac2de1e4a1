// Runs inside a Web Worker of headless Chromium (bench/browser.ts bundles it): blind rotation at a
// parameter set's shape with each kernel build the engine supports, the same work as the Node rows of
// bench/sections/relaxed.ts. Workers may compile WebAssembly synchronously; a page's main thread may not.
import { createKernels, relaxedSimdSupported, type KernelVariant } from "../src/kernels/wasm.js";

interface Shape { n: number; k: number; N: number; b: number; l: number }

function rotationTimes(variant: KernelVariant, s: Shape, reps: number, batch: number): { single: number[]; batched: number[] } {
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
  K.k.blindRotate(accs, lut, lwes, table, n, k, N, b, l, scratch);
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

self.onmessage = (e: MessageEvent<{ shape: Shape; reps: number; batch: number }>) => {
  const { shape, reps, batch } = e.data;
  const variants: KernelVariant[] = relaxedSimdSupported() ? ["simd", "relaxed-simd"] : ["simd"];
  const out: Record<string, { single: number[]; batched: number[] }> = {};
  for (const v of variants) out[v] = rotationTimes(v, shape, reps, batch);
  (self as unknown as { postMessage(m: unknown): void }).postMessage({ relaxed: relaxedSimdSupported(), out, ua: navigator.userAgent });
};
