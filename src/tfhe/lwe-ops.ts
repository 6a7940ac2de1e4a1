// Homomorphic linear operations on LWE batches (cheap: no bootstrapping). Noise: a linear combination
// Σ wᵢ·cᵢ has variance Σ wᵢ²·Var(cᵢ) (see noise.ts); these functions never check noise budgets.
import { chunkItems, withKernelMemory } from "./_staging.js";
import { encode, type Encoding } from "./encoding.js";
import { LweBatch } from "./lwe-batch.js";
import { ParameterMismatchError } from "./errors.js";

function sameShape(a: LweBatch, b: LweBatch, op: string): void {
  if (a.dimension !== b.dimension) throw new ParameterMismatchError(`${op}: LWE dimensions differ (${a.dimension} vs ${b.dimension})`);
  if (a.count !== b.count) throw new RangeError(`${op}: batch sizes differ (${a.count} vs ${b.count})`);
  if (a.encoding.bits !== b.encoding.bits) throw new ParameterMismatchError(`${op}: encodings differ (${a.encoding.bits} vs ${b.encoding.bits} bits)`);
}

function checkInt(w: number, what: string): void {
  if (!Number.isSafeInteger(w)) throw new RangeError(`${what} must be a safe integer, got ${w}`);
}

// Linear ops stage their operands in chunks (_staging.ts), so any batch size runs in bounded kernel memory.

function binary(a: LweBatch, b: LweBatch, op: "add" | "sub"): LweBatch {
  sameShape(a, b, op);
  const total = a.data.length, chunk = Math.min(Math.max(1, total), chunkItems(8));
  const out = new BigUint64Array(total);
  withKernelMemory([chunk * 8, chunk * 8], (K, pa, pb) => {
    for (let w0 = 0; w0 < total; w0 += chunk) {
      const m = Math.min(chunk, total - w0);
      K.u64(pa!, m).set(a.data.subarray(w0, w0 + m));
      K.u64(pb!, m).set(b.data.subarray(w0, w0 + m));
      if (op === "add") K.k.addAssign(pa!, pb!, m);
      else K.k.subAssign(pa!, pb!, m);
      out.set(K.u64(pa!, m), w0);
    }
  });
  return new LweBatch(a.dimension, a.count, out, a.encoding);
}

/** Element-wise a + b. */
export function add(a: LweBatch, b: LweBatch): LweBatch {
  return binary(a, b, "add");
}

/** Element-wise a − b. */
export function sub(a: LweBatch, b: LweBatch): LweBatch {
  return binary(a, b, "sub");
}

/** Element-wise −a. */
export function neg(a: LweBatch): LweBatch {
  return mulScalar(a, -1);
}

/** Element-wise w·a for one clear integer w, or wᵢ·aᵢ for one integer per ciphertext. */
export function mulScalar(a: LweBatch, w: number | ArrayLike<number>): LweBatch {
  if (typeof w === "number") checkInt(w, "scalar");
  else if (w.length !== a.count) throw new RangeError(`mulScalar: ${w.length} scalars for ${a.count} ciphertexts`);
  const size = a.size, chunk = Math.min(Math.max(1, a.count), chunkItems(size * 8));
  const out = new BigUint64Array(a.data.length);
  withKernelMemory([chunk * size * 8], (K, pa) => {
    for (let c0 = 0; c0 < a.count; c0 += chunk) {
      const m = Math.min(chunk, a.count - c0);
      K.u64(pa!, m * size).set(a.data.subarray(c0 * size, (c0 + m) * size));
      if (typeof w === "number") {
        K.k.scalarMulAssign(pa!, m * size, BigInt(w));
      } else {
        for (let i = 0; i < m; i++) {
          checkInt(w[c0 + i]!, `scalar[${c0 + i}]`);
          K.k.scalarMulAssign(pa! + i * size * 8, size, BigInt(w[c0 + i]!));
        }
      }
      out.set(K.u64(pa!, m * size), c0 * size);
    }
  });
  return new LweBatch(a.dimension, a.count, out, a.encoding);
}

/** Element-wise a + m for a clear integer m (or one per ciphertext), added to the body as Δ·m. */
export function addPlain(a: LweBatch, m: number | ArrayLike<number>, encoding: Encoding = a.encoding): LweBatch {
  if (typeof m !== "number" && m.length !== a.count) throw new RangeError(`addPlain: ${m.length} values for ${a.count} ciphertexts`);
  const out = a.data.slice();
  for (let i = 0; i < a.count; i++) {
    const v = typeof m === "number" ? m : m[i]!;
    const j = i * a.size + a.dimension;
    out[j] = BigInt.asUintN(64, out[j]! + encode(v, encoding));
  }
  return new LweBatch(a.dimension, a.count, out, a.encoding);
}

/**
 * Clear matrix product: the batch is `rows` ciphertexts x_i, W a row-major rows×cols integer matrix;
 * the result holds the cols ciphertexts y_j = Σ_i W[i][j]·x_i.
 */
export function matmul(a: LweBatch, W: ArrayLike<number>, cols: number): LweBatch {
  const rows = a.count, size = a.size;
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be ≥ 1, got ${cols}`);
  if (W.length !== rows * cols) throw new RangeError(`matmul: W has ${W.length} entries, expected ${rows}×${cols}`);
  for (let i = 0; i < W.length; i++) checkInt(W[i]!, `W[${i}]`);
  // Blocks of rows × columns: each block's inputs, outputs and weights fit a staging chunk; the partial
  // sums of the row blocks of one column block accumulate in `acc`.
  const rb = Math.min(Math.max(1, rows), chunkItems(size * 8));
  const cb = Math.min(cols, chunkItems(size * 8), chunkItems(rb * 8));
  const out = new BigUint64Array(cols * size);
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
      out.set(K.u64(acc!, nc * size), j0 * size);
    }
  });
  return new LweBatch(a.dimension, cols, out, a.encoding);
}

/** Dot product with a clear integer vector: one ciphertext Σ wᵢ·aᵢ. */
export function dot(a: LweBatch, weights: ArrayLike<number>): LweBatch {
  if (weights.length !== a.count) throw new RangeError(`dot: ${weights.length} weights for ${a.count} ciphertexts`);
  return matmul(a, weights, 1);
}

/** Sum of all ciphertexts of the batch. */
export function sum(a: LweBatch): LweBatch {
  return dot(a, new Array<number>(a.count).fill(1));
}
