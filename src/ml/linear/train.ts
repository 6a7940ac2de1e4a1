// Training of the linear family, with the objectives scikit-learn documents for each estimator:
// least squares by the normal equations, the elastic net by cyclic coordinate descent (Friedman, Hastie &
// Tibshirani 2010, "Regularization Paths for GLMs via Coordinate Descent", eq. 5), and the smooth
// classification/SVR losses by L-BFGS on  C·Σ loss_i + ½‖w‖²  (intercept not penalized).
import { type Matrix } from "../data.js";
import { centered, columnMeans, gram, solveSpd } from "../linalg.js";
import { lbfgs, newton } from "../optimize.js";

/** Weights [features × outputs] row-major, and one intercept per output. */
export interface LinearFit {
  readonly coef: Float64Array;
  readonly intercept: Float64Array;
  readonly outputs: number;
  /** Iterations of the solver (0 for closed forms), and whether it met its tolerance. */
  readonly iterations: number;
  readonly converged: boolean;
}

/** min ‖y − Xw − b‖² + α‖w‖² (α = 0: ordinary least squares) by the centered normal equations. */
export function fitLeastSquares(X: Matrix, y: Float64Array, alpha: number): LinearFit {
  const means = columnMeans(X), Xc = centered(X, means);
  const yMean = y.reduce((s, v) => s + v, 0) / y.length;
  const { xtx, xty } = gram(Xc, Float64Array.from(y, (v) => v - yMean));
  for (let j = 0; j < X.cols; j++) xtx[j * X.cols + j]! += alpha;
  const coef = solveSpd(xtx, xty, X.cols);
  let b = yMean;
  for (let j = 0; j < X.cols; j++) b -= means[j]! * coef[j]!;
  return { coef, intercept: Float64Array.of(b), outputs: 1, iterations: 0, converged: true };
}

/**
 * Elastic net, scikit-learn's objective: (1/2n)‖y − Xw − b‖² + α·ρ‖w‖₁ + ½α(1 − ρ)‖w‖², by coordinate descent on
 * centered data: w_j ← S(X_jᵀr_j/n, αρ) / (‖X_j‖²/n + α(1 − ρ)), S the soft threshold. Stops when the largest
 * update is below tol × the largest weight (the criterion scikit-learn checks before its duality gap).
 */
export function fitElasticNet(X: Matrix, y: Float64Array, alpha: number, l1Ratio: number, maxIter: number, tol: number): LinearFit {
  const { rows: n, cols: p } = X;
  const means = columnMeans(X), Xc = centered(X, means).data;
  const yMean = y.reduce((s, v) => s + v, 0) / n;
  const r = Float64Array.from(y, (v) => v - yMean);
  const colSq = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) colSq[j]! += Xc[i * p + j]! ** 2;
  const w = new Float64Array(p);
  const l1 = alpha * l1Ratio * n, l2 = alpha * (1 - l1Ratio) * n;
  let it = 0, converged = false;
  for (; it < maxIter; it++) {
    let maxDelta = 0, maxW = 0;
    for (let j = 0; j < p; j++) {
      if (colSq[j] === 0) continue;
      const old = w[j]!;
      let rho = 0;
      for (let i = 0; i < n; i++) rho += Xc[i * p + j]! * r[i]!;
      rho += colSq[j]! * old;
      const next = Math.sign(rho) * Math.max(Math.abs(rho) - l1, 0) / (colSq[j]! + l2);
      if (next !== old) {
        const d = next - old;
        for (let i = 0; i < n; i++) r[i]! -= d * Xc[i * p + j]!;
        w[j] = next;
      }
      maxDelta = Math.max(maxDelta, Math.abs(next - old));
      maxW = Math.max(maxW, Math.abs(next));
    }
    if (maxW === 0 || maxDelta / maxW < tol) {
      converged = true;
      it++;
      break;
    }
  }
  let b = yMean;
  for (let j = 0; j < p; j++) b -= means[j]! * w[j]!;
  return { coef: w, intercept: Float64Array.of(b), outputs: 1, iterations: it, converged };
}

/**
 * Per-sample loss on the scores of one row; writes d loss / d score into `grad` and, for one score, the
 * second derivative (the generalized one where the loss has a kink in its first derivative) into `hess`.
 */
export type RowLoss = (scores: Float64Array, target: number, grad: Float64Array, hess: Float64Array) => number;

/**
 * min over (W, b) of C·Σ_i loss(x_iW + b, y_i) + ½‖W‖²_F. Solved in standardized coordinates
 * (w_j = v_j/σ_j, same objective, better conditioned for L-BFGS), then mapped back to the original features.
 */
export function fitSmooth(X: Matrix, targets: Float64Array, outputs: number, loss: RowLoss, C: number, maxIter: number, tol: number): LinearFit {
  const { rows: n, cols: p } = X;
  const mu = columnMeans(X), sigma = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) sigma[j]! += (X.data[i * p + j]! - mu[j]!) ** 2;
  for (let j = 0; j < p; j++) sigma[j] = Math.sqrt(sigma[j]! / n) || 1;
  const Z = Float64Array.from(X.data, (v, k) => (v - mu[k % p]!) / sigma[k % p]!);
  const K = outputs, nv = p * K;
  // f = (1/(Cn))·(C·Σ loss + ½‖W‖²): the same minimizer, at a scale where the default tolerance is meaningful.
  const scale = 1 / (C * n);
  const s = new Float64Array(K), gs = new Float64Array(K), hs = new Float64Array(1);
  const nt = nv + K;
  // With one score, Newton's method on the exact Hessian (size p + 1); L-BFGS for the multinomial loss.
  const objective = (theta: Float64Array, grad: Float64Array, hess?: Float64Array): number => {
    grad.fill(0);
    hess?.fill(0);
    let f = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) s[k] = theta[nv + k]!;
      for (let j = 0; j < p; j++) {
        const z = Z[i * p + j]!;
        if (z !== 0) for (let k = 0; k < K; k++) s[k]! += z * theta[j * K + k]!;
      }
      f += loss(s, targets[i]!, gs, hs);
      if (hess !== undefined && hs[0]! !== 0) {
        const h = hs[0]!, off = i * p;
        for (let a = 0; a <= p; a++) {
          const za = a < p ? Z[off + a]! : 1;
          if (za === 0) continue;
          for (let b = a; b <= p; b++) hess[a * nt + b]! += h * za * (b < p ? Z[off + b]! : 1);
        }
      }
      for (let k = 0; k < K; k++) {
        const g = gs[k]!;
        if (g === 0) continue;
        grad[nv + k]! += g;
        for (let j = 0; j < p; j++) grad[j * K + k]! += g * Z[i * p + j]!;
      }
    }
    f *= C * scale;
    for (let q = 0; q < nv + K; q++) grad[q]! *= C * scale;
    for (let j = 0; j < p; j++) {
      const inv = 1 / sigma[j]! ** 2;
      for (let k = 0; k < K; k++) {
        const v = theta[j * K + k]!;
        f += 0.5 * scale * v * v * inv;
        grad[j * K + k]! += scale * v * inv;
      }
    }
    if (hess !== undefined) {
      for (let a = 0; a < nt; a++) {
        for (let b = a; b < nt; b++) {
          hess[a * nt + b]! *= C * scale;
          hess[b * nt + a] = hess[a * nt + b]!;
        }
        if (a < p) hess[a * nt + a]! += scale / sigma[a]! ** 2;
      }
    }
    return f;
  };
  const res = K === 1
    ? newton(objective, new Float64Array(nt), (H, g) => solveSpd(H, g, nt), { maxIter, tol })
    : lbfgs(objective, new Float64Array(nt), { maxIter, tol });
  const coef = new Float64Array(nv), intercept = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let b = res.w[nv + k]!;
    for (let j = 0; j < p; j++) {
      coef[j * K + k] = res.w[j * K + k]! / sigma[j]!;
      b -= mu[j]! * coef[j * K + k]!;
    }
    intercept[k] = b;
  }
  return { coef, intercept, outputs: K, iterations: res.iterations, converged: res.converged };
}

const log1pExp = (t: number): number => (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));
const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

/** Binary log-loss, target ∈ {0, 1}, one score: log(1 + e^(−y·s)) with y = ±1. */
export const logisticLoss: RowLoss = (s, t, g, h) => {
  const y = t === 1 ? 1 : -1, m = y * s[0]!, q = sigmoid(-m);
  g[0] = -y * q;
  h[0] = q * (1 - q);
  return log1pExp(-m);
};

/** Multinomial log-loss (softmax cross-entropy), target = class index. */
export const softmaxLoss: RowLoss = (s, t, g) => {
  let mx = -Infinity;
  for (const v of s) mx = Math.max(mx, v);
  let z = 0;
  for (let k = 0; k < s.length; k++) z += Math.exp(s[k]! - mx);
  for (let k = 0; k < s.length; k++) g[k] = Math.exp(s[k]! - mx) / z - (k === t ? 1 : 0);
  return mx + Math.log(z) - s[t]!;
};

/** Squared hinge (LinearSVC's default loss), target = ±1: max(0, 1 − y·s)². */
export const squaredHingeLoss: RowLoss = (s, y, g, h) => {
  const m = 1 - y * s[0]!;
  if (m <= 0) {
    g[0] = 0;
    h[0] = 0;
    return 0;
  }
  g[0] = -2 * y * m;
  h[0] = 2;
  return m * m;
};

/** Squared ε-insensitive loss: max(0, |y − s| − ε)². */
export function squaredEpsilonInsensitive(epsilon: number): RowLoss {
  return (s, y, g, h) => {
    const d = s[0]! - y, m = Math.abs(d) - epsilon;
    if (m <= 0) {
      g[0] = 0;
      h[0] = 0;
      return 0;
    }
    g[0] = 2 * m * Math.sign(d);
    h[0] = 2;
    return m * m;
  };
}

/** Poisson half-deviance with the log link, up to terms free of s: e^s − y·s. */
export const poissonLoss: RowLoss = (s, y, g, h) => {
  const mu = Math.exp(s[0]!);
  g[0] = mu - y;
  h[0] = mu;
  return mu - y * s[0]!;
};

/** Gamma half-deviance with the log link, up to terms free of s: y·e^(−s) + s. */
export const gammaLoss: RowLoss = (s, y, g, h) => {
  const r = y * Math.exp(-s[0]!);
  g[0] = 1 - r;
  h[0] = r;
  return r + s[0]!;
};
