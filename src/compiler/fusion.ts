// Lookup fusion: lookups that read the same encrypted node with the same offset share one blind rotation,
// through the core's many-LUT (lookup-table.ts). With PBS indices in [0, pIn), pIn = 2^⌈log2(hi − lo + 1)⌉,
// and c·pIn ≤ p, box m + t·pIn of the test polynomial holds f_t(m) and output t is sample-extracted at
// coefficient t·pIn·N/p. The boxes keep their N/p coefficients, so the failure probability per PBS is
// unchanged; a group of c lookups costs one PBS per element instead of c. Typical in ML: a relu and a
// comparison of one accumulator, or the several thresholds of a tree on one feature.
// Outputs of one blind rotation are correlated, so lookups whose outputs are later combined are not fused.
// The grouping is a deterministic function of the graph and the lookup plans: the server half recomputes it.
import { encode, LookupTable } from "../tfhe/index.js";
import { cipherEncoding, type LookupPlan } from "./encoding.js";
import type { Graph } from "./ir.js";

export interface LookupGroup {
  /** The fused lookups, by node id order; output t of the PBS is members[t]. */
  readonly members: readonly LookupPlan[];
  /** Shared input node and offset: the PBS index is v − lo. */
  readonly input: number;
  readonly lo: number;
  /** pIn = 2^inputBits: the indices the members need (all < pIn). */
  readonly inputBits: number;
}

const ceilLog2 = (w: number): number => (w <= 1 ? 0 : Math.ceil(Math.log2(w) - 1e-12));

/**
 * Pairs of lookups (by node id) that some encrypted node combines linearly — directly or through linear
 * ops — before any further lookup. Outputs of one blind rotation are correlated (measured |ρ| ≈ 0.2 between
 * many-LUT outputs at N/4 apart), so they must not be combined: Σw² assumes independent sources. Such
 * pairs are kept in different groups.
 */
function combinedPairs(graph: Graph, candidates: ReadonlySet<number>): Set<string> {
  const deps: (Set<number> | undefined)[] = [];
  const pairs = new Set<string>();
  for (const n of graph.nodes) {
    if (!n.encrypted) { deps.push(undefined); continue; }
    const d = new Set<number>();
    // A lookup starts a new source; round's output is x minus its PBS output, so it keeps x's sources.
    if (n.kind !== "lut") for (const a of n.args) for (const s of deps[a] ?? []) d.add(s);
    if (candidates.has(n.id)) d.add(n.id);
    deps.push(d);
    if (d.size < 2) continue;
    const list = [...d];
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) pairs.add(`${Math.min(list[i]!, list[j]!)},${Math.max(list[i]!, list[j]!)}`);
  }
  return pairs;
}

/** Groups the plans (each lookup in exactly one group; singletons when nothing fuses). */
export function fuseLookups(graph: Graph, lookups: ReadonlyMap<number, LookupPlan>, bits: number): LookupGroup[] {
  const p = 2 ** bits;
  const buckets = new Map<string, LookupPlan[]>();
  for (const plan of [...lookups.values()].sort((a, b) => a.node - b.node)) {
    const key = `${plan.input}:${plan.lo}`;
    const list = buckets.get(key);
    if (list === undefined) buckets.set(key, [plan]);
    else list.push(plan);
  }
  // Only lookups that could share a group are tracked (those of buckets with several members).
  const candidates = new Set([...buckets.values()].filter((l) => l.length > 1).flatMap((l) => l.map((m) => m.node)));
  const combined = candidates.size > 0 ? combinedPairs(graph, candidates) : new Set<string>();
  const apart = (a: LookupPlan, b: LookupPlan): boolean => combined.has(`${Math.min(a.node, b.node)},${Math.max(a.node, b.node)}`);
  const groups: LookupGroup[] = [];
  for (const list of buckets.values()) {
    const inputBits = ceilLog2(Math.max(...list.map((l) => l.hi - l.lo + 1)));
    const capacity = Math.max(1, Math.floor(p / 2 ** inputBits));
    // First fit: each lookup joins the first group with room and no member it is combined with.
    const parts: LookupPlan[][] = [];
    for (const plan of list) {
      const part = parts.find((g) => g.length < capacity && g.every((m) => !apart(m, plan)));
      if (part === undefined) parts.push([plan]);
      else part.push(plan);
    }
    for (const members of parts) {
      groups.push({ members, input: members[0]!.input, lo: members[0]!.lo, inputBits: members.length > 1 ? inputBits : bits });
    }
  }
  return groups.sort((a, b) => a.members[0]!.node - b.members[0]!.node);
}

/**
 * The test polynomial of a group: box b of N/p coefficients holds Δ·value (centred boxes, as the core's
 * tables). A single lookup uses its whole table; a fused group puts member t's values for indices
 * [0, pIn) in boxes [t·pIn, (t + 1)·pIn).
 */
export function groupPolynomial(g: LookupGroup, bits: number, polynomialSize: number): LookupTable {
  const p = 2 ** bits, N = polynomialSize, enc = cipherEncoding(bits);
  if (p > N) throw new RangeError(`a ${bits}-bit lookup needs N ≥ ${p}, got N = ${N}`);
  const pIn = 2 ** g.inputBits, box = N / p, half = box >> 1;
  const boxes = Array.from({ length: p }, (_, b) => {
    const t = Math.floor(b / pIn), m = b % pIn;
    const member = g.members[t];
    return member === undefined ? 0n : encode(member.values[m]!, enc);
  });
  const poly = new BigUint64Array(N);
  for (let j = 0; j < N; j++) {
    const b = Math.floor((j + half) / box);
    poly[j] = b < p ? boxes[b]! : BigInt.asUintN(64, -boxes[0]!);
  }
  return new LookupTable(poly, enc, enc, g.members.map((_, t) => t * pIn * box));
}
