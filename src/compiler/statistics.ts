// What a compiled circuit costs: PBS count and lookup layers, the parameters and their security and failure
// probability, key and ciphertext sizes, the latency the core's model estimates (one thread, and layer-
// batched on a pool), and the latency last measured. `Circuit.statistics` returns it; describe() prints it.
import {
  checkSecurity, estimateLatency, KernelKeyswitchKey, serializedSizes, ServerKey, type TfheParameters,
} from "../tfhe/index.js";
import { partitionKeyswitchShape } from "../runtime/partitions.js";
import type { CircuitEncoding } from "./encoding.js";
import type { Graph } from "../runtime/ir.js";
import type { CircuitParameters } from "./params.js";
import { sizeOf } from "../runtime/shape.js";

/** Timings of the last FHE run (milliseconds). */
export interface MeasuredLatency {
  readonly encryptMs: number;
  readonly evaluateMs: number;
  readonly decryptMs: number;
  /** 1 for encryptRunDecrypt, the pool's size for encryptRunDecryptAsync. */
  readonly threads: number;
}

export interface CircuitStatistics {
  readonly pbsCount: number;
  /** Lookup nodes that share a blind rotation with another (fused into many-LUT groups, fusion.ts). */
  readonly fusedLookups: number;
  /** PBS per lookup layer (lookups whose inputs are ready together; a pool runs a layer at once). */
  readonly lookupLayers: readonly number[];
  /** The widest region's message space (bits). */
  readonly bits: number;
  /** The message spaces of the circuit's regions (encoding.ts), distinct, ascending. */
  readonly regionBits: readonly number[];
  /** PBS per run by precision (bits read by the blind rotation), ascending. */
  readonly pbsByPrecision: readonly { readonly bits: number; readonly count: number }[];
  readonly parameters: TfheParameters;
  readonly securityBits: number;
  readonly log2PFailPerPbs: number;
  /** log2 of the failure probability of a whole run (union bound over the PBS, or the outputs). */
  readonly log2PFailPerRun: number;
  readonly sizes: {
    /** The client's upload of evaluation keys (0 for lookup-free circuits). */
    readonly evaluationKeys: number;
    /** What the server holds for them (Fourier BSK + 32-bit KSK). */
    readonly serverKeyMemory: number;
    /** Encrypted arguments as uploaded (seeded) and results as returned. */
    readonly arguments: number;
    readonly results: number;
  };
  readonly estimatedMs: {
    /** Per KS + PBS, on the reference machine (see the core's latency.ts). */
    readonly perPbs: number;
    readonly oneThread: number;
    /** Layer-batched on a pool of `threads`: Σ over layers of ⌈PBS / threads⌉ × perPbs. */
    readonly pool: (threads: number) => number;
  };
  readonly measured: MeasuredLatency | undefined;
  /** Multi-parameter circuits (partitions.ts): each partition's parameters, PBS and failure probability. */
  readonly partitions?: readonly PartitionStatistics[];
  /** Multi-parameter circuits: key switches between partitions' big keys per run, and the key switches' keys. */
  readonly conversions?: number;
  readonly interPartitionKeyswitches?: number;
  /** Multi-parameter circuits: the optimizer's estimated cost per run against one parameter set's (< 1). */
  readonly estimatedCostRatio?: number;
}

export interface PartitionStatistics {
  readonly parameters: TfheParameters;
  /** The PBS precisions it runs, ascending. */
  readonly precisions: readonly number[];
  readonly pbsCount: number;
  readonly log2PFailPerPbs: number;
  /** Estimated KS + PBS latency of one of its PBS (reference machine). */
  readonly estimatedMsPerPbs: number;
}

/** PBS per lookup layer: a group's layer is its lookup depth (lookup groups on the longest path to it). */
export function lookupLayers(graph: Graph, enc: CircuitEncoding): number[] {
  const depth = new Array<number>(graph.nodes.length).fill(0);
  const firstOf = new Set(enc.groups.map((g) => g.members[0]!.node));
  const layers: number[] = [];
  for (const n of graph.nodes) {
    if (!enc.live.has(n.id)) continue;
    const base = n.args.reduce((m, a) => Math.max(m, depth[a]!), 0);
    const e = enc.extractions.get(n.id);
    // A bit extraction is one layer per extracted bit, one after the other.
    const steps = e !== undefined ? Math.max(0, e.lsbs - e.fromBit) : enc.lookups.has(n.id) ? 1 : 0;
    const d = base + steps;
    depth[n.id] = d;
    if (firstOf.has(n.id)) layers[d - 1] = (layers[d - 1] ?? 0) + sizeOf(n.shape);
    for (let i = base; e !== undefined && i < d; i++) layers[i] = (layers[i] ?? 0) + sizeOf(n.shape);
  }
  return Array.from(layers, (c) => c ?? 0);
}

function pbsByPrecision(graph: Graph, enc: CircuitEncoding): { bits: number; count: number }[] {
  const counts = new Map<number, number>();
  for (const g of enc.groups) counts.set(g.bits, (counts.get(g.bits) ?? 0) + sizeOf(graph.nodes[g.members[0]!.node]!.shape));
  // Bit extraction: one 1-bit PBS per extracted bit and element.
  for (const e of enc.extractions.values()) {
    const n = (e.lsbs - e.fromBit) * sizeOf(graph.nodes[e.node]!.shape);
    if (n > 0) counts.set(1, (counts.get(1) ?? 0) + n);
  }
  return [...counts].sort((a, b) => a[0] - b[0]).map(([bits, count]) => ({ bits, count }));
}

function log2Union(log2Each: number, count: number): number {
  return Math.min(0, log2Each + Math.log2(Math.max(1, count)));
}

/** The statistics that depend on the graph and its encoding only, whatever the parameter layout. */
function graphStatistics(graph: Graph, enc: CircuitEncoding, cp: CircuitParameters, layers: number[]) {
  return {
    pbsCount: enc.pbsCount,
    fusedLookups: enc.groups.reduce((s, g) => s + (g.members.length > 1 ? g.members.length : 0), 0),
    lookupLayers: layers,
    bits: cp.bits,
    regionBits: [...new Set(enc.nodeBits.filter((b) => b > 0))].sort((a, b) => a - b),
    pbsByPrecision: pbsByPrecision(graph, enc),
  };
}

export function circuitStatistics(
  graph: Graph, enc: CircuitEncoding, cp: CircuitParameters, measured: MeasuredLatency | undefined,
): CircuitStatistics {
  if (cp.multi !== undefined) return multiStatistics(graph, enc, cp, measured);
  const p = cp.params;
  const sizes = serializedSizes(p);
  const encrypted = (ids: readonly number[]): number =>
    ids.reduce((s, id) => s + (graph.nodes[id]!.encrypted ? sizeOf(graph.nodes[id]!.shape) : 0), 0);
  const batches = (ids: readonly number[], first: number, extra: number): number => ids.reduce((s, id) => {
    const n = graph.nodes[id]!;
    return n.encrypted ? s + first + (sizeOf(n.shape) - 1) * extra : s;
  }, 0);
  const mem = ServerKey.memoryBytes(p);
  const layers = lookupLayers(graph, enc);
  const perPbs = cp.linearOnly ? 0 : estimateLatency(p).totalMs;
  const security = checkSecurity(p);
  return {
    ...graphStatistics(graph, enc, cp, layers),
    parameters: p,
    securityBits: Math.min(security.lwe.bits, security.glwe.bits),
    log2PFailPerPbs: cp.log2PFail,
    log2PFailPerRun: log2Union(cp.log2PFail, cp.linearOnly ? encrypted(graph.outputs) : enc.pbsCount),
    sizes: {
      evaluationKeys: cp.linearOnly ? 0 : sizes.evaluationKeys,
      serverKeyMemory: cp.linearOnly ? 0 : mem.bootstrapKey + mem.keyswitchKey,
      arguments: batches(graph.inputs, sizes.seededCiphertext, sizes.perExtraSeededCiphertext),
      results: batches(graph.outputs, sizes.ciphertext, sizes.perExtraCiphertext),
    },
    estimatedMs: {
      perPbs,
      oneThread: perPbs * enc.pbsCount,
      pool: (threads) => perPbs * layers.reduce((s, c) => s + Math.ceil(c / Math.max(1, threads)), 0),
    },
    measured,
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const ms = (v: number): string => (v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`);

/** The statistics as describe() prints them. */
export function statisticsText(s: CircuitStatistics): string[] {
  const p = s.parameters;
  const setText = (q: TfheParameters) => `n = ${q.lweDimension}, k = ${q.glweDimension}, N = ${q.polynomialSize}, ` +
    `PBS 2^${q.pbsBaseLog} × ${q.pbsLevel}, KS 2^${q.ksBaseLog} × ${q.ksLevel}`;
  const head = s.partitions === undefined ? [] : [
    `parameter partitions: ${s.partitions.length} (estimated cost ${(100 * s.estimatedCostRatio!).toFixed(0)}% of one set's; ` +
      `${s.interPartitionKeyswitches} key switch key(s) between partitions, ${s.conversions} conversion(s) per run)`,
    ...s.partitions.map((q, i) => `  partition ${i}: ${setText(q.parameters)}; ${q.pbsCount} PBS at ${q.precisions.join(", ")} bits; ` +
      `2^${q.log2PFailPerPbs.toFixed(1)} per PBS; ${ms(q.estimatedMsPerPbs)} per PBS`),
  ];
  const lines = [
    ...head,
    `parameters: ${s.partitions !== undefined ? "(widest partition) " : ""}${p.name} (n = ${p.lweDimension}, k = ${p.glweDimension}, N = ${p.polynomialSize}, ` +
      `PBS 2^${p.pbsBaseLog} × ${p.pbsLevel}, KS 2^${p.ksBaseLog} × ${p.ksLevel}); ${s.securityBits.toFixed(0)}-bit security; ` +
      (s.regionBits.length <= 1 ? `message space ${s.bits} bits (values mod 2^${s.bits + 1})`
        : `message spaces ${s.regionBits.join(", ")} bits (one per region of linearly joined values)`),
    s.pbsCount > 0
      ? `failure probability: 2^${s.log2PFailPerPbs.toFixed(1)} per PBS, 2^${s.log2PFailPerRun.toFixed(1)} per run`
      : `failure probability: 2^${s.log2PFailPerPbs.toFixed(1)} per output decryption, 2^${s.log2PFailPerRun.toFixed(1)} per run`,
    `PBS: ${s.pbsCount}${s.lookupLayers.length > 0 ? ` in ${s.lookupLayers.length} layer(s) [${s.lookupLayers.join(", ")}]` : ""}` +
      (s.pbsByPrecision.length > 0 ? `; by precision ${s.pbsByPrecision.map((p) => `${p.count} × ${p.bits} bits`).join(", ")}` : "") +
      (s.fusedLookups > 0 ? `; ${s.fusedLookups} lookups share blind rotations with others (many-LUT)` : ""),
    s.sizes.evaluationKeys > 0
      ? `keys: evaluation keys ${bytes(s.sizes.evaluationKeys)} to upload (seeded), ${bytes(s.sizes.serverKeyMemory)} held by the server`
      : "keys: none on the server (no lookups)",
    `ciphertexts: arguments ${bytes(s.sizes.arguments)} up (seeded), results ${bytes(s.sizes.results)} down`,
  ];
  if (s.pbsCount > 0) {
    lines.push(`estimated latency (reference machine, see BENCHMARKS.md): ${ms(s.estimatedMs.perPbs)} per PBS; ` +
      `${ms(s.estimatedMs.oneThread)} on one thread, ${ms(s.estimatedMs.pool(2))} on 2 workers, ${ms(s.estimatedMs.pool(8))} on 8`);
  } else {
    lines.push("estimated latency: linear operations only (well under a millisecond per ciphertext)");
  }
  const m = s.measured;
  lines.push(m === undefined
    ? "measured latency: not run in FHE yet"
    : `measured latency (last run, ${m.threads} thread${m.threads > 1 ? "s" : ""}): ` +
      `encrypt ${ms(m.encryptMs)}, evaluate ${ms(m.evaluateMs)}, decrypt ${ms(m.decryptMs)}`);
  return lines;
}

/** The statistics of a multi-parameter circuit: per partition, and summed (keys, latency) or worst (security, p_fail). */
function multiStatistics(graph: Graph, enc: CircuitEncoding, cp: CircuitParameters, measured: MeasuredLatency | undefined): CircuitStatistics {
  const multi = cp.multi!, { layout } = multi;
  const partitions: PartitionStatistics[] = multi.partitions.map((p) => ({
    parameters: p.params, precisions: p.precisions, pbsCount: p.pbsCount, log2PFailPerPbs: p.log2PFail,
    estimatedMsPerPbs: estimateLatency(p.params).totalMs,
  }));
  const sizes = layout.params.map((p) => serializedSizes(p));
  const switchShapes = layout.keyswitches.map((k) => partitionKeyswitchShape(layout.params, k));
  // Seeded key-switching keys: one body word per row, in a frame of a 16-byte header, the 16-byte shape, the
  // 32-byte seed and the CRC (the keys' bundle adds a few bytes of its own).
  const switchUpload = switchShapes.reduce((s, sh) => s + sh.inputDimension * sh.levels * 8 + 68, 0);
  const memory = layout.params.reduce((s, p) => { const m = ServerKey.memoryBytes(p); return s + m.bootstrapKey + m.keyswitchKey; }, 0)
    + switchShapes.reduce((s, sh) => s + KernelKeyswitchKey.bytes(sh), 0);
  const batches = (ids: readonly number[], plain: boolean): number => ids.reduce((s, id) => {
    const n = graph.nodes[id]!;
    if (!n.encrypted) return s;
    const z = sizes[layout.nodeHome[id]!]!;
    return s + (plain ? z.ciphertext + (sizeOf(n.shape) - 1) * z.perExtraCiphertext : z.seededCiphertext + (sizeOf(n.shape) - 1) * z.perExtraSeededCiphertext);
  }, 0);
  const oneThread = partitions.reduce((s, p) => s + p.pbsCount * p.estimatedMsPerPbs, 0);
  const perPbs = oneThread / Math.max(1, enc.pbsCount);
  const layers = lookupLayers(graph, enc);
  let pRun = 0;
  for (const g of enc.groups) pRun += sizeOf(graph.nodes[g.members[0]!.node]!.shape) * 2 ** (multi.opLog2PFail.get(g.members[0]!.node) ?? 0);
  for (const e of enc.extractions.values()) if (e.fromBit < e.lsbs) pRun += (e.lsbs - e.fromBit) * sizeOf(graph.nodes[e.node]!.shape) * 2 ** (multi.opLog2PFail.get(e.node) ?? 0);
  return {
    ...graphStatistics(graph, enc, cp, layers),
    parameters: cp.params,
    securityBits: Math.min(...layout.params.map((p) => { const c = checkSecurity(p); return Math.min(c.lwe.bits, c.glwe.bits); })),
    log2PFailPerPbs: cp.log2PFail,
    log2PFailPerRun: Math.min(0, Math.log2(pRun)),
    sizes: {
      evaluationKeys: sizes.reduce((s, z) => s + z.evaluationKeys, 0) + switchUpload,
      serverKeyMemory: memory,
      arguments: batches(graph.inputs, false),
      results: batches(graph.outputs, true),
    },
    estimatedMs: { perPbs, oneThread, pool: (threads) => perPbs * layers.reduce((s, c) => s + Math.ceil(c / Math.max(1, threads)), 0) },
    measured,
    partitions, conversions: multi.conversions, interPartitionKeyswitches: layout.keyswitches.length,
    estimatedCostRatio: multi.estimatedCost / multi.singleSetCost,
  };
}
