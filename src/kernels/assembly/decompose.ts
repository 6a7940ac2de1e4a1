// Signed (balanced) gadget decomposition (DESIGN.md: GGSW; TFHE-rs "SignedDecomposer").
// x is first rounded to the closest multiple of q/B^l (q = 2^64, B = 2^β), then split into l digits in
// [-B/2, B/2] with Σ_j d_j·q/B^j ≡ round(x) (mod q). Digit j = 1 is the most significant.

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
 * Decomposes two coefficients held in a v128 (u64 lanes) and stores their l digits as f64 at
 * dst + (j−1)·stride + o. Balanced digits: a digit ≥ B/2 becomes d − B with a carry into the next level.
 */
@inline export function decomposeStore2(x: v128, dst: usize, o: usize, stride: usize, baseLog: i32, levels: i32): void {
  const total = baseLog * levels;
  const shift = 64 - total;
  let y: v128;
  if (shift == 0) {
    y = x;
  } else {
    y = i64x2.add(i64x2.shr_u(x, shift), v128.and(i64x2.shr_u(x, shift - 1), i64x2.splat(1)));
    if (total < 64) y = v128.and(y, i64x2.splat((<i64>1 << <i64>total) - 1));
  }
  const mask = i64x2.splat((<i64>1 << <i64>baseLog) - 1);
  const halfB = i64x2.splat(<i64>1 << <i64>(baseLog - 1));
  const magicI = i64x2.splat(MAGIC_I);
  const magicF = f64x2.splat(MAGIC_F);
  let carry = i64x2.splat(0);
  for (let j = levels; j >= 1; j--) {
    let d = i64x2.add(v128.and(y, mask), carry);
    y = i64x2.shr_u(y, baseLog);
    carry = i64x2.shr_u(i64x2.ge_s(d, halfB), 63);
    d = i64x2.sub(d, i64x2.shl(carry, baseLog));
    v128.store(dst + <usize>(j - 1) * stride + o, f64x2.sub(i64x2.add(d, magicI), magicF));
  }
}

/** Digits (as f64, level j = 1 first, one polynomial per level at dst) of an N-coefficient u64 polynomial. */
export function decomposePolyF64(src: usize, dst: usize, N: i32, baseLog: i32, levels: i32): void {
  const stride = (<usize>N) << 3;
  for (let c = 0; c < N; c += 2) {
    const o = (<usize>c) << 3;
    decomposeStore2(v128.load(src + o), dst, o, stride, baseLog, levels);
  }
}
