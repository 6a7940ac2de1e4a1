// Plain BigInt references the kernels are tested against.

/** Balanced gadget digits of a torus value (level 1 = most significant), as the kernels decompose. */
export function balancedDigits(x: bigint, beta: number, l: number): bigint[] {
  const total = BigInt(beta * l), shift = 64n - total, b = BigInt(beta);
  let y = shift > 0n ? (x >> shift) + ((x >> (shift - 1n)) & 1n) : x;
  y &= (1n << total) - 1n;
  const out = new Array<bigint>(l);
  let carry = 0n;
  for (let j = l; j >= 1; j--) {
    let d = (y & ((1n << b) - 1n)) + carry;
    y >>= b;
    carry = d >= 1n << (b - 1n) ? 1n : 0n;
    d -= carry << b;
    out[j - 1] = d;
  }
  return out;
}
