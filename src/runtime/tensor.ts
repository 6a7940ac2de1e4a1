// Clear tensors: a static shape and row-major Float64Array data holding integers. Float64 rather than Int32
// because accumulators exceed 32 bits; every value must stay a safe integer (|v| < 2^53), which is checked.
import { GraphError } from "./errors.js";
import { type Shape, formatShape, sameShape, sizeOf } from "./shape.js";

export interface Tensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/** What users pass as a value: a number, nested arrays of numbers, or a flat typed array (row-major). */
export type TensorLike = number | Int32Array | Float64Array | readonly TensorLike[];

export function tensor(shape: Shape, data: Float64Array): Tensor {
  return { shape, data };
}

/** Index of the first element that is not a safe integer, or -1. */
export function firstUnsafe(data: Float64Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isSafeInteger(data[i]!)) return i;
  return -1;
}

/** Integers have no −0; float arithmetic (neg, products, %) makes some. Rewrites them in place to 0. */
export function clearNegativeZeros(data: Float64Array): void {
  for (let i = 0; i < data.length; i++) if (data[i] === 0) data[i] = 0;
}

function nestedShape(v: TensorLike, what: string): number[] {
  if (typeof v === "number") return [];
  if (v instanceof Int32Array || v instanceof Float64Array) return [v.length];
  if (!Array.isArray(v) || v.length === 0) throw new GraphError(`${what}: expected a number or a non-empty array`);
  const inner = nestedShape(v[0]!, what);
  for (const e of v) {
    if (!sameShape(nestedShape(e, what), inner)) throw new GraphError(`${what}: ragged nested array`);
  }
  return [v.length, ...inner];
}

function flattenInto(v: TensorLike, out: number[]): void {
  if (typeof v === "number") out.push(v);
  else if (v instanceof Int32Array || v instanceof Float64Array) for (const e of v) out.push(e);
  else for (const e of v) flattenInto(e, out);
}

/**
 * Converts a value to a tensor of safe integers. With `shape`, a flat typed array or flat list of the right
 * size is reshaped to it; nested arrays must match it exactly.
 */
export function toTensor(value: TensorLike | Tensor, options: { what: string; shape?: Shape }): Tensor {
  const { what, shape } = options;
  let t: Tensor;
  if (typeof value === "object" && value !== null && "data" in value && "shape" in value) {
    t = { shape: [...value.shape], data: Float64Array.from(value.data) };
  } else {
    const flat: number[] = [];
    const natural = nestedShape(value as TensorLike, what);
    flattenInto(value as TensorLike, flat);
    t = { shape: natural, data: Float64Array.from(flat) };
  }
  if (shape !== undefined && !sameShape(t.shape, shape)) {
    const flatInput = t.shape.length === 1 && sizeOf(t.shape) === sizeOf(shape);
    if (!flatInput) throw new GraphError(`${what}: shape ${formatShape(t.shape)} does not match ${formatShape(shape)}`);
    t = { shape: [...shape], data: t.data };
  }
  const bad = firstUnsafe(t.data);
  if (bad >= 0) throw new GraphError(`${what}: element ${bad} = ${t.data[bad]} is not a safe integer`);
  clearNegativeZeros(t.data);
  return t;
}

/** Nested arrays (or a number for a scalar) from a tensor, for printing and comparisons in tests. */
export function toNested(t: Tensor): number | unknown[] {
  if (t.shape.length === 0) return t.data[0]!;
  const build = (axis: number, offset: number, stride: number): unknown[] => {
    const n = t.shape[axis]!;
    const inner = stride / n;
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push(axis === t.shape.length - 1 ? t.data[offset + i]! : build(axis + 1, offset + i * inner, inner));
    }
    return out;
  };
  return build(0, 0, t.data.length);
}
