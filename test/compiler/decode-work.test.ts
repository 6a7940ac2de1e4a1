// Decoding a server artifact costs work bounded by its size: lookup fusion (fusion.ts) counts what it does
// and gives up past a budget linear in the graph (the pair listing of the "separate" rule, the one that
// costs work). The grouping itself is checked against a brute-force reference on random graphs small
// enough for the budget, under both rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CircuitServer, fuseLookups, type FusionRule, type FusionStats, type Graph, type LookupGroup, type LookupPlan, type Node,
} from "../../src/compiler/index.js";
import { PARAM_MESSAGE_2 } from "../../src/tfhe/index.js";
import { testRng } from "../helpers/keys.js";

const BITS = 4;
const table = { min: 0, step: 1, values: Float64Array.from([0, 1]) };

/** A lookup plan reading input `input` over [lo, hi] in a 4-bit region. */
function planOf(node: number, kind: "lut" | "round", input: number, lo: number, hi: number, values?: (j: number) => number): LookupPlan {
  const inputBits = hi - lo < 1 ? 0 : Math.ceil(Math.log2(hi - lo + 1) - 1e-12);
  return {
    node, kind, input, lo, hi, step: 1, approximate: false, inputBits, inBits: BITS, outBits: BITS,
    norm2: 1, freshNorm2: 1, pbsNorm2: 0, values: Float64Array.from({ length: 2 ** inputBits }, (_, j) => values?.(j) ?? 0),
  };
}

/** k lookups of one input (distinct tables), summed one after the other: lut₀ + lut₁ + … + lut_{k−1}. */
function summedLookups(k: number): { graph: Graph; lookups: Map<number, LookupPlan> } {
  const nodes: Node[] = [{ id: 0, kind: "input", name: "x", visibility: "encrypted", args: [], shape: [1], encrypted: true }];
  const lookups = new Map<number, LookupPlan>();
  let acc = -1;
  for (let i = 0; i < k; i++) {
    const id = nodes.length;
    nodes.push({ id, kind: "lut", label: `f${i}`, fn: (v) => v, table, args: [0], shape: [1], encrypted: true });
    lookups.set(id, planOf(id, "lut", 0, 0, 2 ** BITS - 1, (j) => (j >> (i % 4)) & 1));
    if (acc < 0) { acc = id; continue; }
    nodes.push({ id: nodes.length, kind: "add", args: [acc, id], shape: [1], encrypted: true });
    acc = nodes.length - 1;
  }
  return { graph: { nodes, inputs: [0], outputs: [acc] }, lookups };
}

function work(k: number): FusionStats {
  const { graph, lookups } = summedLookups(k);
  const stats: FusionStats = { work: 0, budget: 0, exhausted: false };
  const groups = fuseLookups(graph, lookups, BITS, stats, "separate");
  // Every pair of these lookups is summed: under "separate", none may share a blind rotation.
  assert.equal(groups.length, k);
  return stats;
}

test("fusion work is linear in the graph: 4× the summed lookups cost ≤ 4.5× the counted work", () => {
  const small = work(1000), large = work(4000);
  assert.ok(large.work <= large.budget + 4000, `work ${large.work} within the budget ${large.budget} (plus one step)`);
  const ratio = large.work / small.work;
  // The pairwise listing did ~k³/3 steps (ratio 64); the bounded pass stops at a budget linear in k.
  assert.ok(ratio <= 4.5, `work ratio ${ratio.toFixed(2)} for 4× the lookups`);
  // Small chains are fused exactly, within budget.
  assert.equal(work(50).exhausted, false);
});

test("CircuitServer.deserialize of 4000 summed lookups of one input (1.2 MB) decodes and keeps every lookup", () => {
  const { graph, lookups } = summedLookups(4000);
  const bytes = new CircuitServer({ params: PARAM_MESSAGE_2, nodeBits: graph.nodes.map(() => BITS), linearOnly: false, graph, lookups, extractions: new Map(), inputRanges: [{ min: 0, max: 1 }], fusion: "separate" }).serialize();
  assert.ok(bytes.length > 1_000_000);
  // Before the budget this took hours (≈ k^3.7: 800 lookups already took 23 s).
  const server = CircuitServer.deserialize(bytes);
  assert.equal(server.spec.lookups.size, 4000);
  assert.equal(server.spec.fusion, "separate");
});

/**
 * The grouping rule stated directly: under "separate", pairs with a common linear descendant are kept
 * apart; then first fit by node id.
 */
function reference(graph: Graph, lookups: ReadonlyMap<number, LookupPlan>, bits: number, rule: FusionRule): number[][] {
  const sources: Set<number>[] = graph.nodes.map(() => new Set());
  const together = new Set<string>();
  for (const n of graph.nodes) {
    if (!n.encrypted) continue;
    if (n.kind !== "lut") for (const a of n.args) for (const s of sources[a]!) sources[n.id]!.add(s);
    if (lookups.has(n.id)) sources[n.id]!.add(n.id);
    for (const a of sources[n.id]!) for (const b of sources[n.id]!) together.add(`${a},${b}`);
  }
  const buckets = new Map<string, LookupPlan[]>();
  for (const l of [...lookups.values()].sort((a, b) => a.node - b.node)) {
    const key = `${l.input}:${l.lo}`;
    buckets.set(key, [...(buckets.get(key) ?? []), l]);
  }
  const out: number[][] = [];
  for (const list of buckets.values()) {
    const width = Math.max(...list.map((l) => l.hi - l.lo + 1));
    const inputBits = width <= 1 ? 0 : Math.ceil(Math.log2(width) - 1e-12);
    const capacity = Math.max(1, Math.floor(2 ** bits / 2 ** inputBits));
    const parts: number[][] = [];
    for (const l of list) {
      const part = parts.find((g) => g.length < capacity && (rule === "bounded" || g.every((m) => !together.has(`${m},${l.node}`))));
      if (part) part.push(l.node);
      else parts.push([l.node]);
    }
    out.push(...parts);
  }
  return out.sort((a, b) => a[0]! - b[0]!);
}

test("fuseLookups equals the brute-force rule on random graphs of lookups, sums, scalings and rounds (both rules)", () => {
  const rng = testRng(12);
  const pick = (n: number): number => Math.floor(rng() * n);
  for (let trial = 0; trial < 200; trial++) {
    const nodes: Node[] = [
      { id: 0, kind: "input", name: "x", visibility: "encrypted", args: [], shape: [1], encrypted: true },
      { id: 1, kind: "input", name: "y", visibility: "encrypted", args: [], shape: [1], encrypted: true },
      { id: 2, kind: "constant", value: Float64Array.of(3), args: [], shape: [1], encrypted: false },
    ];
    const lookups = new Map<number, LookupPlan>();
    const encrypted = [0, 1];
    for (let i = 0; i < 8 + pick(20); i++) {
      const id = nodes.length, r = rng();
      if (r < 0.45) {
        const input = pick(3) === 0 ? 1 : 0; // mostly one input, so that buckets have several members
        const kind = rng() < 0.2 ? "round" : "lut";
        nodes.push(kind === "round"
          ? { id, kind, lsbs: 1, args: [input], shape: [1], encrypted: true }
          : { id, kind, label: "f", fn: (v) => v, table, args: [input], shape: [1], encrypted: true });
        lookups.set(id, planOf(id, kind, input, 0, pick(4)));
      } else if (r < 0.85) {
        nodes.push({ id, kind: "add", args: [encrypted[pick(encrypted.length)]!, encrypted[pick(encrypted.length)]!], shape: [1], encrypted: true });
      } else {
        nodes.push({ id, kind: "mul", args: [encrypted[pick(encrypted.length)]!, 2], shape: [1], encrypted: true });
      }
      encrypted.push(id);
    }
    const graph: Graph = { nodes, inputs: [0, 1], outputs: [nodes.length - 1] };
    for (const rule of ["separate", "bounded"] as const) {
      const stats: FusionStats = { work: 0, budget: 0, exhausted: false };
      const got = fuseLookups(graph, lookups, BITS, stats, rule).map((g: LookupGroup) => g.members.map((m) => m.node));
      assert.equal(stats.exhausted, false);
      assert.deepEqual(got, reference(graph, lookups, BITS, rule), `trial ${trial}, ${rule}`);
    }
  }
});
