// Tensor kernels on clear data, shared by the interpreter (values) and the Σw² analysis (squared norms),
// so both walk shapes the same way. Shapes are assumed checked by the IR (`deriveNode`).
import { type Shape, broadcastMap, broadcastShapes, matmulShape, sizeOf, stridesOf } from "./shape.js";
import type { Tensor } from "./tensor.js";

export function map(a: Tensor, f: (v: number) => number): Tensor {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i]!);
  return { shape: a.shape, data: out };
}

export function zip(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape)!;
  const ma = broadcastMap(a.shape, shape);
  const mb = broadcastMap(b.shape, shape);
  const out = new Float64Array(ma.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ma[i]!]!, b.data[mb[i]!]!);
  return { shape, data: out };
}

export function broadcastTo(a: Tensor, shape: Shape): Tensor {
  const m = broadcastMap(a.shape, shape);
  const out = new Float64Array(m.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[m[i]!]!;
  return { shape, data: out };
}

export function reshape(a: Tensor, shape: Shape): Tensor {
  return { shape, data: a.data };
}

/** Matrix product with NumPy's rules for 1-D operands (a vector on the left is a row, on the right a column). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const shape = matmulShape(a.shape, b.shape)!;
  const m = a.shape.length === 2 ? a.shape[0]! : 1;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape.length === 2 ? b.shape[1]! : 1;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const x = a.data[i * k + l]!;
      if (x === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += x * b.data[l * n + j]!;
    }
  }
  return { shape, data: out };
}

export function sum(a: Tensor, axis: number | null): Tensor {
  if (axis === null) {
    let s = 0;
    for (const v of a.data) s += v;
    return { shape: [], data: Float64Array.of(s) };
  }
  const shape = a.shape.filter((_, i) => i !== axis);
  // View a as [outer, n, inner]; sum over the middle.
  const n = a.shape[axis]!;
  const inner = sizeOf(a.shape.slice(axis + 1));
  const outer = sizeOf(a.shape.slice(0, axis));
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] += a.data[(o * n + t) * inner + i]!;
    }
  }
  return { shape, data: out };
}

/** Visits every multi-index of `shape` in row-major order. */
function forEachIndex(shape: Shape, f: (idx: readonly number[], flat: number) => void): void {
  const size = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    f(idx, flat);
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      if (++idx[ax]! < shape[ax]!) break;
      idx[ax] = 0;
    }
  }
}

export function slice(a: Tensor, starts: readonly number[], stops: readonly number[], steps: readonly number[]): Tensor {
  const shape = a.shape.map((_, i) => Math.ceil((stops[i]! - starts[i]!) / steps[i]!));
  const st = stridesOf(a.shape);
  const out = new Float64Array(sizeOf(shape));
  forEachIndex(shape, (idx, flat) => {
    let src = 0;
    for (let ax = 0; ax < idx.length; ax++) src += (starts[ax]! + idx[ax]! * steps[ax]!) * st[ax]!;
    out[flat] = a.data[src]!;
  });
  return { shape, data: out };
}

export function concat(parts: readonly Tensor[], axis: number): Tensor {
  const first = parts[0]!.shape;
  const total = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  const shape = first.map((d, i) => (i === axis ? total : d));
  // View every part as [outer, n_p, inner] and interleave the middle blocks.
  const outer = sizeOf(first.slice(0, axis));
  const inner = sizeOf(first.slice(axis + 1));
  const out = new Float64Array(sizeOf(shape));
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = p.shape[axis]! * inner;
      out.set(p.data.subarray(o * block, (o + 1) * block), dst);
      dst += block;
    }
  }
  return { shape, data: out };
}

/** Output element i is a.data[indices[i]] (indices checked by the IR). */
export function gather(a: Tensor, indices: Int32Array, shape: Shape): Tensor {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[indices[i]!]!;
  return { shape, data: out };
}

/** The multiple of 2^lsbs at or below v (floor): truncation of the low bits in two's complement. */
export function truncLsbs(v: number, lsbs: number): number {
  if (lsbs === 0) return v;
  const step = 2 ** lsbs;
  return Math.floor(v / step) * step;
}

/** round(x, lsbs) or truncate(x, lsbs), as a round node says. */
export function roundNode(v: number, node: { readonly lsbs: number; readonly truncate?: boolean }): number {
  return node.truncate === true ? truncLsbs(v, node.lsbs) : roundLsbs(v, node.lsbs);
}

/** Nearest multiple of 2^lsbs, ties upwards (as adding half a step then truncating does in hardware). */
export function roundLsbs(v: number, lsbs: number): number {
  if (lsbs === 0) return v;
  const step = 2 ** lsbs;
  return Math.floor((v + step / 2) / step) * step;
}
