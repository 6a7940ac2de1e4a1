// LWE encryption / decryption (docs/architecture.md): b = ⟨a, s⟩ + μ + e with a uniform (CSPRNG, or expanded from a
// seed for compressed ciphertexts), e Gaussian of std σ (fraction of q) drawn from the CSPRNG.
import { chunkItems, withKernelMemory } from "./_staging.js";
import { checkEncoding, decode, encode, isCompilerManaged, plaintextModulus, type Encoding } from "./encoding.js";
import { LweBatch, newNoiseSource, NOISELESS, unknownBounds, type CiphertextBounds } from "./lwe-batch.js";
import { checkValueBounds } from "./noise-budget.js";
import type { LweSecretKey } from "./secret-key.js";
import { fillGaussianTorus } from "./random.js";
import { csprngMasks, type MaskSource } from "./masks.js";
import { ParameterMismatchError } from "./errors.js";

/**
 * Encrypts raw torus plaintexts μᵢ (u64) under `key`. Masks come from `masks` (the CSPRNG by default; a
 * seeded stream makes the batch compressible to seed + bodies). The values of raw plaintexts are not
 * known: the batch has unknown bounds unless `bounds` states them.
 */
export function encryptPlaintexts(
  key: LweSecretKey, plaintexts: BigUint64Array, noiseStd: number, encoding: Encoding,
  masks: MaskSource = csprngMasks(), bounds: CiphertextBounds = unknownBounds(encoding),
): LweBatch {
  checkEncoding(encoding);
  if (!(plaintexts instanceof BigUint64Array)) throw new TypeError("plaintexts must be a BigUint64Array");
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
  return new LweBatch(n, count, data, encoding, bounds, newNoiseSource(true));
}

/** Kernel memory one encryption call uses at most for its ciphertexts. */
const CHUNK_BYTES = 32 << 20;

/**
 * The integers of an encrypt/trivialEncrypt argument, checked: an array (or typed array) of safe
 * integers. A lone number is refused (pass `[m]`): the result is always a batch.
 */
export function messageList(messages: unknown, what: string): ArrayLike<number> {
  if (typeof messages === "number") throw new TypeError(`${what} takes an array of integers, got the number ${messages} (pass [${messages}] for one value)`);
  if (typeof messages !== "object" || messages === null || !Number.isSafeInteger((messages as ArrayLike<number>).length)) {
    throw new TypeError(`${what} takes an array of integers, got ${typeof messages === "string" ? "a string" : String(messages)}`);
  }
  const list = messages as ArrayLike<number>;
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    if (typeof m !== "number" || !Number.isSafeInteger(m)) throw new RangeError(`${what}: message ${i} is ${String(m)}, not a safe integer`);
  }
  return list;
}

/** [min, max] of a list (0, 0 when empty). */
function rangeOf(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) { lo = Math.min(lo, values[i]!); hi = Math.max(hi, values[i]!); }
  return values.length === 0 ? [0, 0] : [lo, hi];
}

/**
 * Encrypts integers with the given encoding: reduced mod p = 2^bits for a checked encoding (so they never
 * reach the padding bit), kept mod 2p for a compiler-managed one. Degree: the largest encrypted value;
 * noise level 1 (for σ = σ_glwe, what ClientKey uses).
 */
export function encryptLwe(
  key: LweSecretKey, messages: ArrayLike<number>, encoding: Encoding, noiseStd: number, masks?: MaskSource,
): LweBatch {
  checkEncoding(encoding);
  const list = messageList(messages, "encrypt");
  const p = plaintextModulus(encoding), managed = isCompilerManaged(encoding);
  const values = Array.from(list, (m) => (managed ? m : ((m % p) + p) % p));
  const pts = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) pts[i] = encode(values[i]!, encoding);
  const [lo, hi] = rangeOf(values);
  return encryptPlaintexts(key, pts, noiseStd, encoding, masks, { degree: hi, minValue: lo, noiseLevel: 1 });
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

/**
 * Decrypts and decodes every ciphertext with the batch's encoding. A checked batch whose values may lie
 * outside [0, p) is refused (CiphertextBoundsError): they would reach the padding bit, which decoding
 * folds away. (ClientKey.decrypt also checks the noise level against its parameters.)
 */
export function decryptLwe(key: LweSecretKey, batch: LweBatch): Uint32Array {
  if (!(batch instanceof LweBatch)) throw new TypeError("decrypt expects an LweBatch");
  checkValueBounds(batch.bounds, batch.encoding, plaintextModulus(batch.encoding) - 1, "cannot decrypt this batch");
  const ph = lwePhases(key, batch);
  const out = new Uint32Array(batch.count);
  for (let i = 0; i < ph.length; i++) out[i] = decode(ph[i]!, batch.encoding);
  return out;
}

/** A noiseless encryption of μ (all-zero mask): what the server uses for clear constants (exact, not reduced). */
export function trivialEncrypt(dimension: number, messages: ArrayLike<number>, encoding: Encoding): LweBatch {
  checkEncoding(encoding);
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be ≥ 1, got ${dimension}`);
  const list = messageList(messages, "trivialEncrypt");
  const data = new BigUint64Array(list.length * (dimension + 1));
  for (let i = 0; i < list.length; i++) data[i * (dimension + 1) + dimension] = encode(list[i]!, encoding);
  const [lo, hi] = rangeOf(list);
  return new LweBatch(dimension, list.length, data, encoding, { degree: hi, minValue: lo, noiseLevel: 0 }, NOISELESS);
}
