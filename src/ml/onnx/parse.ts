// ONNX bytes → a checked graph of float tensors: one float input [batch, features], one output, the nodes
// in order, and the initializers decoded to Float64Array (raw little-endian data or the typed fields).
import { MlInputError, MlUnsupportedError } from "../errors.js";
import { onnxModelType } from "./schema.js";

export interface OnnxTensor {
  readonly dims: number[];
  readonly data: Float64Array;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly f?: number;
  readonly i?: number;
  readonly floats?: number[];
  readonly ints?: number[];
  readonly s?: string;
  readonly strings?: string[];
  readonly t?: OnnxTensor;
}

export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: Map<string, OnnxAttribute>;
}

export interface OnnxGraph {
  readonly producer: string;
  readonly opset: number;
  /** The feature tensor: its dims after the batch ([features], or [C, L] / [C, H, W] for convolutional networks) and their product. */
  readonly input: { readonly name: string; readonly features: number; readonly shape: number[] };
  /** The first graph output (a classifier of the ai.onnx.ml domain has its label first, then its scores). */
  readonly output: string;
  readonly outputs: string[];
  readonly nodes: OnnxNode[];
  readonly initializers: Map<string, OnnxTensor>;
}

// TensorProto.DataType values (onnx.proto).
const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

interface RawTensor {
  dims?: number[]; dataType?: number; floatData?: number[]; int32Data?: number[]; int64Data?: number[]; doubleData?: number[];
  rawData?: Uint8Array; name?: string; dataLocation?: number;
}

function tensorOf(t: RawTensor, where: string): OnnxTensor {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  if (t.dataLocation === 1) throw new MlUnsupportedError(`ONNX ${where}: tensor ${t.name ?? ""} keeps its data in an external file; export with the weights inside the model`);
  const raw = t.rawData !== undefined && t.rawData.length > 0 ? t.rawData : undefined;
  let data: Float64Array;
  const view = raw === undefined ? undefined : new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (t.dataType) {
    case FLOAT:
      data = view !== undefined ? Float64Array.from({ length: raw!.length / 4 }, (_, k) => view.getFloat32(4 * k, true)) : Float64Array.from(t.floatData ?? []);
      break;
    case DOUBLE:
      data = view !== undefined ? Float64Array.from({ length: raw!.length / 8 }, (_, k) => view.getFloat64(8 * k, true)) : Float64Array.from(t.doubleData ?? []);
      break;
    case INT64:
      data = view !== undefined ? Float64Array.from({ length: raw!.length / 8 }, (_, k) => Number(view.getBigInt64(8 * k, true))) : Float64Array.from(t.int64Data ?? [], Number);
      break;
    case INT32:
      data = view !== undefined ? Float64Array.from({ length: raw!.length / 4 }, (_, k) => view.getInt32(4 * k, true)) : Float64Array.from(t.int32Data ?? []);
      break;
    default:
      throw new MlUnsupportedError(`ONNX ${where}: tensor ${t.name ?? ""} has data type ${String(t.dataType)}; float, double, int32 and int64 are supported`);
  }
  if (data.length !== n) throw new MlInputError(`ONNX ${where}: tensor ${t.name ?? ""} has ${data.length} values for dims [${dims}]`);
  return { dims, data };
}

type RawAttribute = Omit<OnnxAttribute, "t" | "s" | "strings"> & { t?: RawTensor; s?: Uint8Array; strings?: Uint8Array[] };

const utf8 = new TextDecoder();

/** Decodes and checks an ONNX model (the bytes of a .onnx file). */
export function parseOnnx(bytes: Uint8Array): OnnxGraph {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new MlInputError("importOnnx: expected the bytes of a .onnx file (a non-empty Uint8Array)");
  let m: {
    producerName?: string; opsetImport?: { domain?: string; version?: number }[];
    graph?: {
      node?: { input?: string[]; output?: string[]; name?: string; opType?: string; domain?: string; attribute?: RawAttribute[] }[];
      initializer?: RawTensor[];
      input?: { name?: string; type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } } }[];
      output?: { name?: string }[];
    };
  };
  try {
    m = onnxModelType.toObject(onnxModelType.decode(bytes), { longs: Number, defaults: false }) as typeof m;
  } catch (e) {
    throw new MlInputError(`importOnnx: not an ONNX model (${(e as Error).message})`);
  }
  const g = m.graph;
  if (g === undefined || g.node === undefined || g.node.length === 0) throw new MlInputError("importOnnx: the model has no graph or no nodes");
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name ?? "", tensorOf(t, "initializer")]));
  const inputs = (g.input ?? []).filter((i) => !initializers.has(i.name ?? ""));
  if (inputs.length !== 1) throw new MlUnsupportedError(`importOnnx: expected one graph input (the feature rows), got ${inputs.length}`);
  const tt = inputs[0]!.type?.tensorType;
  const dims = tt?.shape?.dim ?? [];
  const shape = dims.slice(1).map((d) => Number(d.dimValue));
  if ((tt?.elemType !== FLOAT && tt?.elemType !== DOUBLE) || dims.length < 2 || dims.length > 4 || !shape.every((d) => d > 0)) {
    throw new MlUnsupportedError(`importOnnx: the input must be a float tensor [batch, features], [batch, C, L] or [batch, C, H, W] with fixed dims after the batch`);
  }
  const outputs = (g.output ?? []).map((o) => o.name ?? "");
  if (outputs.length === 0) throw new MlUnsupportedError("importOnnx: the graph has no output");
  const opset = (m.opsetImport ?? []).find((o) => (o.domain ?? "") === "")?.version ?? 0;
  const nodes = g.node.map((n, k): OnnxNode => ({
    opType: n.opType ?? "", name: n.name || `#${k}`, domain: n.domain ?? "", inputs: n.input ?? [], outputs: n.output ?? [],
    attributes: new Map((n.attribute ?? []).map((a): [string, OnnxAttribute] => {
      const { t, s, strings, ...rest } = a;
      return [a.name, {
        ...rest,
        ...(t === undefined ? {} : { t: tensorOf(t, `node ${n.name} attribute ${a.name}`) }),
        ...(s === undefined ? {} : { s: utf8.decode(s) }),
        ...(strings === undefined ? {} : { strings: strings.map((b) => utf8.decode(b)) }),
      }];
    })),
  }));
  return {
    producer: m.producerName ?? "", opset, input: { name: inputs[0]!.name ?? "", features: shape.reduce((a, d) => a * d, 1), shape },
    output: outputs[0]!, outputs, nodes, initializers,
  };
}
