// The circuit's encoding. Encrypted nodes fall into regions: nodes joined by linear operations share one
// (a lookup's output starts the region of its consumers). A region r has its own message space
// p_r = 2^bits_r, Δ_r = 2^63/p_r: the torus holds its values mod 2p_r in units of Δ_r (the padding bit
// included), so every linear op inside it is exact mod 2p_r, and bits_r only has to hold the widest value
// of the region, not of the whole circuit. All regions share one parameter set (one key set).
// A lookup reads its input x ∈ [lo, hi] (region r) at its own precision b: the clear offset −lo, then a
// scale by 2^(bits_r − s − b), turn the index (x − lo)/2^s into a b-bit message (s: the table's step, from
// known zero low bits or an approximate reading, whose rounding the PBS does: it reads the top bits). The
// table maps index i to f(lo + i·2^s), encoded in the output's region (negative values wrap mod 2p).
// The scale multiplies the input's noise: the optimizer's constraints (params.ts) carry it.
// `round(x, lsbs)` (exact) is one lookup computing the low-bit correction c(x) = x − round(x) in x's
// region, then x − c(x). Outputs decrypt to round(phase/Δ_r) mod 2p_r, lifted to the unique integer of the
// node's bit-width range with that residue (the width's span ≤ 2p_r).
import type { LookupTable } from "../tfhe/index.js";
import { ceilLog2, type ExtractionPlan, type LookupPlan, MAX_LINEAR_CIRCUIT_BITS, MAX_LOOKUP_CIRCUIT_BITS, mod } from "../runtime/encoding.js";
import { fuseLookups, groupPolynomial, type LookupGroup, singleGroup } from "../runtime/fusion.js";
import { type Bounds, type NodeBounds, rangeOfWidth, roundExtraction } from "./bounds.js";
import { BoundsError } from "../runtime/errors.js";
import { type Graph, liveNodes, nodeName } from "../runtime/ir.js";
import { sizeOf } from "../runtime/shape.js";
import { roundNode } from "../runtime/tensor-ops.js";

export interface CircuitEncoding {
  /** Largest message space of any region (bits). */
  readonly bits: number;
  /** Message space of each live encrypted node's region (0 for clear or dead nodes), by node id. */
  readonly nodeBits: readonly number[];
  /** The node that needs the widest message space. */
  readonly widestNode: number;
  /** Encrypted lookups (lut and round nodes) that contribute to an output, by node id. */
  readonly lookups: ReadonlyMap<number, LookupPlan>;
  /** Exact rounds of values too wide for one lookup: bit extraction, one 1-bit PBS per bit (runtime/encoding.ts). */
  readonly extractions: ReadonlyMap<number, ExtractionPlan>;
  /** The lookups grouped for evaluation (fusion.ts): each group is one PBS per element. */
  readonly groups: readonly LookupGroup[];
  /** Largest PBS precision of the circuit (0 without lookups): the parameter set's message space. */
  readonly pbsBits: number;
  /** PBS count of one run (one per element of each lookup group). */
  readonly pbsCount: number;
  /** Max Σw² at lookup inputs (0 without lookups). */
  readonly maxLookupNorm2: number;
  /** Max Σw² over encrypted outputs (their decryption noise). */
  readonly maxOutputNorm2: number;
  /** Encrypted output elements (decryptions per run). */
  readonly outputCount: number;
  /** Each encrypted output's message space and Σw² by source (its decryption noise). */
  readonly outputNoise: readonly { readonly node: number; readonly bits: number; readonly freshNorm2: number; readonly pbsNorm2: number }[];
  /** Nodes that contribute to an output (the others are not evaluated). */
  readonly live: ReadonlySet<number>;
}

/** Region of each live encrypted node: union of nodes joined by linear ops (a lookup's input is not joined). */
export function regionsOf(graph: Graph, live: ReadonlySet<number>): Int32Array {
  const parent = Int32Array.from(graph.nodes, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) { parent[i] = parent[parent[i]!]!; i = parent[i]!; }
    return i;
  };
  const union = (a: number, b: number): void => { parent[find(a)] = find(b); };
  for (const n of graph.nodes) {
    // A lookup (and an approximate round, a lookup reading the top bits) starts its consumers' region.
    if (!n.encrypted || !live.has(n.id) || n.kind === "lut" || n.kind === "lut2" || (n.kind === "round" && n.approximate === true)) continue;
    // A bound node is its first argument (x and y are only read for the range analysis).
    const linked = n.kind === "bound" ? [n.args[0]!] : n.args;
    for (const a of linked) if (graph.nodes[a]!.encrypted) union(n.id, a);
  }
  return Int32Array.from(graph.nodes, (n) => (n.encrypted && live.has(n.id) ? find(n.id) : -1));
}

/** The encoding of a compiled circuit; throws BoundsError naming the node when it needs more than the limits. */
export function planEncoding(graph: Graph, bounds: Bounds): CircuitEncoding {
  const live = liveNodes(graph);
  const region = regionsOf(graph, live);
  const luts = new Map(bounds.luts.map((l) => [l.node, l]));
  const regionBits = new Map<number, { bits: number; node: number; what: string }>();
  const need = (n: number, b: number, what: string) => {
    const r = region[n]!, cur = regionBits.get(r);
    if (cur === undefined || b > cur.bits) regionBits.set(r, { bits: Math.max(1, b), node: n, what });
  };
  // The index domain of every lookup: origin, step, entries, and whether the PBS does the rounding.
  const domains = new Map<number, { lo: number; step: number; entries: number; approximate: boolean }>();
  const extractions = new Map<number, ExtractionPlan>();
  for (const n of graph.nodes) {
    if (!live.has(n.id) || !n.encrypted) continue;
    // Values live mod 2p and decode into their node's whole bit width (decodeRange): a w-bit width needs 2p ≥ 2^w.
    const b = bounds.nodes[n.id]!;
    const [min, max] = decodeRange(b);
    need(n.id, ceilLog2(max - min + 1) - 1, `its ${b.signed ? "i" : "u"}${b.bits} width spans [${min}, ${max}]`);
    if (n.kind !== "lut" && n.kind !== "round") continue;
    const x = n.args[0]!;
    let d: { lo: number; step: number; entries: number; approximate: boolean };
    if (n.kind === "lut") {
      const l = luts.get(n.id);
      if (l === undefined) throw new BoundsError(`${nodeName(n)}: no lookup table (compile the circuit first)`, n.id);
      d = { lo: l.inputMin, step: l.step, entries: l.table.values.length, approximate: n.readLsbs !== undefined };
    } else if (n.approximate === true) {
      // Approximate round: the PBS reads x at steps of 2^lsbs (its own rounding) and returns the multiple.
      const xb = bounds.nodes[x]!, step = 2 ** n.lsbs;
      const lo = Math.floor(xb.min / step) * step;
      d = { lo, step, entries: Math.ceil(xb.max / step) - lo / step + 1, approximate: true };
      const limit = Math.min(bounds.maxLutBits, MAX_LOOKUP_CIRCUIT_BITS);
      // Entries of an approximate reading at l low bits (either neighbour of the ends may be read).
      const reads = (l: number): number => ceilLog2(Math.ceil(xb.max / 2 ** l) - Math.floor(xb.min / 2 ** l) + 1);
      if (reads(n.lsbs) > limit) {
        let l = n.lsbs + 1;
        while (l < 52 && reads(l) > limit) l++;
        throw new BoundsError(`${nodeName(n)}: round(x, ${n.lsbs}, { approximate: true }) still reads ${reads(n.lsbs)} bits of ` +
          `%${x} ∈ [${xb.min}, ${xb.max}], above ${limit}; round more low bits: round(x, ${l}, { approximate: true })`, n.id);
      }
    } else {
      // Exact round: a lookup over x's whole range, in steps of x's known zero low bits; for an x too wide
      // for one lookup, bit extraction (one 1-bit PBS per low bit, in x's region).
      const xb = bounds.nodes[x]!, step = 2 ** Math.min(xb.zeroLsbs, n.lsbs);
      const extraction = roundExtraction(xb.min, xb.max, xb.zeroLsbs, n.lsbs, bounds.maxLutBits, n.extract === true);
      if (extraction !== undefined) {
        // The region holds the extracted bits, the 2^61 offset (2^(bits − 2) units) and the sign table's
        // output encoding (bits + 1 ≤ 30).
        need(x, Math.max(2, n.lsbs), `round(x, ${n.lsbs}) extracts its low bits`);
        extractions.set(n.id, {
          node: n.id, input: x, lsbs: n.lsbs, truncate: n.truncate === true, fromBit: extraction.fromBit, bits: 0,
          freshNorm2: xb.freshNorm2, pbsNorm2: xb.pbsNorm2,
        });
        continue;
      }
      const lo = Math.floor(xb.min / step) * step;
      d = { lo, step, entries: Math.floor((xb.max - lo) / step) + 1, approximate: false };
    }
    domains.set(n.id, d);
    // The scale 2^(bits_in − s − b) must be an integer: the input's region holds at least b + s bits.
    need(x, ceilLog2(d.entries) + Math.log2(d.step), `lookup ${nodeName(n)} reads it at ${ceilLog2(d.entries)} bits in steps of ${d.step}`);
  }
  // Lookups that fusion may group (one input, offset, step and reading) need room in their input's region
  // for the group's boxes: c members of 2^b entries read at b + ⌈log2 c⌉ bits, within the circuit's largest
  // lookup precision (fusion never raises that). Widening the region costs nothing else the group's PBS
  // does not already need: its scale (fusion.ts groupScale) stays 2^(inBits − s − bits).
  let largest = 0;
  for (const d of domains.values()) largest = Math.max(largest, ceilLog2(d.entries));
  const shared = new Map<string, { x: number; step: number; count: number; entries: number }>();
  for (const [id, d] of domains) {
    const x = graph.nodes[id]!.args[0]!, key = `${x}:${d.lo}:${d.step}:${d.approximate}`;
    const g = shared.get(key);
    if (g === undefined) shared.set(key, { x, step: d.step, count: 1, entries: d.entries });
    else { g.count++; g.entries = Math.max(g.entries, d.entries); }
  }
  for (const g of shared.values()) {
    const fusedBits = Math.min(largest, ceilLog2(g.entries) + ceilLog2(g.count));
    if (g.count > 1 && fusedBits > ceilLog2(g.entries)) need(g.x, fusedBits + Math.log2(g.step), `${g.count} lookups of it share blind rotations at ${fusedBits} bits`);
  }
  let bits = 1, widestNode = -1, widestWhat = "";
  for (const v of regionBits.values()) if (v.bits > bits || widestNode < 0) ({ bits, node: widestNode, what: widestWhat } = v);
  if (bits > MAX_LINEAR_CIRCUIT_BITS) {
    const n = graph.nodes[widestNode]!;
    throw new BoundsError(`${nodeName(n)}: ${widestWhat}, which needs a ${bits}-bit message space; a region allows at most ` +
      `${MAX_LINEAR_CIRCUIT_BITS} bits. Reduce the input widths or the weights that produce it`, n.id);
  }
  for (const e of extractions.values()) {
    const w = regionBits.get(region[e.input]!)!;
    if (w.bits + 1 > MAX_LINEAR_CIRCUIT_BITS) {
      const n = graph.nodes[e.node]!;
      throw new BoundsError(`${nodeName(n)}: an exact round extracts bits in a ${w.bits}-bit region, at most ` +
        `${MAX_LINEAR_CIRCUIT_BITS - 1}; use round(x, ${e.lsbs}, { approximate: true }) or narrow x`, n.id);
    }
  }
  const nodeBits = Array.from(region, (r) => (r < 0 ? 0 : regionBits.get(r)!.bits));
  for (const [id, e] of extractions) extractions.set(id, { ...e, bits: nodeBits[e.input]! });
  const lookups = new Map<number, LookupPlan>();
  for (const [id, d] of domains) {
    const n = graph.nodes[id]!, x = n.args[0]!;
    const inputBits = ceilLog2(d.entries);
    const values = new Float64Array(2 ** inputBits);
    for (let i = 0; i < values.length; i++) {
      const v = d.lo + Math.min(i, d.entries - 1) * d.step; // indices past the domain never occur: repeat the last
      // An approximate round returns the multiple itself; an exact one the correction x − round(x).
      if (n.kind === "round") values[i] = d.approximate ? v : v - roundNode(v, n);
      else values[i] = n.kind === "lut" ? n.table!.values[Math.min(i, d.entries - 1)]! : 0;
    }
    const xb = bounds.nodes[x]!;
    lookups.set(id, {
      node: id, kind: n.kind === "round" && !d.approximate ? "round" : "lut", input: x, lo: d.lo, hi: d.lo + (d.entries - 1) * d.step, step: d.step,
      approximate: d.approximate, inputBits, inBits: nodeBits[x]!, outBits: nodeBits[id]!,
      norm2: xb.norm2, freshNorm2: xb.freshNorm2, pbsNorm2: xb.pbsNorm2, values,
    });
  }
  let pbsBits = 0;
  for (const l of lookups.values()) pbsBits = Math.max(pbsBits, l.inputBits);
  let groups = fuseLookups(graph, lookups, pbsBits, undefined, "bounded");
  // Outputs of one fused rotation are correlated: every Σw² downstream of a fused group is taken again
  // with them counted as one source of weight Σ|w| (norms.ts), and the plans carry those norms.
  const fused = groups.filter((g) => g.members.length > 1);
  let norms: { norm2: (id: number) => number; fresh: (id: number) => number; pbs: (id: number) => number } = {
    norm2: (id) => bounds.nodes[id]!.norm2, fresh: (id) => bounds.nodes[id]!.freshNorm2, pbs: (id) => bounds.nodes[id]!.pbsNorm2,
  };
  if (fused.length > 0) {
    const groupOf = new Map<number, number>();
    fused.forEach((g, i) => g.members.forEach((m) => groupOf.set(m.node, i)));
    const split = bounds.correlatedNorms((id) => groupOf.get(id));
    norms = { norm2: (id) => split.total[id]!, fresh: (id) => split.fresh[id]!, pbs: (id) => split.pbs[id]! };
    for (const [id, l] of lookups) {
      lookups.set(id, { ...l, norm2: norms.norm2(l.input), freshNorm2: norms.fresh(l.input), pbsNorm2: norms.pbs(l.input) });
    }
    for (const [id, e] of extractions) extractions.set(id, { ...e, freshNorm2: norms.fresh(e.input), pbsNorm2: norms.pbs(e.input) });
    groups = groups.map((g) => ({ ...g, members: g.members.map((m) => lookups.get(m.node)!) }));
  }
  let maxOutputNorm2 = 0, outputCount = 0;
  const outputNoise: { node: number; bits: number; freshNorm2: number; pbsNorm2: number }[] = [];
  for (const id of graph.outputs) {
    const n = graph.nodes[id]!;
    if (!n.encrypted) continue;
    maxOutputNorm2 = Math.max(maxOutputNorm2, norms.norm2(id));
    outputCount += sizeOf(n.shape);
    outputNoise.push({ node: id, bits: nodeBits[id]!, freshNorm2: norms.fresh(id), pbsNorm2: norms.pbs(id) });
  }
  let maxLookupNorm2 = 0;
  for (const l of lookups.values()) maxLookupNorm2 = Math.max(maxLookupNorm2, l.norm2);
  const pbsCount = groups.reduce((s, g) => s + sizeOf(graph.nodes[g.members[0]!.node]!.shape), 0);
  let extractionPbs = 0;
  for (const e of extractions.values()) extractionPbs += (e.lsbs - e.fromBit) * sizeOf(graph.nodes[e.node]!.shape);
  return { bits, nodeBits, widestNode, lookups, groups, pbsBits: groups.reduce((m, g) => Math.max(m, g.bits), 0), pbsCount: pbsCount + extractionPbs, maxLookupNorm2, maxOutputNorm2, outputCount, outputNoise, live, extractions };
}

/** The range a node's values decode into: its whole bit width (rangeOfWidth), which holds [min, max]. */
export function decodeRange(b: NodeBounds): [number, number] {
  return rangeOfWidth(b.bits, b.signed);
}

/**
 * What the PBS of a group returns for member t at a box index (the member's index plus any shift from
 * noise), taken mod 2p of the group's precision: the boxes in [0, p), their negation above (negacyclic).
 */
export function groupLookupAt(g: LookupGroup, t: number, index: number): number {
  const p = 2 ** g.bits, pIn = 2 ** g.inputBits;
  const i = mod(t * pIn + index, 2 * p);
  const box = (b: number): number => g.members[Math.floor(b / pIn)]?.values[b % pIn] ?? 0;
  return i < p ? box(i) : -box(i - p);
}

/** The test polynomial of one lookup on its own (no fusion). */
export function lookupPolynomial(l: LookupPlan, polynomialSize: number): LookupTable {
  return groupPolynomial(singleGroup(l), polynomialSize);
}
