// Parameter choice for a whole circuit: one parameter set (one key set) for every region. With lookups:
// the core's optimizer under the circuit's noise constraints (circuitConstraints): every PBS input at its
// own precision and scale, every output's decryption at its region's message space, each at the per-PBS
// failure probability. Without lookups: no bootstrapping at all, so the smallest named set (by big-key
// dimension kN) whose fresh noise σ_glwe, scaled by the outputs' Σw², decrypts every output.
import {
  chooseParameters, constraintsLog2PFail, NAMED_PARAMETER_SETS, type NoiseConstraint, type TfheParameters,
} from "../tfhe/index.js";
import type { CircuitEncoding } from "./encoding.js";
import { groupScale, type LookupGroup } from "../runtime/fusion.js";
import type { ExtractionPlan } from "../runtime/encoding.js";
import type { Graph } from "../runtime/ir.js";
import { chooseMultiParameters, type MultiParameters } from "./partitions.js";

export interface ParameterOptions {
  /** Failure probability of one PBS (default 2^-64); for lookup-free circuits, of one output decryption. */
  readonly pFail?: number;
  /** Failure probability of a whole run: divided by the number of PBS (or of output decryptions). */
  readonly globalPError?: number;
  /**
   * Let each precision class of PBS have its own parameter set when that is cheaper (compiler/partitions.ts).
   * Default false: one set for the whole circuit, which every path deploys (the deploy server's key store,
   * `useKey` and the browser client hold one parameter set's keys per key id); true for in-process runs
   * where the cheaper multi-parameter layout pays.
   */
  readonly multiParameter?: boolean;
}

export const DEFAULT_P_FAIL = 2 ** -64;

export interface CircuitParameters {
  readonly params: TfheParameters;
  /** The widest region's message space (bits; values mod 2^(bits+1)). */
  readonly bits: number;
  /** True when the circuit has no lookups: no evaluation keys are needed. */
  readonly linearOnly: boolean;
  /** Target failure probability per PBS (or per output decryption without lookups). */
  readonly pFailTarget: number;
  /** Σw² the parameters were sized for. */
  readonly maxNorm2: number;
  /** Predicted log2 failure probability per PBS (per decryption without lookups): the worst constraint's. */
  readonly log2PFail: number;
  /** The noise requirements the parameters were chosen for (circuitConstraints). */
  readonly constraints: readonly NoiseConstraint[];
  /**
   * Several parameter sets (partitions.ts), when cheaper than one; `params` is then the partition of the
   * widest PBS and `log2PFail` the worst PBS's over all partitions.
   */
  readonly multi?: MultiParameters;
}

function targetOf(options: ParameterOptions, count: number): number {
  const { pFail: perOp, globalPError } = options;
  if (perOp !== undefined && globalPError !== undefined) throw new RangeError("give pFail or globalPError, not both");
  const t = globalPError !== undefined ? globalPError / Math.max(1, count) : perOp ?? DEFAULT_P_FAIL;
  if (!(t > 0 && t < 1)) throw new RangeError(`failure probability must be in (0, 1), got ${t}`);
  return t;
}

/**
 * The noise requirements of a circuit on its one parameter set: each lookup group's PBS input at the
 * group's precision, with the input's Σw² times the square of the scale that brings it to that precision
 * (fusion.ts groupScale), and each encrypted output's decryption at its region's message space. Constraints
 * of one precision and kind merge into one with the largest norms (it dominates them).
 */
/** The noise requirement of a lookup group's PBS: its input's Σw² times the square of its scale. */
export function groupConstraint(g: LookupGroup): NoiseConstraint {
  const s2 = groupScale(g) ** 2, x = g.members[0]!;
  return { precision: g.bits, freshNorm2: x.freshNorm2 * s2, pbsNorm2: x.pbsNorm2 * s2, bootstrap: true };
}

/**
 * The noise requirement of a bit extraction's PBS. It reads bit i of t·2^(bits − i): t's noise (x's, plus the
 * earlier bits' PBS outputs b_j weighted 2^j) times 2^(bits − i). Over i ≥ fromBit: x's Σw² × 4^(bits − fromBit),
 * and the b_j terms Σ_j 4^(bits − i + j) < 4^bits / 3. A 1-bit read (its tolerance is twice that, thanks to
 * the offset).
 */
export function extractionConstraint(e: ExtractionPlan): NoiseConstraint {
  const s2 = 4 ** (e.bits - e.fromBit);
  return { precision: 1, freshNorm2: e.freshNorm2 * s2, pbsNorm2: e.pbsNorm2 * s2 + 4 ** e.bits / 3, bootstrap: true };
}

/** Constraints of one precision and kind merged into one with the largest norms (it dominates them). */
export function mergeConstraints(list: readonly NoiseConstraint[]): NoiseConstraint[] {
  const merged = new Map<string, { precision: number; freshNorm2: number; pbsNorm2: number; bootstrap: boolean }>();
  for (const { precision, freshNorm2, pbsNorm2, bootstrap } of list) {
    const key = `${bootstrap}:${precision}`, c = merged.get(key);
    if (c === undefined) merged.set(key, { precision, freshNorm2, pbsNorm2, bootstrap });
    else { c.freshNorm2 = Math.max(c.freshNorm2, freshNorm2); c.pbsNorm2 = Math.max(c.pbsNorm2, pbsNorm2); }
  }
  return [...merged.values()].sort((a, b) => Number(b.bootstrap) - Number(a.bootstrap) || a.precision - b.precision);
}

export function circuitConstraints(enc: CircuitEncoding): NoiseConstraint[] {
  return mergeConstraints([
    ...enc.groups.map(groupConstraint),
    ...[...enc.extractions.values()].filter((e) => e.fromBit < e.lsbs).map(extractionConstraint),
    ...enc.outputNoise.map((o) => ({ precision: o.bits, freshNorm2: o.freshNorm2, pbsNorm2: o.pbsNorm2, bootstrap: false })),
  ]);
}

/**
 * The circuit's parameters: one set, or (with the graph, when `multiParameter` is true) one per
 * partition of its PBS when that is cheaper (partitions.ts).
 */
export function chooseCircuitParameters(enc: CircuitEncoding, options: ParameterOptions = {}, graph?: Graph): CircuitParameters {
  const constraints = circuitConstraints(enc);
  if (enc.pbsCount > 0) {
    const target = targetOf(options, enc.pbsCount);
    const maxNorm2 = Math.max(1, enc.maxLookupNorm2, enc.maxOutputNorm2);
    const params = chooseParameters({ precision: Math.max(1, enc.pbsBits), maxNorm2, pFail: target, constraints });
    const single: CircuitParameters = {
      params, bits: enc.bits, linearOnly: false, pFailTarget: target, maxNorm2, constraints,
      log2PFail: constraintsLog2PFail(params, constraints),
    };
    if (options.multiParameter !== true || graph === undefined) return single;
    const multi = chooseMultiParameters(graph, enc, target, params);
    if (multi === undefined) return single;
    const last = multi.partitions[multi.partitions.length - 1]!;
    return { ...single, params: last.params, log2PFail: Math.max(...multi.partitions.map((p) => p.log2PFail)), multi };
  }
  // No bootstrapping: only decryptions of fresh-encryption combinations, so the smallest named set (by
  // big-key dimension kN) whose σ_glwe meets every output's message space.
  const target = targetOf(options, enc.outputCount);
  const maxNorm2 = Math.max(1, enc.maxOutputNorm2);
  const sets = [...NAMED_PARAMETER_SETS].sort((a, b) =>
    a.params.glweDimension * a.params.polynomialSize - b.params.glweDimension * b.params.polynomialSize);
  for (const { params } of sets) {
    const log2 = constraintsLog2PFail(params, constraints);
    if (log2 <= Math.log2(target)) {
      return { params, bits: enc.bits, linearOnly: true, pFailTarget: target, maxNorm2, constraints, log2PFail: log2 };
    }
  }
  throw new RangeError(`no parameter set decrypts a ${enc.bits}-bit message space at Σw² = ${maxNorm2} ` +
    `with failure probability ≤ ${target}; reduce the weights or the value range`);
}
