// Small ONNX models built in the tests (through the importer's own protobuf schema), and onnxruntime-node's
// float evaluation of them: the reference an imported model's float evaluation is checked against.
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { type importOnnx, OnnxModel } from "../../src/ml/index.js";
import { onnxModelType } from "../../src/ml/onnx/schema.js";

/** Seeded rows in [−2, 2) (xorshift32): the inputs and weights of the models built in the tests. */
export function rows(n: number, cols: number, seed: number): number[][] {
  let s = seed;
  const next = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, () => Array.from({ length: cols }, () => 4 * next() - 2));
}
export const weights = (n: number, seed: number): number[] => rows(1, n, seed)[0]!;

/** The import as a network (or linear) model, asserting that it is one. */
export function asNet(m: ReturnType<typeof importOnnx>): OnnxModel {
  assert.ok(m instanceof OnnxModel, "a network/linear import");
  return m;
}

/** A constant tensor: float32 unless said; stored in the typed field, as raw bytes, or in an external file. */
export interface TensorSpec {
  readonly dims: number[];
  readonly data: number[] | string[];
  readonly type?: "float" | "int64" | "int32" | "double" | "string";
  readonly raw?: boolean;
  /** Stored in this external file at this offset (the caller writes float32Bytes(data) there). */
  readonly external?: { readonly location: string; readonly offset: number };
}

export type Attr = number | number[] | string | string[] | { floats: number[] } | { ints: number[] } | { tensor: TensorSpec };

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
  readonly initializers?: Record<string, TensorSpec>;
  /** Graph outputs: name and element type ("map": ZipMap's sequence of maps, left untyped for onnxruntime to infer). */
  readonly outputs: { name: string; type?: "float" | "int64" | "string" | "map"; dims?: number[] }[];
  readonly opset?: number;
  /** The graph input's name (default "x"). */
  readonly inputName?: string;
}

// AttributeProto.AttributeType and TensorProto.DataType values (onnx.proto).
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_FLOATS = 6, A_INTS = 7, A_STRINGS = 8;
const FLOAT = 1, INT32 = 6, INT64 = 7, STRING = 8, DOUBLE = 11;

/** Little-endian float32 bytes of the values. */
export function float32Bytes(data: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(data).buffer);
}

function tensorProto(name: string, t: TensorSpec): object {
  const type = t.type ?? "float";
  if (type === "string") return { name, dims: t.dims, dataType: STRING, stringData: (t.data as string[]).map((v) => enc.encode(v)) };
  const data = t.data as number[];
  const dataType = type === "int64" ? INT64 : type === "int32" ? INT32 : type === "double" ? DOUBLE : FLOAT;
  if (t.external !== undefined) {
    const length = 4 * data.length;
    return { name, dims: t.dims, dataType, dataLocation: 1, externalData: [{ key: "location", value: t.external.location }, { key: "offset", value: String(t.external.offset) }, { key: "length", value: String(length) }] };
  }
  if (t.raw === true) {
    const bytes = type === "int64" ? new Uint8Array(BigInt64Array.from(data, (v) => BigInt(v)).buffer) : type === "double" ? new Uint8Array(Float64Array.from(data).buffer) : float32Bytes(data);
    return { name, dims: t.dims, dataType, rawData: bytes };
  }
  if (type === "int32") return { name, dims: t.dims, dataType, int32Data: data };
  return type === "int64" ? { name, dims: t.dims, dataType, int64Data: data } : type === "double" ? { name, dims: t.dims, dataType, doubleData: data } : { name, dims: t.dims, dataType, floatData: data };
}
const enc = new TextEncoder();

function attribute(name: string, v: Attr): object {
  if (typeof v === "string") return { name, type: A_STRING, s: enc.encode(v) };
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: A_INT, i: v } : { name, type: A_FLOAT, f: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "string") return { name, type: A_STRINGS, strings: (v as string[]).map((s) => enc.encode(s)) };
    return (v as number[]).every(Number.isInteger) ? { name, type: A_INTS, ints: v } : { name, type: A_FLOATS, floats: v };
  }
  if ("tensor" in v) return { name, type: A_TENSOR, t: tensorProto("", v.tensor) };
  return "floats" in v ? { name, type: A_FLOATS, floats: v.floats } : { name, type: A_INTS, ints: v.ints };
}

const dim = (d: number | string): object => (typeof d === "number" ? { dimValue: d } : { dimParam: d });

/** The bytes of an ONNX model with one float input "x" of shape [N, features]. */
export function buildOnnx(g: GraphSpec): Uint8Array {
  const usesMl = g.nodes.some((n) => n.domain === "ai.onnx.ml");
  const input = g.inputName ?? "x";
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
      initializer: Object.entries(g.initializers ?? {}).map(([name, t]) => tensorProto(name, t)),
      input: [{ name: input, type: { tensorType: { elemType: FLOAT, shape: { dim: [dim("N"), ...(g.inputDims ?? [g.features]).map(dim)] } } } }],
      output: g.outputs.map((o) => (o.type === "map" ? { name: o.name } : {
        name: o.name,
        type: { tensorType: { elemType: o.type === "int64" ? INT64 : o.type === "string" ? STRING : FLOAT, ...(o.dims === undefined ? {} : { shape: { dim: o.dims.map((d) => dim(d < 0 ? "N" : d)) } }) } },
      })),
    },
  };
  return onnxModelType.encode(onnxModelType.fromObject(model)).finish();
}

/**
 * onnxruntime-node's outputs on the rows (float32 input, of dims [rows, ...inputDims]), each as a flat array
 * (strings as they are); `model` may be a file path (for external data beside it); `fetches` limits the
 * outputs (ZipMap's maps are skipped).
 */
export async function runOrt(model: Uint8Array | string, X: number[][], inputDims?: number[], fetches?: string[]): Promise<Record<string, number[]>> {
  const session = typeof model === "string" ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const cols = X[0]!.length;
    const x = new ort.Tensor("float32", Float32Array.from(X.flat()), [X.length, ...(inputDims ?? [cols])]);
    const out = fetches === undefined ? await session.run({ [session.inputNames[0]!]: x }) : await session.run({ [session.inputNames[0]!]: x }, fetches);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number | bigint | string>, (v) => (typeof v === "string" ? v : Number(v))) as number[]]));
  } finally {
    await session.release();
  }
}
