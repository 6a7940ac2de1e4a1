// Convolution and pooling, lowered to existing IR ops: a gather of the input windows (im2col; zero
// padding reads one clear 0 appended to the input), then a matmul with the weight (conv2d), a sum (average
// pooling) or a pairwise max tree (max pooling).
import { GraphError } from "../runtime/errors.js";
import { type Window2d, windowOutput, windowTap } from "./indexing.js";
import { formatShape } from "../runtime/shape.js";
import type { Operand, Tracer } from "./tracer.js";

type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Added per output channel: shape [O]. */
  readonly bias?: Operand;
  /** Default 1. */
  readonly stride?: Pair;
  /** Zeros on each side of the spatial axes; default 0. */
  readonly padding?: Pair;
  /** Spacing of the kernel taps; default 1. */
  readonly dilation?: Pair;
  /** Channel groups: input and output channels split into this many independent convolutions; default 1. */
  readonly groups?: number;
}

export interface Pool2dOptions {
  readonly kernel: Pair;
  /** Default: the kernel size. */
  readonly stride?: Pair;
  /** Default 0 (at most half the kernel, as PyTorch requires). */
  readonly padding?: Pair;
  /** Default 1. */
  readonly dilation?: Pair;
}

function pair(v: Pair | undefined, dflt: number, name: string, what: string): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0]!, v[1]!];
  throw new GraphError(`${what}: ${name} must be a number or a pair [h, w], got ${JSON.stringify(v)}`);
}

/** The input as NCHW (a CHW input gets N = 1) and a function that restores the caller's layout. */
function asBatched(x: Tracer, what: string): { x: Tracer; restore: (t: Tracer) => Tracer } {
  if (x.ndim === 4) return { x, restore: (t) => t };
  if (x.ndim === 3) return { x: x.expandDims(0), restore: (t) => t.squeeze(0) };
  throw new GraphError(`${what}: input shape ${formatShape(x.shape)} is not NCHW or CHW`);
}

/**
 * Gathers, for each tap t of the window and each output position, the input element it reads: a tensor
 * [KH·KW, N, C, OH, OW]. A tap in the padding reads `pad(...)`: the appended clear 0, or
 * another tap of the same window (max pooling, where a duplicate never changes the maximum).
 */
function windows(x: Tracer, g: Window2d, pad: "zero" | "same-window", what: string): Tracer {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const hw = [H, W] as const;
  const [OH, OW] = windowOutput(hw, g, what);
  const [KH, KW] = g.kernel;
  const T = KH * KW, P = N * C * OH * OW;
  const indices = new Int32Array(T * P);
  const zero = N * C * H * W;
  let padded = false;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      const taps: ([number, number] | null)[] = [];
      for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) taps.push(windowTap(hw, g, oh, ow, kh, kw));
      const first = taps.find((t) => t !== null) ?? null;
      if (first === null && pad === "same-window") throw new GraphError(`${what}: the window at output (${oh}, ${ow}) lies entirely in the padding (padding ${g.padding.join("×")} is too large for the kernel)`);
      taps.forEach((tap, t) => {
        if (tap === null && pad === "zero") padded = true;
        const [h, w] = tap ?? first ?? [0, 0];
        for (let n = 0; n < N; n++) {
          for (let c = 0; c < C; c++) {
            const out = (((t * N + n) * C + c) * OH + oh) * OW + ow;
            indices[out] = tap === null && pad === "zero" ? zero : ((n * C + c) * H + h) * W + w;
          }
        }
      });
    }
  }
  const source = padded ? concatZero(x) : x;
  return x.builder.push({ kind: "gather", indices }, [source], [T, N, C, OH, OW]);
}

/** The input flattened with one clear 0 appended (at index size): what padding taps read. */
function concatZero(x: Tracer): Tracer {
  const zero = x.builder.operand([0]);
  return x.builder.push({ kind: "concat", axis: 0 }, [x.reshape([x.size]), zero]);
}

export function conv2d(input: Tracer, weight: Tracer, options: Conv2dOptions): Tracer {
  const what = `conv2d of %${input.id}`;
  const { x, restore } = asBatched(input, what);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (weight.ndim !== 4) throw new GraphError(`${what}: weight shape ${formatShape(weight.shape)} is not OIHW`);
  const [O, Cg, KH, KW] = weight.shape as [number, number, number, number];
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0 || Cg !== C / groups) {
    throw new GraphError(`${what}: ${C} input channels, weight ${formatShape(weight.shape)} and groups = ${groups} do not fit ` +
      "(groups must divide C and O, and the weight's second dimension must be C / groups)");
  }
  const g: Window2d = {
    kernel: [KH, KW],
    stride: pair(options.stride, 1, "stride", what),
    padding: pair(options.padding, 0, "padding", what),
    dilation: pair(options.dilation, 1, "dilation", what),
  };
  const [OH, OW] = windowOutput([H, W], g, what);
  const P = N * OH * OW, K = Cg * KH * KW, Og = O / groups;
  const zero = N * C * H * W;
  let padded = false;
  const cols: Int32Array[] = [];
  for (let gi = 0; gi < groups; gi++) {
    // im2col, transposed: row (c, kh, kw) of the group's channels, column (n, oh, ow).
    const idx = new Int32Array(K * P);
    for (let c = 0; c < Cg; c++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const row = (c * KH + kh) * KW + kw;
          for (let oh = 0; oh < OH; oh++) {
            for (let ow = 0; ow < OW; ow++) {
              const tap = windowTap([H, W], g, oh, ow, kh, kw);
              if (tap === null) padded = true;
              for (let n = 0; n < N; n++) {
                idx[row * P + (n * OH + oh) * OW + ow] = tap === null ? zero : ((n * C + gi * Cg + c) * H + tap[0]) * W + tap[1];
              }
            }
          }
        }
      }
    }
    cols.push(idx);
  }
  const source = padded ? concatZero(x) : x;
  const w = weight.reshape([O, K]);
  const outs = cols.map((idx, gi) => {
    const wg = groups === 1 ? w : w.slice([gi * Og, (gi + 1) * Og]);
    return wg.matmul(x.builder.push({ kind: "gather", indices: idx }, [source], [K, P]));
  });
  let out = groups === 1 ? outs[0]! : x.builder.push({ kind: "concat", axis: 0 }, outs);
  out = N === 1 ? out.reshape([1, O, OH, OW]) : out.reshape([O, N, OH, OW]).transpose([1, 0, 2, 3]);
  if (options.bias !== undefined) {
    const b = x.builder.operand(options.bias);
    if (b.ndim !== 1 || b.shape[0] !== O) throw new GraphError(`${what}: bias shape ${formatShape(b.shape)} is not [${O}]`);
    out = out.add(b.reshape([O, 1, 1]));
  }
  return restore(out);
}

function poolGeometry(options: Pool2dOptions, what: string): Window2d {
  if (typeof options !== "object" || options === null) throw new GraphError(`${what}: options { kernel, stride?, padding?, dilation? } are required`);
  const kernel = pair(options.kernel, NaN, "kernel", what);
  const padding = pair(options.padding, 0, "padding", what);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new GraphError(`${what}: padding ${padding.join("×")} exceeds half the kernel ${kernel.join("×")} (as PyTorch requires)`);
  }
  return {
    kernel,
    stride: pair(options.stride ?? options.kernel, 1, "stride", what),
    padding,
    dilation: pair(options.dilation, 1, "dilation", what),
  };
}

export function maxpool2d(input: Tracer, options: Pool2dOptions): Tracer {
  const what = `maxpool2d of %${input.id}`;
  const { x, restore } = asBatched(input, what);
  const taps = windows(x, poolGeometry(options, what), "same-window", what);
  return restore(taps.amax(0));
}

export type AvgDivisor = "round" | "floor" | "none";

export function avgpool2d(input: Tracer, options: Pool2dOptions & { readonly divisor?: AvgDivisor }): Tracer {
  const what = `avgpool2d of %${input.id}`;
  const { x, restore } = asBatched(input, what);
  const g = poolGeometry(options, what);
  const sum = windows(x, g, "zero", what).sum(0);
  const area = g.kernel[0] * g.kernel[1];
  const divisor = options.divisor ?? "round";
  let out: Tracer;
  if (divisor === "none" || area === 1) out = sum;
  // ⌊s/a + 1/2⌋ = ⌊(2s + a) / 2a⌋: exact in integers.
  else if (divisor === "round") out = sum.lut((s) => Math.floor((2 * s + area) / (2 * area)), `round(v/${area})`);
  else if (divisor === "floor") out = sum.lut((s) => Math.floor(s / area), `floor(v/${area})`);
  else throw new GraphError(`${what}: divisor ${JSON.stringify(divisor)} must be "round", "floor" or "none"`);
  return restore(out);
}
