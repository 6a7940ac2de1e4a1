// ONNX bytes → a checked graph of float tensors: one float input [batch, features], one output, the nodes
// in order, and the initializers decoded to Float64Array (raw little-endian data, the typed fields, or a
// file of external data the caller reads), string tensors as strings.
import { MlInputError, MlUnsupportedError } from "../errors.js";
import { onnxModelType } from "./schema.js";

export interface OnnxTensor {
  readonly dims: number[];
  readonly data: Float64Array;
  /** A string tensor's values (its data is then zeros). */
  readonly strings?: string[];
}

/** Reads the external data file a tensor names (its `location`, relative to the model's directory). */
export type ExternalDataReader = (location: string) => Uint8Array;

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
const FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;

interface RawTensor {
  dims?: number[]; dataType?: number; floatData?: number[]; int32Data?: number[]; int64Data?: number[]; doubleData?: number[];
  uint64Data?: number[]; stringData?: Uint8Array[]; rawData?: Uint8Array; name?: string; dataLocation?: number;
  externalData?: { key?: string; value?: string }[];
}

/** IEEE half precision to a number. */
function half(h: number): number {
  const e = (h >> 10) & 31, f = h & 1023, s = h >> 15 ? -1 : 1;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Little-endian raw values of each type: bytes per value and the reader. */
const RAW: Readonly<Record<number, [number, (v: DataView, o: number) => number]>> = {
  [FLOAT]: [4, (v, o) => v.getFloat32(o, true)], [DOUBLE]: [8, (v, o) => v.getFloat64(o, true)],
  [INT64]: [8, (v, o) => Number(v.getBigInt64(o, true))], [UINT64]: [8, (v, o) => Number(v.getBigUint64(o, true))],
  [INT32]: [4, (v, o) => v.getInt32(o, true)], [UINT32]: [4, (v, o) => v.getUint32(o, true)],
  [INT16]: [2, (v, o) => v.getInt16(o, true)], [UINT16]: [2, (v, o) => v.getUint16(o, true)],
  [INT8]: [1, (v, o) => v.getInt8(o)], [UINT8]: [1, (v, o) => v.getUint8(o)], [BOOL]: [1, (v, o) => v.getUint8(o)],
  [FLOAT16]: [2, (v, o) => half(v.getUint16(o, true))], [BFLOAT16]: [2, (v, o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0]!],
};

/** The bytes of a tensor stored outside the model (external_data: location, offset, length). */
function externalBytes(t: RawTensor, where: string, read: ExternalDataReader | undefined): Uint8Array {
  const entry = (k: string): string | undefined => t.externalData?.find((e) => e.key === k)?.value;
  const location = entry("location");
  if (read === undefined || location === undefined) {
    throw new MlUnsupportedError(`ONNX ${where}: tensor ${t.name ?? ""} keeps its data in an external file${location === undefined ? "" : ` (${location})`}; pass importOnnx(bytes, { externalData: (location) => bytes }) (umbra compile reads it beside the model), or export with the weights inside the model`);
  }
  const bytes = read(location), offset = Number(entry("offset") ?? 0), length = entry("length") === undefined ? bytes.length - offset : Number(entry("length"));
  if (!(offset >= 0 && length >= 0 && offset + length <= bytes.length)) throw new MlInputError(`ONNX ${where}: tensor ${t.name ?? ""}: bytes ${offset}…${offset + length} of ${location} (${bytes.length} bytes)`);
  return bytes.subarray(offset, offset + length);
}

function tensorOf(t: RawTensor, where: string, read?: ExternalDataReader): OnnxTensor {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  const type = t.dataType ?? 0;
  if (type === STRING) {
    const strings = (t.stringData ?? []).map((b) => utf8.decode(b));
    if (strings.length !== n) throw new MlInputError(`ONNX ${where}: tensor ${t.name ?? ""} has ${strings.length} strings for dims [${dims}]`);
    return { dims, data: new Float64Array(n), strings };
  }
  const raw = t.dataLocation === 1 ? externalBytes(t, where, read) : t.rawData !== undefined && t.rawData.length > 0 ? t.rawData : undefined;
  const codec = RAW[type];
  if (codec === undefined) throw new MlUnsupportedError(`ONNX ${where}: tensor ${t.name ?? ""} has data type ${String(t.dataType)}; numeric and string tensors are supported`);
  let data: Float64Array;
  if (raw !== undefined) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength), [size, get] = codec;
    data = Float64Array.from({ length: Math.floor(raw.length / size) }, (_, k) => get(view, size * k));
  } else if (type === FLOAT) data = Float64Array.from(t.floatData ?? []);
  else if (type === DOUBLE) data = Float64Array.from(t.doubleData ?? []);
  else if (type === INT64) data = Float64Array.from(t.int64Data ?? [], Number);
  else if (type === UINT32 || type === UINT64) data = Float64Array.from(t.uint64Data ?? [], Number);
  // The small integer and half types sit in int32_data (half as its bit pattern).
  else if (type === FLOAT16) data = Float64Array.from(t.int32Data ?? [], half);
  else if (type === BFLOAT16) data = Float64Array.from(t.int32Data ?? [], (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);
  else data = Float64Array.from(t.int32Data ?? []);
  if (data.length !== n) throw new MlInputError(`ONNX ${where}: tensor ${t.name ?? ""} has ${data.length} values for dims [${dims}]`);
  return { dims, data };
}

type RawAttribute = Omit<OnnxAttribute, "t" | "s" | "strings"> & { t?: RawTensor; s?: Uint8Array; strings?: Uint8Array[] };

const utf8 = new TextDecoder();

/** Decodes and checks an ONNX model (the bytes of a .onnx file; `externalData` reads the files its tensors name). */
export function parseOnnx(bytes: Uint8Array, externalData?: ExternalDataReader): OnnxGraph {
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
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name ?? "", tensorOf(t, "initializer", externalData)]));
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
        ...(t === undefined ? {} : { t: tensorOf(t, `node ${n.name} attribute ${a.name}`, externalData) }),
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
