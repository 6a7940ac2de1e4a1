// Bootstrapping key (docs/architecture.md "Keys"): n GGSW encryptions of the small-key bits sᵢ under the GLWE key.
// GGSW(m) row (p, j), p ≤ k, level j = 1..l, gadget g_j = q/B^j: a GLWE encryption of
//   −m·g_j·S_p   (p < k)   or   m·g_j   (p = k, constant polynomial),
// which has the same phase as adding m·g_j to the p-th component (CGGI 2020 §3.3) but keeps every mask
// a pure stream output, so a key generated from a seed compresses to seed + bodies.
// Layout: for i < n, row r = p·l + (j−1), polynomial o ≤ k: N u64 words.
// Multi-bit keys (grouping factor d > 1, Joye–Paillier 2022): for each group g < n/d of key bits
// s_{gd}, …, s_{gd+d−1} and each pattern p ∈ [1, 2^d), a GGSW of the indicator [s_group = p] =
// Π_{j∈p} s_{gd+j} · Π_{j∉p} (1 − s_{gd+j}); GGSW index g·(2^d − 1) + p − 1, same GGSW layout.
import { kernels, WasmBuffer } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { bootstrapKeyGgswCount, type TfheParameters } from "./parameters.js";
import type { GlweSecretKey, LweSecretKey } from "./secret-key.js";
import { newSeed } from "./random.js";
import { KernelGlweKey } from "./_glwe-kernel.js";
import { encryptGgswAt } from "./ggsw.js";
import { seededMasks } from "./masks.js";

export interface BootstrapKeyShape {
  readonly lweDimension: number;
  readonly glweDimension: number;
  readonly polynomialSize: number;
  readonly baseLog: number;
  readonly levels: number;
  /** Multi-bit grouping factor d (absent: classic, one GGSW per key bit). */
  readonly groupingFactor?: number;
}

export function bootstrapKeyShape(p: TfheParameters): BootstrapKeyShape {
  return {
    lweDimension: p.lweDimension, glweDimension: p.glweDimension, polynomialSize: p.polynomialSize,
    baseLog: p.pbsBaseLog, levels: p.pbsLevel,
    ...(p.groupingFactor !== undefined && p.groupingFactor > 1 ? { groupingFactor: p.groupingFactor } : {}),
  };
}

/** GGSWs of a key of this shape: n, or n/d·(2^d − 1) for a multi-bit key. */
export function ggswCount(s: BootstrapKeyShape): number {
  return bootstrapKeyGgswCount(s);
}

/** The bit each GGSW of the key encrypts, in key order (classic: the key bits; multi-bit: indicators). */
function ggswMessages(bits: Uint8Array | readonly number[], shape: BootstrapKeyShape): Uint8Array {
  const d = shape.groupingFactor ?? 1;
  if (d === 1) return Uint8Array.from(bits);
  const out = new Uint8Array(ggswCount(shape));
  let i = 0;
  for (let g = 0; g < shape.lweDimension; g += d) {
    let group = 0;
    for (let j = 0; j < d; j++) group |= (bits[g + j]! & 1) << j;
    for (let p = 1; p < 2 ** d; p++) out[i++] = group === p ? 1 : 0;
  }
  return out;
}

/** Words of one GGSW: (k+1)·l rows of (k+1) polynomials. */
export function ggswWords(s: BootstrapKeyShape): number {
  const k1 = s.glweDimension + 1;
  return k1 * s.levels * k1 * s.polynomialSize;
}

/** The bootstrapping key in the standard (coefficient) domain, as generated and serialized. */
export class BootstrapKey {
  constructor(
    readonly shape: BootstrapKeyShape,
    readonly data: BigUint64Array,
    /** Seed of the masks when generated from one (then `compress()` is available). */
    readonly seed?: Uint8Array,
  ) {
    const expected = ggswCount(shape) * ggswWords(shape);
    if (data.length !== expected) throw new RangeError(`bootstrap key needs ${expected} words, got ${data.length}`);
  }

  /** Seed + bodies only: (k+1)·l·N words per GGSW instead of (k+1)²·l·N. */
  compress(): SeededBootstrapKey {
    if (!this.seed) throw new Error("this bootstrap key was not generated from a seed");
    const { glweDimension: k, polynomialSize: N } = this.shape;
    const rows = ggswCount(this.shape) * (k + 1) * this.shape.levels;
    const bodies = new BigUint64Array(rows * N);
    for (let r = 0; r < rows; r++) {
      const off = (r * (k + 1) + k) * N;
      bodies.set(this.data.subarray(off, off + N), r * N);
    }
    return new SeededBootstrapKey(this.shape, this.seed, bodies);
  }
}

export class SeededBootstrapKey {
  constructor(readonly shape: BootstrapKeyShape, readonly seed: Uint8Array, readonly bodies: BigUint64Array) {
    const { glweDimension: k, polynomialSize: N, levels } = shape;
    if (bodies.length !== ggswCount(shape) * (k + 1) * levels * N) throw new RangeError("seeded bootstrap key: wrong body count");
    if (seed.length !== 32) throw new RangeError("seeded bootstrap key: seed must be 32 bytes");
  }

  /** Regenerates the masks from the seed (same stream order as generation). */
  decompress(): BootstrapKey {
    const { glweDimension: k, polynomialSize: N, levels } = this.shape;
    const count = ggswCount(this.shape);
    const data = new BigUint64Array(count * ggswWords(this.shape));
    const masks = seededMasks(this.seed, DOMAIN_BSK);
    const rows = count * (k + 1) * levels;
    withKernelMemory([k * N * 8], (K, pm) => {
      for (let r = 0; r < rows; r++) {
        masks.fillKernelU64(pm!, k * N);
        const off = r * (k + 1) * N;
        data.set(K.u64(pm!, k * N), off);
        data.set(this.bodies.subarray(r * N, (r + 1) * N), off + k * N);
      }
    });
    return new BootstrapKey(this.shape, data, this.seed);
  }
}

/** Domain-separation tag of the bootstrapping-key mask stream. */
export const DOMAIN_BSK = 1;

/**
 * Generates a bootstrapping key. Its masks are expanded from a fresh CSPRNG seed (kept in the key for
 * `compress()`); callers cannot choose the seed, so no two keys share masks.
 */
export function generateBootstrapKey(
  lweKey: LweSecretKey, glweKey: GlweSecretKey, shape: BootstrapKeyShape, glweNoiseStd: number, ...rest: never[]
): BootstrapKey {
  if (rest.length > 0) throw new TypeError("generateBootstrapKey takes no seed: every key gets a fresh CSPRNG seed");
  return generateSeededBootstrapKey(lweKey, glweKey, shape, glweNoiseStd, newSeed());
}

function generateSeededBootstrapKey(
  lweKey: LweSecretKey, glweKey: GlweSecretKey, shape: BootstrapKeyShape, glweNoiseStd: number, seed: Uint8Array,
): BootstrapKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError("bootstrap key seed must be 32 bytes");
  if (lweKey.wiped || glweKey.key.wiped) throw new Error("cannot generate a bootstrap key from a wiped secret key");
  const { lweDimension: n, glweDimension: k, polynomialSize: N, levels } = shape;
  if (lweKey.dimension !== n) throw new RangeError(`LWE key dimension ${lweKey.dimension} ≠ n = ${n}`);
  if (glweKey.glweDimension !== k || glweKey.polynomialSize !== N) throw new RangeError("GLWE key shape mismatch");
  const d = shape.groupingFactor ?? 1;
  if (!Number.isInteger(d) || d < 1 || n % d !== 0) throw new RangeError(`grouping factor ${d} must be an integer dividing n = ${n}`);
  const K = kernels();
  const gw = ggswWords(shape);
  const count = ggswCount(shape);
  const data = new BigUint64Array(count * gw);
  const masks = seededMasks(seed, DOMAIN_BSK);
  const noise = new BigUint64Array((k + 1) * levels * N);
  const key = new KernelGlweKey(K, glweKey);
  const messages = ggswMessages(lweKey.bits, shape);
  try {
    withKernelMemory([gw * 8], (_K, pg) => {
      for (let i = 0; i < count; i++) {
        encryptGgswAt(key, pg!, BigInt(messages[i]!), shape, glweNoiseStd, masks, noise);
        data.set(K.u64(pg!, gw), i * gw);
      }
    });
  } finally {
    key.free();
    noise.fill(0n);
    messages.fill(0);
  }
  return new BootstrapKey(shape, data, seed);
}

/**
 * The bootstrapping key in the Fourier domain (what blind rotation reads). Resident in kernel memory when
 * it fits (one kernel call per blind rotation); otherwise held in host memory and streamed one GGSW at a
 * time into a kernel staging buffer (keys beyond 32-bit WebAssembly memory, e.g. PARAM_MESSAGE_8's 5.4 GiB).
 * Owns its memory: call `free()` (or `using`) when done.
 */
export class FourierBootstrapKey {
  /** Kernel-resident blocks of whole GGSWs (each below the allocator's 1 GiB limit), or empty when streamed. */
  readonly blocks: readonly WasmBuffer[];
  /** One u32 pointer per resident GGSW (what the blind rotation kernels read): n, or n/d·(2^d − 1) multi-bit. */
  readonly table: WasmBuffer | undefined;
  readonly host: Float64Array | undefined;

  private constructor(readonly shape: BootstrapKeyShape, blocks: WasmBuffer[], table: WasmBuffer | undefined, host: Float64Array | undefined) {
    this.blocks = blocks;
    this.table = table;
    this.host = host;
  }

  get resident(): boolean {
    return this.table !== undefined;
  }

  /** f64 words of one GGSW in the Fourier domain (= u64 words in the standard domain). */
  get ggswWords(): number {
    return ggswWords(this.shape);
  }

  static fromStandard(bsk: BootstrapKey, { resident = true }: { resident?: boolean } = {}): FourierBootstrapKey {
    const K = kernels();
    const N = bsk.shape.polynomialSize, n = ggswCount(bsk.shape);
    const perGgsw = ggswWords(bsk.shape);
    const polys = perGgsw / N;
    const blocks: WasmBuffer[] = [];
    let table: WasmBuffer | undefined;
    let host: Float64Array | undefined;
    try {
      if (resident) {
        table = new WasmBuffer(n * 4, K);
        const perBlock = Math.max(1, Math.floor(BLOCK_BYTES / (perGgsw * 8)));
        for (let i0 = 0; i0 < n; i0 += perBlock) {
          const count = Math.min(perBlock, n - i0);
          const block = new WasmBuffer(count * perGgsw * 8, K);
          blocks.push(block);
          const t = table.u32();
          for (let i = 0; i < count; i++) t[i0 + i] = block.ptr + i * perGgsw * 8;
        }
      } else {
        host = new Float64Array(bsk.data.length);
      }
      // Convert one GGSW at a time through a staging buffer to keep peak kernel memory small.
      withKernelMemory([perGgsw * 8, perGgsw * 8], (_K, stage, fourier) => {
        for (let i = 0; i < n; i++) {
          K.u64(stage!, perGgsw).set(bsk.data.subarray(i * perGgsw, (i + 1) * perGgsw));
          if (table) {
            K.k.fftForwardManyI64(stage!, table.u32()[i]!, polys, N);
          } else {
            K.k.fftForwardManyI64(stage!, fourier!, polys, N);
            host!.set(K.f64(fourier!, perGgsw), i * perGgsw);
          }
        }
      });
    } catch (e) {
      blocks.forEach((b) => b.free());
      table?.free();
      throw e;
    }
    return new FourierBootstrapKey(bsk.shape, blocks, table, host);
  }

  free(): void {
    this.blocks.forEach((b) => b.free());
    this.table?.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

/** Resident keys are allocated in blocks of at most this size (the TLSF allocator caps blocks at 1 GiB). */
const BLOCK_BYTES = 256 << 20;
