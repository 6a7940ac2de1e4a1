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

/**
 * Writes the l digits of each coefficient of an N-coefficient u64 polynomial as f64 into l consecutive
 * polynomials at `dst` (level j = 1 first). Balanced digits: a digit ≥ B/2 becomes d - B with a carry.
 */
export function decomposePolyF64(src: usize, dst: usize, N: i32, baseLog: i32, levels: i32): void {
  const total = baseLog * levels;
  const B: i64 = <i64>1 << <i64>baseLog;
  const mask: u64 = <u64>B - 1;
  const halfB: i64 = B >> 1;
  const stride = (<usize>N) << 3;
  for (let c = 0; c < N; c++) {
    let y = roundToLevels(load<u64>(src + ((<usize>c) << 3)), total);
    let carry: i64 = 0;
    for (let j = levels; j >= 1; j--) {
      let d = <i64>(y & mask) + carry;
      y >>= <u64>baseLog;
      carry = <i64>(d >= halfB);
      d -= carry << <i64>baseLog;
      store<f64>(dst + (<usize>(j - 1)) * stride + ((<usize>c) << 3), <f64>d);
    }
  }
}
