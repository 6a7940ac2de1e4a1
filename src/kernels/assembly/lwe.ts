// Linear algebra on LWE ciphertexts and batches (u64, wrapping = arithmetic mod 2^64).

/** dst += src over len u64 words. */
export function addAssign(dst: usize, src: usize, len: i32): void {
  const end = len & ~1;
  let c = 0;
  for (; c < end; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(dst + o, i64x2.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; c < len; c++) {
    const o = (<usize>c) << 3;
    store<u64>(dst + o, load<u64>(dst + o) + load<u64>(src + o));
  }
}

/** dst -= src. */
export function subAssign(dst: usize, src: usize, len: i32): void {
  const end = len & ~1;
  let c = 0;
  for (; c < end; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(dst + o, i64x2.sub(v128.load(dst + o), v128.load(src + o)));
  }
  for (; c < len; c++) {
    const o = (<usize>c) << 3;
    store<u64>(dst + o, load<u64>(dst + o) - load<u64>(src + o));
  }
}

/** dst *= w (wrapping), w a signed integer. */
export function scalarMulAssign(dst: usize, len: i32, w: i64): void {
  const wv = i64x2.splat(w);
  const end = len & ~1;
  let c = 0;
  for (; c < end; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(dst + o, i64x2.mul(v128.load(dst + o), wv));
  }
  for (; c < len; c++) {
    const o = (<usize>c) << 3;
    store<i64>(dst + o, load<i64>(dst + o) * w);
  }
}

/** dst += w·src. */
export function mulAddAssign(dst: usize, src: usize, len: i32, w: i64): void {
  const wv = i64x2.splat(w);
  const end = len & ~1;
  let c = 0;
  for (; c < end; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(dst + o, i64x2.add(v128.load(dst + o), i64x2.mul(v128.load(src + o), wv)));
  }
  for (; c < len; c++) {
    const o = (<usize>c) << 3;
    store<i64>(dst + o, load<i64>(dst + o) + load<i64>(src + o) * w);
  }
}

/**
 * Clear matrix product of a batch: out_j = Σ_i W[i·cols + j] · in_i for j < cols, where in is `rows`
 * ciphertexts of `dim1` words and W is a row-major rows×cols matrix of signed integers.
 */
export function matmul(out: usize, inp: usize, W: usize, rows: i32, cols: i32, dim1: i32): void {
  const ctBytes = (<usize>dim1) << 3;
  memory.fill(out, 0, ctBytes * <usize>cols);
  for (let i = 0; i < rows; i++) {
    const src = inp + <usize>i * ctBytes;
    for (let j = 0; j < cols; j++) {
      const w = load<i64>(W + ((<usize>(i * cols + j)) << 3));
      if (w != 0) mulAddAssign(out + <usize>j * ctBytes, src, dim1, w);
    }
  }
}

/** Σ a_i·s_i mod 2^64 for a u64 mask and a key stored as u64 words (0/1). */
export function dot(a: usize, s: usize, n: i32): u64 {
  let acc = i64x2.splat(0);
  const end = n & ~1;
  let c = 0;
  for (; c < end; c += 2) {
    const o = (<usize>c) << 3;
    acc = i64x2.add(acc, i64x2.mul(v128.load(a + o), v128.load(s + o)));
  }
  let r: u64 = i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1);
  for (; c < n; c++) {
    const o = (<usize>c) << 3;
    r += load<u64>(a + o) * load<u64>(s + o);
  }
  return r;
}

/** For `count` LWEs of dimension n (n+1 words each): out[c] = b − ⟨a, s⟩ (the phase). */
export function batchPhase(out: usize, cts: usize, count: i32, n: i32, s: usize): void {
  const ctBytes = (<usize>(n + 1)) << 3;
  for (let c = 0; c < count; c++) {
    const ct = cts + <usize>c * ctBytes;
    store<u64>(out + ((<usize>c) << 3), load<u64>(ct + ((<usize>n) << 3)) - dot(ct, s, n));
  }
}

/** For `count` LWEs whose masks are set: b = ⟨a, s⟩ + add[c]. */
export function batchSetBody(cts: usize, count: i32, n: i32, s: usize, add: usize): void {
  const ctBytes = (<usize>(n + 1)) << 3;
  for (let c = 0; c < count; c++) {
    const ct = cts + <usize>c * ctBytes;
    store<u64>(ct + ((<usize>n) << 3), dot(ct, s, n) + load<u64>(add + ((<usize>c) << 3)));
  }
}
