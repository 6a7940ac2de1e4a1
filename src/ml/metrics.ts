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

/**
 * D², the fraction of deviance explained (scikit-learn's score for its GLMs): 1 − D(y, p)/D(y, ȳ) with the
 * Poisson deviance 2Σ(y·log(y/μ) − y + μ) or the Gamma deviance 2Σ(log(μ/y) + y/μ − 1).
 */
export function d2Score(y: ArrayLike<number>, p: ArrayLike<number>, family: "poisson" | "gamma"): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i]!;
  mean /= y.length;
  const dev = (t: number, mu: number): number =>
    family === "poisson" ? 2 * ((t > 0 ? t * Math.log(t / mu) : 0) - t + mu) : 2 * (Math.log(mu / t) + t / mu - 1);
  let num = 0, den = 0;
  for (let i = 0; i < y.length; i++) {
    num += dev(y[i]!, p[i]!);
    den += dev(y[i]!, mean);
  }
  return den === 0 ? (num === 0 ? 1 : 0) : 1 - num / den;
}
