// LWE key switching (docs/architecture.md "KS→PBS order"). KSK row (i, j) = LWE_s(s'_i · q/B^j); then
//   out = (0, …, 0, b) − Σ_i Σ_j d_{i,j}·KSK_{i,j}, with d_{i,j} the balanced digits of a_i.
// The server keeps only the top 32 bits of every KSK word (rounded): the result is used only through
// its modulus switch to 2N ≤ 2^17, the rounding adds noise ≈ 2^-43 (noise.ts), and rounding public
// ciphertexts cannot weaken them. Half the memory traffic, and i32x4 multiplies are native where 64-bit
// lane multiplies are emulated: the sum Σ d·hi is computed mod 2^32 and lands in the top half.
// Row layout (u32): n + 1 words padded with zeros to a multiple of 4 (`keyswitchRowWords32`).
import { roundToLevels } from "./decompose";

/** u32 words of one 32-bit KSK row (n + 1 rounded up to a multiple of 4 for SIMD). */
export function keyswitchRowWords32(nOut: i32): i32 {
  return (nOut + 1 + 3) & ~3;
}

/** Zeroes the 32-bit accumulator of a key switch. */
export function keyswitchInit32(acc: usize, nOut: i32): void {
  memory.fill(acc, 0, (<usize>keyswitchRowWords32(nOut)) << 2);
}

/**
 * For each of `count` ciphertexts (inputs at `inp` with a stride of nIn + 1 words, accumulators at `acc`
 * with a stride of one padded row): acc −= Σ_{i ∈ [iStart, iEnd)} Σ_j d_{i,j}·KSK32_{i,j} (mod 2^32).
 * `ksk` points at the rows of iStart, so a key can live in several blocks or be streamed through a staging
 * buffer in chunks. Each KSK row is read from memory once and applied to every ciphertext while it sits in
 * L1: one key switch streams the whole key (34 MB at PARAM_MESSAGE_4) and is bound by memory bandwidth; a
 * batch divides that traffic by `count`. `digits` is scratch for count·levels i32.
 */
export function keyswitchRange32(
  acc: usize, inp: usize, count: i32, nIn: i32, ksk: usize, iStart: i32, iEnd: i32, nOut: i32, baseLog: i32, levels: i32,
  digits: usize,
): void {
  const rowWords = keyswitchRowWords32(nOut);
  const rowBytes = (<usize>rowWords) << 2;
  const inStride = (<usize>(nIn + 1)) << 3;
  const total = baseLog * levels;
  const B: i64 = <i64>1 << <i64>baseLog;
  const mask: u64 = <u64>B - 1;
  const halfB: i64 = B >> 1;
  for (let i = iStart; i < iEnd; i++) {
    // Balanced digits of coefficient i of every ciphertext (as keyswitchRange32), level j at j − 1.
    for (let b = 0; b < count; b++) {
      let y = roundToLevels(load<u64>(inp + (<usize>b) * inStride + ((<usize>i) << 3)), total);
      let carry: i64 = 0;
      for (let j = levels; j >= 1; j--) {
        let d = <i64>(y & mask) + carry;
        y >>= <u64>baseLog;
        carry = <i64>(d >= halfB);
        d -= carry << <i64>baseLog;
        store<i32>(digits + ((<usize>(b * levels + j - 1)) << 2), <i32>d);
      }
    }
    for (let j = 1; j <= levels; j++) {
      const row = ksk + (<usize>((i - iStart) * levels + j - 1)) * rowBytes;
      for (let b = 0; b < count; b++) {
        const d = load<i32>(digits + ((<usize>(b * levels + j - 1)) << 2));
        if (d == 0) continue;
        const dv = i32x4.splat(d);
        const a = acc + (<usize>b) * rowBytes;
        for (let c = 0; c < rowWords; c += 4) {
          const o = (<usize>c) << 2;
          v128.store(a + o, i32x4.sub(v128.load(a + o), i32x4.mul(dv, v128.load(row + o))));
        }
      }
    }
  }
}

/** out = (acc·2^32 for the mask, b + acc_n·2^32 for the body): the LWE under the output key. */
export function keyswitchFinish32(out: usize, acc: usize, inp: usize, nIn: i32, nOut: i32): void {
  for (let c = 0; c < nOut; c++) {
    store<u64>(out + ((<usize>c) << 3), (<u64>load<u32>(acc + ((<usize>c) << 2))) << 32);
  }
  const b = load<u64>(inp + ((<usize>nIn) << 3));
  store<u64>(out + ((<usize>nOut) << 3), b + ((<u64>load<u32>(acc + ((<usize>nOut) << 2))) << 32));
}

/** Rounds u64 KSK rows (n + 1 words each) to the padded 32-bit layout: hi = round(x / 2^32) mod 2^32. */
export function keyswitchKeyTo32(dst: usize, src: usize, rows: i32, nOut: i32): void {
  const rowWords = keyswitchRowWords32(nOut);
  for (let r = 0; r < rows; r++) {
    const s = src + ((<usize>r * <usize>(nOut + 1)) << 3);
    const d = dst + ((<usize>r * <usize>rowWords) << 2);
    for (let c = 0; c <= nOut; c++) {
      const x = load<u64>(s + ((<usize>c) << 3));
      store<u32>(d + ((<usize>c) << 2), <u32>((x + 0x80000000) >> 32));
    }
    for (let c = nOut + 1; c < rowWords; c++) store<u32>(d + ((<usize>c) << 2), 0);
  }
}
