// Simulation: the FHE evaluation in the clear. Linear ops are exact integers (the torus keeps them mod 2p of
// their region, which only matters at outputs: sound ranges keep every value inside its width); each PBS
// reads its index (negacyclic above p, as the blind rotation does) and fails with the predicted probability:
// a failure moves the index one box up or down, which is what noise crossing half a box does (for a flat
// f the value may not change). Outputs are lifted to their range mod 2p like decryption.
import { constraintVariance, pFail } from "../tfhe/index.js";
import { roundLsbs, truncLsbs } from "../runtime/tensor-ops.js";
import { type CircuitEncoding, decodeRange, groupLookupAt } from "./encoding.js";
import { liftResidue, mod } from "../runtime/encoding.js";
import type { Bounds } from "./bounds.js";
import type { LookupGroup } from "../runtime/fusion.js";
import { evalNode } from "../runtime/clear-node.js";
import type { Graph } from "../runtime/ir.js";
import { type CircuitParameters, extractionConstraint, groupConstraint } from "./params.js";
import type { Tensor } from "../runtime/tensor.js";

export interface SimulateOptions {
  /** Seed of the failure PRNG (default: random). */
  readonly seed?: number;
  /** Overrides the per-PBS failure probability (default: the model's, per lookup, at its Σw²). */
  readonly pFail?: number;
}

/** A small seedable PRNG (mulberry32): uniform in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A multi-parameter circuit's failure probability of one PBS (by its op id: a group's first member, an
 * extraction's node), with its partition's own variances and the key switches it reads through.
 */
function opPFail(cp: CircuitParameters, op: number): number | undefined {
  const log2 = cp.multi?.opLog2PFail.get(op);
  return log2 === undefined ? undefined : 2 ** log2;
}

/** Evaluates the circuit on bound input tensors, with lookup failures at the model's rate. */
export function simulateGraph(
  graph: Graph, bounds: Bounds, enc: CircuitEncoding, cp: CircuitParameters, inputs: readonly Tensor[],
  options: SimulateOptions = {},
): Tensor[] {
  const random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const values: (Tensor | undefined)[] = [];
  const groupOf = new Map(enc.groups.flatMap((g) => g.members.map((m, t) => [m.node, { g, t }] as const)));
  const drawn = new Map<LookupGroup, Int8Array>();
  for (const n of graph.nodes) {
    if (!enc.live.has(n.id)) { values.push(undefined); continue; }
    const args = n.args.map((a) => values[a]!);
    const extraction = enc.extractions.get(n.id);
    if (extraction !== undefined) {
      // Bit extraction: the exact round, each extracted bit wrong with its PBS's failure probability.
      const q = options.pFail ?? opPFail(cp, extraction.node) ?? pFail(constraintVariance(cp.params, extractionConstraint(extraction)), 2).probability;
      values.push({
        shape: n.shape,
        data: Float64Array.from(args[0]!.data, (v) => {
          let r = extraction.truncate ? truncLsbs(v, extraction.lsbs) : roundLsbs(v, extraction.lsbs);
          for (let i = extraction.fromBit; i < extraction.lsbs; i++) if (q > 0 && random() < q) r += (random() < 0.5 ? -1 : 1) * 2 ** i;
          return r;
        }),
      });
      continue;
    }
    const plan = enc.lookups.get(n.id);
    if (plan === undefined) {
      values.push(evalNode(n, args, () => inputs[graph.inputs.indexOf(n.id)]!));
      continue;
    }
    const x = args[0]!.data;
    // One draw per PBS: the lookups of a fused group (fusion.ts) share their blind rotation, so they fail
    // together (each reading its own table one box off).
    const { g, t } = groupOf.get(n.id)!;
    let shifts = drawn.get(g);
    if (shifts === undefined) {
      const q = options.pFail ?? opPFail(cp, g.members[0]!.node) ?? pFail(constraintVariance(cp.params, groupConstraint(g)), 2 ** g.bits).probability;
      shifts = Int8Array.from(x, () => (q > 0 && random() < q ? (random() < 0.5 ? -1 : 1) : 0));
      drawn.set(g, shifts);
    }
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      // The index the PBS reads: (v − lo)/step, rounded to nearest (ties up) for an approximate reading.
      const index = plan.approximate ? Math.floor((x[i]! - plan.lo) / plan.step + 0.5) : (x[i]! - plan.lo) / plan.step;
      const v = groupLookupAt(g, t, index + shifts[i]!);
      out[i] = plan.kind === "round" ? x[i]! - v : v;
    }
    values.push({ shape: n.shape, data: out });
  }
  return graph.outputs.map((id) => {
    const t = values[id]!;
    if (!graph.nodes[id]!.encrypted) return t;
    // Values are exact integers here; decryption reads them mod 2p of their region and lifts them back.
    const bits = enc.nodeBits[id]!, p2 = 2 * 2 ** bits;
    const [lo] = decodeRange(bounds.nodes[id]!);
    return { shape: t.shape, data: Float64Array.from(t.data, (v) => liftResidue(mod(v, p2), lo, bits)) };
  });
}
