// Homomorphic linear operations on LWE batches (cheap: no bootstrapping). Noise: a linear combination
// Σ wᵢ·cᵢ has variance Σ wᵢ²·Var(cᵢ) (see noise.ts); these functions never check noise budgets.
import { withKernelMemory } from "./_staging.js";
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

function binary(a: LweBatch, b: LweBatch, op: "add" | "sub"): LweBatch {
  sameShape(a, b, op);
  const bytes = a.data.length * 8;
  return withKernelMemory([bytes, bytes], (K, pa, pb) => {
    K.u64(pa!, a.data.length).set(a.data);
    K.u64(pb!, b.data.length).set(b.data);
    if (op === "add") K.k.addAssign(pa!, pb!, a.data.length);
    else K.k.subAssign(pa!, pb!, a.data.length);
    return new LweBatch(a.dimension, a.count, K.u64(pa!, a.data.length).slice(), a.encoding);
  });
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
  const bytes = a.data.length * 8;
  return withKernelMemory([bytes], (K, pa) => {
    K.u64(pa!, a.data.length).set(a.data);
    if (typeof w === "number") {
      checkInt(w, "scalar");
      K.k.scalarMulAssign(pa!, a.data.length, BigInt(w));
    } else {
      if (w.length !== a.count) throw new RangeError(`mulScalar: ${w.length} scalars for ${a.count} ciphertexts`);
      for (let i = 0; i < a.count; i++) {
        checkInt(w[i]!, `scalar[${i}]`);
        K.k.scalarMulAssign(pa! + i * a.size * 8, a.size, BigInt(w[i]!));
      }
    }
    return new LweBatch(a.dimension, a.count, K.u64(pa!, a.data.length).slice(), a.encoding);
  });
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
  const rows = a.count;
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be ≥ 1, got ${cols}`);
  if (W.length !== rows * cols) throw new RangeError(`matmul: W has ${W.length} entries, expected ${rows}×${cols}`);
  const inBytes = a.data.length * 8, outBytes = cols * a.size * 8;
  return withKernelMemory([inBytes, outBytes, rows * cols * 8], (K, pin, pout, pw) => {
    K.u64(pin!, a.data.length).set(a.data);
    const w = new BigInt64Array(K.k.memory.buffer, pw!, rows * cols);
    for (let i = 0; i < W.length; i++) {
      checkInt(W[i]!, `W[${i}]`);
      w[i] = BigInt(W[i]!);
    }
    K.k.matmul(pout!, pin!, pw!, rows, cols, a.size);
    return new LweBatch(a.dimension, cols, K.u64(pout!, cols * a.size).slice(), a.encoding);
  });
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
