// Free-function forms of the traced ops, in the manner of Concrete's `fhe.univariate` / `fhe.round_bit_pattern`.
import { GraphError } from "./errors.js";
import { type Operand, Tracer } from "./tracer.js";

function tracerOf(x: unknown, what: string): Tracer {
  if (!(x instanceof Tracer)) throw new GraphError(`${what}: expected a traced value`);
  return x;
}

/** Lookup of any univariate integer function f, element-wise (evaluated on the whole input range for the table). */
export function lut(x: Tracer, f: (v: number) => number, label?: string): Tracer {
  return tracerOf(x, "lut").lut(f, label);
}

/** round(x, lsbs): x to the nearest multiple of 2^lsbs (ties up), so a following lookup needs lsbs fewer bits. */
export function round(x: Tracer, lsbs: number): Tracer {
  return tracerOf(x, "round").round(lsbs);
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

/** a @ b where either side may be a clear constant (e.g. matmul(W, x)). */
export function matmul(a: Operand, b: Operand): Tracer {
  if (a instanceof Tracer) return a.matmul(b);
  const tb = tracerOf(b, "matmul");
  return tb.builder.push({ kind: "matmul" }, [tb.builder.operand(a), tb]);
}

export function concat(parts: readonly Tracer[], axis = 0): Tracer {
  return Tracer.concat(parts, axis);
}
