// A fully connected network in integers, as the circuit computes it: each layer is a clear-weight matmul of
// the previous layer's codes plus an integer bias (a wide accumulator), then, for hidden layers, ONE lookup
// that reads the accumulator's top bits (an approximate round of `lsbs` bits) and returns the next layer's
// activation code: relu and requantization fused, code = clip(round(M·r), 0, amax) with r the rounded
// accumulator and M = s_acc/s_act (Jacob et al. 2018, §2.2, with the fixed-point multiplier folded into a
// table). The last layer's accumulator is decrypted and dequantized by the client.
import { concat, lut, round, type Tracer, type TraceFn } from "../../compiler/index.js";
import { roundLsbs } from "../../runtime/tensor-ops.js";

export interface Activation {
  /** Low bits dropped by the approximate round before the lookup. */
  readonly lsbs: number;
  /** s_acc/s_act: one accumulator unit in activation steps. */
  readonly multiplier: number;
  /** Largest activation code, 2^activationBits − 1. */
  readonly amax: number;
  /** Round exactly (bit extraction) instead of approximately (a modulus switch, off by one step near ties). */
  readonly exact?: boolean;
  /**
   * A function other than relu (imported networks): code = clip(round(f(scale·r)/outScale) + zero, 0, amax),
   * an affine code of f's value; multiplier is then scale/outScale. Not serialized (imports are not saved as JSON).
   */
  readonly fn?: { readonly f: (x: number) => number; readonly scale: number; readonly outScale: number; readonly zero: number };
}

export interface IntegerLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** Weights [inputs × outputs], row-major. */
  readonly Q: Int32Array;
  /** Integer bias per output, in accumulator units (zero-point corrections included). */
  readonly B: Int32Array;
  /** Hidden layers only: one for the whole layer, or one per output unit (per-channel quantization). */
  readonly activation?: Activation | readonly Activation[];
}

/** The activation of output unit k of a hidden layer. */
export function unitActivation(a: Activation | readonly Activation[], k: number): Activation {
  return Array.isArray(a) ? (a as readonly Activation[])[k]! : (a as Activation);
}

/** The activations of a hidden layer's units, one per output. */
export function unitActivations(L: Pick<IntegerLayer, "outputs" | "activation">): Activation[] {
  return Array.from({ length: L.outputs }, (_, k) => unitActivation(L.activation!, k));
}

// v to the nearest multiple of 2^lsbs, ties up: the compiler's clear semantics of `round`, which the
// network's clear reference must share exactly.
export { roundLsbs };

/** The fused activation + requantization table, a function of the rounded accumulator. */
export function activationTable(a: Activation): (r: number) => number {
  const { multiplier, amax, fn } = a;
  if (fn !== undefined) {
    const { f, scale, outScale, zero } = fn;
    return (r) => Math.min(amax, Math.max(0, Math.round(f(scale * r) / outScale) + zero));
  }
  return (r) => Math.min(amax, Math.max(0, Math.round(r * multiplier)));
}

/**
 * The most a hidden code can move when the approximate round lands one step (2^lsbs) off near a tie: the
 * table's largest difference between neighbouring entries, at most ⌈M·2^lsbs⌉ and amax.
 */
export function codeJump(a: Activation | readonly Activation[]): number {
  if (Array.isArray(a)) return Math.max(0, ...(a as readonly Activation[]).map((u) => codeJump(u)));
  const u = a as Activation;
  // A function other than relu may be steeper than the identity: only amax bounds its jump.
  return u.exact === true ? 0 : u.fn !== undefined ? u.amax : Math.min(u.amax, Math.ceil(u.multiplier * 2 ** u.lsbs));
}

/** The range of a layer's accumulator over every input code in [lo, hi] (the union over its outputs). */
export function accumulatorRange(layer: Pick<IntegerLayer, "inputs" | "outputs" | "Q" | "B">, lo: number, hi: number): { lo: number; hi: number } {
  let min = Infinity, max = -Infinity;
  for (let k = 0; k < layer.outputs; k++) {
    let a = layer.B[k]!, b = layer.B[k]!;
    for (let j = 0; j < layer.inputs; j++) {
      const w = layer.Q[j * layer.outputs + k]!;
      a += Math.min(w * lo, w * hi);
      b += Math.max(w * lo, w * hi);
    }
    min = Math.min(min, a);
    max = Math.max(max, b);
  }
  return { lo: min, hi: max };
}

/**
 * The fewest low bits to drop so that the lookup's table has at most 2^lookupBits entries. The approximate
 * round may land a step beyond either end, so the table spans ⌊lo/2^k⌋…⌈hi/2^k⌉ (as the compiler builds it).
 */
export function lsbsFor(range: { lo: number; hi: number }, lookupBits: number): number {
  for (let k = 0; k < 40; k++) {
    const step = 2 ** k, entries = k === 0 ? range.hi - range.lo + 1 : Math.ceil(range.hi / step) - Math.floor(range.lo / step) + 1;
    if (entries <= 2 ** lookupBits) return k;
  }
  throw new RangeError(`accumulator range [${range.lo}, ${range.hi}] too wide`);
}

/** The integer network on `rows` rows of codes (row-major): the last layer's accumulators [rows × outputs]. */
export function integerForward(layers: readonly IntegerLayer[], q: ArrayLike<number>, rows: number): Float64Array {
  let u: ArrayLike<number> = q;
  let out = new Float64Array(0);
  for (const L of layers) {
    out = new Float64Array(rows * L.outputs);
    const units = L.activation === undefined ? undefined : unitActivations(L);
    const tables = units?.map(activationTable);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < L.outputs; k++) {
        let s = L.B[k]!;
        for (let j = 0; j < L.inputs; j++) s += L.Q[j * L.outputs + k]! * u[i * L.inputs + j]!;
        out[i * L.outputs + k] = tables === undefined ? s : tables[k]!(roundLsbs(s, units![k]!.lsbs));
      }
    }
    u = out;
  }
  return out;
}

/** The circuit of the integer network on a batch of rows (a [batch × features] encrypted input). */
export function networkCircuit(layers: readonly IntegerLayer[]): TraceFn {
  return (x: Tracer) => {
    let a = x;
    layers.forEach((L, l) => {
      const W = Array.from({ length: L.inputs }, (_, j) => Array.from(L.Q.subarray(j * L.outputs, (j + 1) * L.outputs)));
      const acc = a.matmul(W).add(Array.from(L.B));
      if (L.activation === undefined) {
        a = acc;
        return;
      }
      // relu∘requantize∘round~ compose into one PBS on the accumulator's top bits.
      const apply = (v: Tracer, u: Activation, label: string): Tracer =>
        lut(u.lsbs > 0 ? round(v, u.lsbs, { approximate: u.exact !== true }) : v, activationTable(u), label);
      if (!Array.isArray(L.activation)) {
        a = apply(acc, L.activation as Activation, `relu-requant ${l}`);
        return;
      }
      // Per-unit scales and roundings: one lookup per column, each with its own table.
      const units = L.activation as readonly Activation[];
      a = concat(units.map((u, k) => apply(acc.slice(null, [k, k + 1]), u, `relu-requant ${l}.${k}`)), 1);
    });
    return a;
  };
}

export interface IntegerLayerJSON {
  readonly inputs: number;
  readonly outputs: number;
  readonly Q: number[];
  readonly B: number[];
  readonly activation?: Activation | Activation[];
}

export function layerToJSON(L: IntegerLayer): IntegerLayerJSON {
  return { inputs: L.inputs, outputs: L.outputs, Q: [...L.Q], B: [...L.B], ...(L.activation === undefined ? {} : { activation: Array.isArray(L.activation) ? (L.activation as readonly Activation[]).map((u) => ({ ...u })) : { ...(L.activation as Activation) } }) };
}
