// A latency model of one KS + PBS on one thread, for planning (the compiler's describe(), capacity
// estimates): t = a·n·(k+1)·(l+1)·N·log2 N + b·n·(k+1)²·l·N + c·k·N·l_ks·(n+1), i.e. the FFTs, the
// Fourier-domain products and the key switch of this library's kernels. a, b, c are a least-squares fit
// (relative error) to the medians of `npm run bench` for PARAM_MESSAGE_1…7 on the reference machine
// (BENCHMARKS.md: 2-core AMD EPYC VM, Node 20, commit 3d4792f); the fit is within ±6% there. Other machines
// scale roughly uniformly: compare one measured PBS with `estimateLatency(p).totalMs` to rescale.
import { groupingFactor, type TfheParameters } from "./parameters.js";

/**
 * Multi-bit blind rotation: n/d steps, each one external product plus the combination of 2^d − 1 GGSWs
 * and their monomial factors, each GGSW costing about this fraction of a CMux (measured on the kernels at
 * N = 2048, k = 1, l = 1: a step took 1.61 CMux at d = 2 and 2.52 at d = 3, i.e. 0.21 per GGSW).
 */
export const MULTI_BIT_GGSW_FRACTION = 0.21;

/** Milliseconds per unit of each term, on the reference machine. */
export const LATENCY_MODEL = Object.freeze({ fftMs: 0.1286e-6, productMs: 1.435e-6, keyswitchMs: 0.661e-6 });

export interface LatencyEstimate {
  readonly keyswitchMs: number;
  readonly blindRotationMs: number;
  readonly totalMs: number;
}

/** Estimated milliseconds of one KS + PBS at `p`, one thread, on the reference machine. */
export function estimateLatency(p: TfheParameters): LatencyEstimate {
  const { lweDimension: n, glweDimension: k, polynomialSize: N, pbsLevel: l, ksLevel: lKs } = p;
  const perCmux = LATENCY_MODEL.fftMs * (k + 1) * (l + 1) * N * Math.log2(N) + LATENCY_MODEL.productMs * (k + 1) ** 2 * l * N;
  const d = groupingFactor(p);
  const blindRotationMs = d === 1 ? n * perCmux : (n / d) * (1 + MULTI_BIT_GGSW_FRACTION * (2 ** d - 1)) * perCmux;
  const keyswitchMs = LATENCY_MODEL.keyswitchMs * k * N * lKs * (n + 1);
  return { keyswitchMs, blindRotationMs, totalMs: keyswitchMs + blindRotationMs };
}
