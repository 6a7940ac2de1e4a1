// Loads the WebAssembly kernels (one instance per thread) and exposes typed views on their memory.
// The FFT kernels need per-size tables (twiddles); the wrapper builds them on the first call at each
// polynomial size, so no caller has to initialise anything.
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./wasm-binary.generated.js";

/**
 * The exports of the kernel module (pointers are byte offsets into `memory`). `KERNEL_EXPORTS` lists
 * them at run time; a test checks both against the compiled module.
 */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  alloc(size: number): number;
  dealloc(ptr: number): void;
  memoryPages(): number;
  /** Builds the FFT tables of size N (idempotent). Never needed: every export that reads them calls it. */
  fftInit(N: number): void;
  fftForwardI64(src: number, dst: number, N: number): void;
  fftForwardF64(src: number, dst: number, N: number): void;
  fftBackwardAddTorus(f: number, dst: number, N: number): void;
  fftBackwardToI64(f: number, dst: number, N: number): void;
  fourierMulAcc(acc: number, a: number, b: number, N: number): void;
  fourierMul(out: number, a: number, b: number, N: number): void;
  fftForwardDigits(src: number, N: number, baseLog: number, levels: number, out: number): void;
  fourierCombine(out: number, factors: number, ptrs: number, P: number, rows: number, N: number): void;
  decomposePolyF64(src: number, dst: number, N: number, baseLog: number, levels: number): void;
  polyRotate(dst: number, src: number, N: number, shift: number): void;
  polyMulSmallAdd(out: number, a: number, smallF: number, N: number, scratch: number): void;
  polyMulNaive(out: number, a: number, b: number, N: number): void;
  blindRotateScratchBytes(n: number, k: number, N: number, levels: number): number;
  fftForwardManyI64(src: number, dst: number, count: number, N: number): void;
  modulusSwitch(out: number, lwe: number, n: number, N: number): void;
  blindRotate(acc: number, lut: number, lwe: number, bskTable: number, n: number, k: number, N: number,
    baseLog: number, levels: number, scratch: number): void;
  blindRotateInit(acc: number, lut: number, lwe: number, n: number, k: number, N: number, levels: number, scratch: number): number;
  blindRotateBatchScratchBytes(n: number, k: number, N: number, levels: number, count: number): number;
  blindRotateBatch(accs: number, lut: number, lwes: number, count: number, bskTable: number, n: number, k: number, N: number,
    baseLog: number, levels: number, scratch: number): void;
  cmuxStep(acc: number, ggsw: number, a: number, k: number, N: number, baseLog: number, levels: number, scratch: number): void;
  sampleExtract(out: number, glwe: number, k: number, N: number, idx: number): void;
  externalProductScratchBytes(k: number, N: number, levels: number): number;
  externalProduct(out: number, ggsw: number, glwe: number, k: number, N: number, baseLog: number, levels: number, scratch: number): void;
  multiBitInit(N: number): void;
  multiBitScratchBytes(n: number, d: number, k: number, N: number, levels: number, count: number): number;
  multiBitModulusSwitch(out: number, lwe: number, n: number, d: number, N: number): void;
  multiBitStep(acc: number, ggsws: number, mods: number, d: number, k: number, N: number, baseLog: number, levels: number, scratch: number): void;
  multiBitAccInit(acc: number, lut: number, mods: number, n: number, d: number, k: number, N: number): void;
  multiBitBlindRotateBatch(accs: number, lut: number, lwes: number, count: number, table: number, n: number, d: number, k: number,
    N: number, baseLog: number, levels: number, scratch: number): void;
  keyswitchRowWords32(nOut: number): number;
  keyswitchInit32(acc: number, nOut: number): void;
  keyswitchRange32(acc: number, inp: number, count: number, nIn: number, ksk: number, iStart: number, iEnd: number, nOut: number,
    baseLog: number, levels: number, digits: number): void;
  keyswitchFinish32(out: number, acc: number, inp: number, nIn: number, nOut: number): void;
  keyswitchKeyTo32(dst: number, src: number, rows: number, nOut: number): void;
  addAssign(dst: number, src: number, len: number): void;
  subAssign(dst: number, src: number, len: number): void;
  scalarMulAssign(dst: number, len: number, w: bigint): void;
  mulAddAssign(dst: number, src: number, len: number, w: bigint): void;
  matmul(out: number, inp: number, W: number, rows: number, cols: number, dim1: number): void;
  dot(a: number, s: number, n: number): bigint;
  batchPhase(out: number, cts: number, count: number, n: number, s: number): void;
  batchSetBody(cts: number, count: number, n: number, s: number, add: number): void;
  chacha20Blocks(key: number, nonce: number, counter: number, out: number, nBlocks: number): void;
}

/** Each export's kind: "memory", or a function's parameter count (its WebAssembly arity). */
export type KernelExportKinds = {
  readonly [K in keyof KernelExports]: KernelExports[K] extends (...args: infer A) => unknown ? A["length"] : "memory";
};

/** `KernelExports` at run time (the compiler checks that the two agree, name by name and arity by arity). */
export const KERNEL_EXPORTS: KernelExportKinds = Object.freeze({
  memory: "memory", alloc: 1, dealloc: 1, memoryPages: 0,
  fftInit: 1, fftForwardI64: 3, fftForwardF64: 3, fftBackwardAddTorus: 3, fftBackwardToI64: 3, fourierMulAcc: 4, fourierMul: 4, fftForwardDigits: 5, fourierCombine: 6,
  decomposePolyF64: 5, polyRotate: 4, polyMulSmallAdd: 5, polyMulNaive: 4,
  blindRotateScratchBytes: 4, fftForwardManyI64: 4, modulusSwitch: 4, blindRotate: 10, blindRotateInit: 8, cmuxStep: 8,
  blindRotateBatchScratchBytes: 5, blindRotateBatch: 11,
  sampleExtract: 5, externalProductScratchBytes: 3, externalProduct: 8,
  multiBitInit: 1, multiBitScratchBytes: 6, multiBitModulusSwitch: 5, multiBitStep: 9, multiBitAccInit: 7, multiBitBlindRotateBatch: 12,
  keyswitchRowWords32: 1, keyswitchInit32: 2, keyswitchRange32: 11, keyswitchFinish32: 5, keyswitchKeyTo32: 4,
  addAssign: 3, subAssign: 3, scalarMulAssign: 3, mulAddAssign: 4, matmul: 6, dot: 3, batchPhase: 5, batchSetBody: 5,
  chacha20Blocks: 5,
});

/** Largest polynomial size the FFT tables cover (MAX_LOG_N of the FFT kernel). */
const MAX_FFT_SIZE = 2 ** 17;

/**
 * The exports with lazy FFT tables: every export that reads them first builds the tables of its size N
 * (once per size and instance; a bad N is a RangeError instead of a read outside the tables). The first
 * call at a new size allocates, which may grow memory: take fresh views after it, as after any call.
 */
function withLazyFftTables(raw: KernelExports): KernelExports {
  const ready = new Set<number>();
  const init = (N: number): void => {
    if (ready.has(N)) return;
    if (!Number.isInteger(N) || N < 2 || N > MAX_FFT_SIZE || (N & (N - 1)) !== 0) {
      throw new RangeError(`FFT polynomial size must be a power of two in [2, ${MAX_FFT_SIZE}], got ${N}`);
    }
    raw.fftInit(N);
    ready.add(N);
  };
  return Object.freeze({
    ...raw,
    fftInit: init,
    fftForwardI64: (src, dst, N) => { init(N); raw.fftForwardI64(src, dst, N); },
    fftForwardF64: (src, dst, N) => { init(N); raw.fftForwardF64(src, dst, N); },
    fftBackwardAddTorus: (f, dst, N) => { init(N); raw.fftBackwardAddTorus(f, dst, N); },
    fftBackwardToI64: (f, dst, N) => { init(N); raw.fftBackwardToI64(f, dst, N); },
    fftForwardDigits: (src, N, baseLog, levels, out) => { init(N); raw.fftForwardDigits(src, N, baseLog, levels, out); },
    fftForwardManyI64: (src, dst, count, N) => { init(N); raw.fftForwardManyI64(src, dst, count, N); },
    polyMulSmallAdd: (out, a, smallF, N, scratch) => { init(N); raw.polyMulSmallAdd(out, a, smallF, N, scratch); },
    blindRotate: (acc, lut, lwe, bskTable, n, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.blindRotate(acc, lut, lwe, bskTable, n, k, N, baseLog, levels, scratch);
    },
    blindRotateBatch: (accs, lut, lwes, count, bskTable, n, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.blindRotateBatch(accs, lut, lwes, count, bskTable, n, k, N, baseLog, levels, scratch);
    },
    cmuxStep: (acc, ggsw, a, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.cmuxStep(acc, ggsw, a, k, N, baseLog, levels, scratch);
    },
    multiBitInit: (N) => { init(N); raw.multiBitInit(N); },
    multiBitStep: (acc, ggsws, mods, d, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.multiBitInit(N);
      raw.multiBitStep(acc, ggsws, mods, d, k, N, baseLog, levels, scratch);
    },
    multiBitBlindRotateBatch: (accs, lut, lwes, count, table, n, d, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.multiBitBlindRotateBatch(accs, lut, lwes, count, table, n, d, k, N, baseLog, levels, scratch);
    },
    externalProduct: (out, ggsw, glwe, k, N, baseLog, levels, scratch) => {
      init(N);
      raw.externalProduct(out, ggsw, glwe, k, N, baseLog, levels, scratch);
    },
  } satisfies KernelExports);
}

/**
 * The largest single kernel allocation, in bytes: the TLSF allocator's block size limit (2^30 less its
 * 4-byte block header). `Kernels.alloc` refuses larger requests with a RangeError; bulk operations stage
 * their data in smaller chunks (`_staging.ts`) and resident keys are split into blocks.
 */
export const MAX_KERNEL_ALLOCATION_BYTES = 2 ** 30 - 4;

/** Thrown when the platform cannot run the SIMD kernels. */
export class KernelUnavailableError extends Error {
  override name = "KernelUnavailableError";
}

/**
 * The two builds of the kernels: "simd" (baseline WebAssembly SIMD, separately rounded multiplies and
 * adds) and "relaxed-simd" (the same sources with f64x2.relaxed_madd in the FFT and product kernels: a
 * fused multiply-add where the engine has one). Results differ only by rounding, within the FFT noise
 * term of the noise model (test/kernels/relaxed-simd.test.ts measures both).
 */
export type KernelVariant = "simd" | "relaxed-simd";

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function wasmBytes(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  return decodeBase64(variant === "relaxed-simd" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
}

// (func (param v128 v128 v128) (result v128) f64x2.relaxed_madd): valid only where relaxed SIMD is on
// (Chromium by default; Node 20 behind --experimental-wasm-relaxed-simd).
const RELAXED_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x87, 0x02, 0x0b,
]);

/** True when this engine validates relaxed SIMD (f64x2.relaxed_madd). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** The build `kernels()` loads: relaxed SIMD where the engine supports it, else baseline SIMD. */
export function defaultKernelVariant(): KernelVariant {
  return relaxedSimdSupported() ? "relaxed-simd" : "simd";
}

function imports(getMemory: () => WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      abort(msgPtr: number, filePtr: number, line: number, col: number): void {
        void getMemory; void msgPtr; void filePtr;
        throw new Error(`umbra kernel abort at ${line}:${col}`);
      },
      seed: (): number => 0, // Math.random is never used by the kernels
    },
  };
}

let instance: Kernels | undefined;

function validatedBytes(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  const bytes = wasmBytes(variant);
  if (!WebAssembly.validate(bytes)) {
    throw new KernelUnavailableError(variant === "relaxed-simd"
      ? "this platform lacks WebAssembly relaxed SIMD (the relaxed-simd kernel build); use the \"simd\" build"
      : "this platform lacks WebAssembly SIMD, which umbra's kernels need");
  }
  return bytes;
}

/** The compiled kernel module (synchronous compilation; what `kernels()` instantiates). */
export function kernelModule(variant: KernelVariant = defaultKernelVariant()): WebAssembly.Module {
  return new WebAssembly.Module(validatedBytes(variant));
}

function instantiate(mod: WebAssembly.Module, variant: KernelVariant): Kernels {
  let mem: WebAssembly.Memory | undefined;
  const inst = new WebAssembly.Instance(mod, imports(() => mem!));
  const ex = inst.exports as unknown as KernelExports;
  mem = ex.memory;
  return new Kernels(ex, variant);
}

/** The kernels of this thread (compiled synchronously on first use; use `initKernels` in browsers). */
export function kernels(): Kernels {
  if (instance) return instance;
  const variant = defaultKernelVariant();
  instance = instantiate(kernelModule(variant), variant);
  return instance;
}

/**
 * A separate kernel instance of a chosen build (its own memory), for tests and benchmarks that compare
 * the two; the library itself uses `kernels()`. A KernelUnavailableError where the build does not validate.
 */
export function createKernels(variant: KernelVariant): Kernels {
  return instantiate(kernelModule(variant), variant);
}

/** Asynchronous initialisation (required on browser main threads, where sync compilation is limited). */
export async function initKernels(): Promise<Kernels> {
  if (instance) return instance;
  let mem: WebAssembly.Memory | undefined;
  const variant = defaultKernelVariant();
  const { instance: inst } = await WebAssembly.instantiate(validatedBytes(variant), imports(() => mem!));
  const ex = inst.exports as unknown as KernelExports;
  mem = ex.memory;
  instance ??= new Kernels(ex, variant);
  return instance;
}

/**
 * Thin wrapper: the exports with lazy FFT tables, allocation that throws, and fresh typed views (memory
 * growth detaches old ones).
 */
export class Kernels {
  readonly k: KernelExports;

  constructor(exports: KernelExports, /** Which build these exports come from. */ readonly variant: KernelVariant = "simd") {
    this.k = withLazyFftTables(exports);
  }

  /** A block of `bytes` bytes (16-byte aligned); a RangeError above `MAX_KERNEL_ALLOCATION_BYTES`. */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`kernel allocation size must be a non-negative integer number of bytes, got ${bytes}`);
    }
    // Checked here, not by the allocator: it aborts inside the module above its limit, and a size of
    // 4 GiB or more would wrap around as i32 into a small block.
    if (bytes > MAX_KERNEL_ALLOCATION_BYTES) {
      throw new RangeError(`kernel allocation of ${bytes} bytes exceeds the largest kernel block, ${MAX_KERNEL_ALLOCATION_BYTES} bytes`);
    }
    // usize crosses the boundary as i32: addresses above 2 GiB come back negative without >>> 0.
    const ptr = this.k.alloc(Math.max(16, bytes)) >>> 0;
    if (ptr === 0) throw new RangeError(`kernel memory exhausted allocating ${bytes} bytes`);
    return ptr;
  }

  free(ptr: number): void {
    this.k.dealloc(ptr);
  }

  u8(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, ptr, len);
  }
  u64(ptr: number, len: number): BigUint64Array {
    return new BigUint64Array(this.k.memory.buffer, ptr, len);
  }
  u32(ptr: number, len: number): Uint32Array {
    return new Uint32Array(this.k.memory.buffer, ptr, len);
  }
  f64(ptr: number, len: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, ptr, len);
  }
  i32(ptr: number, len: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, len);
  }

  /** Bytes of linear memory in use by this instance (pages × 64 KiB). */
  memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }
}

const registry = new FinalizationRegistry<{ k: Kernels; ptr: number }>(({ k, ptr }) => k.free(ptr));

/**
 * A block of kernel memory owned by a TypeScript object. Call `free()` (or use `using`) when done; the
 * FinalizationRegistry only frees blocks whose owner was forgotten, as a safety net.
 */
export class WasmBuffer {
  #ptr: number;
  readonly byteLength: number;
  readonly k: Kernels;

  constructor(byteLength: number, k: Kernels = kernels()) {
    this.k = k;
    this.byteLength = byteLength;
    this.#ptr = k.alloc(byteLength);
    registry.register(this, { k, ptr: this.#ptr }, this);
  }

  get ptr(): number {
    if (this.#ptr === 0) throw new Error("use of a freed kernel buffer");
    return this.#ptr;
  }

  get freed(): boolean {
    return this.#ptr === 0;
  }

  u8(): Uint8Array { return this.k.u8(this.ptr, this.byteLength); }
  u64(): BigUint64Array { return this.k.u64(this.ptr, this.byteLength >>> 3); }
  u32(): Uint32Array { return this.k.u32(this.ptr, this.byteLength >>> 2); }
  f64(): Float64Array { return this.k.f64(this.ptr, this.byteLength >>> 3); }
  i32(): Int32Array { return this.k.i32(this.ptr, this.byteLength >>> 2); }

  free(): void {
    if (this.#ptr === 0) return;
    registry.unregister(this);
    this.k.free(this.#ptr);
    this.#ptr = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
