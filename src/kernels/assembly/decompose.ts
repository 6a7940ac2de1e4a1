// Signed (balanced) gadget decomposition (docs/architecture.md "Ciphertexts"; TFHE-rs "SignedDecomposer").
// x is first rounded to the closest multiple of q/B^l (q = 2^64, B = 2^β), then split into l digits in
// [-B/2, B/2) with Σ_j d_j·q/B^j ≡ round(x) (mod q) (a digit ≥ B/2 becomes d − B with a carry into the
// next level). Digit j = 1 is the most significant.

/** Closest multiple of q/B^l, expressed in units of q/B^l (an integer of l·β bits). */
@inline export function roundToLevels(x: u64, totalBits: i32): u64 {
  const shift = 64 - totalBits;
  if (shift == 0) return x;
  let y = (x >> <u64>shift) + ((x >> <u64>(shift - 1)) & 1);
  if (totalBits < 64) y &= (<u64>1 << <u64>totalBits) - 1;
  return y;
}

// i64 → f64 without a scalar conversion: for |d| < 2^51, the bit pattern of 2^52 + 2^51 plus d is the
// double 2^52 + 2^51 + d exactly; subtracting that constant leaves d.
const MAGIC_F: f64 = 6755399441055744.0; // 2^52 + 2^51
const MAGIC_I: i64 = 0x4338000000000000;

/**
 * The balanced digits come out of one addition (no carry chain): with C = Σ_{i<l} (B/2)·B^i, the plain
 * base-B digits u_j of round(x) + C are d_j + B/2, where d_j are the balanced digits (digits in [-B/2, B/2)
 * represent every residue mod B^l exactly once, so they agree with the carry rule). So
 *   x' = x + 2^(s−1) + C·2^s (mod 2^64, s = 64 − lβ: rounding and offset in one constant),
 *   d_j = ((x' >> (64 − jβ)) & (B − 1)) − B/2  (no mask for j = 1).
 * decompOffset returns that constant.
 */
@inline export function decompOffset(baseLog: i32, levels: i32): i64 {
  const shift = 64 - baseLog * levels;
  const halfB: i64 = <i64>1 << <i64>(baseLog - 1);
  let c: i64 = 0;
  for (let i = 0; i < levels; i++) c = (c << <i64>baseLog) | halfB;
  let k: i64 = c << <i64>shift;
  if (shift > 0) k += <i64>1 << <i64>(shift - 1);
  return k;
}

/**
 * Digit j (1 = most significant) of x' = x + decompOffset as f64 (digits of magnitude < 2^51).
 * mask = splat(B − 1), adj = splat(MAGIC_I − B/2), magicF = splat(MAGIC_F): hoisted by the caller.
 */
@inline export function digitF64(xo: v128, j: i32, baseLog: i32, mask: v128, adj: v128, magicF: v128): v128 {
  let u = i64x2.shr_u(xo, 64 - j * baseLog);
  if (j > 1) u = v128.and(u, mask);
  return f64x2.sub(i64x2.add(u, adj), magicF);
}

@inline export function digitMask(baseLog: i32): v128 {
  return i64x2.splat((<i64>1 << <i64>baseLog) - 1);
}
@inline export function digitAdj(baseLog: i32): v128 {
  return i64x2.splat(MAGIC_I - (<i64>1 << <i64>(baseLog - 1)));
}
@inline export function magicF64(): v128 {
  return f64x2.splat(MAGIC_F);
}

/**
 * Decomposes two coefficients held in a v128 (u64 lanes) and stores their l digits as f64 at
 * dst + (j−1)·stride + o. off = splat(decompOffset), the other vectors as for digitF64.
 */
@inline export function decomposeStore2(
  x: v128, dst: usize, o: usize, stride: usize, baseLog: i32, levels: i32,
  off: v128, mask: v128, adj: v128, magicF: v128,
): void {
  const xo = i64x2.add(x, off);
  for (let j = 1; j <= levels; j++) v128.store(dst + <usize>(j - 1) * stride + o, digitF64(xo, j, baseLog, mask, adj, magicF));
}

/** Digits (as f64, level j = 1 first, one polynomial per level at dst) of an N-coefficient u64 polynomial. */
export function decomposePolyF64(src: usize, dst: usize, N: i32, baseLog: i32, levels: i32): void {
  const stride = (<usize>N) << 3;
  const off = i64x2.splat(decompOffset(baseLog, levels));
  const mask = digitMask(baseLog), adj = digitAdj(baseLog), magicF = magicF64();
  for (let c = 0; c < N; c += 2) {
    const o = (<usize>c) << 3;
    decomposeStore2(v128.load(src + o), dst, o, stride, baseLog, levels, off, mask, adj, magicF);
  }
}
