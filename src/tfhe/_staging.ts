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

/**
 * Kernel memory a bulk operation stages at once. Operations on batches larger than this (decryption,
 * expansion of seeded batches, linear ops) run chunk by chunk: a single kernel allocation cannot exceed
 * the allocator's 1 GiB block size, and small chunks keep the kernel's memory (which never shrinks) flat.
 */
export const STAGING_BYTES = 32 << 20;

/** How many items of `bytesPerItem` fit in one staging chunk (at least one). */
export function chunkItems(bytesPerItem: number): number {
  return Math.max(1, Math.floor(STAGING_BYTES / bytesPerItem));
}
