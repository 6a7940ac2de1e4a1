// Post-training quantization of a lowered convolutional network (Jacob et al. 2018, §2; per-channel weight
// scales as in Krishnamoorthi 2018, §3.1) into a chain of integer stages, and their evaluation in the clear.
//
// Every encrypted tensor is integers t with real value S_e·t_e + M_e per element e. Linear stages (Conv,
// Gemm, sum pooling) act on t alone: S folds into the weights (one scale per input channel for a
// convolution, per element for a dense layer) and M into the next offset, computed in float — a padded tap
// reads t = 0 and contributes 0 to both, as zero padding of the real tensor requires. Only a lookup needs M
// inside the circuit: the part that varies within a channel (the padding's border effect) is added to the
// accumulator as clear integers, the channel's constant goes into its table. Each lookup reads the
// accumulator rounded to `roundingBits` bits of that channel's sound range (every input code the circuit
// accepts) and returns an unsigned code of `activationBits` bits on the channel's calibration range.
import type { Matrix } from "../data.js";
import { MlUnsupportedError } from "../errors.js";
import { lsbsFor, roundLsbs } from "../nn/integer.js";
import { AffineQuantizer } from "../quantize.js";
import type { PtqOptions } from "./quantize.js";
import type { Activation, Shape3, TensorGraph } from "./tensor-graph.js";
import { convolve, convolveInterval, pool, taps, type Window } from "./tensor-window.js";

/** One channel's lookup: the accumulator rounded by `lsbs` low bits, then `table`. */
export interface ChannelLookup {
  readonly lsbs: number;
  readonly exact: boolean;
  readonly table: (r: number) => number;
}

export type IntegerStage =
  /** Weights [O, C/group, KH, KW] in integers. */
  | { readonly kind: "conv"; readonly in: Shape3; readonly out: Shape3; readonly Q: Int32Array; readonly group: number; readonly window: Window }
  | { readonly kind: "dense"; readonly in: number; readonly out: number; /** [in × out] */ readonly Q: Int32Array }
  | { readonly kind: "lookup"; readonly node: string; readonly op: string; readonly shape: Shape3; /** Added before rounding; per element. */ readonly bias?: Int32Array; readonly units: ChannelLookup[] }
  | { readonly kind: "maxpool"; readonly in: Shape3; readonly out: Shape3; readonly window: Window }
  | { readonly kind: "sumpool"; readonly in: Shape3; readonly out: Shape3; readonly window: Window };

export interface TensorNetwork {
  readonly encoder: AffineQuantizer;
  readonly input: Shape3;
  readonly stages: IntegerStage[];
  /** The circuit's outputs dequantized: scale_k·t_k + bias_k. */
  readonly scale: number[];
  readonly bias: number[];
}

const size = (s: Shape3): number => s[0] * s[1] * s[2];

/** The real value of a tensor's integers, S·t + M, and their sound range over every accepted input. */
interface Meta { S: Float64Array; M: Float64Array; lo: Float64Array; hi: Float64Array }

/** One integer stage on one sample. */
export function integerStage(st: IntegerStage, x: Float64Array): Float64Array {
  switch (st.kind) {
    case "conv": return convolve(x, st.in, st.Q, st.out[0], st.group, st.window);
    case "dense": {
      const y = new Float64Array(st.out);
      for (let i = 0; i < st.in; i++) {
        const v = x[i]!;
        if (v !== 0) for (let j = 0; j < st.out; j++) y[j]! += v * st.Q[i * st.out + j]!;
      }
      return y;
    }
    case "lookup": {
      const P = st.shape[1] * st.shape[2];
      return Float64Array.from(x, (v, e) => {
        const u = st.units[Math.floor(e / P)]!;
        return u.table(roundLsbs(v + (st.bias?.[e] ?? 0), u.lsbs));
      });
    }
    case "maxpool": return pool(x, st.in, st.window, "max");
    case "sumpool": return pool(x, st.in, st.window, "sum");
  }
}

/** The integer network on rows of input codes (row-major): the circuit's outputs, [rows × outputs]. */
export function tensorForward(net: TensorNetwork, q: ArrayLike<number>, rows: number): Float64Array {
  const F = size(net.input);
  const outs: Float64Array[] = [];
  for (let i = 0; i < rows; i++) {
    let v: Float64Array = Float64Array.from({ length: F }, (_, k) => q[i * F + k]!);
    for (const st of net.stages) v = integerStage(st, v);
    outs.push(v);
  }
  const K = outs[0]?.length ?? 0, out = new Float64Array(rows * K);
  outs.forEach((v, i) => out.set(v, i * K));
  return out;
}

/**
 * The input quantizer: one affine range per input channel (one for all features when the graph's input is
 * flat), so that a convolution's input scale is one per channel; written per feature, as the client encodes.
 */
function inputQuantizer(X: Matrix, g: TensorGraph, bits: number): AffineQuantizer {
  const F = size(g.input), groups = g.inputDims.length === 1 ? 1 : g.input[0], per = F / groups;
  const lo = new Float64Array(groups).fill(Infinity), hi = new Float64Array(groups).fill(-Infinity);
  for (let k = 0; k < X.data.length; k++) {
    const c = Math.floor((k % F) / per), v = X.data[k]!;
    if (v < lo[c]!) lo[c] = v;
    if (v > hi[c]!) hi[c] = v;
  }
  const qmax = 2 ** bits - 1;
  const scale: number[] = [], zeroPoint: number[] = [], min: number[] = [], max: number[] = [];
  for (let f = 0; f < F; f++) {
    const c = Math.floor(f / per), span = hi[c]! - lo[c]!;
    const s = span > 0 ? span / qmax : 1;
    // As AffineQuantizer.fit: min and max map to 0 and qmax; a constant channel sits mid-range.
    scale.push(s);
    zeroPoint.push(span > 0 ? Math.round(-lo[c]! / s) : Math.floor(qmax / 2) - Math.round(lo[c]!));
    min.push(lo[c]!);
    max.push(hi[c]!);
  }
  return AffineQuantizer.fromJSON({ bits, scale, zeroPoint, min, max });
}

/** The one scale of each channel's elements, or an error naming the node that needs it. */
function channelScales(S: Float64Array, shape: Shape3, node: string, why: string): Float64Array {
  const C = shape[0], P = shape[1] * shape[2];
  return Float64Array.from({ length: C }, (_, c) => {
    const s = S[c * P]!;
    for (let e = c * P; e < (c + 1) * P; e++) {
      if (Math.abs(S[e]! - s) > 1e-12 * Math.abs(s)) {
        throw new MlUnsupportedError(`ONNX node ${node}: ${why} needs one scale per channel, but its input's varies within channel ${c} (an AveragePool with count_include_pad = 0 over padding before it)`);
      }
    }
    return s;
  });
}

/** Symmetric scales of the rows of W [rows × per] (one per output channel), or one for all. */
function rowScales(W: Float64Array, rows: number, per: number, wmax: number, perChannel: boolean): Float64Array {
  const s = Float64Array.from({ length: rows }, (_, o) => {
    let m = 0;
    for (let k = o * per; k < (o + 1) * per; k++) m = Math.max(m, Math.abs(W[k]!));
    return m / wmax;
  });
  const top = Math.max(...s);
  return s.map((v) => (perChannel && v > 0 ? v : top > 0 ? top : 1));
}

/** The p-th percentile (nearest rank) of v, which it sorts. */
function percentileOf(v: Float64Array, p: number): number {
  v.sort();
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
}

const QUANTIZE: Activation = { op: "quantize", f: (x) => x, monotone: true };

export function quantizeTensorNetwork(g: TensorGraph, X: Matrix, o: PtqOptions): TensorNetwork {
  const encoder = inputQuantizer(X, g, o.inputBits);
  const rows = X.rows, F = size(g.input), amax = 2 ** o.activationBits - 1, wmax = 2 ** (o.weightBits - 1) - 1;
  const perChannel = o.weightScales === "per-channel";
  // The calibration rows' integers at the current stage, [rows × size].
  let codes = Float64Array.from(encoder.quantize(X).q);
  let width = F;
  let m: Meta = {
    S: Float64Array.from(encoder.scale), M: Float64Array.from(encoder.scale, (s, e) => -s * encoder.zeroPoint[e]!),
    lo: new Float64Array(F), hi: new Float64Array(F).fill(encoder.qmax),
  };
  const stages: IntegerStage[] = [];
  const apply = (st: IntegerStage): void => {
    const outs: Float64Array[] = [];
    for (let i = 0; i < rows; i++) outs.push(integerStage(st, codes.subarray(i * width, (i + 1) * width)));
    width = outs[0]?.length ?? 0;
    codes = new Float64Array(rows * width);
    outs.forEach((v, i) => codes.set(v, i * width));
    stages.push(st);
  };

  const lookup = (shape: Shape3, node: string, act: Activation): void => {
    const C = shape[0], P = shape[1] * shape[2];
    const Sc = channelScales(m.S, shape, node, act.op === "quantize" ? "the requantization before it" : "its lookup");
    const Mc = Float64Array.from({ length: C }, (_, c) => m.M[c * P]!);
    const bias = Int32Array.from({ length: C * P }, (_, e) => {
      const c = Math.floor(e / P);
      return Sc[c] === 0 ? 0 : Math.round((m.M[e]! - Mc[c]!) / Sc[c]!);
    });
    const S = new Float64Array(C * P), M = new Float64Array(C * P);
    const units = Array.from({ length: C }, (_, c): ChannelLookup => {
      let lo = Infinity, hi = -Infinity;
      for (let e = c * P; e < (c + 1) * P; e++) {
        lo = Math.min(lo, m.lo[e]! + bias[e]!);
        hi = Math.max(hi, m.hi[e]! + bias[e]!);
      }
      const lsbs = lsbsFor({ lo, hi }, o.roundingBits);
      const s = Sc[c]!, off = Mc[c]!, f = act.f;
      const y = new Float64Array(rows * P);
      for (let i = 0; i < rows; i++) for (let p = 0; p < P; p++) y[i * P + p] = f(s * (codes[i * width + c * P + p]! + bias[c * P + p]!) + off, c);
      let ylo = Infinity, yhi = -Infinity;
      for (const v of y) {
        ylo = Math.min(ylo, v);
        yhi = Math.max(yhi, v);
      }
      if (o.activationRange === "percentile") {
        const sorted = Float64Array.from(y);
        yhi = percentileOf(sorted, o.percentile);
        ylo = sorted[Math.max(0, Math.ceil(((100 - o.percentile) / 100) * sorted.length) - 1)]!;
      }
      // A channel constant on the calibration rows keeps a unit step around its value.
      const sa = yhi > ylo ? (yhi - ylo) / amax : (Math.abs(yhi) > 0 ? Math.abs(yhi) : 1) / amax;
      S.fill(sa, c * P, (c + 1) * P);
      M.fill(ylo, c * P, (c + 1) * P);
      return { lsbs, exact: o.rounding === "exact", table: (r) => Math.min(amax, Math.max(0, Math.round((f(s * r + off, c) - ylo) / sa))) };
    });
    apply({ kind: "lookup", node, op: act.op, shape, ...(bias.some((b) => b !== 0) ? { bias } : {}), units });
    m = { S, M, lo: new Float64Array(C * P), hi: new Float64Array(C * P).fill(amax) };
  };

  for (const st of g.stages) {
    switch (st.kind) {
      case "affine": {
        const P = st.shape[1] * st.shape[2];
        m = {
          ...m,
          S: m.S.map((s, e) => st.scale[Math.floor(e / P)]! * s),
          M: m.M.map((v, e) => st.scale[Math.floor(e / P)]! * v + st.shift[Math.floor(e / P)]!),
        };
        break;
      }
      case "act":
        lookup(st.shape, st.node, st.act);
        break;
      case "conv": {
        const Sc = channelScales(m.S, st.in, st.node, "a convolution");
        const O = st.out[0], Cg = st.in[0] / st.group, T = st.window.kernel[0] * st.window.kernel[1], per = Cg * T, Og = O / st.group;
        // Real input = S_c·t + M: S_c folds into the weights of input channel c.
        const folded = st.W.map((w, k) => {
          const oc = Math.floor(k / per), c = Math.floor((k % per) / T);
          return w * Sc[Math.floor(oc / Og) * Cg + c]!;
        });
        const sw = rowScales(folded, O, per, wmax, perChannel);
        const Q = Int32Array.from(folded, (w, k) => Math.round(w / sw[Math.floor(k / per)]!));
        const P = st.out[1] * st.out[2];
        const M = convolve(m.M, st.in, st.W, O, st.group, st.window).map((v, e) => v + st.b[Math.floor(e / P)]!);
        const r = convolveInterval(m.lo, m.hi, st.in, Q, O, st.group, st.window);
        apply({ kind: "conv", in: st.in, out: st.out, Q, group: st.group, window: st.window });
        m = { S: Float64Array.from({ length: O * P }, (_, e) => sw[Math.floor(e / P)]!), M, lo: r.lo, hi: r.hi };
        break;
      }
      case "dense": {
        const n = st.in, k = st.out;
        // Transposed to [out × in], so that each output's weights are one row.
        const folded = Float64Array.from({ length: n * k }, (_, t) => {
          const j = Math.floor(t / n), i = t % n;
          return st.W[i * k + j]! * m.S[i]!;
        });
        const sw = rowScales(folded, k, n, wmax, perChannel);
        const Q = new Int32Array(n * k), M = Float64Array.from(st.b), lo = new Float64Array(k), hi = new Float64Array(k);
        for (let j = 0; j < k; j++) {
          for (let i = 0; i < n; i++) {
            const q = Math.round(folded[j * n + i]! / sw[j]!);
            Q[i * k + j] = q;
            M[j]! += st.W[i * k + j]! * m.M[i]!;
            lo[j]! += Math.min(q * m.lo[i]!, q * m.hi[i]!);
            hi[j]! += Math.max(q * m.lo[i]!, q * m.hi[i]!);
          }
        }
        apply({ kind: "dense", in: n, out: k, Q });
        m = { S: Float64Array.from(sw), M, lo, hi };
        break;
      }
      case "maxpool": {
        // The maximum of the integers is the integers of the maximum when S is one positive scale and M one
        // offset per channel; codes ≥ 0 also let a padded tap read 0. Otherwise requantize first.
        const C = st.in[0], P = st.in[1] * st.in[2];
        let ok = m.lo.every((v) => v >= 0);
        for (let c = 0; ok && c < C; c++) {
          for (let e = c * P; e < (c + 1) * P; e++) if (!(m.S[e] === m.S[c * P] && m.S[e]! > 0 && m.M[e] === m.M[c * P])) ok = false;
        }
        if (!ok) lookup(st.in, st.node, QUANTIZE);
        const S0 = m.S, M0 = m.M, Po = st.out[1] * st.out[2];
        apply({ kind: "maxpool", in: st.in, out: st.out, window: st.window });
        m = {
          S: Float64Array.from({ length: C * Po }, (_, e) => S0[Math.floor(e / Po) * P]!), M: Float64Array.from({ length: C * Po }, (_, e) => M0[Math.floor(e / Po) * P]!),
          lo: pool(m.lo, st.in, st.window, "max"), hi: pool(m.hi, st.in, st.window, "max"),
        };
        break;
      }
      case "avgpool": {
        const Sc = channelScales(m.S, st.in, st.node, "an average pooling");
        const Po = st.out[1] * st.out[2], { T, inside } = taps(st.in, st.window);
        const M = pool(m.M, st.in, st.window, st.countPad ? "mean-kernel" : "mean-inside");
        const lo = pool(m.lo, st.in, st.window, "sum"), hi = pool(m.hi, st.in, st.window, "sum");
        // The circuit sums; the divisor goes into the scale (per position when the padding is not counted).
        const S = Float64Array.from({ length: st.out[0] * Po }, (_, e) => Sc[Math.floor(e / Po)]! / (st.countPad ? T : inside[e % Po]!));
        apply({ kind: "sumpool", in: st.in, out: st.out, window: st.window });
        m = { S, M, lo, hi };
        break;
      }
    }
  }
  return { encoder, input: g.input, stages, scale: Array.from(m.S), bias: Array.from(m.M) };
}
