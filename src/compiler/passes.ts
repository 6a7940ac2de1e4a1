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
