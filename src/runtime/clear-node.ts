// The clear value of one node from its arguments' values: the clear reference interpreter's step, and the
// server's evaluation of the nodes that stay in the clear (constants, clear inputs and what only reads them).
import { EvaluationError, InputOutOfRangeError } from "./errors.js";
import { type BoundOp, type Node, nodeName } from "./ir.js";
import * as k from "./tensor-ops.js";
import type { Tensor } from "./tensor.js";

/** The bivariate functions of `bound` nodes. */
export const BOUND_FNS: Readonly<Record<BoundOp, (x: number, y: number) => number>> = {
  mul: (x, y) => x * y + 0,
  min: (x, y) => Math.min(x, y),
  max: (x, y) => Math.max(x, y),
  /** x mod y in [0, y) (y > 0): the low bits x − truncate(x, k) for y = 2^k. */
  mod: (x, y) => ((x % y) + y) % y + 0,
};

function lookup(node: Extract<Node, { kind: "lut" }>, input: number): number {
  // An approximate lookup reads its input rounded (ties up here; either neighbour in FHE).
  const v = node.readLsbs === undefined ? input : k.roundLsbs(input, node.readLsbs);
  const t = node.table;
  if (t === undefined) {
    const r = node.fn(v);
    if (!Number.isSafeInteger(r)) {
      throw new EvaluationError(`${nodeName(node)} ${node.label}: f(${v}) = ${r} is not a safe integer (round it in f, e.g. Math.round)`, node.id);
    }
    return r;
  }
  const i = (v - t.min) / t.step;
  if (!Number.isInteger(i) || i < 0 || i >= t.values.length) {
    const hi = t.min + (t.values.length - 1) * t.step;
    throw new InputOutOfRangeError(
      `${nodeName(node)} ${node.label}: input ${v} is outside the table [${t.min}, ${hi}] (step ${t.step}) built from the inputset`,
      nodeName(node), v);
  }
  return t.values[i]!;
}

/** The value of `node` given its arguments' values; `input` supplies an input node's bound value. */
export function evalNode(node: Node, args: readonly Tensor[], input: () => Tensor): Tensor {
  const [a, b] = args as [Tensor, Tensor];
  switch (node.kind) {
    case "input": return input();
    case "constant": return { shape: node.shape, data: node.value };
    case "add": return k.zip(a, b, (x, y) => x + y);
    case "sub": return k.zip(a, b, (x, y) => x - y);
    case "mul": return k.zip(a, b, (x, y) => x * y);
    case "neg": return k.map(a, (x) => -x);
    case "matmul": return k.matmul(a, b);
    case "sum": return k.sum(a, node.axis);
    case "reshape": return k.reshape(a, node.shape);
    case "broadcast": return k.broadcastTo(a, node.shape);
    case "slice": return k.slice(a, node.starts, node.stops, node.steps);
    case "concat": return k.concat(args, node.axis);
    case "gather": return k.gather(a, node.indices, node.shape);
    case "lut": return k.map(a, (x) => lookup(node, x));
    case "lut2": return k.zip(a, b, (x, y) => {
      const r = node.fn(x, y);
      if (!Number.isSafeInteger(r)) {
        throw new EvaluationError(`${nodeName(node)} ${node.label}: f(${x}, ${y}) = ${r} is not a safe integer ` +
          (node.op === "shl" ? "(x·2^y past 2^53: use smaller shift amounts)" : "(round it in f)"), node.id);
      }
      return r + 0;
    });
    case "round": return k.map(a, (x) => k.roundNode(x, node));
    case "bound": {
      // The lowering must be exact: check it here, where it is cheap (the clear reference).
      const f = BOUND_FNS[node.op];
      const direct = k.zip(b, args[2]!, f);
      const i = a.data.findIndex((v, j) => v !== direct.data[j]);
      if (i >= 0) throw new EvaluationError(`${nodeName(node)}: the lowered ${node.op} gives ${a.data[i]} where ${node.op}(x, y) = ${direct.data[i]}`, node.id);
      return a;
    }
  }
}
