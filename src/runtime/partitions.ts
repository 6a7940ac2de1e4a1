// Multi-parameter circuits (in the manner of Concrete's multi-parameter optimization): the circuit's PBS
// fall into partitions, each with its own parameter set and keys, so that a 1-bit lookup next to a 6-bit
// one runs a 1-bit-sized blind rotation. Every encrypted value lives under one partition's big key (its
// home; all values of a region share it, compiler/encoding.ts): a PBS of partition B reads a value of
// home A through a key switch big_A → small_B, and writes under big_B; an output that belongs to a region
// of another home is converted by a key switch big_B → big_A (a conversion key). The layout says which
// partition runs each PBS, the home of each value and the key switches between partitions it needs; the
// compiler chooses it (compiler/partitions.ts), the server re-checks it against the graph.
import type { TfheParameters } from "../tfhe/parameters.js";
import type { KeyswitchKeyShape } from "../tfhe/keyswitch-key.js";
import { invalid } from "./artifact.js";
import { type Graph, liveNodes, nodeName } from "./ir.js";

/** A key switch between two partitions' keys. */
export interface PartitionKeyswitch {
  /** The partition whose big key (k·N) the input lives under. */
  readonly from: number;
  /** The partition whose key the output lives under. */
  readonly to: number;
  /** "small": feeds a PBS of `to` (output under its small key, n); "big": a conversion to `to`'s big key. */
  readonly target: "small" | "big";
  readonly baseLog: number;
  readonly levels: number;
}

export interface PartitionLayout {
  /** The parameters of each partition (partition i is params[i]). */
  readonly params: readonly TfheParameters[];
  /** Home partition of each live encrypted node, −1 elsewhere, by node id. */
  readonly nodeHome: readonly number[];
  /** Partition of each PBS: lookup groups by their first member's node id, bit extractions by their node id. */
  readonly pbsPartition: ReadonlyMap<number, number>;
  /** The key switches between partitions the circuit needs (each once), in a canonical order. */
  readonly keyswitches: readonly PartitionKeyswitch[];
}

export const keyswitchId = (k: { from: number; to: number; target: "small" | "big" }): string => `${k.target}:${k.from}>${k.to}`;

/** The shape of a key switch's key: input the big dimension of `from`, output the small or big one of `to`. */
export function partitionKeyswitchShape(params: readonly TfheParameters[], k: PartitionKeyswitch): KeyswitchKeyShape {
  const a = params[k.from]!, b = params[k.to]!;
  return {
    inputDimension: a.glweDimension * a.polynomialSize,
    outputDimension: k.target === "small" ? b.lweDimension : b.glweDimension * b.polynomialSize,
    baseLog: k.baseLog, levels: k.levels,
  };
}

/** The noise std a key switch's key is encrypted with: the output key's (σ_lwe for the small key, σ_glwe for the big). */
export function partitionKeyswitchNoiseStd(params: readonly TfheParameters[], k: PartitionKeyswitch): number {
  const b = params[k.to]!;
  return k.target === "small" ? b.lweNoiseStd : b.glweNoiseStd;
}

/** Canonical order of key switches: by target, then from, then to. */
export function sortKeyswitches<T extends PartitionKeyswitch>(list: readonly T[]): T[] {
  return [...list].sort((x, y) => (x.target === y.target ? 0 : x.target === "small" ? -1 : 1) || x.from - y.from || x.to - y.to);
}

/** A PBS of the circuit as the server recomputes it: its id, precision, input node and output nodes. */
export interface LayoutOp {
  readonly id: number;
  readonly bits: number;
  readonly input: number;
  readonly outputs: readonly number[];
}

/** The key switches a layout needs: reads of another home (small), outputs into another home (big). */
export function neededKeyswitches(nodeHome: readonly number[], pbsPartition: ReadonlyMap<number, number>, ops: readonly LayoutOp[]): { from: number; to: number; target: "small" | "big" }[] {
  const need = new Map<string, { from: number; to: number; target: "small" | "big" }>();
  const add = (k: { from: number; to: number; target: "small" | "big" }) => { if (k.from !== k.to) need.set(keyswitchId(k), k); };
  for (const op of ops) {
    const p = pbsPartition.get(op.id)!;
    add({ from: nodeHome[op.input]!, to: p, target: "small" });
    for (const o of op.outputs) add({ from: p, to: nodeHome[o]!, target: "big" });
  }
  return sortKeyswitches([...need.values()].map((k) => ({ ...k, baseLog: 0, levels: 0 }))).map(({ from, to, target }) => ({ from, to, target }));
}

/**
 * Decodes and checks a server artifact's layout against its graph and PBS: homes equal across linear links,
 * every PBS in a partition whose N holds its precision, exactly the key switches the homes imply.
 */
export function parseLayout(json: unknown, params: readonly TfheParameters[], graph: Graph, ops: readonly LayoutOp[]): PartitionLayout {
  const o = json as { nodeHome?: unknown; pbsPartition?: unknown; keyswitches?: unknown } | null;
  if (typeof o !== "object" || o === null) invalid("server spec: bad layout");
  const P = params.length;
  const inRange = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < P;
  if (!Array.isArray(o.nodeHome) || o.nodeHome.length !== graph.nodes.length) invalid("layout: nodeHome must hold one entry per node");
  const nodeHome = o.nodeHome as unknown[];
  const live = liveNodes(graph);
  for (const n of graph.nodes) {
    const h = nodeHome[n.id], on = n.encrypted && live.has(n.id);
    if (on ? !inRange(h) : h !== -1) invalid(`layout: bad home for ${nodeName(n)}`);
    // Values joined by linear ops share their region, hence their home (compiler/encoding.ts regionsOf).
    if (!on || n.kind === "lut" || n.kind === "lut2" || (n.kind === "round" && n.approximate === true)) continue;
    for (const a of n.kind === "bound" ? [n.args[0]!] : n.args) {
      if (graph.nodes[a]!.encrypted && nodeHome[a] !== h) invalid(`layout: ${nodeName(n)} and its argument %${a} are linked but have different homes`);
    }
  }
  if (!Array.isArray(o.pbsPartition) || o.pbsPartition.length !== ops.length) invalid(`layout: pbsPartition must list the circuit's ${ops.length} PBS`);
  const pbsPartition = new Map<number, number>();
  for (const e of o.pbsPartition as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !Number.isInteger(e[0]) || !inRange(e[1]) || pbsPartition.has(e[0] as number)) invalid("layout: bad pbsPartition entry");
    pbsPartition.set(e[0] as number, e[1] as number);
  }
  for (const op of ops) {
    const p = pbsPartition.get(op.id);
    if (p === undefined) invalid(`layout: no partition for the PBS of %${op.id}`);
    if (2 ** op.bits > params[p]!.polynomialSize) invalid(`layout: the ${op.bits}-bit PBS of %${op.id} in partition ${p}, whose N = ${params[p]!.polynomialSize} is too small`);
  }
  const want = neededKeyswitches(nodeHome as number[], pbsPartition, ops);
  if (!Array.isArray(o.keyswitches) || o.keyswitches.length !== want.length) invalid(`layout: expected ${want.length} key switches between partitions`);
  const keyswitches = (o.keyswitches as unknown[]).map((v, i) => {
    const k = v as Partial<Record<keyof PartitionKeyswitch, unknown>> | null;
    const w = want[i]!;
    if (typeof k !== "object" || k === null || k.from !== w.from || k.to !== w.to || k.target !== w.target) invalid(`layout: key switch ${i} should be ${keyswitchId(w)}`);
    const { baseLog, levels } = k;
    if (!Number.isInteger(baseLog) || !Number.isInteger(levels) || (baseLog as number) < 1 || (levels as number) < 1 || (baseLog as number) * (levels as number) > 64) {
      invalid(`layout: key switch ${keyswitchId(w)}: bad decomposition`);
    }
    return { ...w, baseLog: baseLog as number, levels: levels as number };
  });
  return { params, nodeHome: nodeHome as number[], pbsPartition, keyswitches };
}
