// Multi-parameter choice (runtime/partitions.ts says what a layout is). The circuit's PBS — lookup groups
// and bit extractions — are partitioned by precision class; each partition gets its own parameter set.
//
// Homes: a region (encoding.ts) has one home, the partition that writes most PBS outputs into it (no
// conversions for those), else the one that reads it most, else the last (largest) partition.
// Noise, per PBS of partition B reading x in region R of home A (scale² folded into the norms as today):
//   Var = fresh·σ_glwe,A² + pbs·V_R + Var_KS(A → B) + Var_MS(B),   V_R = max over R's producers C of
//   Var_PBS,C + Var_KS(big_C → big_A) (0 when C = A),
// and each output's decryption: fresh·σ_glwe,A² + pbs·V_R. Bounding V_R by its largest producer keeps
// one pair of norms per node (bounds.ts) and stays an upper bound.
// The partitions are coupled (B's constraints read A's and C's variances), so parameters are chosen by a
// small joint search: each partition's candidates come from the core optimizer on its own constraints
// (as if every source were its own) at pFail 2^(−8j)·target, j = 0..3; the combinations are tried by
// increasing Σj, each checked with the real cross variances above, and the cheapest valid one of the
// first Σj that has one is kept. Key switches between partitions take the fewest levels whose noise is at
// most the partition's own key switch (small target) or the source's PBS output (conversion), the best
// base log for each level count.
// Classes: one per distinct precision, then adjacent classes are merged greedily while the estimated
// cost (estimateCost per PBS, plus the key switches and conversions) drops. The one-set choice
// (params.ts) competes too: a multi-parameter layout is kept only when strictly cheaper.
import {
  chooseParameters, estimateCost, keyswitchVariance, type NoiseConstraint, pbsKeyswitchVariance,
  pbsModulusSwitchVariance, pbsOutputVariance, pFail, type TfheParameters,
} from "../tfhe/index.js";
import { type CircuitEncoding, regionsOf } from "./encoding.js";
import { extractionConstraint, groupConstraint, mergeConstraints } from "./params.js";
import { type PartitionKeyswitch, type PartitionLayout, keyswitchId, sortKeyswitches } from "../runtime/partitions.js";
import type { Graph } from "../runtime/ir.js";
import { sizeOf } from "../runtime/shape.js";

/** One PBS operation of the circuit: a lookup group or a bit extraction. */
export interface PbsOp {
  /** A group's first member node, or the extraction's round node. */
  readonly id: number;
  readonly precision: number;
  /** PBS per run. */
  readonly count: number;
  readonly inputRegion: number;
  /** Where its outputs go: region and outputs per run (each converted when the region's home differs). */
  readonly outputs: readonly { readonly region: number; readonly count: number }[];
  /** Its noise requirement in the one-set terms (params.ts). */
  readonly constraint: NoiseConstraint;
}

export interface PartitionSummary {
  readonly params: TfheParameters;
  /** The PBS precisions it runs, ascending. */
  readonly precisions: readonly number[];
  readonly pbsCount: number;
  /** log2 of its worst PBS's failure probability, with the real cross-partition variances. */
  readonly log2PFail: number;
}

export interface MultiParameters {
  readonly layout: PartitionLayout;
  readonly partitions: readonly PartitionSummary[];
  /** log2 failure probability of each PBS operation (by PbsOp id): what simulate draws from. */
  readonly opLog2PFail: ReadonlyMap<number, number>;
  /** Conversions (big_C → big_A key switches) per run. */
  readonly conversions: number;
  /** Estimated cost per run (estimateCost units) of this layout, and of the one-set choice. */
  readonly estimatedCost: number;
  readonly singleSetCost: number;
}

/** The PBS operations of an encoding, in a fixed order (groups, then extractions, by node id). */
export function pbsOps(graph: Graph, enc: CircuitEncoding, region: Int32Array): PbsOp[] {
  const ops: PbsOp[] = [];
  for (const g of enc.groups) {
    const size = sizeOf(graph.nodes[g.members[0]!.node]!.shape);
    ops.push({
      id: g.members[0]!.node, precision: g.bits, count: size, inputRegion: region[g.input]!,
      outputs: g.members.map((m) => ({ region: region[m.node]!, count: size })), constraint: groupConstraint(g),
    });
  }
  for (const e of [...enc.extractions.values()].sort((a, b) => a.node - b.node)) {
    if (e.fromBit >= e.lsbs) continue;
    const count = (e.lsbs - e.fromBit) * sizeOf(graph.nodes[e.node]!.shape);
    ops.push({ id: e.node, precision: 1, count, inputRegion: region[e.input]!, outputs: [{ region: region[e.node]!, count }], constraint: extractionConstraint(e) });
  }
  return ops;
}

const KS_MAX_LEVEL = 24;

/** The fewest levels (best base log for each) whose key-switch noise is ≤ maxVariance, else the least noisy. */
export function chooseKeyswitch(inputDimension: number, outputDimension: number, noiseStd: number, maxVariance: number): { baseLog: number; levels: number; variance: number } {
  let best = { baseLog: 0, levels: 0, variance: Infinity };
  for (let l = 1; l <= KS_MAX_LEVEL; l++) {
    let v = Infinity, b = 0;
    for (let beta = 1; beta * l <= 64 && beta <= 32; beta++) {
      const x = keyswitchVariance({ inputDimension, outputDimension, baseLog: beta, level: l, noiseStd });
      if (x < v) { v = x; b = beta; }
    }
    if (v <= maxVariance) return { baseLog: b, levels: l, variance: v };
    if (v < best.variance) best = { baseLog: b, levels: l, variance: v };
  }
  return best;
}

interface Evaluated {
  readonly params: readonly TfheParameters[];
  readonly cost: number;
  readonly opLog2: Map<number, number>;
  readonly worst: number;
  readonly keyswitches: PartitionKeyswitch[];
  readonly conversions: number;
}

/** Everything about one partitioning that does not depend on the parameters. */
class Partitioning {
  readonly partOf: Map<number, number>;
  readonly home = new Map<number, number>();
  readonly producers = new Map<number, Set<number>>();
  constructor(readonly classes: readonly (readonly number[])[], readonly ops: readonly PbsOp[], regions: Iterable<number>) {
    this.partOf = new Map(ops.map((o) => [o.id, classes.findIndex((c) => c.includes(o.precision))]));
    const produced = new Map<number, number[]>(), consumed = new Map<number, number[]>();
    const bump = (m: Map<number, number[]>, r: number, p: number, c: number) => {
      const w = m.get(r) ?? new Array<number>(classes.length).fill(0);
      w[p]! += c;
      m.set(r, w);
    };
    for (const o of ops) {
      const p = this.partOf.get(o.id)!;
      bump(consumed, o.inputRegion, p, o.count);
      for (const out of o.outputs) {
        bump(produced, out.region, p, out.count);
        (this.producers.get(out.region) ?? this.producers.set(out.region, new Set()).get(out.region)!).add(p);
      }
    }
    const argmax = (w: readonly number[]) => w.reduce((b, x, i) => (x >= w[b]! ? i : b), 0); // ties: the larger partition
    for (const r of regions) {
      const w = produced.get(r) ?? consumed.get(r);
      this.home.set(r, w === undefined ? classes.length - 1 : argmax(w));
    }
  }
}

interface PlanInput {
  readonly ops: readonly PbsOp[];
  readonly outputs: readonly { readonly region: number; readonly constraint: NoiseConstraint }[];
  readonly regions: readonly number[];
  readonly target: number;
}

const LEVELS = 4;
const LEVEL_BITS = 8;

/** Checks a parameter assignment with the real cross variances; undefined when a constraint fails. */
function evaluate(part: Partitioning, input: PlanInput, params: readonly TfheParameters[]): Evaluated | undefined {
  const { ops, outputs, target } = input;
  const vOut = params.map((p) => pbsOutputVariance(p));
  const keys = new Map<string, PartitionKeyswitch & { variance: number }>();
  const keyOf = (from: number, to: number, target: "small" | "big") => {
    const id = keyswitchId({ from, to, target });
    let k = keys.get(id);
    if (k === undefined) {
      const a = params[from]!, b = params[to]!, kNa = a.glweDimension * a.polynomialSize;
      const c = target === "small"
        ? chooseKeyswitch(kNa, b.lweDimension, b.lweNoiseStd, pbsKeyswitchVariance(b))
        : chooseKeyswitch(kNa, b.glweDimension * b.polynomialSize, b.glweNoiseStd, vOut[from]!);
      k = { from, to, target, baseLog: c.baseLog, levels: c.levels, variance: c.variance };
      keys.set(id, k);
    }
    return k;
  };
  const regionVariance = new Map<number, number>();
  const vRegion = (r: number): number => {
    let v = regionVariance.get(r);
    if (v === undefined) {
      const home = part.home.get(r)!;
      v = 0;
      for (const c of part.producers.get(r) ?? []) v = Math.max(v, vOut[c]! + (c === home ? 0 : keyOf(c, home, "big").variance));
      regionVariance.set(r, v);
    }
    return v;
  };
  const goal = Math.log2(target) + 1e-9;
  const opLog2 = new Map<number, number>();
  let worst = -Infinity, cost = 0, conversions = 0;
  for (const o of ops) {
    const b = part.partOf.get(o.id)!, a = part.home.get(o.inputRegion)!, pb = params[b]!, pa = params[a]!;
    const c = o.constraint;
    const ks = a === b ? { variance: pbsKeyswitchVariance(pb), levels: pb.ksLevel } : keyOf(a, b, "small");
    const v = c.freshNorm2 * pa.glweNoiseStd ** 2 + c.pbsNorm2 * vRegion(o.inputRegion) + ks.variance + pbsModulusSwitchVariance(pb);
    const log2 = pFail(v, 2 ** c.precision).log2;
    if (!(log2 <= goal)) return undefined;
    opLog2.set(o.id, log2);
    worst = Math.max(worst, log2);
    cost += o.count * (pa.glweDimension * pa.polynomialSize * ks.levels * (pb.lweDimension + 1) + estimateCost(pb).pbs);
    for (const out of o.outputs) {
      const home = part.home.get(out.region)!;
      if (home === b) continue;
      const conv = keyOf(b, home, "big"), ph = params[home]!;
      cost += out.count * pb.glweDimension * pb.polynomialSize * conv.levels * (ph.glweDimension * ph.polynomialSize + 1);
      conversions += out.count;
    }
  }
  for (const o of outputs) {
    const pa = params[part.home.get(o.region)!]!, c = o.constraint;
    const log2 = pFail(c.freshNorm2 * pa.glweNoiseStd ** 2 + c.pbsNorm2 * vRegion(o.region), 2 ** c.precision).log2;
    if (!(log2 <= goal)) return undefined;
  }
  return { params, cost, opLog2, worst, keyswitches: sortKeyswitches([...keys.values()].map(({ variance: _, ...k }) => k)), conversions };
}

/** The cheapest valid parameters for a partitioning (joint search over candidate levels), or undefined. */
function solve(part: Partitioning, input: PlanInput): Evaluated | undefined {
  const P = part.classes.length;
  // Each partition's own constraints: its PBS, and the outputs of regions it is home to.
  const own = part.classes.map((_, p) => mergeConstraints([
    ...input.ops.filter((o) => part.partOf.get(o.id) === p).map((o) => o.constraint),
    ...input.outputs.filter((o) => part.home.get(o.region) === p).map((o) => o.constraint),
  ]));
  const candidates = part.classes.map(() => new Map<number, TfheParameters | null>());
  const candidate = (p: number, j: number): TfheParameters | null => {
    let c = candidates[p]!.get(j);
    if (c === undefined) {
      const constraints = own[p]!;
      try {
        c = constraints.length === 0 ? null : chooseParameters({
          precision: Math.max(1, ...constraints.filter((x) => x.bootstrap).map((x) => x.precision)),
          pFail: input.target * 2 ** (-LEVEL_BITS * j), constraints,
        });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        c = null;
      }
      candidates[p]!.set(j, c);
    }
    return c;
  };
  for (let s = 0; s <= P * (LEVELS - 1); s++) {
    let best: Evaluated | undefined;
    const levels = new Array<number>(P).fill(0);
    const visit = (p: number, left: number): void => {
      if (p === P - 1) {
        if (left > LEVELS - 1) return;
        levels[p] = left;
        const params = levels.map((j, q) => candidate(q, j));
        if (params.some((x) => x === null)) return;
        const e = evaluate(part, input, params as TfheParameters[]);
        if (e !== undefined && (best === undefined || e.cost < best.cost)) best = e;
        return;
      }
      for (let j = 0; j <= Math.min(left, LEVELS - 1); j++) { levels[p] = j; visit(p + 1, left - j); }
    };
    visit(0, s);
    if (best !== undefined) return best;
  }
  return undefined;
}

/**
 * The cheapest multi-parameter layout of the encoding, or undefined when one parameter set (of cost
 * `singleSetCost` per run) is at least as cheap or the circuit has fewer than two precision classes.
 */
export function chooseMultiParameters(graph: Graph, enc: CircuitEncoding, target: number, singleSet: TfheParameters): MultiParameters | undefined {
  const region = regionsOf(graph, enc.live);
  const ops = pbsOps(graph, enc, region);
  const precisions = [...new Set(ops.map((o) => o.precision))].sort((a, b) => a - b);
  const singleSetCost = ops.reduce((s, o) => s + o.count, 0) * estimateCost(singleSet).total;
  if (precisions.length < 2) return undefined;
  const regions = [...new Set(Array.from(region).filter((r) => r >= 0))].sort((a, b) => a - b);
  const input: PlanInput = {
    ops, regions, target,
    outputs: enc.outputNoise.map((o) => ({ region: region[o.node]!, constraint: { precision: o.bits, freshNorm2: o.freshNorm2, pbsNorm2: o.pbsNorm2, bootstrap: false } })),
  };
  const attempt = (classes: readonly (readonly number[])[]) => {
    const part = new Partitioning(classes, ops, regions);
    const e = classes.length < 2 ? undefined : solve(part, input);
    return e === undefined ? undefined : { part, e };
  };
  // Finest classes first, then greedy merges of adjacent classes while the cost drops.
  let classes: (readonly number[])[] = precisions.map((p) => [p]);
  let best = attempt(classes);
  for (;;) {
    let next: { classes: (readonly number[])[]; found: NonNullable<ReturnType<typeof attempt>> } | undefined;
    for (let i = 0; i + 1 < classes.length && classes.length > 2; i++) {
      const merged = [...classes.slice(0, i), [...classes[i]!, ...classes[i + 1]!], ...classes.slice(i + 2)];
      const found = attempt(merged);
      if (found !== undefined && (next === undefined || found.e.cost < next.found.e.cost)) next = { classes: merged, found };
    }
    if (next === undefined || (best !== undefined && next.found.e.cost >= best.e.cost)) break;
    classes = next.classes;
    best = next.found;
  }
  if (best === undefined || best.e.cost >= singleSetCost) return undefined;
  const { part, e } = best;
  const nodeHome = Array.from(region, (r) => (r < 0 ? -1 : part.home.get(r)!));
  const partitions = part.classes.map((_, p) => {
    const mine = ops.filter((o) => part.partOf.get(o.id) === p);
    return {
      params: e.params[p]!, precisions: [...new Set(mine.map((o) => o.precision))].sort((a, b) => a - b),
      pbsCount: mine.reduce((s, o) => s + o.count, 0), log2PFail: mine.reduce((m, o) => Math.max(m, e.opLog2.get(o.id)!), -Infinity),
    };
  });
  return {
    layout: { params: e.params, nodeHome, pbsPartition: new Map(part.partOf), keyswitches: e.keyswitches },
    partitions, opLog2PFail: e.opLog2, conversions: e.conversions, estimatedCost: e.cost, singleSetCost,
  };
}
