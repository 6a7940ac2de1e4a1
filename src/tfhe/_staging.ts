// Scoped kernel memory for one operation: allocate, run, always free (also on throw).
import { kernels, type Kernels } from "../kernels/wasm.js";

export function withKernelMemory<T>(byteSizes: readonly number[], fn: (K: Kernels, ...ptrs: number[]) => T): T {
  const K = kernels();
  const ptrs: number[] = [];
  try {
    for (const s of byteSizes) ptrs.push(K.alloc(s));
    return fn(K, ...ptrs);
  } finally {
    for (const p of ptrs) K.free(p);
  }
}
