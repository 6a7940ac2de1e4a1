// The univariate element-wise operators of the ai.onnx domain as float functions of one value and its
// column. Any composition of them between two affine maps is a function of one accumulator per unit, so the
// encrypted network computes it with the same single lookup as relu (the table is built from the float
// function). Formulas from the ONNX operator specification; each is checked against onnxruntime-node in
// test/ml/onnx-activations.test.ts.
import { MlUnsupportedError } from "../errors.js";
import type { OnnxNode } from "./parse.js";

/** f(x) for unit (column) k. */
export type ColumnFn = (x: number, k: number) => number;

/** What an operator's definition reads besides its first input: attributes and constant inputs. */
export interface OpContext {
  readonly node: OnnxNode;
  readonly opset: number;
  /** Number of columns of the feature tensor the op reads. */
  readonly columns: number;
  /** A numeric attribute, or undefined. */
  attr(name: string): number | undefined;
  /** Constant input k as a value per column ([], [1], [m] or [1, m]), undefined when absent (""), an error when not constant. */
  constInput(k: number): Float64Array | undefined;
}

function unsupported(node: OnnxNode, why: string): MlUnsupportedError {
  return new MlUnsupportedError(`ONNX node ${node.name} (${node.opType}): ${why}`);
}

/** erf to double precision: its Maclaurin series below |x| = 3, the continued fraction of erfc above (A&S 7.1.5, 7.1.14). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 3) {
    let term = a, sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      const d = term / (2 * n + 1);
      sum += d;
      if (Math.abs(d) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (a > 6) return Math.sign(x);
  // erfc(a) = e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail.
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + e^x) without overflow. */
const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));
const SELU_ALPHA = 1.67326319217681884765625, SELU_GAMMA = 1.05070102214813232421875;

type Definition = (c: OpContext) => ColumnFn;

/** A scalar attribute (default when absent). */
const scalar = (c: OpContext, name: string, fallback: number): number => c.attr(name) ?? fallback;

/**
 * The univariate operators: each maps its context to f(x, k). Those that read constant inputs (PRelu's
 * slope, Clip's bounds from opset 11, Pow's exponent) take them per column.
 */
export const UNARY_OPS: Readonly<Record<string, Definition>> = {
  Relu: () => (x) => Math.max(0, x),
  Sigmoid: () => sigmoid,
  Tanh: () => Math.tanh,
  LeakyRelu: (c) => {
    const a = scalar(c, "alpha", 0.01);
    return (x) => (x >= 0 ? x : a * x);
  },
  PRelu: (c) => {
    const slope = c.constInput(1);
    if (slope === undefined) throw unsupported(c.node, "the slope must be a constant");
    return (x, k) => (x >= 0 ? x : slope[k]! * x);
  },
  Elu: (c) => {
    const a = scalar(c, "alpha", 1);
    return (x) => (x >= 0 ? x : a * Math.expm1(x));
  },
  Selu: (c) => {
    const a = scalar(c, "alpha", SELU_ALPHA), g = scalar(c, "gamma", SELU_GAMMA);
    return (x) => g * (x > 0 ? x : a * Math.expm1(x));
  },
  Celu: (c) => {
    const a = scalar(c, "alpha", 1);
    return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
  },
  ThresholdedRelu: (c) => {
    const a = scalar(c, "alpha", 1);
    return (x) => (x > a ? x : 0);
  },
  HardSigmoid: (c) => {
    const a = scalar(c, "alpha", 0.2), b = scalar(c, "beta", 0.5);
    return (x) => Math.max(0, Math.min(1, a * x + b));
  },
  HardSwish: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Softplus: () => softplus,
  Softsign: () => (x) => x / (1 + Math.abs(x)),
  Mish: () => (x) => x * Math.tanh(softplus(x)),
  Gelu: (c) => {
    const approximate = c.node.attributes.get("approximate")?.s ?? "none";
    if (approximate === "tanh") return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    if (approximate !== "none") throw unsupported(c.node, `approximate = "${approximate}" (expected "none" or "tanh")`);
    return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
  },
  Clip: (c) => {
    // Bounds are attributes before opset 11 and optional constant inputs from it on.
    let lo = -Infinity, hi = Infinity;
    if (c.opset < 11) {
      lo = scalar(c, "min", -Infinity);
      hi = scalar(c, "max", Infinity);
    } else {
      const mn = c.constInput(1), mx = c.constInput(2);
      if (mn !== undefined) lo = mn[0]!;
      if (mx !== undefined) hi = mx[0]!;
    }
    return (x) => Math.min(hi, Math.max(lo, x));
  },
  Abs: () => Math.abs,
  Neg: () => (x) => -x,
  Exp: () => Math.exp,
  Erf: () => erf,
  Sqrt: () => Math.sqrt,
  Log: () => Math.log,
  Reciprocal: () => (x) => 1 / x,
  Sin: () => Math.sin,
  Cos: () => Math.cos,
  Sign: () => Math.sign,
  Floor: () => Math.floor,
  Ceil: () => Math.ceil,
  // Round half to even, as ONNX specifies.
  Round: () => (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  Pow: (c) => {
    const e = c.constInput(1);
    if (e === undefined) throw unsupported(c.node, "the exponent must be a constant");
    return (x, k) => Math.pow(x, e[k]!);
  },
};

/** Operators whose float function can be undefined (NaN) or infinite on part of the line. */
export const PARTIAL_OPS: ReadonlySet<string> = new Set(["Sqrt", "Log", "Reciprocal", "Pow"]);

/** The float function of a univariate operator, or undefined when the operator is not one. */
export function unaryFunction(c: OpContext): ColumnFn | undefined {
  const def = UNARY_OPS[c.node.opType];
  return def === undefined ? undefined : def(c);
}
