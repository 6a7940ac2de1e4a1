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
    withKernelMemory([rows * n1 * 8], (K, p) => {
      for (let r = 0; r < rows; r++) masks.fillKernelU64(p! + r * n1 * 8, n);
      data.set(K.u64(p!, rows * n1));
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

/** The key-switching key copied into kernel memory (what the server uses). */
export class KernelKeyswitchKey {
  readonly buffer: WasmBuffer;
  constructor(readonly shape: KeyswitchKeyShape, buffer: WasmBuffer) {
    this.buffer = buffer;
  }

  static fromStandard(ksk: KeyswitchKey): KernelKeyswitchKey {
    const buffer = new WasmBuffer(ksk.data.length * 8, kernels());
    buffer.u64().set(ksk.data);
    return new KernelKeyswitchKey(ksk.shape, buffer);
  }

  /** Key-switches every ciphertext of the batch (kN → n). */
  apply(batch: LweBatch): LweBatch {
    const { inputDimension: nIn, outputDimension: nOut, baseLog, levels } = this.shape;
    if (batch.dimension !== nIn) throw new RangeError(`keyswitch expects dimension ${nIn}, got ${batch.dimension}`);
    const out = new BigUint64Array(batch.count * (nOut + 1));
    withKernelMemory([(nIn + 1) * 8, (nOut + 1) * 8], (K, pin, pout) => {
      for (let c = 0; c < batch.count; c++) {
        K.u64(pin!, nIn + 1).set(batch.data.subarray(c * (nIn + 1), (c + 1) * (nIn + 1)));
        K.k.keyswitch(pout!, pin!, this.buffer.ptr, nIn, nOut, baseLog, levels);
        out.set(K.u64(pout!, nOut + 1), c * (nOut + 1));
      }
    });
    return new LweBatch(nOut, batch.count, out, batch.encoding);
  }

  free(): void {
    this.buffer.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
