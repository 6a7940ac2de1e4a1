// Runs inside a Web Worker of headless Chromium (bench/browser.ts bundles it): blind rotation at a
// parameter set's shape with each kernel build the engine supports, the same work as the Node rows of
// bench/sections/relaxed.ts. Workers may compile WebAssembly synchronously; a page's main thread may not.
import { relaxedSimdSupported, type KernelVariant } from "../src/kernels/wasm.js";
import { rotationTimes, type RotationShape, type RotationTimes } from "./rotation-times.js";

self.onmessage = (e: MessageEvent<{ shape: RotationShape; reps: number; batch: number }>) => {
  const { shape, reps, batch } = e.data;
  const variants: KernelVariant[] = relaxedSimdSupported() ? ["simd", "relaxed-simd"] : ["simd"];
  const out: Record<string, RotationTimes> = {};
  for (const v of variants) out[v] = rotationTimes(v, shape, reps, batch);
  (self as unknown as { postMessage(m: unknown): void }).postMessage({ relaxed: relaxedSimdSupported(), out, ua: navigator.userAgent });
};
