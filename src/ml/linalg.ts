// Small dense linear algebra for training: Gram matrices and a symmetric positive definite solve.
import { type Matrix } from "./data.js";
import { MlInputError } from "./errors.js";

/** Column means of X. */
export function columnMeans(X: Matrix): Float64Array {
  const m = new Float64Array(X.cols);
  for (let i = 0; i < X.rows; i++) for (let j = 0; j < X.cols; j++) m[j]! += X.data[i * X.cols + j]!;
  for (let j = 0; j < X.cols; j++) m[j]! /= X.rows;
  return m;
}

/** X with each column's mean subtracted. */
export function centered(X: Matrix, means: Float64Array): Matrix {
  return { rows: X.rows, cols: X.cols, data: Float64Array.from(X.data, (v, k) => v - means[k % X.cols]!) };
}

/** XᵀX (cols × cols) and Xᵀy. */
export function gram(X: Matrix, y: Float64Array): { xtx: Float64Array; xty: Float64Array } {
  const { rows, cols, data } = X;
  const xtx = new Float64Array(cols * cols), xty = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let a = 0; a < cols; a++) {
      const va = data[off + a]!;
      if (va === 0) continue;
      xty[a]! += va * y[i]!;
      for (let b = a; b < cols; b++) xtx[a * cols + b]! += va * data[off + b]!;
    }
  }
  for (let a = 0; a < cols; a++) for (let b = 0; b < a; b++) xtx[a * cols + b] = xtx[b * cols + a]!;
  return { xtx, xty };
}

/**
 * Solves A x = b for a symmetric positive semi-definite n × n A by Cholesky (A = LLᵀ). A singular A (collinear
 * features) gets the smallest diagonal jitter that makes it definite, relative to its trace, which picks a
 * near-minimum-norm solution as a ridge limit does.
 */
export function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += A[i * n + i]!;
  const base = trace > 0 ? trace / n : 1;
  for (let jitter = 0; jitter <= base; jitter = jitter === 0 ? base * 1e-12 : jitter * 100) {
    const L = cholesky(A, n, jitter);
    if (L !== undefined) {
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = b[i]!;
        for (let k = 0; k < i; k++) s -= L[i * n + k]! * z[k]!;
        z[i] = s / L[i * n + i]!;
      }
      const x = new Float64Array(n);
      for (let i = n - 1; i >= 0; i--) {
        let s = z[i]!;
        for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
        x[i] = s / L[i * n + i]!;
      }
      return x;
    }
  }
  throw new MlInputError("the normal equations are not solvable (non-finite data?)");
}

function cholesky(A: Float64Array, n: number, jitter: number): Float64Array | undefined {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]! + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 1e-13 * (A[i * n + i]! + jitter + 1e-300))) return undefined;
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j]!;
      }
    }
  }
  return L;
}
