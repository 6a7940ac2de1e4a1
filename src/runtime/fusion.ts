// Lookup fusion: lookups that read the same encrypted node with the same offset share one blind rotation,
// through the core's many-LUT (lookup-table.ts). With PBS indices in [0, pIn), pIn = 2^⌈log2(hi − lo + 1)⌉,
// and c·pIn ≤ p, box m + t·pIn of the test polynomial holds f_t(m) and output t is sample-extracted at
// coefficient t·pIn·N/p. The boxes keep their N/p coefficients, so the failure probability per PBS is
// unchanged; a group of c lookups costs one PBS per element instead of c. Typical in ML: a relu and a
// comparison of one accumulator, or the several thresholds of a tree on one feature.
// Outputs of one blind rotation are correlated (measured |ρ| ≈ 0.2 between many-LUT outputs at N/4 apart),
// so Σw² over independent sources does not bound a combination of them. Two rules:
// - "bounded" (what the compiler plans now): any lookups of one input fuse, and the compiler counts the
//   members' outputs of one rotation as one source of weight Σ|w| (compiler/norms.ts: (Σ|w|)² ≥ the
//   variance whatever the correlation), so the parameters are chosen for the fused circuit;
// - "separate" (server artifacts written before the rule existed, whose parameters assumed independent
//   sources): lookups whose outputs are later combined are kept in different groups.
// The grouping is a deterministic function of the graph, the lookup plans and the rule: the server half
// recomputes it.
import { encode, LookupTable } from "../tfhe/index.js";
import { ceilLog2, cipherEncoding, type LookupPlan } from "./encoding.js";
import type { Graph } from "./ir.js";

export interface LookupGroup {
  /** The fused lookups, by node id order; output t of the PBS is members[t]. */
  readonly members: readonly LookupPlan[];
  /** Shared input node, offset and step: the members' index is (v − lo)/step. */
  readonly input: number;
  readonly lo: number;
  readonly step: number;
  /** pIn = 2^inputBits: the indices the members need (all < pIn). */
  readonly inputBits: number;
  /** The PBS precision: p = 2^bits boxes, member t in [t·pIn, (t + 1)·pIn). */
  readonly bits: number;
  /** Message space of the input's region (each member's output is in its own, `outBits`). */
  readonly inBits: number;
}

/**
 * The factor that turns the input offset by −lo into the group's PBS message: (v − lo)·Δ_in·scale =
 * ((v − lo)/step)·Δ_bits, so scale = 2^(inBits − log2(step) − bits) (an integer: compiler/encoding.ts sizes inBits).
 */
export function groupScale(g: LookupGroup): number {
  return 2 ** (g.inBits - Math.log2(g.step) - g.bits);
}

/** A lookup on its own: one PBS at its own precision. */
export function singleGroup(l: LookupPlan): LookupGroup {
  return { members: [l], input: l.input, lo: l.lo, step: l.step, inputBits: l.inputBits, bits: l.inputBits, inBits: l.inBits };
}

/**
 * Work fusion may spend per item of its input (node, argument or lookup plan), plus a constant: set
 * insertions, pairs recorded and pair checks are counted. Past the budget, fusion gives up and every
 * lookup stays alone (correct, one PBS each), so that decoding a server artifact costs time linear in its
 * size whatever its graph: k lookups summed one after the other would otherwise record ~k³/3 pairs.
 */
export const FUSION_WORK_PER_ITEM = 64;
const FUSION_WORK_BASE = 1 << 16;

/** How fusion treats lookups whose outputs are later combined (see the top of this file). */
export type FusionRule = "bounded" | "separate";

/** Filled by `fuseLookups` when given: the work counted, and whether the budget cut fusion off. */
export interface FusionStats {
  work: number;
  budget: number;
  exhausted: boolean;
}

class Budget {
  work = 0;
  constructor(readonly limit: number) {}
  /** Counts `n` units; false once past the limit. */
  spend(n = 1): boolean {
    this.work += n;
    return this.work <= this.limit;
  }
}

// A pair of node ids (< 2^26, far above any graph that fits in memory) packs into one safe integer.
const pairKey = (a: number, b: number): number => Math.min(a, b) * 2 ** 26 + Math.max(a, b);

/**
 * Pairs of lookups (by node id) that some encrypted node combines linearly — directly or through linear
 * ops — before any further lookup: the "separate" rule keeps such pairs in different groups. Undefined
 * when the budget runs out.
 */
function combinedPairs(graph: Graph, candidates: ReadonlySet<number>, budget: Budget): Set<number> | undefined {
  // A node's sources are contained in those of any encrypted non-lut node that reads it, so pairs are
  // only listed at nodes without such a reader (each distinct set once).
  const extended = new Uint8Array(graph.nodes.length);
  for (const n of graph.nodes) if (n.encrypted && n.kind !== "lut") for (const a of n.args) extended[a] = 1;
  const deps: (ReadonlySet<number> | undefined)[] = [];
  const listed = new Set<ReadonlySet<number>>();
  const pairs = new Set<number>();
  const empty: ReadonlySet<number> = new Set();
  for (const n of graph.nodes) {
    if (!n.encrypted) { deps.push(undefined); continue; }
    // A lookup starts a new source; round's output is x minus its PBS output, so it keeps x's sources.
    const from = n.kind === "lut" ? [] : n.args.map((a) => deps[a]).filter((s): s is ReadonlySet<number> => s !== undefined && s.size > 0);
    let d: ReadonlySet<number>;
    if (!candidates.has(n.id) && from.length <= 1) {
      d = from[0] ?? empty; // shared, never mutated: linear ops of one source set cost nothing
    } else {
      const own = new Set<number>();
      for (const s of from) {
        if (!budget.spend(s.size)) return undefined;
        for (const x of s) own.add(x);
      }
      if (candidates.has(n.id)) own.add(n.id);
      d = own;
    }
    deps.push(d);
    if (d.size < 2 || extended[n.id] === 1 || listed.has(d)) continue;
    listed.add(d);
    if (!budget.spend(d.size * (d.size - 1) / 2)) return undefined;
    const list = [...d];
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) pairs.add(pairKey(list[i]!, list[j]!));
  }
  return pairs;
}

/**
 * Groups the plans (each lookup in exactly one group; singletons when nothing fuses). The work is
 * bounded by FUSION_WORK_PER_ITEM per node, argument and plan (see there); `stats` receives the count.
 */
export function fuseLookups(
  graph: Graph, lookups: ReadonlyMap<number, LookupPlan>, bits: number, stats?: FusionStats, rule: FusionRule = "bounded",
): LookupGroup[] {
  // `bits`: the largest PBS precision of the circuit (a fused group may use up to that many boxes).
  const items = graph.nodes.reduce((s, n) => s + 1 + n.args.length, 0) + lookups.size;
  const budget = new Budget(FUSION_WORK_BASE + FUSION_WORK_PER_ITEM * items);
  const groups = fuseWithin(graph, lookups, bits, budget, rule);
  if (stats !== undefined) Object.assign(stats, { work: budget.work, budget: budget.limit, exhausted: groups === undefined });
  return groups ?? [...lookups.values()].sort((a, b) => a.node - b.node).map(singleGroup);
}

function fuseWithin(graph: Graph, lookups: ReadonlyMap<number, LookupPlan>, bits: number, budget: Budget, rule: FusionRule): LookupGroup[] | undefined {
  const p = 2 ** bits;
  const buckets = new Map<string, LookupPlan[]>();
  for (const plan of [...lookups.values()].sort((a, b) => a.node - b.node)) {
    // Members share the PBS input (offset, scale, step and approximate reading) and the output encoding.
    const key = `${plan.input}:${plan.lo}:${plan.step}:${plan.approximate}`;
    const list = buckets.get(key);
    if (list === undefined) buckets.set(key, [plan]);
    else list.push(plan);
  }
  // Only lookups that could share a group are tracked (those of buckets with several members).
  const candidates = new Set([...buckets.values()].filter((l) => l.length > 1).flatMap((l) => l.map((m) => m.node)));
  const combined = candidates.size > 0 && rule === "separate" ? combinedPairs(graph, candidates, budget) : new Set<number>();
  if (combined === undefined) return undefined;
  const groups: LookupGroup[] = [];
  for (const list of buckets.values()) {
    const inputBits = list.reduce((w, l) => Math.max(w, l.inputBits), 0);
    // Within the circuit's largest precision, and no finer than the input's region allows (scale ≥ 1).
    const room = Math.min(p, 2 ** (list[0]!.inBits - Math.log2(list[0]!.step)));
    const capacity = Math.max(1, Math.floor(room / 2 ** inputBits));
    // First fit: each lookup joins the first group with room and no member it is combined with.
    const parts: LookupPlan[][] = [];
    const open: LookupPlan[][] = []; // parts with room, in creation order
    for (const plan of list) {
      let part: LookupPlan[] | undefined;
      for (const g of open) {
        if (!budget.spend(g.length)) return undefined;
        if (g.every((m) => !combined.has(pairKey(m.node, plan.node)))) { part = g; break; }
      }
      if (part === undefined) { part = [plan]; parts.push(part); if (capacity > 1) open.push(part); continue; }
      part.push(plan);
      if (part.length >= capacity) open.splice(open.indexOf(part), 1);
    }
    for (const members of parts) {
      if (members.length === 1) { groups.push(singleGroup(members[0]!)); continue; }
      const m = members[0]!;
      groups.push({
        members, input: m.input, lo: m.lo, step: m.step, inputBits, bits: inputBits + ceilLog2(members.length),
        inBits: m.inBits,
      });
    }
  }
  return groups.sort((a, b) => a.members[0]!.node - b.members[0]!.node);
}

/**
 * The test polynomial of a group: box b of N/p coefficients holds Δ·value (centred boxes, as the core's
 * tables). A single lookup uses its whole table; a fused group puts member t's values for indices
 * [0, pIn) in boxes [t·pIn, (t + 1)·pIn).
 */
export function groupPolynomial(g: LookupGroup, polynomialSize: number): LookupTable {
  const bits = g.bits, p = 2 ** bits, N = polynomialSize;
  if (p > N) throw new RangeError(`a ${bits}-bit lookup needs N ≥ ${p}, got N = ${N}`);
  const pIn = 2 ** g.inputBits, box = N / p, half = box >> 1;
  const boxes = Array.from({ length: p }, (_, b) => {
    const t = Math.floor(b / pIn), m = b % pIn;
    const member = g.members[t];
    // Each member's values in its own output region's encoding (the evaluator labels output t so).
    return member === undefined ? 0n : encode(member.values[m]!, cipherEncoding(member.outBits));
  });
  const poly = new BigUint64Array(N);
  for (let j = 0; j < N; j++) {
    const b = Math.floor((j + half) / box);
    poly[j] = b < p ? boxes[b]! : BigInt.asUintN(64, -boxes[0]!);
  }
  return new LookupTable(poly, cipherEncoding(bits), cipherEncoding(g.members[0]!.outBits), g.members.map((_, t) => t * pIn * box));
}
