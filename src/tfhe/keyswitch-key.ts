// Key-switching key from the big key s' (dimension kN) to the small key s (dimension n):
// row (i, j) = LWE_s(s'_i · q/B^j), j = 1..l_ks (docs/architecture.md "KS→PBS order"). Layout: row i·l + (j−1),
// n+1 words each — what the keyswitch kernel reads. Masks come from a seeded stream.
import { kernels, WasmBuffer } from "../kernels/wasm.js";
import { withKernelMemory } from "./_staging.js";
import { encryptPlaintexts } from "./lwe-encryption.js";
import type { LweSecretKey } from "./secret-key.js";
import { newSeed } from "./random.js";
import { seededMasks } from "./masks.js";
import { LweBatch } from "./lwe-batch.js";

export interface KeyswitchKeyShape {
  readonly inputDimension: number;
  readonly outputDimension: number;
  readonly baseLog: number;
  readonly levels: number;
}

/** Domain-separation tag of the key-switching-key mask stream. */
export const DOMAIN_KSK = 2;

export class KeyswitchKey {
  constructor(readonly shape: KeyswitchKeyShape, readonly data: BigUint64Array, readonly seed?: Uint8Array) {
    const rows = shape.inputDimension * shape.levels;
    if (data.length !== rows * (shape.outputDimension + 1)) throw new RangeError("keyswitch key: wrong size");
  }

  compress(): SeededKeyswitchKey {
    if (!this.seed) throw new Error("this keyswitch key was not generated from a seed");
    const n1 = this.shape.outputDimension + 1;
    const rows = this.shape.inputDimension * this.shape.levels;
    const bodies = new BigUint64Array(rows);
    for (let r = 0; r < rows; r++) bodies[r] = this.data[r * n1 + n1 - 1]!;
    return new SeededKeyswitchKey(this.shape, this.seed, bodies);
  }
}

export class SeededKeyswitchKey {
  constructor(readonly shape: KeyswitchKeyShape, readonly seed: Uint8Array, readonly bodies: BigUint64Array) {
    if (bodies.length !== shape.inputDimension * shape.levels) throw new RangeError("seeded keyswitch key: wrong body count");
    if (seed.length !== 32) throw new RangeError("seeded keyswitch key: seed must be 32 bytes");
  }

  decompress(): KeyswitchKey {
    const n = this.shape.outputDimension, n1 = n + 1;
    const rows = this.bodies.length;
    const data = new BigUint64Array(rows * n1);
    const masks = seededMasks(this.seed, DOMAIN_KSK);
    const chunk = Math.max(1, Math.min(rows, Math.floor(STAGE_BYTES / (n1 * 8))));
    withKernelMemory([chunk * n1 * 8], (K, p) => {
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const r1 = Math.min(rows, r0 + chunk);
        for (let r = 0; r < r1 - r0; r++) masks.fillKernelU64(p! + r * n1 * 8, n);
        data.set(K.u64(p!, (r1 - r0) * n1), r0 * n1);
      }
    });
    for (let r = 0; r < rows; r++) data[r * n1 + n] = this.bodies[r]!;
    return new KeyswitchKey(this.shape, data, this.seed);
  }
}

/**
 * Generates a key-switching key from `from` to `to`. Its masks are expanded from a fresh CSPRNG seed
 * (kept for `compress()`); callers cannot choose the seed, so no two keys share masks.
 */
export function generateKeyswitchKey(
  from: LweSecretKey, to: LweSecretKey, baseLog: number, levels: number, lweNoiseStd: number, ...rest: never[]
): KeyswitchKey {
  if (rest.length > 0) throw new TypeError("generateKeyswitchKey takes no seed: every key gets a fresh CSPRNG seed");
  return generateSeededKeyswitchKey(from, to, baseLog, levels, lweNoiseStd, newSeed());
}

function generateSeededKeyswitchKey(
  from: LweSecretKey, to: LweSecretKey, baseLog: number, levels: number, lweNoiseStd: number, seed: Uint8Array,
): KeyswitchKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError("keyswitch key seed must be 32 bytes");
  if (from.wiped || to.wiped) throw new Error("cannot generate a keyswitch key from a wiped secret key");
  const shape: KeyswitchKeyShape = { inputDimension: from.dimension, outputDimension: to.dimension, baseLog, levels };
  const pts = new BigUint64Array(from.dimension * levels);
  for (let i = 0; i < from.dimension; i++) {
    if (from.bits[i] === 0) continue;
    for (let j = 0; j < levels; j++) pts[i * levels + j] = 1n << BigInt(64 - baseLog * (j + 1));
  }
  const batch = encryptPlaintexts(to, pts, lweNoiseStd, { bits: 1 }, seededMasks(seed, DOMAIN_KSK));
  pts.fill(0n);
  return new KeyswitchKey(shape, batch.data, seed);
}

/**
 * The key-switching key as the server uses it: every word rounded to its top 32 bits (see the kernel's
 * header: half the memory and native 32-bit SIMD multiplies), in padded rows. Resident in kernel memory
 * as blocks of whole input coefficients (each far below the allocator's 1 GiB cap), or held in host memory
 * and streamed through a staging buffer when it does not fit.
 */
export class KernelKeyswitchKey {
  /** Resident blocks: block b holds input coefficients [b·perBlock, min(nIn, (b+1)·perBlock)). */
  readonly blocks: readonly WasmBuffer[];
  /** Host copy of the 32-bit rows when streamed. */
  readonly host: Uint32Array | undefined;
  readonly #perBlock: number;
  readonly #coefficientWords: number;
  readonly #acc: WasmBuffer;
  readonly #digits: WasmBuffer;
  readonly #stage: WasmBuffer | undefined;

  private constructor(readonly shape: KeyswitchKeyShape, blocks: WasmBuffer[], host: Uint32Array | undefined, perBlock: number) {
    const K = kernels();
    this.blocks = blocks;
    this.host = host;
    this.#perBlock = perBlock;
    this.#coefficientWords = shape.levels * K.k.keyswitchRowWords32(shape.outputDimension);
    this.#acc = new WasmBuffer(KEYSWITCH_BATCH * K.k.keyswitchRowWords32(shape.outputDimension) * 4, K);
    this.#digits = new WasmBuffer(KEYSWITCH_BATCH * shape.levels * 4, K);
    this.#stage = host ? new WasmBuffer(perBlock * this.#coefficientWords * 4, K) : undefined;
  }

  /** Bytes of the 32-bit form of a key of this shape. */
  static bytes(shape: KeyswitchKeyShape): number {
    return shape.inputDimension * shape.levels * kernels().k.keyswitchRowWords32(shape.outputDimension) * 4;
  }

  get resident(): boolean {
    return this.host === undefined;
  }

  /** Converts a standard key (u64 rows) to the server form, resident (default) or streamed from host memory. */
  static fromStandard(ksk: KeyswitchKey, { resident = true }: { resident?: boolean } = {}): KernelKeyswitchKey {
    const K = kernels();
    const { inputDimension: nIn, outputDimension: nOut, levels } = ksk.shape;
    const coefficientWords = levels * K.k.keyswitchRowWords32(nOut);
    const perBlock = Math.max(1, Math.min(nIn, Math.floor((resident ? BLOCK_BYTES : STAGE_BYTES) / (coefficientWords * 4))));
    const blocks: WasmBuffer[] = [];
    const host = resident ? undefined : new Uint32Array(nIn * coefficientWords);
    const srcWords = levels * (nOut + 1);
    const convert = Math.max(1, Math.floor(STAGE_BYTES / (srcWords * 8)));
    try {
      withKernelMemory([convert * srcWords * 8, convert * coefficientWords * 4], (_K, src, dst) => {
        for (let i0 = 0; i0 < nIn; i0 += convert) {
          const i1 = Math.min(nIn, i0 + convert);
          K.u64(src!, (i1 - i0) * srcWords).set(ksk.data.subarray(i0 * srcWords, i1 * srcWords));
          K.k.keyswitchKeyTo32(dst!, src!, (i1 - i0) * levels, nOut);
          const rows = K.u32(dst!, (i1 - i0) * coefficientWords);
          if (host) { host.set(rows, i0 * coefficientWords); continue; }
          // Copy into the resident blocks, which may start and end anywhere within this conversion chunk.
          for (let i = i0; i < i1;) {
            const b = Math.floor(i / perBlock);
            if (b === blocks.length) blocks.push(new WasmBuffer(Math.min(perBlock, nIn - b * perBlock) * coefficientWords * 4, K));
            const end = Math.min(i1, (b + 1) * perBlock);
            blocks[b]!.u32().set(K.u32(dst! + (i - i0) * coefficientWords * 4, (end - i) * coefficientWords), (i - b * perBlock) * coefficientWords);
            i = end;
          }
        }
      });
    } catch (e) {
      blocks.forEach((b) => b.free());
      throw e;
    }
    return new KernelKeyswitchKey(ksk.shape, blocks, host, perBlock);
  }

  /** Key switch of the ciphertext at kernel pointer `inp` into `out` (kN → n). */
  applyAt(out: number, inp: number): void {
    this.applyBatchAt(out, inp, 1);
  }

  /**
   * Key switch of `count` ≤ KEYSWITCH_BATCH contiguous ciphertexts at `inp` into contiguous outputs at
   * `out`. One pass over the key serves the whole batch (see keyswitchRange32); the results are
   * bit-identical to one-by-one key switches (sums mod 2^32 in another order).
   */
  applyBatchAt(out: number, inp: number, count: number): void {
    const { inputDimension: nIn, outputDimension: nOut, baseLog, levels } = this.shape;
    if (!Number.isInteger(count) || count < 1 || count > KEYSWITCH_BATCH) throw new RangeError(`count must be in [1, ${KEYSWITCH_BATCH}]`);
    const K = this.#acc.k;
    const acc = this.#acc.ptr, rowBytes = K.k.keyswitchRowWords32(nOut) * 4;
    for (let c = 0; c < count; c++) K.k.keyswitchInit32(acc + c * rowBytes, nOut);
    for (let b = 0, i0 = 0; i0 < nIn; b++, i0 += this.#perBlock) {
      const i1 = Math.min(nIn, i0 + this.#perBlock);
      let rows: number;
      if (this.host) {
        rows = this.#stage!.ptr;
        K.u32(rows, (i1 - i0) * this.#coefficientWords).set(this.host.subarray(i0 * this.#coefficientWords, i1 * this.#coefficientWords));
      } else {
        rows = this.blocks[b]!.ptr;
      }
      K.k.keyswitchRange32(acc, inp, count, nIn, rows, i0, i1, nOut, baseLog, levels, this.#digits.ptr);
    }
    for (let c = 0; c < count; c++) {
      K.k.keyswitchFinish32(out + c * (nOut + 1) * 8, acc + c * rowBytes, inp + c * (nIn + 1) * 8, nIn, nOut);
    }
  }

  /** Key-switches every ciphertext of the batch (kN → n), KEYSWITCH_BATCH at a time. */
  apply(batch: LweBatch): LweBatch {
    const { inputDimension: nIn, outputDimension: nOut } = this.shape;
    if (batch.dimension !== nIn) throw new RangeError(`keyswitch expects dimension ${nIn}, got ${batch.dimension}`);
    const out = new BigUint64Array(batch.count * (nOut + 1));
    const B = KEYSWITCH_BATCH;
    withKernelMemory([B * (nIn + 1) * 8, B * (nOut + 1) * 8], (K, pin, pout) => {
      for (let c = 0; c < batch.count; c += B) {
        const m = Math.min(B, batch.count - c);
        K.u64(pin!, m * (nIn + 1)).set(batch.data.subarray(c * (nIn + 1), (c + m) * (nIn + 1)));
        this.applyBatchAt(pout!, pin!, m);
        out.set(K.u64(pout!, m * (nOut + 1)), c * (nOut + 1));
      }
    });
    return new LweBatch(nOut, batch.count, out, batch.encoding, batch.bounds, batch.noise);
  }

  free(): void {
    this.blocks.forEach((b) => b.free());
    this.#acc.free();
    this.#digits.free();
    this.#stage?.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

/**
 * Ciphertexts key-switched per pass over the key. The key streams from memory once per pass (34 MB at
 * PARAM_MESSAGE_4), so batches turn a bandwidth-bound loop into a compute-bound one; 8 accumulators
 * (3.3 KB each at n = 834) stay in L1/L2.
 */
export const KEYSWITCH_BATCH = 8;

/** Resident keys are allocated in blocks of at most this size (the TLSF allocator caps blocks at 1 GiB). */
const BLOCK_BYTES = 256 << 20;

/** Size of the staging buffers a streamed or converted key goes through. */
const STAGE_BYTES = 32 << 20;
