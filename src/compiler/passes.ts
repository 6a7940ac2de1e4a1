// Graph rewrites. Each returns a new graph and verifies it, as every pass must.
import { type Graph, type LutTable, type Node, liveNodes, verify } from "./ir.js";

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
      key = `lut ${n.args[0]} ${n.table.min} ${n.table.step} ${n.table.values.join(",")}`;
    } else if (n.encrypted && n.kind === "round") {
      key = `round ${n.args[0]} ${n.lsbs}`;
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
