// The clear reference interpreter: every other execution mode (simulation, FHE) is tested against it.
// Values are exact integers; any result that is not a safe integer is an error naming the node.
import { EvaluationError, GraphError } from "../runtime/errors.js";
import { type Graph, nodeName } from "../runtime/ir.js";
import { evalNode } from "../runtime/clear-node.js";
import { type Tensor, type TensorLike, firstUnsafe, clearNegativeZeros, toTensor } from "../runtime/tensor.js";

/** Converts positional input values (in `graph.inputs` order) to tensors of the input shapes. */
export function bindInputs(graph: Graph, inputs: readonly (TensorLike | Tensor)[]): Tensor[] {
  if (inputs.length !== graph.inputs.length) {
    throw new GraphError(`expected ${graph.inputs.length} input(s), got ${inputs.length}`);
  }
  return graph.inputs.map((id, i) => {
    const node = graph.nodes[id]!;
    return toTensor(inputs[i]!, { what: nodeName(node), shape: node.shape });
  });
}

/** Values of every node, indexed by node id. */
export function evaluateAll(graph: Graph, inputs: readonly (TensorLike | Tensor)[]): Tensor[] {
  const bound = bindInputs(graph, inputs);
  const values: Tensor[] = [];
  for (const node of graph.nodes) {
    const v = evalNode(node, node.args.map((a) => values[a]!), () => bound[graph.inputs.indexOf(node.id)]!);
    const bad = firstUnsafe(v.data);
    if (bad >= 0) {
      throw new EvaluationError(`${nodeName(node)}: element ${bad} = ${v.data[bad]} is not a safe integer (|v| must stay below 2^53)`, node.id);
    }
    if (node.kind !== "input" && node.kind !== "constant") clearNegativeZeros(v.data);
    values.push(v);
  }
  return values;
}

/** Output values of the graph on one set of inputs (positional, in `graph.inputs` order). */
export function evaluate(graph: Graph, inputs: readonly (TensorLike | Tensor)[]): Tensor[] {
  const values = evaluateAll(graph, inputs);
  return graph.outputs.map((id) => values[id]!);
}
