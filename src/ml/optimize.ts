// L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithm 7.4 with the two-loop recursion
// 7.5) with a backtracking Armijo line search, for the smooth convex losses of the linear models.

export interface Objective {
  /** Writes the gradient at w into `grad` and returns the loss. */
  (w: Float64Array, grad: Float64Array): number;
}

export interface LbfgsOptions {
  readonly maxIter?: number;
  /** Stop when ‖∇‖∞ ≤ tol · max(1, |f|). */
  readonly tol?: number;
  readonly memory?: number;
}

export interface LbfgsResult {
  readonly w: Float64Array;
  readonly loss: number;
  readonly iterations: number;
  readonly gradNorm: number;
  readonly converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const normInf = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export function lbfgs(f: Objective, w0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const { maxIter = 1000, tol = 1e-8, memory = 10 } = options;
  const n = w0.length;
  let w = Float64Array.from(w0);
  let g = new Float64Array(n);
  let loss = f(w, g);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const d = new Float64Array(n), alpha = new Float64Array(memory);
  let it = 0;
  for (; it < maxIter; it++) {
    if (normInf(g) <= tol * Math.max(1, Math.abs(loss))) return { w, loss, iterations: it, gradNorm: normInf(g), converged: true };
    // Two-loop recursion: d = −H∇f.
    d.set(g);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(S[k]!, d);
      for (let i = 0; i < n; i++) d[i]! -= alpha[k]! * Y[k]![i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1, gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    } else {
      const gn = Math.sqrt(dot(g, g));
      for (let i = 0; i < n; i++) d[i]! /= Math.max(1, gn);
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k]! * dot(Y[k]!, d);
      for (let i = 0; i < n; i++) d[i]! += S[k]![i]! * (alpha[k]! - beta);
    }
    for (let i = 0; i < n; i++) d[i] = -d[i]!;
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0; Y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    let step = 1, accepted = false;
    const wNew = new Float64Array(n), gNew = new Float64Array(n);
    let lossNew = loss;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) wNew[i] = w[i]! + step * d[i]!;
      lossNew = f(wNew, gNew);
      if (Number.isFinite(lossNew) && lossNew <= loss + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
    const s = Float64Array.from(wNew, (v, i) => v - w[i]!), y = Float64Array.from(gNew, (v, i) => v - g[i]!);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === memory) { S.shift(); Y.shift(); rho.shift(); }
      S.push(s); Y.push(y); rho.push(1 / sy);
    }
    const improvement = loss - lossNew;
    w = wNew; g = gNew; loss = lossNew;
    if (improvement <= 1e-15 * Math.max(1, Math.abs(loss))) break;
  }
  const gradNorm = normInf(g);
  return { w, loss, iterations: it, gradNorm, converged: gradNorm <= tol * Math.max(1, Math.abs(loss)) };
}

/** Writes the gradient and the Hessian (n × n, row-major) at w, returns the loss. */
export interface SecondOrderObjective {
  (w: Float64Array, grad: Float64Array, hess: Float64Array): number;
}

/**
 * Damped Newton's method (Nocedal & Wright, §3.3) with a backtracking Armijo line search, for the small
 * convex problems (one score per row) where L-BFGS crawls: ill-conditioned penalties on unscaled features.
 * `solve(H, g)` returns H⁻¹g.
 */
export function newton(
  f: SecondOrderObjective, w0: Float64Array, solve: (H: Float64Array, g: Float64Array) => Float64Array, options: LbfgsOptions = {},
): LbfgsResult {
  const { maxIter = 100, tol = 1e-8 } = options;
  const n = w0.length;
  let w = Float64Array.from(w0);
  let g = new Float64Array(n);
  let H = new Float64Array(n * n);
  let loss = f(w, g, H);
  let it = 0;
  for (; it < maxIter; it++) {
    if (normInf(g) <= tol * Math.max(1, Math.abs(loss))) break;
    const step = solve(H, g);
    const slope = -dot(g, step);
    if (!(slope < 0)) break;
    let t = 1, accepted = false;
    const wNew = new Float64Array(n), gNew = new Float64Array(n), HNew = new Float64Array(n * n);
    let lossNew = loss;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) wNew[i] = w[i]! - t * step[i]!;
      lossNew = f(wNew, gNew, HNew);
      if (Number.isFinite(lossNew) && lossNew <= loss + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
    w = wNew; g = gNew; H = HNew; loss = lossNew;
  }
  const gradNorm = normInf(g);
  return { w, loss, iterations: it, gradNorm, converged: gradNorm <= tol * Math.max(1, Math.abs(loss)) };
}
