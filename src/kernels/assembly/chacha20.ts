// ChaCha20 keystream (RFC 8439: 20 rounds, 256-bit key, 96-bit nonce, 32-bit block counter, little-endian).
//
// Four blocks are computed at once, one per 32-bit lane: state word i of the four blocks lives in one v128
// (x0..x15), the lanes differing only in the block counter (counter, counter+1, counter+2, counter+3). After the
// 20 rounds and the feed-forward, each group of four words is transposed (4×4 lanes) so that each block's 64
// bytes are written contiguously. Rotations by 16 and 8 are byte shuffles; by 12 and 7, shift pairs.

// @ts-ignore: decorator
@inline function rotl16(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

// @ts-ignore: decorator
@inline function rotl8(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
}

// @ts-ignore: decorator
@inline function rotl12(x: v128): v128 {
  return v128.or(i32x4.shl(x, 12), i32x4.shr_u(x, 20));
}

// @ts-ignore: decorator
@inline function rotl7(x: v128): v128 {
  return v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25));
}

/**
 * Transposes words (a, b, c, d) of the four lanes (blocks) and writes block j's 16 bytes at
 * out + j·64 + offset for the first `count` blocks (count ≥ 4: all four).
 */
// @ts-ignore: decorator
@inline function storeGroup(out: usize, offset: usize, a: v128, b: v128, c: v128, d: v128, count: i32): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = i32x4.shuffle(c, d, 0, 4, 1, 5); // c0 d0 c1 d1
  const t2 = i32x4.shuffle(a, b, 2, 6, 3, 7); // a2 b2 a3 b3
  const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7); // c2 d2 c3 d3
  const p = out + offset;
  v128.store(p, i64x2.shuffle(t0, t1, 0, 2));
  if (count >= 4) {
    v128.store(p + 64, i64x2.shuffle(t0, t1, 1, 3));
    v128.store(p + 128, i64x2.shuffle(t2, t3, 0, 2));
    v128.store(p + 192, i64x2.shuffle(t2, t3, 1, 3));
  } else {
    if (count > 1) v128.store(p + 64, i64x2.shuffle(t0, t1, 1, 3));
    if (count > 2) v128.store(p + 128, i64x2.shuffle(t2, t3, 0, 2));
  }
}

/**
 * Writes nBlocks·64 bytes of ChaCha20 keystream at `out`: blocks counter, counter+1, … of the 32-byte key at
 * `key` and the 12-byte nonce at `nonce` (RFC 8439 §2.3, serialised little-endian as in §2.4). The block
 * counter wraps modulo 2^32 (callers that must not reuse keystream keep counter + nBlocks ≤ 2^32).
 * No alignment is required of any pointer.
 */
export function chacha20Blocks(key: usize, nonce: usize, counter: u32, out: usize, nBlocks: i32): void {
  const k0 = load<i32>(key), k1 = load<i32>(key, 4), k2 = load<i32>(key, 8), k3 = load<i32>(key, 12);
  const k4 = load<i32>(key, 16), k5 = load<i32>(key, 20), k6 = load<i32>(key, 24), k7 = load<i32>(key, 28);
  const n0 = load<i32>(nonce), n1 = load<i32>(nonce, 4), n2 = load<i32>(nonce, 8);
  const laneOffsets = i32x4(0, 1, 2, 3);
  let ctr = counter;
  let remaining = nBlocks;
  while (remaining > 0) {
    const ctrv = i32x4.add(i32x4.splat(<i32>ctr), laneOffsets);
    // "expand 32-byte k"
    let x0 = i32x4.splat(0x61707865), x1 = i32x4.splat(0x3320646e);
    let x2 = i32x4.splat(0x79622d32), x3 = i32x4.splat(0x6b206574);
    let x4 = i32x4.splat(k0), x5 = i32x4.splat(k1), x6 = i32x4.splat(k2), x7 = i32x4.splat(k3);
    let x8 = i32x4.splat(k4), x9 = i32x4.splat(k5), x10 = i32x4.splat(k6), x11 = i32x4.splat(k7);
    let x12 = ctrv, x13 = i32x4.splat(n0), x14 = i32x4.splat(n1), x15 = i32x4.splat(n2);
    for (let r = 0; r < 10; r++) {
      // column rounds
      x0 = i32x4.add(x0, x4); x12 = rotl16(v128.xor(x12, x0));
      x8 = i32x4.add(x8, x12); x4 = rotl12(v128.xor(x4, x8));
      x0 = i32x4.add(x0, x4); x12 = rotl8(v128.xor(x12, x0));
      x8 = i32x4.add(x8, x12); x4 = rotl7(v128.xor(x4, x8));
      x1 = i32x4.add(x1, x5); x13 = rotl16(v128.xor(x13, x1));
      x9 = i32x4.add(x9, x13); x5 = rotl12(v128.xor(x5, x9));
      x1 = i32x4.add(x1, x5); x13 = rotl8(v128.xor(x13, x1));
      x9 = i32x4.add(x9, x13); x5 = rotl7(v128.xor(x5, x9));
      x2 = i32x4.add(x2, x6); x14 = rotl16(v128.xor(x14, x2));
      x10 = i32x4.add(x10, x14); x6 = rotl12(v128.xor(x6, x10));
      x2 = i32x4.add(x2, x6); x14 = rotl8(v128.xor(x14, x2));
      x10 = i32x4.add(x10, x14); x6 = rotl7(v128.xor(x6, x10));
      x3 = i32x4.add(x3, x7); x15 = rotl16(v128.xor(x15, x3));
      x11 = i32x4.add(x11, x15); x7 = rotl12(v128.xor(x7, x11));
      x3 = i32x4.add(x3, x7); x15 = rotl8(v128.xor(x15, x3));
      x11 = i32x4.add(x11, x15); x7 = rotl7(v128.xor(x7, x11));
      // diagonal rounds
      x0 = i32x4.add(x0, x5); x15 = rotl16(v128.xor(x15, x0));
      x10 = i32x4.add(x10, x15); x5 = rotl12(v128.xor(x5, x10));
      x0 = i32x4.add(x0, x5); x15 = rotl8(v128.xor(x15, x0));
      x10 = i32x4.add(x10, x15); x5 = rotl7(v128.xor(x5, x10));
      x1 = i32x4.add(x1, x6); x12 = rotl16(v128.xor(x12, x1));
      x11 = i32x4.add(x11, x12); x6 = rotl12(v128.xor(x6, x11));
      x1 = i32x4.add(x1, x6); x12 = rotl8(v128.xor(x12, x1));
      x11 = i32x4.add(x11, x12); x6 = rotl7(v128.xor(x6, x11));
      x2 = i32x4.add(x2, x7); x13 = rotl16(v128.xor(x13, x2));
      x8 = i32x4.add(x8, x13); x7 = rotl12(v128.xor(x7, x8));
      x2 = i32x4.add(x2, x7); x13 = rotl8(v128.xor(x13, x2));
      x8 = i32x4.add(x8, x13); x7 = rotl7(v128.xor(x7, x8));
      x3 = i32x4.add(x3, x4); x14 = rotl16(v128.xor(x14, x3));
      x9 = i32x4.add(x9, x14); x4 = rotl12(v128.xor(x4, x9));
      x3 = i32x4.add(x3, x4); x14 = rotl8(v128.xor(x14, x3));
      x9 = i32x4.add(x9, x14); x4 = rotl7(v128.xor(x4, x9));
    }
    // Feed-forward: add the input state.
    x0 = i32x4.add(x0, i32x4.splat(0x61707865)); x1 = i32x4.add(x1, i32x4.splat(0x3320646e));
    x2 = i32x4.add(x2, i32x4.splat(0x79622d32)); x3 = i32x4.add(x3, i32x4.splat(0x6b206574));
    x4 = i32x4.add(x4, i32x4.splat(k0)); x5 = i32x4.add(x5, i32x4.splat(k1));
    x6 = i32x4.add(x6, i32x4.splat(k2)); x7 = i32x4.add(x7, i32x4.splat(k3));
    x8 = i32x4.add(x8, i32x4.splat(k4)); x9 = i32x4.add(x9, i32x4.splat(k5));
    x10 = i32x4.add(x10, i32x4.splat(k6)); x11 = i32x4.add(x11, i32x4.splat(k7));
    x12 = i32x4.add(x12, ctrv); x13 = i32x4.add(x13, i32x4.splat(n0));
    x14 = i32x4.add(x14, i32x4.splat(n1)); x15 = i32x4.add(x15, i32x4.splat(n2));

    storeGroup(out, 0, x0, x1, x2, x3, remaining);
    storeGroup(out, 16, x4, x5, x6, x7, remaining);
    storeGroup(out, 32, x8, x9, x10, x11, remaining);
    storeGroup(out, 48, x12, x13, x14, x15, remaining);
    out += 256;
    ctr += 4;
    remaining -= 4;
  }
}
