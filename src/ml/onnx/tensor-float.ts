// The float evaluation of a lowered convolutional network, as ONNX defines each stage: the reference that
// onnxruntime checks in the tests and that post-training quantization approximates.
import type { Shape3, TensorGraph, TensorStage } from "./tensor-graph.js";
import { convolve, pool } from "./tensor-window.js";

const size = (s: Shape3): number => s[0] * s[1] * s[2];

/** One stage on one sample (a fresh array). */
export function floatStage(st: TensorStage, x: Float64Array): Float64Array {
  switch (st.kind) {
    case "conv": {
      const O = st.out[0], P = st.out[1] * st.out[2];
      const y = convolve(x, st.in, st.W, O, st.group, st.window);
      for (let k = 0; k < y.length; k++) y[k]! += st.b[Math.floor(k / P)]!;
      return y;
    }
    case "dense": {
      const y = Float64Array.from(st.b);
      for (let i = 0; i < st.in; i++) {
        const v = x[i]!;
        if (v !== 0) for (let j = 0; j < st.out; j++) y[j]! += v * st.W[i * st.out + j]!;
      }
      return y;
    }
    case "affine": {
      const P = st.shape[1] * st.shape[2];
      return Float64Array.from(x, (v, k) => st.scale[Math.floor(k / P)]! * v + st.shift[Math.floor(k / P)]!);
    }
    case "act": {
      const P = st.shape[1] * st.shape[2];
      return Float64Array.from(x, (v, k) => st.act.f(v, Math.floor(k / P)));
    }
    case "maxpool": return pool(x, st.in, st.window, "max");
    case "avgpool": return pool(x, st.in, st.window, st.countPad ? "mean-kernel" : "mean-inside");
  }
}

/** The graph's outputs on rows (row-major [rows × features], each a sample in C order), with its final Sigmoid/Softmax or without. */
export function evaluateTensorGraph(g: TensorGraph, X: Float64Array, rows: number, withTail = true): Float64Array {
  const F = size(g.input), K = g.outputs, out = new Float64Array(rows * K);
  for (let i = 0; i < rows; i++) {
    let v = X.subarray(i * F, (i + 1) * F) as Float64Array;
    for (const st of g.stages) v = floatStage(st, v);
    if (withTail && g.tail?.kind === "sigmoid") v = v.map((z) => 1 / (1 + Math.exp(-z)));
    if (withTail && g.tail?.kind === "softmax") {
      const m = Math.max(...v);
      v = v.map((z) => Math.exp(z - m));
      const z = v.reduce((a, b) => a + b, 0);
      v = v.map((e) => e / z);
    }
    out.set(v, i * K);
  }
  return out;
}
