// Free-function forms of the traced ops, in the manner of Concrete's `fhe.univariate` / `fhe.round_bit_pattern`.
import { GraphError } from "../runtime/errors.js";
import type { AvgDivisor, Conv2dOptions, Pool2dOptions } from "./nn.js";
import { type IndexSpec, type NestedOperand, type Operand, type RoundOptions, Tracer } from "./tracer.js";

function tracerOf(x: unknown, what: string): Tracer {
  if (!(x instanceof Tracer)) throw new GraphError(`${what}: expected a traced value`);
  return x;
}

/** Lookup of any univariate integer function f, element-wise (evaluated on the whole input range for the table). */
export function lut(x: Tracer, f: (v: number) => number, label?: string): Tracer {
  return tracerOf(x, "lut").lut(f, label);
}

/** truncate(x, lsbs): x down to a multiple of 2^lsbs (floor, exact). */
export function truncate(x: Tracer, lsbs: number): Tracer {
  return tracerOf(x, "truncate").truncate(lsbs);
}

/** f(x, y) element-wise by a lookup of two values (one PBS per element when encrypted); one side may be clear. */
export function lut2(x: Operand, y: Operand, f: (x: number, y: number) => number, label?: string): Tracer {
  return x instanceof Tracer ? x.lut2(y, f, label) : tracerOf(y, "lut2").lut2(x, (b, a) => f(a, b), label);
}

/** round(x, lsbs): x to the nearest multiple of 2^lsbs (ties up), so a following lookup needs lsbs fewer bits. */
export function round(x: Tracer, lsbs: number, options?: RoundOptions): Tracer {
  return tracerOf(x, "round").round(lsbs, options);
}

export function relu(x: Tracer): Tracer {
  return tracerOf(x, "relu").relu();
}

export function abs(x: Tracer): Tracer {
  return tracerOf(x, "abs").abs();
}

export function clip(x: Tracer, lo: number, hi: number): Tracer {
  return tracerOf(x, "clip").clip(lo, hi);
}

/** Element-wise minimum; at least one argument is traced. */
export function minimum(a: Operand, b: Operand): Tracer {
  return a instanceof Tracer ? a.min(b) : tracerOf(b, "minimum").min(a);
}

/** Element-wise maximum; at least one argument is traced. */
export function maximum(a: Operand, b: Operand): Tracer {
  return a instanceof Tracer ? a.max(b) : tracerOf(b, "maximum").max(a);
}

/** a @ b where either side may be a clear constant (e.g. matmul(W, x)); NumPy's matmul rules (see Tracer.matmul). */
export function matmul(a: Operand, b: Operand): Tracer {
  if (a instanceof Tracer) return a.matmul(b);
  const tb = tracerOf(b, "matmul");
  return tb.builder.operand(a).matmul(tb);
}

export function concat(parts: readonly Tracer[], axis = 0): Tracer {
  return Tracer.concat(parts, axis);
}

export function stack(parts: readonly Operand[], axis = 0): Tracer {
  return Tracer.stack(parts, axis);
}

/** A tensor from nested arrays of traced values and numbers (Concrete's fhe.array); see Tracer.array. */
export function array(nested: NestedOperand): Tracer {
  return Tracer.array(nested);
}

/** Clear zeros in the current trace (set encrypted values into them with `.at(…).set(v)`). */
export function zeros(shape: readonly number[]): Tracer {
  return Tracer.zeros(shape);
}

export function ones(shape: readonly number[]): Tracer {
  return Tracer.ones(shape);
}

/** cond ? a : b element-wise, for cond in {0, 1}: b + cond·(a − b) (see Tracer.where). */
export function where(cond: Operand, a: Operand, b: Operand): Tracer {
  return Tracer.where(cond, a, b);
}

export function transpose(x: Tracer, axes?: readonly number[]): Tracer {
  return tracerOf(x, "transpose").transpose(axes);
}

export function expandDims(x: Tracer, axis: number | readonly number[]): Tracer {
  return tracerOf(x, "expandDims").expandDims(axis);
}

export function squeeze(x: Tracer, axis?: number | readonly number[]): Tracer {
  return tracerOf(x, "squeeze").squeeze(axis);
}

export function sum(x: Tracer, axis?: number | readonly number[] | null, keepdims = false): Tracer {
  return tracerOf(x, "sum").sum(axis, keepdims);
}

/** Maximum over axes (NumPy's amax); `maximum` is the element-wise form. */
export function amax(x: Tracer, axis?: number | readonly number[] | null, keepdims = false): Tracer {
  return tracerOf(x, "amax").amax(axis, keepdims);
}

/** Minimum over axes (NumPy's amin); `minimum` is the element-wise form. */
export function amin(x: Tracer, axis?: number | readonly number[] | null, keepdims = false): Tracer {
  return tracerOf(x, "amin").amin(axis, keepdims);
}

/** x[...specs] with NumPy semantics (see Tracer.index). */
export function index(x: Tracer, ...specs: IndexSpec[]): Tracer {
  return tracerOf(x, "index").index(...specs);
}

/** PyTorch's conv2d(input, weight, bias, stride, padding, dilation, groups) on NCHW input, OIHW weight. */
export function conv2d(x: Tracer, weight: Operand, options: Conv2dOptions = {}): Tracer {
  return tracerOf(x, "conv2d").conv2d(weight, options);
}

export function maxpool2d(x: Tracer, options: Pool2dOptions): Tracer {
  return tracerOf(x, "maxpool2d").maxpool2d(options);
}

export function avgpool2d(x: Tracer, options: Pool2dOptions & { readonly divisor?: AvgDivisor }): Tracer {
  return tracerOf(x, "avgpool2d").avgpool2d(options);
}
