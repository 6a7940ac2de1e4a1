// Human-readable views of a graph: one line a node (`%3 = add(%1, %2) : i6[4]`), and a summary of what
// drives the cost (lookups, their precision, Σw²).
import type { Bounds, NodeBounds } from "./bounds.js";
import type { Graph, Node } from "../runtime/ir.js";
import { formatShape, sizeOf } from "../runtime/shape.js";

const MAX_CONSTANT_SHOWN = 6;

function typeOf(node: Node, b: NodeBounds | undefined): string {
  const width = b === undefined ? "?" : `${b.signed ? "i" : "u"}${b.bits}`;
  const shape = node.shape.length === 0 ? "" : formatShape(node.shape);
  return `${node.encrypted ? "" : "clear "}${width}${shape}`;
}

function opText(node: Node): string {
  const args = node.args.map((a) => `%${a}`);
  switch (node.kind) {
    case "input": return `input("${node.name}", ${node.visibility})`;
    case "constant": {
      const shown = Array.from(node.value.subarray(0, MAX_CONSTANT_SHOWN)).join(", ");
      return `constant([${shown}${node.value.length > MAX_CONSTANT_SHOWN ? ", …" : ""}])`;
    }
    case "sum": return `sum(${args[0]}${node.axis === null ? "" : `, axis=${node.axis}`})`;
    case "concat": return `concat(${args.join(", ")}, axis=${node.axis})`;
    case "slice": {
      const ranges = node.starts.map((s, i) => `${s}:${node.stops[i]}${node.steps[i] === 1 ? "" : `:${node.steps[i]}`}`);
      return `slice(${args[0]}, ${ranges.join(", ")})`;
    }
    case "lut": {
      const t = node.table;
      const table = t === undefined ? "" : `, table=[${t.min}..${t.min + (t.values.length - 1) * t.step}${t.step > 1 ? ` step ${t.step}` : ""}]`;
      return `lut(${args[0]}, ${node.label}${table})`;
    }
    case "round": return `${node.truncate === true ? "truncate" : "round"}(${args[0]}, lsbs=${node.lsbs}${node.approximate === true ? ", approximate" : ""})`;
    default: return `${node.kind}(${args.join(", ")})`;
  }
}

/** One line a node, `%id = op(args) : type`, then the outputs. Types show widths when bounds are given. */
export function graphText(graph: Graph, bounds?: Bounds): string {
  const lines = graph.nodes.map((n) => `%${n.id} = ${opText(n)} : ${typeOf(n, bounds?.nodes[n.id])}`);
  lines.push(`return ${graph.outputs.map((o) => `%${o}`).join(", ")}`);
  return lines.join("\n");
}

/** A readable summary: op counts, lookups (and how many table lookups they run), widths and Σw². */
export function describe(graph: Graph, bounds?: Bounds): string {
  const counts = new Map<string, number>();
  for (const n of graph.nodes) counts.set(n.kind, (counts.get(n.kind) ?? 0) + 1);
  const encLuts = graph.nodes.filter((n) => n.kind === "lut" && n.encrypted);
  const inputs = graph.inputs.map((id) => {
    const n = graph.nodes[id]!;
    return `${n.kind === "input" ? n.name : `%${id}`}: ${n.encrypted ? "encrypted" : "clear"} ${typeOf(n, bounds?.nodes[id])}`;
  });
  const out = [
    `inputs: ${inputs.join(", ")}`,
    `outputs: ${graph.outputs.map((o) => `%${o} : ${typeOf(graph.nodes[o]!, bounds?.nodes[o])}`).join(", ")}`,
    `ops: ${[...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => `${k} ${c}`).join(", ")}`,
    `encrypted lookups: ${encLuts.length} nodes, ${encLuts.reduce((s, n) => s + sizeOf(n.shape), 0)} table lookups (one per element)`,
  ];
  if (bounds !== undefined) {
    const widest = bounds.luts.reduce<(typeof bounds.luts)[number] | undefined>((w, l) => (w === undefined || l.inputBits > w.inputBits ? l : w), undefined);
    out.push(
      `max lookup input: ${bounds.maxLutInputBits} bits${widest === undefined ? "" : ` (%${widest.node})`} (limit ${bounds.maxLutBits})`,
      `max Σw² into a lookup: ${bounds.maxLutNorm2}; max Σw² of any encrypted node: ${bounds.maxNorm2}`,
      `max encrypted width: ${graph.nodes.reduce((m, n) => (n.encrypted ? Math.max(m, bounds.nodes[n.id]!.bits) : m), 0)} bits`,
      "nodes:",
      ...graph.nodes.map((n) => {
        const b = bounds.nodes[n.id]!;
        const norm = n.encrypted ? `  Σw²=${b.norm2}` : "";
        return `  %${n.id} = ${opText(n)} : ${typeOf(n, b)}  range [${b.min}, ${b.max}]${norm}`;
      }),
    );
  } else {
    out.push("nodes:", ...graphText(graph).split("\n").map((l) => `  ${l}`));
  }
  return out.join("\n");
}
