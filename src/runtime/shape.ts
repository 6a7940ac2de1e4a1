// Static tensor shapes (row-major). A scalar has shape []. Dimensions are positive integers: empty tensors
// have no min/max, so they would only complicate bound inference.
import { GraphError } from "./errors.js";

export type Shape = readonly number[];

export function isShape(s: unknown): s is Shape {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 1);
}

export function assertShape(s: unknown, what: string): asserts s is Shape {
  if (!isShape(s)) throw new GraphError(`${what}: ${JSON.stringify(s)} is not a shape (positive integer dimensions)`);
}

export function sizeOf(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function stridesOf(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i]!;
  }
  return st;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(s: Shape): string {
  return `[${s.join(",")}]`;
}

/** NumPy broadcasting of two shapes (align on the right; a dimension of 1 stretches), or null. */
export function broadcastShapes(a: Shape, b: Shape): Shape | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = Math.max(da, db);
  }
  return out;
}

export function canBroadcastTo(from: Shape, to: Shape): boolean {
  const b = broadcastShapes(from, to);
  return b !== null && sameShape(b, to);
}

/** For each flat index of `to`, the flat index of the element of `from` it reads (from must broadcast to `to`). */
export function broadcastMap(from: Shape, to: Shape): Int32Array {
  const size = sizeOf(to);
  const map = new Int32Array(size);
  const fromStrides = stridesOf(from);
  const offset = to.length - from.length;
  // Stride 0 on stretched or missing axes; walk `to` with an odometer.
  const st = to.map((_, i) => (i < offset || from[i - offset] === 1 ? 0 : fromStrides[i - offset]!));
  const idx = new Array<number>(to.length).fill(0);
  let src = 0;
  for (let flat = 0; flat < size; flat++) {
    map[flat] = src;
    for (let ax = to.length - 1; ax >= 0; ax--) {
      idx[ax]!++;
      src += st[ax]!;
      if (idx[ax]! < to[ax]!) break;
      src -= st[ax]! * to[ax]!;
      idx[ax] = 0;
    }
  }
  return map;
}

/** Output shape of a matrix product (ranks 1 or 2, NumPy's rules for 1-D operands), or null. */
export function matmulShape(a: Shape, b: Shape): Shape | null {
  if (a.length < 1 || a.length > 2 || b.length < 1 || b.length > 2) return null;
  const k = a[a.length - 1]!;
  if (k !== b[0]) return null; // b's rows (or its length, for a vector)
  const out: number[] = [];
  if (a.length === 2) out.push(a[0]!);
  if (b.length === 2) out.push(b[1]!);
  return out;
}
