// The circuit's encoding (one message space for the whole circuit): p = 2^bits, Δ = 2^63/p. The torus
// holds values mod 2p in units of Δ (the padding bit included), so every linear op is exact mod 2p.
// Before a lookup on an input ranging over [lo, hi] (hi − lo < p), the clear offset −lo makes the PBS
// index v − lo ∈ [0, p); the table maps index i to f(i + lo), encoded mod 2p (negative values wrap).
// `round(x, lsbs)` is one lookup computing the low-bit correction c(x) = x − round(x), then x − c(x)
// (the model bounds/norms use: Σw² of x plus one fresh source). Outputs decrypt to round(phase/Δ) mod 2p,
// lifted to the unique integer of the node's bit-width range with that residue (the width's span ≤ 2p),
// so any value the run-time guard accepts (it checks widths) decrypts right, measured range or not.
import { COMPILER_MANAGED, type Encoding, type LookupTable } from "../tfhe/index.js";
import { fuseLookups, groupPolynomial, type LookupGroup } from "./fusion.js";
import { type Bounds, type NodeBounds, rangeOfWidth } from "./bounds.js";
import { BoundsError } from "./errors.js";
import { type Graph, liveNodes, nodeName } from "./ir.js";
import { sizeOf } from "./shape.js";
import { roundLsbs } from "./tensor-ops.js";

/**
 * The core encoding of a circuit's ciphertexts: p = 2^bits, marked compiler-managed because values live
 * mod 2p with the padding bit (the core's degree/noise checks, which keep values in [0, p), do not apply;
 * bounds.ts and this file bound values and Σw² instead).
 */
export function cipherEncoding(bits: number): Encoding {
  return { bits, unchecked: COMPILER_MANAGED };
}

/** Largest message space (bits) a circuit with lookups may use. */
export const MAX_LOOKUP_CIRCUIT_BITS = 8;
/** Largest message space (bits) of a lookup-free circuit (the core's encodings stop at 30). */
export const MAX_LINEAR_CIRCUIT_BITS = 30;

export interface LookupPlan {
  /** The lut or round node. */
  readonly node: number;
  readonly kind: "lut" | "round";
  /** Its input node and that input's range: the PBS index is v − lo ∈ [0, hi − lo]. */
  readonly input: number;
  readonly lo: number;
  readonly hi: number;
  /** Σw² of the lookup's input. */
  readonly norm2: number;
  /** The table by PBS index, length p: value(i) = f(i + lo) (for round: the correction x − round(x)). */
  readonly values: Float64Array;
}

export interface CircuitEncoding {
  /** Message bits: p = 2^bits, values live mod 2p. */
  readonly bits: number;
  /** The node that needs the widest message space (for messages). */
  readonly widestNode: number;
  /** Encrypted lookups (lut and round nodes) that contribute to an output, by node id. */
  readonly lookups: ReadonlyMap<number, LookupPlan>;
  /** The lookups grouped for evaluation (fusion.ts): each group is one PBS per element. */
  readonly groups: readonly LookupGroup[];
  /** PBS count of one run (one per element of each lookup group). */
  readonly pbsCount: number;
  /** Max Σw² at lookup inputs (0 without lookups). */
  readonly maxLookupNorm2: number;
  /** Max Σw² over encrypted outputs (their decryption noise). */
  readonly maxOutputNorm2: number;
  /** Encrypted output elements (decryptions per run). */
  readonly outputCount: number;
  /** Nodes that contribute to an output (the others are not evaluated). */
  readonly live: ReadonlySet<number>;
}

const ceilLog2 = (w: number): number => (w <= 1 ? 0 : Math.ceil(Math.log2(w) - 1e-12));

/** The encoding of a compiled circuit; throws BoundsError naming the node when it needs more than the limit. */
export function planEncoding(graph: Graph, bounds: Bounds): CircuitEncoding {
  const live = liveNodes(graph);
  const luts = new Map(bounds.luts.map((l) => [l.node, l]));
  const lookups = new Map<number, LookupPlan>();
  let bits = 1, widestNode = -1, widestWhat = "";
  const need = (b: number, node: number, what: string) => {
    if (b > bits) { bits = b; widestNode = node; widestWhat = what; }
  };
  for (const n of graph.nodes) {
    if (!live.has(n.id) || !n.encrypted) continue;
    // Values live mod 2p and decode into their node's whole bit width (decodeRange): values inside the
    // width but outside the measured range still decrypt right. A w-bit width needs 2p ≥ 2^w.
    const [min, max] = decodeRange(bounds.nodes[n.id]!);
    need(ceilLog2(max - min + 1) - 1, n.id, `its ${bounds.nodes[n.id]!.signed ? "i" : "u"}${bounds.nodes[n.id]!.bits} width spans [${min}, ${max}]`);
    if (n.kind !== "lut" && n.kind !== "round") continue;
    const x = n.args[0]!;
    let lo: number, hi: number;
    if (n.kind === "lut") {
      const l = luts.get(n.id);
      if (l === undefined) throw new BoundsError(`${nodeName(n)}: no lookup table (compile the circuit first)`, n.id);
      [lo, hi] = [l.inputMin, l.inputMax];
    } else {
      [lo, hi] = [bounds.nodes[x]!.min, bounds.nodes[x]!.max];
    }
    need(ceilLog2(hi - lo + 1), n.id, `its lookup input %${x} ranges over [${lo}, ${hi}]`);
    lookups.set(n.id, { node: n.id, kind: n.kind, input: x, lo, hi, norm2: bounds.nodes[x]!.norm2, values: new Float64Array(0) });
  }
  const limit = lookups.size > 0 ? MAX_LOOKUP_CIRCUIT_BITS : MAX_LINEAR_CIRCUIT_BITS;
  if (bits > limit) {
    const n = graph.nodes[widestNode]!;
    // round(x, lsbs) is itself a lookup over x's whole range, so rounding cannot shrink a value that is
    // already too wide for one: only narrower inputs or smaller weights before it can.
    const advice = n.kind === "round" && lookups.has(n.id)
      ? "round(x, lsbs) is a lookup over x's whole range, so it cannot narrow a value this wide: reduce the input widths or the weights that produce x"
      : lookups.size > 0 ? "Shrink the value before it, e.g. with round(x, lsbs) on a narrower value, or with smaller weights"
        : "reduce the input widths or the weights";
    throw new BoundsError(`${nodeName(n)}: ${widestWhat}, which needs a ${bits}-bit message space; ` +
      `${lookups.size > 0 ? "circuits with lookups" : "lookup-free circuits"} allow at most ${limit} bits. ${advice}`, n.id);
  }
  const p = 2 ** bits;
  // Tables need p, so fill them once bits is known.
  for (const [id, l] of lookups) {
    const n = graph.nodes[id]!;
    const values = new Float64Array(p);
    const top = l.hi - l.lo;
    for (let i = 0; i < p; i++) {
      const v = Math.min(i, top) + l.lo; // indices past the range never occur; repeat the last value
      if (n.kind === "round") values[i] = v - roundLsbs(v, n.lsbs);
      else if (n.kind === "lut") {
        const t = n.table!;
        const j = Math.min(t.values.length - 1, Math.max(0, Math.floor((v - t.min) / t.step)));
        values[i] = t.values[j]!;
      }
    }
    lookups.set(id, { ...l, values });
  }
  let maxOutputNorm2 = 0, outputCount = 0;
  for (const id of graph.outputs) {
    const n = graph.nodes[id]!;
    if (!n.encrypted) continue;
    maxOutputNorm2 = Math.max(maxOutputNorm2, bounds.nodes[id]!.norm2);
    outputCount += sizeOf(n.shape);
  }
  let maxLookupNorm2 = 0;
  for (const l of lookups.values()) maxLookupNorm2 = Math.max(maxLookupNorm2, l.norm2);
  const groups = fuseLookups(graph, lookups, bits);
  const pbsCount = groups.reduce((s, g) => s + sizeOf(graph.nodes[g.members[0]!.node]!.shape), 0);
  return { bits, widestNode, lookups, groups, pbsCount, maxLookupNorm2, maxOutputNorm2, outputCount, live };
}

/** The range a node's values decode into: its whole bit width (rangeOfWidth), which holds [min, max]. */
export function decodeRange(b: NodeBounds): [number, number] {
  return rangeOfWidth(b.bits, b.signed);
}

/** x mod m in [0, m). */
export function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r + 0;
}

/** What the PBS returns for an index taken mod 2p: the table in [0, p), its negation above (negacyclic). */
export function lookupAt(l: LookupPlan, index: number, bits: number): number {
  const p = 2 ** bits;
  const i = mod(index, 2 * p);
  return i < p ? l.values[i]! : -l.values[i - p]!;
}

/** The test polynomial of one lookup on its own (no fusion): box b of N/p coefficients holds Δ·value(b). */
export function lookupPolynomial(l: LookupPlan, bits: number, polynomialSize: number): LookupTable {
  return groupPolynomial({ members: [l], input: l.input, lo: l.lo, inputBits: bits }, bits, polynomialSize);
}

/** round(phase / Δ) mod 2p: the residue of the value (the padding bit kept, unlike the core's decode). */
export function residueOf(phase: bigint, bits: number): number {
  const shift = BigInt(63 - bits);
  return Number(BigInt.asUintN(64, phase + (1n << (shift - 1n))) >> shift);
}

/** The unique integer of [lo, hi] congruent to r mod 2p (hi − lo < 2p); off-range residues land in [lo, lo + 2p). */
export function liftResidue(r: number, lo: number, bits: number): number {
  return lo + mod(r - lo, 2 * 2 ** bits);
}
