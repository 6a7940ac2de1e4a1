// Sliding windows on one sample's [C, H, W] tensor, as ONNX's Conv and pooling operators define them, and
// the loops that every evaluation of the tensor path shares: in float, in integers and on intervals. A tap
// in the padding reads nothing (zero for a convolution or a sum, ignored by a maximum).
import type { Shape3 } from "./tensor-graph.js";

export interface Window {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Padding [top, left, bottom, right]. */
  readonly pads: readonly [number, number, number, number];
}

/** Output size (floor, or ceil as ceil_mode), or undefined when the dilated kernel does not fit. */
export function windowOutput(shape: Shape3, w: Window, ceil: boolean): [number, number] | undefined {
  const size = (a: 0 | 1): number => {
    const n = shape[a + 1]! + w.pads[a]! + w.pads[a + 2]!, span = (w.kernel[a] - 1) * w.dilation[a] + 1;
    const r = (n - span) / w.stride[a];
    return n < span ? 0 : (ceil ? Math.ceil(r) : Math.floor(r)) + 1;
  };
  const out: [number, number] = [size(0), size(1)];
  return out[0] > 0 && out[1] > 0 ? out : undefined;
}

/** For each output position p and kernel tap t, the input position h·W + w it reads, or −1 in the padding: [P × T]. */
export interface Taps {
  readonly P: number;
  readonly T: number;
  readonly index: Int32Array;
  /** Taps inside the input, per output position. */
  readonly inside: Int32Array;
}

const cache = new WeakMap<Window, Map<string, Taps>>();

export function taps(shape: Shape3, w: Window): Taps {
  const key = shape.join(",");
  const hit = cache.get(w)?.get(key);
  if (hit !== undefined) return hit;
  const [, H, W] = shape, [OH, OW] = windowOutput(shape, w, false)!;
  const [KH, KW] = w.kernel, T = KH * KW, P = OH * OW;
  const index = new Int32Array(P * T), inside = new Int32Array(P);
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      const p = oh * OW + ow;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const h = oh * w.stride[0] - w.pads[0] + kh * w.dilation[0], x = ow * w.stride[1] - w.pads[1] + kw * w.dilation[1];
          const ok = h >= 0 && h < H && x >= 0 && x < W;
          index[p * T + kh * KW + kw] = ok ? h * W + x : -1;
          if (ok) inside[p]!++;
        }
      }
    }
  }
  const t = { P, T, index, inside };
  if (!cache.has(w)) cache.set(w, new Map());
  cache.get(w)!.set(key, t);
  return t;
}

/** Convolution of one sample x [C, H, W] with weights [O, C/group, KH, KW] (no bias): out [O, OH, OW]. */
export function convolve(x: Float64Array, shape: Shape3, W: ArrayLike<number>, O: number, group: number, w: Window): Float64Array {
  const [C, H, Wd] = shape, Cg = C / group, Og = O / group, { P, T, index } = taps(shape, w);
  const out = new Float64Array(O * P);
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) {
      const base = (g * Cg + c) * H * Wd, wb = (o * Cg + c) * T;
      for (let p = 0; p < P; p++) {
        let s = 0;
        for (let t = 0; t < T; t++) {
          const i = index[p * T + t]!;
          if (i >= 0) s += W[wb + t]! * x[base + i]!;
        }
        out[o * P + p]! += s;
      }
    }
  }
  return out;
}

/** Bounds [lo, hi] of each convolution output over every input x with lo ≤ x ≤ hi element-wise. */
export function convolveInterval(lo: Float64Array, hi: Float64Array, shape: Shape3, W: ArrayLike<number>, O: number, group: number, w: Window): { lo: Float64Array; hi: Float64Array } {
  const [C, H, Wd] = shape, Cg = C / group, Og = O / group, { P, T, index } = taps(shape, w);
  const a = new Float64Array(O * P), b = new Float64Array(O * P);
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) {
      const base = (g * Cg + c) * H * Wd, wb = (o * Cg + c) * T;
      for (let p = 0; p < P; p++) {
        for (let t = 0; t < T; t++) {
          const i = index[p * T + t]!;
          if (i < 0) continue;
          const q = W[wb + t]!, u = q * lo[base + i]!, v = q * hi[base + i]!;
          a[o * P + p]! += Math.min(u, v);
          b[o * P + p]! += Math.max(u, v);
        }
      }
    }
  }
  return { lo: a, hi: b };
}

/** Pooling of one sample per channel: the maximum, the sum, or the mean (over the kernel or the taps inside) of each window. */
export function pool(x: ArrayLike<number>, shape: Shape3, w: Window, kind: "max" | "sum" | "mean-kernel" | "mean-inside"): Float64Array {
  const [C, H, Wd] = shape, { P, T, index, inside } = taps(shape, w);
  const out = new Float64Array(C * P);
  for (let c = 0; c < C; c++) {
    const base = c * H * Wd;
    for (let p = 0; p < P; p++) {
      let s = kind === "max" ? -Infinity : 0;
      for (let t = 0; t < T; t++) {
        const i = index[p * T + t]!;
        if (i < 0) continue;
        s = kind === "max" ? Math.max(s, x[base + i]!) : s + x[base + i]!;
      }
      out[c * P + p] = kind === "mean-kernel" ? s / T : kind === "mean-inside" ? s / inside[p]! : s;
    }
  }
  return out;
}
