// Parameter choice for a whole circuit. With lookups: the core's optimizer at the circuit's message space,
// the largest Σw² feeding a lookup (or an encrypted output) and the per-PBS failure probability. Without
// lookups: no bootstrapping at all, so the smallest named set (by big-key dimension kN) whose fresh noise
// σ_glwe, scaled by the outputs' Σw², stays below Δ/2 with the target probability.
import {
  chooseParameters, NAMED_PARAMETER_SETS, pbsFailureProbability, pFail, type TfheParameters,
} from "../tfhe/index.js";
import type { CircuitEncoding } from "./encoding.js";

export interface ParameterOptions {
  /** Failure probability of one PBS (default 2^-64); for lookup-free circuits, of one output decryption. */
  readonly pFail?: number;
  /** Failure probability of a whole run: divided by the number of PBS (or of output decryptions). */
  readonly globalPError?: number;
}

export const DEFAULT_P_FAIL = 2 ** -64;

export interface CircuitParameters {
  readonly params: TfheParameters;
  /** The circuit's message space: p = 2^bits (values mod 2p). */
  readonly bits: number;
  /** True when the circuit has no lookups: no evaluation keys are needed. */
  readonly linearOnly: boolean;
  /** Target failure probability per PBS (or per output decryption without lookups). */
  readonly pFailTarget: number;
  /** Σw² the parameters were sized for. */
  readonly maxNorm2: number;
  /** Predicted log2 failure probability per PBS at maxNorm2 (per decryption without lookups). */
  readonly log2PFail: number;
}

function targetOf(options: ParameterOptions, count: number): number {
  const { pFail: perOp, globalPError } = options;
  if (perOp !== undefined && globalPError !== undefined) throw new RangeError("give pFail or globalPError, not both");
  const t = globalPError !== undefined ? globalPError / Math.max(1, count) : perOp ?? DEFAULT_P_FAIL;
  if (!(t > 0 && t < 1)) throw new RangeError(`failure probability must be in (0, 1), got ${t}`);
  return t;
}

export function chooseCircuitParameters(enc: CircuitEncoding, options: ParameterOptions = {}): CircuitParameters {
  if (enc.lookups.size > 0) {
    const target = targetOf(options, enc.pbsCount);
    const maxNorm2 = Math.max(1, enc.maxLookupNorm2, enc.maxOutputNorm2);
    const params = chooseParameters({ precision: enc.bits, maxNorm2, pFail: target });
    return {
      params, bits: enc.bits, linearOnly: false, pFailTarget: target, maxNorm2,
      log2PFail: pbsFailureProbability(params, maxNorm2).log2,
    };
  }
  const target = targetOf(options, enc.outputCount);
  const maxNorm2 = Math.max(1, enc.maxOutputNorm2);
  const sets = [...NAMED_PARAMETER_SETS].sort((a, b) =>
    a.params.glweDimension * a.params.polynomialSize - b.params.glweDimension * b.params.polynomialSize);
  for (const { params } of sets) {
    const f = pFail(maxNorm2 * params.glweNoiseStd ** 2, 2 ** enc.bits);
    if (f.log2 <= Math.log2(target)) {
      return { params, bits: enc.bits, linearOnly: true, pFailTarget: target, maxNorm2, log2PFail: f.log2 };
    }
  }
  throw new RangeError(`no parameter set decrypts a ${enc.bits}-bit message space at Σw² = ${maxNorm2} ` +
    `with failure probability ≤ ${target}; reduce the weights or the value range`);
}
