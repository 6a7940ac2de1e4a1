// Scores of predictions: accuracy for classifiers, R² for regressors (scikit-learn's `score`).

export function accuracy(y: readonly unknown[], p: readonly unknown[]): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === p[i]) ok++;
  return ok / y.length;
}

/** R² = 1 − Σ(y − p)² / Σ(y − ȳ)². */
export function r2Score(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i]!;
  mean /= y.length;
  let ssRes = 0, ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    ssRes += (y[i]! - p[i]!) ** 2;
    ssTot += (y[i]! - mean) ** 2;
  }
  return ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
}
