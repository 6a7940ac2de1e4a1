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

/**
 * An operator's float function from its context, and whether that function is non-decreasing (a constant or
 * a function of the attributes): the tensor path moves only those before a max pooling, since
 * f(max(a, b)) = max(f(a), f(b)) holds for every a, b exactly when f is non-decreasing.
 */
interface Definition {
  readonly f: (c: OpContext) => ColumnFn;
  readonly nonDecreasing: boolean | ((c: OpContext) => boolean);
}

/** A scalar attribute (default when absent). */
const scalar = (c: OpContext, name: string, fallback: number): number => c.attr(name) ?? fallback;

/**
 * The univariate operators: each maps its context to f(x, k). Those that read constant inputs (PRelu's
 * slope, Clip's bounds from opset 11, Pow's exponent) take them per column.
 */
export const UNARY_OPS: Readonly<Record<string, Definition>> = {
  Relu: { nonDecreasing: true, f: () => (x) => Math.max(0, x) },
  Sigmoid: { nonDecreasing: true, f: () => sigmoid },
  Tanh: { nonDecreasing: true, f: () => Math.tanh },
  LeakyRelu: {
    nonDecreasing: (c) => scalar(c, "alpha", 0.01) >= 0,
    f: (c) => {
      const a = scalar(c, "alpha", 0.01);
      return (x) => (x >= 0 ? x : a * x);
    },
  },
  PRelu: {
    nonDecreasing: (c) => (c.constInput(1) ?? []).every((a) => a >= 0),
    f: (c) => {
      const slope = c.constInput(1);
      if (slope === undefined) throw unsupported(c.node, "the slope must be a constant");
      return (x, k) => (x >= 0 ? x : slope[k]! * x);
    },
  },
  Elu: {
    nonDecreasing: (c) => scalar(c, "alpha", 1) >= 0,
    f: (c) => {
      const a = scalar(c, "alpha", 1);
      return (x) => (x >= 0 ? x : a * Math.expm1(x));
    },
  },
  Selu: {
    nonDecreasing: (c) => scalar(c, "alpha", SELU_ALPHA) >= 0 && scalar(c, "gamma", SELU_GAMMA) >= 0,
    f: (c) => {
      const a = scalar(c, "alpha", SELU_ALPHA), g = scalar(c, "gamma", SELU_GAMMA);
      return (x) => g * (x > 0 ? x : a * Math.expm1(x));
    },
  },
  Celu: {
    nonDecreasing: (c) => scalar(c, "alpha", 1) > 0,
    f: (c) => {
      const a = scalar(c, "alpha", 1);
      return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
    },
  },
  ThresholdedRelu: {
    nonDecreasing: (c) => scalar(c, "alpha", 1) >= 0,
    f: (c) => {
      const a = scalar(c, "alpha", 1);
      return (x) => (x > a ? x : 0);
    },
  },
  HardSigmoid: {
    nonDecreasing: (c) => scalar(c, "alpha", 0.2) >= 0,
    f: (c) => {
      const a = scalar(c, "alpha", 0.2), b = scalar(c, "beta", 0.5);
      return (x) => Math.max(0, Math.min(1, a * x + b));
    },
  },
  HardSwish: { nonDecreasing: false, f: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)) },
  Softplus: { nonDecreasing: true, f: () => softplus },
  Softsign: { nonDecreasing: true, f: () => (x) => x / (1 + Math.abs(x)) },
  Mish: { nonDecreasing: false, f: () => (x) => x * Math.tanh(softplus(x)) },
  Gelu: {
    nonDecreasing: false,
    f: (c) => {
      const approximate = c.node.attributes.get("approximate")?.s ?? "none";
      if (approximate === "tanh") return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      if (approximate !== "none") throw unsupported(c.node, `approximate = "${approximate}" (expected "none" or "tanh")`);
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    },
  },
  Clip: {
    nonDecreasing: true,
    f: (c) => {
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
  },
  Abs: { nonDecreasing: false, f: () => Math.abs },
  Neg: { nonDecreasing: false, f: () => (x) => -x },
  Exp: { nonDecreasing: true, f: () => Math.exp },
  Erf: { nonDecreasing: true, f: () => erf },
  Sqrt: { nonDecreasing: true, f: () => Math.sqrt },
  Log: { nonDecreasing: true, f: () => Math.log },
  Reciprocal: { nonDecreasing: false, f: () => (x) => 1 / x },
  Sin: { nonDecreasing: false, f: () => Math.sin },
  Cos: { nonDecreasing: false, f: () => Math.cos },
  Sign: { nonDecreasing: true, f: () => Math.sign },
  Floor: { nonDecreasing: true, f: () => Math.floor },
  Ceil: { nonDecreasing: true, f: () => Math.ceil },
  // Round half to even, as ONNX specifies.
  Round: {
    nonDecreasing: true,
    f: () => (x) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
  },
  Pow: {
    nonDecreasing: false,
    f: (c) => {
      const e = c.constInput(1);
      if (e === undefined) throw unsupported(c.node, "the exponent must be a constant");
      return (x, k) => Math.pow(x, e[k]!);
    },
  },
};

/** Operators whose float function can be undefined (NaN) or infinite on part of the line. */
export const PARTIAL_OPS: ReadonlySet<string> = new Set(["Sqrt", "Log", "Reciprocal", "Pow"]);

/** The float function of a univariate operator, or undefined when the operator is not one. */
export function unaryFunction(c: OpContext): ColumnFn | undefined {
  const def = UNARY_OPS[c.node.opType];
  return def === undefined ? undefined : def.f(c);
}

/** Whether the operator's function is non-decreasing for these attributes and inputs (false when it is not one). */
export function isNonDecreasing(c: OpContext): boolean {
  const def = UNARY_OPS[c.node.opType];
  if (def === undefined) return false;
  return typeof def.nonDecreasing === "boolean" ? def.nonDecreasing : def.nonDecreasing(c);
}
