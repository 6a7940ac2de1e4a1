// LWE encryption / decryption (docs/architecture.md): b = ⟨a, s⟩ + μ + e with a uniform (CSPRNG, or expanded from a
// seed for compressed ciphertexts), e Gaussian of std σ (fraction of q) drawn from the CSPRNG.
import { chunkItems, withKernelMemory } from "./_staging.js";
import { decode, encode, type Encoding } from "./encoding.js";
import { LweBatch } from "./lwe-batch.js";
import type { LweSecretKey } from "./secret-key.js";
import { fillGaussianTorus } from "./random.js";
import { csprngMasks, type MaskSource } from "./masks.js";
import { ParameterMismatchError } from "./errors.js";

/**
 * Encrypts raw torus plaintexts μᵢ (u64) under `key`. Masks come from `masks` (the CSPRNG by default; a
 * seeded stream makes the batch compressible to seed + bodies).
 */
export function encryptPlaintexts(
  key: LweSecretKey, plaintexts: BigUint64Array, noiseStd: number, encoding: Encoding,
  masks: MaskSource = csprngMasks(),
): LweBatch {
  const n = key.dimension, count = plaintexts.length;
  const data = new BigUint64Array(count * (n + 1));
  const noise = new BigUint64Array(count);
  fillGaussianTorus(noise, noiseStd);
  for (let i = 0; i < count; i++) noise[i] = BigInt.asUintN(64, noise[i]! + plaintexts[i]!);
  // Chunks bound the kernel memory a large batch (e.g. a key-switching key) needs at once.
  const chunk = Math.max(1, Math.min(count, Math.floor(CHUNK_BYTES / ((n + 1) * 8))));
  withKernelMemory([chunk * (n + 1) * 8, n * 8, chunk * 8], (K, pct, pkey, padd) => {
    K.u64(pkey!, n).set(key.words());
    try {
      for (let c0 = 0; c0 < count; c0 += chunk) {
        const c1 = Math.min(count, c0 + chunk);
        for (let i = 0; i < c1 - c0; i++) masks.fillKernelU64(pct! + i * (n + 1) * 8, n);
        K.u64(padd!, c1 - c0).set(noise.subarray(c0, c1));
        K.k.batchSetBody(pct!, c1 - c0, n, pkey!, padd!);
        data.set(K.u64(pct!, (c1 - c0) * (n + 1)), c0 * (n + 1));
      }
    } finally {
      K.u64(pkey!, n).fill(0n);
    }
  });
  noise.fill(0n);
  return new LweBatch(n, count, data, encoding);
}

/** Kernel memory one encryption call uses at most for its ciphertexts. */
const CHUNK_BYTES = 32 << 20;

/** Encrypts integers (mod 2^bits) with the given encoding. */
export function encryptLwe(
  key: LweSecretKey, messages: ArrayLike<number>, encoding: Encoding, noiseStd: number, masks?: MaskSource,
): LweBatch {
  const pts = new BigUint64Array(messages.length);
  for (let i = 0; i < messages.length; i++) pts[i] = encode(messages[i]!, encoding);
  return encryptPlaintexts(key, pts, noiseStd, encoding, masks);
}

/** Phases b − ⟨a, s⟩ = μ + e of every ciphertext (staged in chunks: any batch size). */
export function lwePhases(key: LweSecretKey, batch: LweBatch): BigUint64Array {
  if (batch.dimension !== key.dimension) {
    throw new ParameterMismatchError(`ciphertext dimension ${batch.dimension} does not match the key's ${key.dimension}`);
  }
  const n = key.dimension, count = batch.count, size = n + 1;
  const chunk = Math.min(Math.max(1, count), chunkItems(size * 8));
  const out = new BigUint64Array(count);
  withKernelMemory([chunk * size * 8, n * 8, chunk * 8], (K, pct, pkey, pout) => {
    K.u64(pkey!, n).set(key.words());
    try {
      for (let c0 = 0; c0 < count; c0 += chunk) {
        const m = Math.min(chunk, count - c0);
        K.u64(pct!, m * size).set(batch.data.subarray(c0 * size, (c0 + m) * size));
        K.k.batchPhase(pout!, pct!, m, n, pkey!);
        out.set(K.u64(pout!, m), c0);
      }
    } finally {
      K.u64(pkey!, n).fill(0n);
    }
  });
  return out;
}

/** Decrypts and decodes every ciphertext with the batch's encoding. */
export function decryptLwe(key: LweSecretKey, batch: LweBatch, encoding: Encoding = batch.encoding): Uint32Array {
  const ph = lwePhases(key, batch);
  const out = new Uint32Array(batch.count);
  for (let i = 0; i < ph.length; i++) out[i] = decode(ph[i]!, encoding);
  return out;
}

/** A noiseless encryption of μ (all-zero mask): what the server uses for clear constants. */
export function trivialEncrypt(dimension: number, messages: ArrayLike<number>, encoding: Encoding): LweBatch {
  const b = LweBatch.zeros(dimension, messages.length, encoding);
  for (let i = 0; i < messages.length; i++) b.data[i * (dimension + 1) + dimension] = encode(messages[i]!, encoding);
  return b;
}
