// Where the uniform masks of encryptions come from: the platform CSPRNG, or a ChaCha20 stream of a seed
// (so the ciphertext or key compresses to seed + bodies). Each kind of object uses its own stream domain
// (the ChaCha20 nonce) so two objects generated from one seed never share a mask.
import { SeededStream, fillUniformU64 } from "./random.js";

export interface MaskSource {
  /** Writes `count` uniform u64 words at kernel pointer `ptr`. */
  fillKernelU64(ptr: number, count: number): void;
}

export function csprngMasks(): MaskSource {
  return { fillKernelU64: (ptr, count) => fillUniformU64(ptr, count) };
}

export function seededMasks(seed: Uint8Array, domain: number): MaskSource {
  const stream = new SeededStream(seed, domain);
  return { fillKernelU64: (ptr, count) => stream.fillU64(ptr, count) };
}
