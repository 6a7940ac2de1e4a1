// Homomorphic linear operations on LWE batches (cheap: no bootstrapping). Noise: a linear combination
// Σ wᵢ·cᵢ has variance Σ wᵢ²·Var(cᵢ) (see noise.ts). Each result carries updated bounds of its values
// and of its noise level (noise-budget.ts: the rules, and the checks a bootstrap or decryption makes).
import { chunkItems, withKernelMemory } from "./_staging.js";
import { checkEncoding, encode, encodingName, sameEncoding, type Encoding } from "./encoding.js";
import { LweBatch, type CiphertextBounds, type NoiseSources } from "./lwe-batch.js";
import { ParameterMismatchError } from "./errors.js";
import { combinedNoiseLevel, disjointSources, sumNoiseLevel } from "./noise-budget.js";

function checkBatch(a: unknown, op: string, name = "batch"): asserts a is LweBatch {
  if (!(a instanceof LweBatch)) throw new TypeError(`${op}: ${name} must be an LweBatch`);
}

function sameShape(a: LweBatch, b: LweBatch, op: string): void {
  checkBatch(a, op, "a");
  checkBatch(b, op, "b");
  if (a.dimension !== b.dimension) throw new ParameterMismatchError(`${op}: LWE dimensions differ (${a.dimension} vs ${b.dimension})`);
  if (a.count !== b.count) throw new RangeError(`${op}: batch sizes differ (${a.count} vs ${b.count})`);
  if (!sameEncoding(a.encoding, b.encoding)) {
    throw new ParameterMismatchError(`${op}: encodings differ (${encodingName(a.encoding)} vs ${encodingName(b.encoding)})`);
  }
}

function checkInt(w: number, what: string): void {
  if (!Number.isSafeInteger(w)) throw new RangeError(`${what} must be a safe integer, got ${w}`);
}

/** The clear integers of a scalar-or-list argument, checked (one per ciphertext for a list). */
function intList(v: number | ArrayLike<number>, count: number, op: string, what: string): number[] {
  if (typeof v === "number") {
    checkInt(v, what);
    return [v];
  }
  if (typeof v !== "object" || v === null || typeof v.length !== "number") throw new TypeError(`${op}: ${what} must be an integer or an array of integers`);
  if (v.length !== count) throw new RangeError(`${op}: ${v.length} values for ${count} ciphertexts`);
  const out = Array.from(v);
  out.forEach((x, i) => checkInt(x, `${what}[${i}]`));
  return out;
}

// Linear ops stage their operands in chunks (_staging.ts), so any batch size runs in bounded kernel memory.

function binary(a: LweBatch, b: LweBatch, op: "add" | "sub"): LweBatch {
  sameShape(a, b, op);
  const total = a.data.length, chunk = Math.min(Math.max(1, total), chunkItems(8));
  const data = new BigUint64Array(total);
  withKernelMemory([chunk * 8, chunk * 8], (K, pa, pb) => {
    for (let w0 = 0; w0 < total; w0 += chunk) {
      const m = Math.min(chunk, total - w0);
      K.u64(pa!, m).set(a.data.subarray(w0, w0 + m));
      K.u64(pb!, m).set(b.data.subarray(w0, w0 + m));
      if (op === "add") K.k.addAssign(pa!, pb!, m);
      else K.k.subAssign(pa!, pb!, m);
      data.set(K.u64(pa!, m), w0);
    }
  });
  const x = a.bounds, y = b.bounds;
  const disjoint = disjointSources(a.noise, b.noise);
  const noise: NoiseSources = {
    sources: new Set([...a.noise.sources, ...b.noise.sources]),
    independent: disjoint && a.noise.independent && b.noise.independent,
  };
  const bounds: CiphertextBounds = {
    degree: op === "add" ? x.degree + y.degree : x.degree - y.minValue,
    minValue: op === "add" ? x.minValue + y.minValue : x.minValue - y.degree,
    noiseLevel: sumNoiseLevel(x.noiseLevel, y.noiseLevel, disjoint),
  };
  return new LweBatch(a.dimension, a.count, data, a.encoding, bounds, noise);
}

/** Element-wise a + b. */
export function add(a: LweBatch, b: LweBatch): LweBatch {
  return binary(a, b, "add");
}

/** Element-wise a − b: values in [lo_a − hi_b, hi_a − lo_b] (add a clear offset before a bootstrap or decryption if negative). */
export function sub(a: LweBatch, b: LweBatch): LweBatch {
  return binary(a, b, "sub");
}

/** Element-wise −a: values in [−degree, −minValue] (add a clear offset before a bootstrap or decryption). */
export function neg(a: LweBatch): LweBatch {
  return mulScalar(a, -1);
}

/** [min, max] of w·v over v ∈ [lo, hi]. */
function scaled(w: number, lo: number, hi: number): [number, number] {
  if (w === 0) return [0, 0];
  return w > 0 ? [w * lo, w * hi] : [w * hi, w * lo];
}

/** Element-wise w·a for one clear integer w, or wᵢ·aᵢ for one integer per ciphertext. */
export function mulScalar(a: LweBatch, w: number | ArrayLike<number>): LweBatch {
  checkBatch(a, "mulScalar");
  const ws = intList(w, a.count, "mulScalar", "scalar");
  const size = a.size, chunk = Math.min(Math.max(1, a.count), chunkItems(size * 8));
  const data = new BigUint64Array(a.data.length);
  withKernelMemory([chunk * size * 8], (K, pa) => {
    for (let c0 = 0; c0 < a.count; c0 += chunk) {
      const m = Math.min(chunk, a.count - c0);
      K.u64(pa!, m * size).set(a.data.subarray(c0 * size, (c0 + m) * size));
      if (ws.length === 1 && typeof w === "number") K.k.scalarMulAssign(pa!, m * size, BigInt(ws[0]!));
      else for (let i = 0; i < m; i++) K.k.scalarMulAssign(pa! + i * size * 8, size, BigInt(ws[c0 + i]!));
      data.set(K.u64(pa!, m * size), c0 * size);
    }
  });
  const { degree, minValue, noiseLevel } = a.bounds;
  let lo = Infinity, hi = -Infinity, w2 = 0;
  for (const x of ws.length > 0 ? ws : [0]) {
    const [l, h] = scaled(x, minValue, degree);
    lo = Math.min(lo, l); hi = Math.max(hi, h); w2 = Math.max(w2, x * x);
  }
  return new LweBatch(a.dimension, a.count, data, a.encoding, { degree: hi, minValue: lo, noiseLevel: noiseLevel * w2 }, a.noise);
}

/**
 * Element-wise a + m for a clear integer m (or one per ciphertext), added to the body as Δ·m (exactly:
 * a negative m lowers the values). `encoding` must be the batch's (it is for callers that pass it).
 */
export function addPlain(a: LweBatch, m: number | ArrayLike<number>, encoding: Encoding = a.encoding): LweBatch {
  checkBatch(a, "addPlain");
  checkEncoding(encoding);
  if (!sameEncoding(encoding, a.encoding)) {
    throw new ParameterMismatchError(`addPlain: encoding ${encodingName(encoding)} differs from the batch's ${encodingName(a.encoding)}`);
  }
  const ms = intList(m, a.count, "addPlain", "value");
  const out = a.data.slice();
  for (let i = 0; i < a.count; i++) {
    const j = i * a.size + a.dimension;
    out[j] = BigInt.asUintN(64, out[j]! + encode(ms.length === 1 && typeof m === "number" ? ms[0]! : ms[i]!, encoding));
  }
  let lo = ms.length > 0 ? Infinity : 0, hi = ms.length > 0 ? -Infinity : 0;
  for (const v of ms) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const b = a.bounds;
  return new LweBatch(a.dimension, a.count, out, a.encoding,
    { degree: b.degree + hi, minValue: b.minValue + lo, noiseLevel: b.noiseLevel }, a.noise);
}

/**
 * Clear matrix product: the batch is `rows` ciphertexts x_i, W a row-major rows×cols integer matrix;
 * the result holds the cols ciphertexts y_j = Σ_i W[i][j]·x_i.
 */
export function matmul(a: LweBatch, W: ArrayLike<number>, cols: number): LweBatch {
  checkBatch(a, "matmul");
  const rows = a.count, size = a.size;
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be ≥ 1, got ${cols}`);
  if (typeof W !== "object" || W === null || typeof W.length !== "number") throw new TypeError("matmul: W must be an array of integers");
  if (W.length !== rows * cols) throw new RangeError(`matmul: W has ${W.length} entries, expected ${rows}×${cols}`);
  for (let i = 0; i < W.length; i++) checkInt(W[i]!, `W[${i}]`);
  // Blocks of rows × columns: each block's inputs, outputs and weights fit a staging chunk; the partial
  // sums of the row blocks of one column block accumulate in `acc`.
  const rb = Math.min(Math.max(1, rows), chunkItems(size * 8));
  const cb = Math.min(cols, chunkItems(size * 8), chunkItems(rb * 8));
  const data = new BigUint64Array(cols * size);
  withKernelMemory([rb * size * 8, cb * size * 8, cb * size * 8, rb * cb * 8], (K, pin, pout, acc, pw) => {
    for (let j0 = 0; j0 < cols; j0 += cb) {
      const nc = Math.min(cb, cols - j0);
      for (let i0 = 0; i0 < Math.max(1, rows); i0 += rb) {
        const nr = Math.min(rb, rows - i0);
        K.u64(pin!, nr * size).set(a.data.subarray(i0 * size, (i0 + nr) * size));
        const w = new BigInt64Array(K.k.memory.buffer, pw!, nr * nc);
        for (let i = 0; i < nr; i++) for (let j = 0; j < nc; j++) w[i * nc + j] = BigInt(W[(i0 + i) * cols + j0 + j]!);
        K.k.matmul(i0 === 0 ? acc! : pout!, pin!, pw!, nr, nc, size);
        if (i0 > 0) K.k.addAssign(acc!, pout!, nc * size);
      }
      data.set(K.u64(acc!, nc * size), j0 * size);
    }
  });
  // Per column: value bounds Σ (w·[lo, hi]) and the weights' Σw², Σ|w|; the batch keeps the worst column.
  const { degree, minValue, noiseLevel } = a.bounds;
  let lo = Infinity, hi = -Infinity, level = 0;
  for (let j = 0; j < cols; j++) {
    let l = 0, h = 0, sumSquares = 0, sumAbs = 0;
    for (let i = 0; i < rows; i++) {
      const wij = W[i * cols + j]!;
      const [x, y] = scaled(wij, minValue, degree);
      l += x; h += y; sumSquares += wij * wij; sumAbs += Math.abs(wij);
    }
    lo = Math.min(lo, l); hi = Math.max(hi, h);
    level = Math.max(level, combinedNoiseLevel(noiseLevel, a.noise, { sumSquares, sumAbs }));
  }
  // The columns combine the same inputs: their noises are independent only if there is one column.
  const noise = cols === 1 ? { sources: a.noise.sources, independent: true } : { sources: a.noise.sources, independent: false };
  return new LweBatch(a.dimension, cols, data, a.encoding, { degree: hi, minValue: lo, noiseLevel: level }, noise);
}

/** Dot product with a clear integer vector: one ciphertext Σ wᵢ·aᵢ. */
export function dot(a: LweBatch, weights: ArrayLike<number>): LweBatch {
  checkBatch(a, "dot");
  if (weights.length !== a.count) throw new RangeError(`dot: ${weights.length} weights for ${a.count} ciphertexts`);
  return matmul(a, weights, 1);
}

/** Sum of all ciphertexts of the batch. */
export function sum(a: LweBatch): LweBatch {
  checkBatch(a, "sum");
  return dot(a, new Array<number>(a.count).fill(1));
}
