// Key-switching key from the big key s' (dimension kN) to the small key s (dimension n):
// row (i, j) = LWE_s(s'_i · q/B^j), j = 1..l_ks (DESIGN.md "Order KS→PBS"). Layout: row i·l + (j−1),
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

export function generateKeyswitchKey(
  from: LweSecretKey, to: LweSecretKey, baseLog: number, levels: number, lweNoiseStd: number,
  seed: Uint8Array = newSeed(),
): KeyswitchKey {
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
 * The key-switching key as the server uses it: copied into kernel memory when it fits, otherwise read from
 * host memory in chunks of whole input coefficients through a kernel staging buffer.
 */
export class KernelKeyswitchKey {
  readonly buffer: WasmBuffer | undefined;
  readonly host: BigUint64Array | undefined;
  readonly #stage: WasmBuffer | undefined;
  readonly #coefficientsPerChunk: number;

  private constructor(readonly shape: KeyswitchKeyShape, buffer: WasmBuffer | undefined, host: BigUint64Array | undefined) {
    this.buffer = buffer;
    this.host = host;
    const rowWords = shape.levels * (shape.outputDimension + 1);
    this.#coefficientsPerChunk = Math.max(1, Math.floor(STAGE_BYTES / (rowWords * 8)));
    this.#stage = host ? new WasmBuffer(this.#coefficientsPerChunk * rowWords * 8, kernels()) : undefined;
  }

  get resident(): boolean {
    return this.buffer !== undefined;
  }

  /**
   * Resident copy (default, when it fits one kernel block) or host-memory streaming (the standard key's
   * array is referenced, not copied).
   */
  static fromStandard(ksk: KeyswitchKey, { resident = true }: { resident?: boolean } = {}): KernelKeyswitchKey {
    if (!resident || ksk.data.length * 8 > MAX_RESIDENT_KSK_BYTES) return new KernelKeyswitchKey(ksk.shape, undefined, ksk.data);
    const buffer = new WasmBuffer(ksk.data.length * 8, kernels());
    buffer.u64().set(ksk.data);
    return new KernelKeyswitchKey(ksk.shape, buffer, undefined);
  }

  /** Key switch of the ciphertext at kernel pointer `inp` into `out` (kN → n). */
  applyAt(out: number, inp: number): void {
    const { inputDimension: nIn, outputDimension: nOut, baseLog, levels } = this.shape;
    const K = kernels();
    if (this.buffer) {
      K.k.keyswitch(out, inp, this.buffer.ptr, nIn, nOut, baseLog, levels);
      return;
    }
    const rowWords = levels * (nOut + 1);
    const stage = this.#stage!;
    K.k.keyswitchInit(out, inp, nIn, nOut);
    for (let i0 = 0; i0 < nIn; i0 += this.#coefficientsPerChunk) {
      const i1 = Math.min(nIn, i0 + this.#coefficientsPerChunk);
      K.u64(stage.ptr, (i1 - i0) * rowWords).set(this.host!.subarray(i0 * rowWords, i1 * rowWords));
      K.k.keyswitchRange(out, inp, stage.ptr, i0, i1, nOut, baseLog, levels);
    }
  }

  /** Key-switches every ciphertext of the batch (kN → n). */
  apply(batch: LweBatch): LweBatch {
    const { inputDimension: nIn, outputDimension: nOut } = this.shape;
    if (batch.dimension !== nIn) throw new RangeError(`keyswitch expects dimension ${nIn}, got ${batch.dimension}`);
    const out = new BigUint64Array(batch.count * (nOut + 1));
    withKernelMemory([(nIn + 1) * 8, (nOut + 1) * 8], (K, pin, pout) => {
      for (let c = 0; c < batch.count; c++) {
        K.u64(pin!, nIn + 1).set(batch.data.subarray(c * (nIn + 1), (c + 1) * (nIn + 1)));
        this.applyAt(pout!, pin!);
        out.set(K.u64(pout!, nOut + 1), c * (nOut + 1));
      }
    });
    return new LweBatch(nOut, batch.count, out, batch.encoding);
  }

  free(): void {
    this.buffer?.free();
    this.#stage?.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

/** A resident key-switching key is one kernel block, and the TLSF allocator caps blocks at 1 GiB. */
export const MAX_RESIDENT_KSK_BYTES = 2 ** 30 - 2 ** 20;

/** Size of the staging buffer a streamed key-switching key goes through. */
const STAGE_BYTES = 32 << 20;
