// Explicit memory management for the TypeScript side: it owns every buffer it allocates here and frees it.
// Uses the runtime's TLSF allocator without the GC (unmanaged blocks), 16-byte aligned for v128 loads.

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function dealloc(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

export function memoryPages(): i32 {
  return memory.size();
}
