// LWE key switching (DESIGN.md: KS→PBS order). KSK row (i, j) = LWE_s(s'_i · q/B^j); then
//   out = (0, …, 0, b) − Σ_i Σ_j d_{i,j}·KSK_{i,j}, with d_{i,j} the balanced digits of a_i.
import { roundToLevels } from "./decompose";

export function keyswitch(
  out: usize, inp: usize, ksk: usize, nIn: i32, nOut: i32, baseLog: i32, levels: i32,
): void {
  keyswitchInit(out, inp, nIn, nOut);
  keyswitchRange(out, inp, ksk, 0, nIn, nOut, baseLog, levels);
}

/** out = (0, …, 0, b): the start of a key switch. */
export function keyswitchInit(out: usize, inp: usize, nIn: i32, nOut: i32): void {
  memory.fill(out, 0, (<usize>(nOut + 1)) << 3);
  store<u64>(out + ((<usize>nOut) << 3), load<u64>(inp + ((<usize>nIn) << 3)));
}

/**
 * Accumulates input coefficients [iStart, iEnd) into out; `ksk` points at the rows of iStart (so a key
 * larger than this module's memory can be streamed through in chunks).
 */
export function keyswitchRange(
  out: usize, inp: usize, ksk: usize, iStart: i32, iEnd: i32, nOut: i32, baseLog: i32, levels: i32,
): void {
  const dimOut = nOut + 1;
  const rowBytes = (<usize>dimOut) << 3;
  const total = baseLog * levels;
  const B: i64 = <i64>1 << <i64>baseLog;
  const mask: u64 = <u64>B - 1;
  const halfB: i64 = B >> 1;
  const vecEnd = dimOut & ~1;
  for (let i = iStart; i < iEnd; i++) {
    let y = roundToLevels(load<u64>(inp + ((<usize>i) << 3)), total);
    let carry: i64 = 0;
    for (let j = levels; j >= 1; j--) {
      let d = <i64>(y & mask) + carry;
      y >>= <u64>baseLog;
      carry = <i64>(d >= halfB);
      d -= carry << <i64>baseLog;
      if (d == 0) continue;
      const row = ksk + (<usize>((i - iStart) * levels + j - 1)) * rowBytes;
      const dv = i64x2.splat(d);
      let c = 0;
      for (; c < vecEnd; c += 2) {
        const o = (<usize>c) << 3;
        v128.store(out + o, i64x2.sub(v128.load(out + o), i64x2.mul(dv, v128.load(row + o))));
      }
      for (; c < dimOut; c++) {
        const o = (<usize>c) << 3;
        store<i64>(out + o, load<i64>(out + o) - d * load<i64>(row + o));
      }
    }
  }
}
