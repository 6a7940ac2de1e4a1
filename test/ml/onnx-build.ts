// Small ONNX models built in the tests (through the importer's own protobuf schema), and onnxruntime-node's
// float evaluation of them: the reference an imported model's float evaluation is checked against.
import * as ort from "onnxruntime-node";
import { onnxModelType } from "../../src/ml/onnx/schema.js";

export type Attr = number | number[] | string | string[] | { floats: number[] } | { ints: number[] };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attrs?: Record<string, Attr>;
}

export interface GraphSpec {
  readonly features: number;
  /** The input's dims after the batch when it is not [features] (e.g. [1, 8, 8]). */
  readonly inputDims?: number[];
  readonly nodes: NodeSpec[];
  /** Constant tensors (float32 unless said). */
  readonly initializers?: Record<string, { dims: number[]; data: number[]; type?: "int64" }>;
  /** Graph outputs: name and element type ("float" or "int64"). */
  readonly outputs: { name: string; type?: "float" | "int64"; dims?: number[] }[];
  readonly opset?: number;
}

// AttributeProto.AttributeType and TensorProto.DataType values (onnx.proto).
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_FLOATS = 6, A_INTS = 7, A_STRINGS = 8;
const FLOAT = 1, INT64 = 7;
const enc = new TextEncoder();

function attribute(name: string, v: Attr): object {
  if (typeof v === "string") return { name, type: A_STRING, s: enc.encode(v) };
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: A_INT, i: v } : { name, type: A_FLOAT, f: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "string") return { name, type: A_STRINGS, strings: (v as string[]).map((s) => enc.encode(s)) };
    return (v as number[]).every(Number.isInteger) ? { name, type: A_INTS, ints: v } : { name, type: A_FLOATS, floats: v };
  }
  return "floats" in v ? { name, type: A_FLOATS, floats: v.floats } : { name, type: A_INTS, ints: v.ints };
}

const dim = (d: number | string): object => (typeof d === "number" ? { dimValue: d } : { dimParam: d });

/** The bytes of an ONNX model with one float input "x" of shape [N, features]. */
export function buildOnnx(g: GraphSpec): Uint8Array {
  const usesMl = g.nodes.some((n) => n.domain === "ai.onnx.ml");
  const model = {
    irVersion: 8,
    producerName: "umbra-test",
    opsetImport: [{ domain: "", version: g.opset ?? 13 }, ...(usesMl ? [{ domain: "ai.onnx.ml", version: 3 }] : [])],
    graph: {
      name: "g",
      node: g.nodes.map((n, k) => ({
        input: n.inputs, output: n.outputs, name: n.name ?? `${n.op}_${k}`, opType: n.op, domain: n.domain ?? "",
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
      })),
      initializer: Object.entries(g.initializers ?? {}).map(([name, t]) => (t.type === "int64" ? { name, dims: t.dims, dataType: INT64, int64Data: t.data } : { name, dims: t.dims, dataType: FLOAT, floatData: t.data })),
      input: [{ name: "x", type: { tensorType: { elemType: FLOAT, shape: { dim: [dim("N"), ...(g.inputDims ?? [g.features]).map(dim)] } } } }],
      output: g.outputs.map((o) => ({
        name: o.name,
        type: { tensorType: { elemType: o.type === "int64" ? INT64 : FLOAT, ...(o.dims === undefined ? {} : { shape: { dim: o.dims.map((d) => dim(d < 0 ? "N" : d)) } }) } },
      })),
    },
  };
  return onnxModelType.encode(onnxModelType.fromObject(model)).finish();
}

/** onnxruntime-node's outputs on the rows (float32 input), each as a flat array. */
export async function runOrt(bytes: Uint8Array, X: number[][], inputDims?: number[]): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const cols = X[0]!.length;
    const x = new ort.Tensor("float32", Float32Array.from(X.flat()), [X.length, ...(inputDims ?? [cols])]);
    const out = await session.run({ [session.inputNames[0]!]: x });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number | bigint>, Number)]));
  } finally {
    await session.release();
  }
}
