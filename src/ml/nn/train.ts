// Quantization-aware training of a relu MLP (Jacob et al. 2018, §3; the straight-through estimator of
// Bengio et al. 2013): the forward pass of every minibatch is the integer network itself (integer.ts) —
// symmetric per-layer weights of `weightBits`, activation codes of `activationBits` on [0, α_l] with α_l an
// EMA of the batch maxima, the approximate round before each lookup taken as exact — and the backward pass
// treats each rounding as the identity (clipped relu: gradient where 0 < pre < α). Minibatch Adam (Kingma &
// Ba 2015) on float weights kept in Float64Arrays.
import { MlInputError } from "../errors.js";
import { accumulatorRange, activationTable, type IntegerLayer, lsbsFor, roundLsbs } from "./integer.js";

export type NetLoss = "logistic" | "softmax" | "mse";

export interface QatOptions {
  /** Layer sizes: features, hidden…, outputs. */
  readonly sizes: readonly number[];
  readonly inputBits: number;
  readonly weightBits: number;
  readonly activationBits: number;
  /** Bits the lookup reads (the approximate round keeps this many top bits of the accumulator range). */
  readonly lookupBits: number;
  /** Round each accumulator exactly (bit extraction) instead of approximately (default). */
  readonly rounding?: "approximate" | "exact";
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly loss: NetLoss;
}

/** Float parameters: W_l [in × out] row-major, b_l, and the clipping range α_l of each hidden activation. */
export interface NetParams {
  readonly sizes: number[];
  readonly W: Float64Array[];
  readonly b: Float64Array[];
  readonly alpha: Float64Array;
}

/** The quantized network: its integer layers and the affine map of the last accumulator to outputs. */
export interface QuantizedNet {
  readonly layers: IntegerLayer[];
  /** Float scale of each layer's accumulator (s_W·s_in). */
  readonly accScale: Float64Array;
  /** outputs = outScale·acc + outBias. */
  readonly outScale: number;
  readonly outBias: Float64Array;
}

/** xorshift32 + Box–Muller: reproducible initialization and shuffling (not cryptographic). */
export function gaussianRng(seed: number): { uniform: () => number; normal: () => number } {
  let s = (seed >>> 0) ^ 0x2545f491 || 1;
  const uniform = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/** He initialization (He et al. 2015) for relu layers; biases 0; α unset (taken from the first batch). */
export function initParams(sizes: readonly number[], seed: number): NetParams {
  const { normal } = gaussianRng(seed);
  const W: Float64Array[] = [], b: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const n = sizes[l]!, m = sizes[l + 1]!, sd = Math.sqrt(2 / n);
    W.push(Float64Array.from({ length: n * m }, () => sd * normal()));
    b.push(new Float64Array(m));
  }
  return { sizes: [...sizes], W, b, alpha: new Float64Array(sizes.length - 2) };
}

/** Symmetric per-tensor scale: max|w|/(2^(bits−1) − 1). */
export function weightScale(w: Float64Array, bits: number): number {
  let m = 0;
  for (const v of w) m = Math.max(m, Math.abs(v));
  return m > 0 ? m / (2 ** (bits - 1) - 1) : 1;
}

interface LayerTrace {
  /** Float input of the layer (s_in·(u − z)). */
  readonly a: Float64Array;
  /** Gradient mask of the activation (hidden layers). */
  readonly mask?: Uint8Array;
  /** Batch maximum of the pre-activation. */
  readonly peak: number;
}

/**
 * The input codes u ∈ [0, 2^inputBits − 1] enter as s_0·(u − c) with c = 2^(inputBits−1) and s_0 = 1/c
 * (the centred unit interval). Runs the integer network on `rows` rows; with `record`, keeps what the
 * backward pass needs. α_l still unset (0) is set from this batch.
 */
export function quantizedForward(p: NetParams, o: Pick<QatOptions, "inputBits" | "weightBits" | "activationBits" | "lookupBits" | "rounding">, q: ArrayLike<number>, rows: number, record = false):
  { net: QuantizedNet; out: Float64Array; trace: LayerTrace[] } {
  const L = p.W.length, c = 2 ** (o.inputBits - 1), amax = 2 ** o.activationBits - 1;
  let u = Float64Array.from({ length: rows * p.sizes[0]! }, (_, k) => q[k]!);
  let sIn = 1 / c, zIn = c, lo = 0, hi = 2 * c - 1;
  const layers: IntegerLayer[] = [], trace: LayerTrace[] = [], accScale = new Float64Array(L);
  let out = new Float64Array(0), outScale = 1;
  for (let l = 0; l < L; l++) {
    const n = p.sizes[l]!, m = p.sizes[l + 1]!, W = p.W[l]!, b = p.b[l]!;
    const sw = weightScale(W, o.weightBits), s = sw * sIn;
    const Q = Int32Array.from(W, (w) => Math.round(w / sw));
    const last = l === L - 1;
    // Hidden biases live in the circuit (accumulator units); the last layer's stays float, for the client.
    const B = Int32Array.from({ length: m }, (_, k) => {
      let zc = 0;
      for (let j = 0; j < n; j++) zc += Q[j * m + k]! * zIn;
      return (last ? 0 : Math.round(b[k]! / s)) - zc;
    });
    const acc = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < m; k++) {
        let t = B[k]!;
        for (let j = 0; j < n; j++) t += Q[j * m + k]! * u[i * n + j]!;
        acc[i * m + k] = t;
      }
    }
    accScale[l] = s;
    const a = record ? Float64Array.from(u, (v) => sIn * (v - zIn)) : new Float64Array(0);
    if (last) {
      layers.push({ inputs: n, outputs: m, Q, B });
      out = Float64Array.from(acc, (v, k) => s * v + b[k % m]!);
      outScale = s;
      trace.push({ a, peak: 0 });
      break;
    }
    const lsbs = lsbsFor(accumulatorRange({ inputs: n, outputs: m, Q, B }, lo, hi), o.lookupBits);
    let peak = 0;
    for (const v of acc) peak = Math.max(peak, s * roundLsbs(v, lsbs));
    if (!(p.alpha[l]! > 0)) p.alpha[l] = peak > 0 ? peak : 1;
    const sa = p.alpha[l]! / amax;
    const activation = { lsbs, multiplier: s / sa, amax, ...(o.rounding === "exact" ? { exact: true } : {}) };
    const table = activationTable(activation);
    const next = new Float64Array(rows * m);
    const mask = record ? new Uint8Array(rows * m) : undefined;
    for (let k = 0; k < acc.length; k++) {
      const r = roundLsbs(acc[k]!, lsbs);
      next[k] = table(r);
      if (mask !== undefined) mask[k] = r > 0 && s * r < p.alpha[l]! ? 1 : 0;
    }
    layers.push({ inputs: n, outputs: m, Q, B, activation });
    trace.push(mask === undefined ? { a, peak } : { a, mask, peak });
    u = next;
    sIn = sa;
    zIn = 0;
    lo = 0;
    hi = amax;
  }
  return { net: { layers, accScale, outScale, outBias: Float64Array.from(p.b[L - 1]!) }, out, trace };
}

/** d loss/d output (mean over the batch) of the network's outputs against targets t. */
function lossGradient(loss: NetLoss, out: Float64Array, t: Float64Array, rows: number, K: number): Float64Array {
  const g = new Float64Array(out.length);
  for (let i = 0; i < rows; i++) {
    if (loss === "softmax") {
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, out[i * K + k]!);
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp(out[i * K + k]! - mx);
      for (let k = 0; k < K; k++) g[i * K + k] = (Math.exp(out[i * K + k]! - mx) / z - (t[i] === k ? 1 : 0)) / rows;
    } else if (loss === "logistic") {
      g[i] = (1 / (1 + Math.exp(-out[i]!)) - t[i]!) / rows;
    } else {
      for (let k = 0; k < K; k++) g[i * K + k] = (out[i * K + k]! - t[i * K + k]!) / rows;
    }
  }
  return g;
}

/**
 * Trains on input codes q [rows × features] and targets t (class indices for logistic/softmax, values for
 * mse). Returns the float parameters; their quantized network is `quantizedForward(params, …).net`.
 */
export function trainQat(q: Int32Array, t: Float64Array, rows: number, o: QatOptions): NetParams {
  if (rows < 2) throw new MlInputError(`a neural net needs at least 2 training rows, got ${rows}`);
  const p = initParams(o.sizes, o.seed);
  const L = p.W.length, K = o.sizes[L]!, F = o.sizes[0]!;
  const { uniform } = gaussianRng(o.seed + 1);
  const mW = p.W.map((w) => new Float64Array(w.length)), vW = p.W.map((w) => new Float64Array(w.length));
  const mb = p.b.map((b) => new Float64Array(b.length)), vb = p.b.map((b) => new Float64Array(b.length));
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  let step = 0;
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const T = o.loss === "mse" ? K : 1;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // Step decay: the last quarter at a tenth of the rate settles the weights on their quantization grid.
    const lr = epoch >= 0.75 * o.epochs ? o.learningRate / 10 : o.learningRate;
    for (let start = 0; start < rows; start += o.batchSize) {
      const n = Math.min(o.batchSize, rows - start);
      const qb = new Int32Array(n * F), tb = new Float64Array(n * T);
      for (let i = 0; i < n; i++) {
        const r = order[start + i]!;
        qb.set(q.subarray(r * F, (r + 1) * F), i * F);
        tb.set(t.subarray(r * T, (r + 1) * T), i * T);
      }
      const { net, out, trace } = quantizedForward(p, o, qb, n, true);
      let d = lossGradient(o.loss, out, tb, n, K);
      step++;
      for (let l = L - 1; l >= 0; l--) {
        const ni = o.sizes[l]!, m = o.sizes[l + 1]!, { a, mask } = trace[l]!;
        if (mask !== undefined) for (let k = 0; k < d.length; k++) d[k]! *= mask[k]!;
        const gW = new Float64Array(ni * m), gb = new Float64Array(m);
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < m; k++) {
            const dk = d[i * m + k]!;
            if (dk === 0) continue;
            gb[k]! += dk;
            for (let j = 0; j < ni; j++) gW[j * m + k]! += a[i * ni + j]! * dk;
          }
        }
        if (l > 0) {
          // Through the quantized weights (STE): d a_prev = d·(s_W·Q)ᵀ.
          const sw = net.accScale[l]! / (p.alpha[l - 1]! / (2 ** o.activationBits - 1)), Q = net.layers[l]!.Q;
          const prev = new Float64Array(n * ni);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < ni; j++) {
              let s = 0;
              for (let k = 0; k < m; k++) s += d[i * m + k]! * Q[j * m + k]!;
              prev[i * ni + j] = sw * s;
            }
          }
          d = prev;
        }
        adam(p.W[l]!, gW, mW[l]!, vW[l]!, lr, o.weightDecay);
        adam(p.b[l]!, gb, mb[l]!, vb[l]!, lr, 0);
      }
      for (let l = 0; l < L - 1; l++) p.alpha[l] = 0.9 * p.alpha[l]! + 0.1 * Math.max(trace[l]!.peak, 1e-6);
    }
  }
  return p;

  function adam(w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lr: number, decay: number): void {
    const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k]! + decay * w[k]!;
      m[k] = beta1 * m[k]! + (1 - beta1) * gk;
      v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
      w[k]! -= (lr * m[k]! / c1) / (Math.sqrt(v[k]! / c2) + eps);
    }
  }
}

/** The float network (no quantization) on inputs already centred as the codes are: a_0 = s_0·(u − c). */
export function floatForward(p: NetParams, a0: Float64Array, rows: number): Float64Array {
  let a = a0;
  const L = p.W.length;
  for (let l = 0; l < L; l++) {
    const n = p.sizes[l]!, m = p.sizes[l + 1]!, W = p.W[l]!, b = p.b[l]!;
    const next = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < m; k++) {
        let s = b[k]!;
        for (let j = 0; j < n; j++) s += a[i * n + j]! * W[j * m + k]!;
        next[i * m + k] = l < L - 1 ? Math.max(0, s) : s;
      }
    }
    a = next;
  }
  return a;
}
