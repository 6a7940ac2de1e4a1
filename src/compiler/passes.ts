// Graph rewrites. Each returns a new graph and verifies it, as every pass must.
import { EvaluationError } from "../runtime/errors.js";
import { type Graph, type LutTable, type Node, type OpAttrs, deriveNode, liveNodes, nodeName, verify } from "../runtime/ir.js";
import { roundNode } from "../runtime/tensor-ops.js";
import { bitWidth, reluSplit, type WideStep } from "./bounds.js";

/** Drops nodes that no output depends on and renumbers the rest (order preserved, so still topological). */
export function eliminateDeadNodes(graph: Graph): Graph {
  const live = liveNodes(graph);
  const remap = new Map<number, number>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (!live.has(node.id)) continue;
    remap.set(node.id, nodes.length);
    nodes.push({ ...node, id: nodes.length, args: node.args.map((a) => remap.get(a)!) });
  }
  const out: Graph = {
    nodes,
    inputs: graph.inputs.map((id) => remap.get(id)!),
    outputs: graph.outputs.map((id) => remap.get(id)!),
  };
  verify(out);
  return out;
}

/** Attaches tables to lookup nodes (by id); evaluation then reads the table instead of calling f. */
export function attachTables(graph: Graph, tables: ReadonlyMap<number, LutTable>): Graph {
  const nodes = graph.nodes.map((node): Node => {
    const table = tables.get(node.id);
    return table !== undefined && node.kind === "lut" ? { ...node, table } : node;
  });
  const out: Graph = { nodes, inputs: graph.inputs, outputs: graph.outputs };
  verify(out);
  return out;
}

/**
 * Merges encrypted lookups that compute the same thing: same input node and same table (lut), or same
 * input and shift (round). Besides saving PBS, this keeps the noise accounting right: a blind rotation is
 * deterministic, so two copies of one lookup have the same noise, fully correlated, while Σw² counts
 * distinct lookups as independent sources (measured: distinct tables on one input are uncorrelated).
 */
export function mergeDuplicateLookups(graph: Graph): { graph: Graph; merged: number } {
  const replace = new Map<number, number>();
  const seen = new Map<string, number>();
  const nodes = graph.nodes.map((node): Node => {
    const n = { ...node, args: node.args.map((a) => replace.get(a) ?? a) } as Node;
    let key: string | undefined;
    if (n.encrypted && n.kind === "lut" && n.table !== undefined) {
      key = `lut ${n.args[0]} ${n.readLsbs ?? 0} ${n.table.min} ${n.table.step} ${n.table.values.join(",")}`;
    } else if (n.encrypted && n.kind === "round") {
      key = `round ${n.args[0]} ${n.lsbs} ${n.approximate === true} ${n.truncate === true}`;
    } else if (n.kind !== "input" && n.kind !== "lut" && n.kind !== "lut2") {
      // Pure linear and structural nodes: same op, attributes, arguments and shape compute the same
      // ciphertexts (x.lt(y) and x.ge(y) each trace x − y; one is enough).
      const { id: _, args, shape, encrypted: __, ...attrs } = n;
      key = `${n.kind} ${args.join(",")} ${shape.join("x")} ${JSON.stringify(attrs, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))}`;
    }
    if (key !== undefined) {
      const first = seen.get(key);
      if (first === undefined) seen.set(key, n.id);
      else replace.set(n.id, first);
    }
    return n;
  });
  if (replace.size === 0) return { graph, merged: 0 };
  const out = eliminateDeadNodes({ nodes, inputs: graph.inputs, outputs: graph.outputs.map((o) => replace.get(o) ?? o) });
  return { graph: out, merged: replace.size };
}

/** The function a lookup node computes element-wise (before tables are attached), and its name. */
function univariate(n: Node): { f: (v: number) => number; label: string } | undefined {
  if (n.kind === "lut") return { f: n.fn, label: n.label };
  if (n.kind === "round") {
    const node = n;
    return { f: (v) => roundNode(v, node), label: `${n.truncate === true ? "truncate" : "round"}(${n.lsbs})` };
  }
  return undefined;
}

/**
 * Fuses chains of encrypted lookups into one: g(f(x)) — lut or round, with f's result used by g alone —
 * becomes one lookup of x with the composed table. One PBS instead of two, exactly the same values, and
 * fresh noise once. An exact round on a narrow input is itself a lookup over that input, so
 * `relu(round(acc, k))` becomes a single lookup on `acc`; an approximate round reads acc's top bits, and
 * the composed lookup keeps that reading (readLsbs). Runs on a traced graph, before tables are attached.
 * `allowed(x, readLsbs)` says whether a lookup directly on node x (read in steps of 2^readLsbs) fits the
 * lookup limit; when it does not, the chain is kept (an exact round of a wide value is a bit extraction,
 * which is what makes the outer lookup possible).
 */
export function fuseLookupChains(graph: Graph, allowed: (x: number, readLsbs: number) => boolean = () => true): Graph {
  const uses = new Array<number>(graph.nodes.length).fill(0);
  for (const n of graph.nodes) for (const a of n.args) uses[a]!++;
  for (const o of graph.outputs) uses[o]! += 1;
  const nodes = [...graph.nodes];
  let fused = 0;
  for (const n of graph.nodes) {
    const outer = univariate(nodes[n.id]!);
    // An approximate lookup reads its own input's top bits: composing it with the inner one would not.
    if (!n.encrypted || outer === undefined || (nodes[n.id]!.kind === "lut" && (nodes[n.id] as { readLsbs?: number }).readLsbs !== undefined)) continue;
    const innerNode = nodes[n.args[0]!]!;
    const inner = univariate(innerNode);
    if (!innerNode.encrypted || inner === undefined || uses[innerNode.id] !== 1 || !allowed(innerNode.args[0]!, innerNode.kind === "lut" ? innerNode.readLsbs ?? 0
      : innerNode.kind === "round" && innerNode.approximate === true ? innerNode.lsbs : 0)) continue;
    const [f, g] = [inner.f, outer.f];
    const fn = (v: number): number => {
      const u = f(v);
      if (!Number.isSafeInteger(u)) {
        throw new EvaluationError(`${nodeName(innerNode)} ${inner.label}: f(${v}) = ${u} is not a safe integer (round it in f, e.g. Math.round)`, innerNode.id);
      }
      return g(u);
    };
    const x = innerNode.args[0]!;
    // An approximate inner lookup keeps its reading: the composed table is read the same way.
    const readLsbs = innerNode.kind === "lut" ? innerNode.readLsbs
      : innerNode.kind === "round" && innerNode.approximate === true ? innerNode.lsbs : undefined;
    nodes[n.id] = {
      id: n.id, kind: "lut", fn, label: `${outer.label}∘${inner.label}`, args: [x], shape: n.shape, encrypted: true,
      ...(readLsbs !== undefined ? { readLsbs } : {}),
    };
    uses[innerNode.id] = 0;
    uses[x]!++;
    fused++;
  }
  return fused === 0 ? graph : eliminateDeadNodes({ nodes, inputs: graph.inputs, outputs: graph.outputs });
}

/**
 * Lowers each bivariate lookup f(x, y) to one lookup of the packed index
 * i = (x − x_min)·S + (y − y_min), S = y_max − y_min + 1, over the operands' ranges (sound: every value
 * they can take at run time). Each pair of the box has its own index, so the table computes f exactly;
 * its precision is that of the box, ⌈log2(|x|·|y|)⌉ bits. Lookups of the same (x, y) share one packed
 * node, so they read one input (and may share a blind rotation). Clear ones are lowered too: a clear
 * lookup travels as its table (graph-codec.ts), and the packed box is the table's domain. Runs after a
 * first bounds pass.
 */
export function lowerBivariateLookups(graph: Graph, range: (id: number) => { readonly min: number; readonly max: number }): Graph {
  if (!graph.nodes.some((n) => n.kind === "lut2")) return graph;
  const packed = new Map<string, { id: number; xMin: number; yMin: number; S: number }>();
  return rewriteNodes(graph, "lowering a bivariate lookup", (n, args, push) => {
    if (n.kind !== "lut2") return undefined;
    const constant = (v: number): number => push({ kind: "constant", value: Float64Array.of(v) }, [], []);
    const [x, y] = n.args as [number, number];
    const key = `${x},${y}`;
    let p = packed.get(key);
    if (p === undefined) {
      const rx = range(x), ry = range(y);
      const S = ry.max - ry.min + 1;
      const xs = push({ kind: "mul" }, [push({ kind: "sub" }, [args[0]!, constant(rx.min)]), constant(S)]);
      const id = push({ kind: "add" }, [xs, push({ kind: "sub" }, [args[1]!, constant(ry.min)])]);
      p = { id, xMin: rx.min, yMin: ry.min, S };
      packed.set(key, p);
    }
    const { xMin, yMin, S } = p;
    const f = n.fn;
    const fn = (i: number): number => f(xMin + Math.floor(i / S), yMin + (i % S));
    return push({ kind: "lut", fn, label: `${n.label}∘pack` }, [p.id]);
  });
}

/**
 * Lowers each encrypted step-function lookup whose input is too wide for one table (a comparison of wide
 * values: f(v) = below for v < t, atOrAbove for v ≥ t) to a lookup of the truncated difference:
 * truncate(x − t, k) ≥ 0 exactly when x ≥ t (floor keeps the sign), and with k low bits gone it fits a
 * table of maxLutBits. The truncation extracts those k bits one 1-bit PBS each (encoding.ts), so a
 * 16-bit comparison costs about 8 small PBS and one lookup rather than a lookup over 2^16 values.
 */
export function lowerWideSteps(graph: Graph, steps: readonly WideStep[], range: (id: number) => { readonly min: number; readonly max: number }, maxLutBits: number): Graph {
  if (steps.length === 0) return graph;
  const byNode = new Map(steps.map((s) => [s.node, s]));
  return rewriteNodes(graph, "lowering a wide comparison", (n, args, push) => {
    const step = byNode.get(n.id);
    if (step === undefined || n.kind !== "lut") return undefined;
    const { min, max } = range(n.args[0]!);
    const t = step.threshold;
    // Truncate down to a 2-bit value (its sign is all the lookup reads): 1-bit extractions are cheap, a
    // wide final lookup is not (its PBS needs N ≥ 2^bits).
    const target = Math.min(maxLutBits, 2);
    let k = 1;
    while (k < 52 && bitWidth(Math.floor((min - t) / 2 ** k), Math.floor((max - t) / 2 ** k)).bits > target) k++;
    const d = t === 0 ? args[0]! : push({ kind: "sub" }, [args[0]!, push({ kind: "constant", value: Float64Array.of(t) }, [], [])]);
    const truncated = push({ kind: "round", lsbs: k, truncate: true }, [d]);
    const { below, atOrAbove } = step;
    return push({ kind: "lut", fn: (v) => (v >= 0 ? atOrAbove : below), label: `${n.label}∘truncate(${k})` }, [truncated]);
  });
}

/**
 * Splits each encrypted relu of a value x too wide for one table (max and min of wide values lower to one):
 * with T = truncate(x, k) (bit extraction) and L = x − T ∈ [0, 2^k), relu(x) = relu(T) + relu(L − (1 − s)·2^k)
 * where s = [T ≥ 0] (x ≥ 0 exactly when T ≥ 0): for x ≥ 0 that is T + L, otherwise 0 + 0. T has few values
 * (a narrow table) and the second relu reads k + 1 bits: k extractions and three small lookups in all.
 */
export function lowerWideRelus(graph: Graph, relus: readonly number[], range: (id: number) => { readonly min: number; readonly max: number }, maxLutBits: number): Graph {
  if (relus.length === 0) return graph;
  const targets = new Set(relus);
  return rewriteNodes(graph, "splitting a wide relu", (n, args, push) => {
    if (!targets.has(n.id) || n.kind !== "lut") return undefined;
    const { min, max } = range(n.args[0]!);
    const split = reluSplit(min, max, maxLutBits);
    if (split === undefined) return undefined;
    const { k } = split, pow = 2 ** k;
    const constant = (v: number): number => push({ kind: "constant", value: Float64Array.of(v) }, [], []);
    const x = args[0]!;
    const t = push({ kind: "round", lsbs: k, truncate: true }, [x]);
    // x − T is x mod 2^k: the bound node tells the range analysis so (the difference alone looks wide).
    const low = push({ kind: "bound", op: "mod" }, [push({ kind: "sub" }, [x, t]), x, constant(pow)]);
    const sign = push({ kind: "lut", fn: (v) => (v >= 0 ? 1 : 0), label: "v >= 0" }, [t]);
    const top = push({ kind: "lut", fn: (v) => Math.max(v, 0), label: `${n.label}(top)` }, [t]);
    const u = push({ kind: "add" }, [low, push({ kind: "sub" }, [push({ kind: "mul" }, [sign, constant(pow)]), constant(pow)])]);
    const rest = push({ kind: "lut", fn: (v) => Math.max(v, 0), label: `${n.label}(low)` }, [u]);
    return push({ kind: "add" }, [top, rest]);
  });
}

/** Adds a node to a graph being rebuilt (shape and encryptedness derived and checked); returns its id. */
type Push = (op: OpAttrs, args: readonly number[], shape?: readonly number[]) => number;

/**
 * Rebuilds a graph node by node: `replace` may expand a node into new ones (through `push`, on the new
 * ids of its arguments) and return the id that stands for it, or undefined to copy it. Verified, then
 * dead nodes dropped.
 */
function rewriteNodes(graph: Graph, what: string, replace: (n: Node, args: readonly number[], push: Push) => number | undefined): Graph {
  const nodes: Node[] = [];
  const remap = new Map<number, number>();
  const push: Push = (op, args, shape) => {
    const id = nodes.length;
    const d = deriveNode(op, args.map((a) => nodes[a]!), shape, `%${id} = ${op.kind} (${what})`);
    nodes.push({ ...op, id, args: [...args], shape: d.shape, encrypted: d.encrypted } as Node);
    return id;
  };
  for (const n of graph.nodes) {
    const args = n.args.map((a) => remap.get(a)!);
    const id = replace(n, args, push);
    if (id !== undefined) { remap.set(n.id, id); continue; }
    const { id: _, args: __, shape, encrypted: ___, ...op } = n;
    remap.set(n.id, push(op as OpAttrs, args, shape));
  }
  const out: Graph = { nodes, inputs: graph.inputs.map((id) => remap.get(id)!), outputs: graph.outputs.map((id) => remap.get(id)!) };
  verify(out);
  return eliminateDeadNodes(out);
}
