// A graph as plain JSON (for the artifacts of artifacts.ts) and back. Lookups travel as their tables:
// a function cannot be serialized, and after compile() every encrypted lookup has one. Decoding checks
// every field's type, rebuilds the nodes and runs `verify`, so a decoded graph is as safe as a traced one;
// any problem is DeserializationError("INVALID_VALUE") naming the node.
import { invalid } from "./artifact.js";
import { GraphError } from "./errors.js";
import { BOUND_OPS, type BoundOp, type Graph, type LutTable, type Node, type OpAttrs, verify } from "./ir.js";

/** Upper bound on the nodes of a decoded graph. */
export const MAX_GRAPH_NODES = 1_000_000;
/** Upper bound on the elements of one tensor of a decoded graph (evaluation allocates per element). */
export const MAX_TENSOR_ELEMENTS = 2 ** 24;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };


const ints = (a: readonly number[] | Float64Array | Int32Array): number[] => Array.from(a);

function attrsToJson(n: Node): Record<string, Json> {
  switch (n.kind) {
    case "input": return { name: n.name, visibility: n.visibility };
    case "constant": return { value: ints(n.value) };
    case "sum": return { axis: n.axis };
    case "slice": return { starts: [...n.starts], stops: [...n.stops], steps: [...n.steps] };
    case "concat": return { axis: n.axis };
    case "gather": return { indices: ints(n.indices) };
    case "round": return {
      lsbs: n.lsbs, ...(n.approximate === true ? { approximate: true } : {}), ...(n.truncate === true ? { truncate: true } : {}),
    };
    case "bound": return { op: n.op };
    case "lut2": throw new GraphError(`%${n.id} (lut2): a bivariate lookup has no table; compile the circuit before serializing it`);
    case "lut": {
      if (n.table === undefined) throw new GraphError(`%${n.id} (lut): no table; compile the circuit before serializing it`);
      return {
        label: n.label, table: { min: n.table.min, step: n.table.step, values: ints(n.table.values) },
        ...(n.readLsbs !== undefined ? { readLsbs: n.readLsbs } : {}),
      };
    }
    default: return {};
  }
}

export function graphToJson(graph: Graph): Json {
  return {
    nodes: graph.nodes.map((n) => ({ id: n.id, kind: n.kind, args: [...n.args], shape: [...n.shape], encrypted: n.encrypted, ...attrsToJson(n) })),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
  };
}

// ---- decoding ----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A field of an object, checked by `ok`. */
function field<T>(o: Record<string, unknown>, key: string, where: string, ok: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!ok(v)) invalid(`${where}: "${key}" must be ${what}`);
  return v;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isIntArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);
const isString = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
/** Non-negative int32 values (an Int32Array would wrap larger ones into valid-looking indices). */
const isIndexArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0x7fffffff);

/** A table-driven stand-in for the traced function (clear-node.ts uses the table when there is one). */
function tableFunction(table: LutTable): (v: number) => number {
  return (v) => {
    const i = (v - table.min) / table.step;
    const r = Number.isInteger(i) ? table.values[i] : undefined;
    if (r === undefined) throw new RangeError(`lookup input ${v} is outside its table`);
    return r;
  };
}

function attrsFromJson(o: Record<string, unknown>, where: string): OpAttrs {
  const kind = field(o, "kind", where, isString, "a string");
  switch (kind) {
    case "input": {
      const visibility = field(o, "visibility", where, isString, "a string");
      if (visibility !== "encrypted" && visibility !== "clear") invalid(`${where}: bad visibility`);
      return { kind, name: field(o, "name", where, isString, "a string"), visibility };
    }
    case "constant": return { kind, value: Float64Array.from(field(o, "value", where, isIntArray, "an array of integers")) };
    case "add": case "sub": case "mul": case "matmul": case "neg": case "reshape": case "broadcast": return { kind };
    case "sum": return { kind, axis: field(o, "axis", where, (v): v is number | null => v === null || isInt(v), "an integer or null") };
    case "slice": return {
      kind,
      starts: field(o, "starts", where, isIntArray, "an array of integers"),
      stops: field(o, "stops", where, isIntArray, "an array of integers"),
      steps: field(o, "steps", where, isIntArray, "an array of integers"),
    };
    case "concat": return { kind, axis: field(o, "axis", where, isInt, "an integer") };
    case "gather": return { kind, indices: Int32Array.from(field(o, "indices", where, isIndexArray, "an array of non-negative 32-bit integers")) };
    case "round": {
      const lsbs = field(o, "lsbs", where, isInt, "an integer");
      const isTrue = (v: unknown): v is true => v === true;
      return {
        kind, lsbs,
        ...(o.approximate === undefined ? {} : { approximate: field(o, "approximate", where, isTrue, "true") }),
        ...(o.truncate === undefined ? {} : { truncate: field(o, "truncate", where, isTrue, "true") }),
      };
    }
    case "bound": return { kind, op: field(o, "op", where, (v): v is BoundOp => BOUND_OPS.includes(v as BoundOp), `one of ${BOUND_OPS.join(", ")}`) };
    case "lut": {
      const t = field(o, "table", where, isObject, "an object");
      const table: LutTable = {
        min: field(t, "min", where, isInt, "an integer"),
        step: field(t, "step", where, isInt, "an integer"),
        values: Float64Array.from(field(t, "values", where, isIntArray, "an array of integers")),
      };
      const readLsbs = o.readLsbs === undefined ? {} : { readLsbs: field(o, "readLsbs", where, isInt, "an integer") };
      return { kind, label: field(o, "label", where, isString, "a string"), table, fn: tableFunction(table), ...readLsbs };
    }
    default: return invalid(`${where}: unknown op kind ${JSON.stringify(kind).slice(0, 40)}`);
  }
}

/** Rebuilds and verifies a graph; throws DeserializationError("INVALID_VALUE"). */
export function graphFromJson(json: unknown): Graph {
  if (!isObject(json)) invalid("graph must be an object");
  const nodesJson = json["nodes"];
  if (!Array.isArray(nodesJson) || nodesJson.length > MAX_GRAPH_NODES) invalid(`graph nodes must be an array of at most ${MAX_GRAPH_NODES}`);
  const nodes: Node[] = nodesJson.map((nj: unknown, i) => {
    const where = `node ${i}`;
    if (!isObject(nj)) invalid(`${where} must be an object`);
    const attrs = attrsFromJson(nj, where);
    return {
      ...attrs,
      id: field(nj, "id", where, isInt, "an integer"),
      args: field(nj, "args", where, isIntArray, "an array of integers"),
      shape: field(nj, "shape", where, isIntArray, "an array of integers"),
      encrypted: field(nj, "encrypted", where, isBool, "a boolean"),
    } as Node;
  });
  for (const n of nodes) {
    if (isIntArray(n.shape) && n.shape.reduce((a, d) => a * Math.max(1, d), 1) > MAX_TENSOR_ELEMENTS) {
      invalid(`node ${n.id}: more than ${MAX_TENSOR_ELEMENTS} elements`);
    }
  }
  const graph: Graph = {
    nodes,
    inputs: field(json, "inputs", "graph", isIntArray, "an array of integers"),
    outputs: field(json, "outputs", "graph", isIntArray, "an array of integers"),
  };
  try {
    verify(graph);
  } catch (e) {
    if (e instanceof GraphError) invalid(`graph: ${e.message}`);
    throw e;
  }
  return graph;
}
