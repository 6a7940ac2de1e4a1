// The circuit of a quantized convolutional network on a batch of flattened rows, on the compiler's tensor
// ops: conv2d, maxpool2d, avgpool2d (a sum: the divisor is in the scale), matmul, and one lookup per element
// with a table per channel. Padding that the compiler's ops take symmetric (conv2d: any; pools: at most half
// the kernel) is passed to them; other padding is written out as clear zeros around the input, which reads
// the same (zero for a convolution or a sum; for a maximum of codes ≥ 0, never above the window's maximum).
import { avgpool2d, concat, conv2d, lut, maxpool2d, round, type Tracer, type TraceFn, zeros } from "../../compiler/index.js";
import type { IntegerStage, TensorNetwork } from "./tensor-quantize.js";
import type { Window } from "./tensor-window.js";

/** A clear constant of the given shape in x's trace. */
function constant(x: Tracer, shape: readonly number[], data: ArrayLike<number>): Tracer {
  return x.builder.operand(Float64Array.from(data)).reshape(shape);
}

/** x [B, C, H, W] with `pads` [top, left, bottom, right] zeros around its spatial axes. */
function padded(x: Tracer, pads: Window["pads"]): Tracer {
  const [B, C] = x.shape as [number, number, number, number];
  let y = x;
  const [t, l, b, r] = pads;
  if (t + b > 0) y = concat([...(t > 0 ? [zeros([B, C, t, y.shape[3]!])] : []), y, ...(b > 0 ? [zeros([B, C, b, y.shape[3]!])] : [])], 2);
  if (l + r > 0) y = concat([...(l > 0 ? [zeros([B, C, y.shape[2]!, l])] : []), y, ...(r > 0 ? [zeros([B, C, y.shape[2]!, r])] : [])], 3);
  return y;
}

/** The input and the padding to pass to an op that pads symmetrically by at most `limit` per axis. */
function withPadding(x: Tracer, w: Window, limit: readonly [number, number]): { x: Tracer; padding: [number, number] } {
  const [t, l, b, r] = w.pads;
  if (t === b && l === r && t <= limit[0] && l <= limit[1]) return { x, padding: [t, l] };
  return { x: padded(x, w.pads), padding: [0, 0] };
}

function stage(a: Tracer, st: IntegerStage, index: number): Tracer {
  const B = a.shape[0]!;
  switch (st.kind) {
    case "conv": {
      const w = st.window, O = st.out[0], Cg = st.in[0] / st.group;
      const { x, padding } = withPadding(a, w, [Infinity, Infinity]);
      const weight = constant(a, [O, Cg, w.kernel[0], w.kernel[1]], st.Q);
      return conv2d(x, weight, { stride: [...w.stride], padding, dilation: [...w.dilation], groups: st.group });
    }
    case "dense":
      return a.reshape([B, st.in]).matmul(constant(a, [st.in, st.out], st.Q)).reshape([B, st.out, 1, 1]);
    case "lookup": {
      const [C, H, W] = st.shape;
      const acc = st.bias === undefined ? a : a.add(constant(a, [C, H, W], st.bias));
      // relu∘requantize∘round~ (or another activation) is one PBS per element on the accumulator's top bits.
      const parts = st.units.map((u, c) => {
        const v = C === 1 ? acc : acc.slice(null, [c, c + 1]);
        return lut(u.lsbs > 0 ? round(v, u.lsbs, { approximate: !u.exact }) : v, u.table, `${st.op} ${index}.${c}`);
      });
      return parts.length === 1 ? parts[0]! : concat(parts, 1);
    }
    case "maxpool": case "sumpool": {
      const w = st.window;
      const { x, padding } = withPadding(a, w, [Math.floor(w.kernel[0] / 2), Math.floor(w.kernel[1] / 2)]);
      const options = { kernel: [...w.kernel] as [number, number], stride: [...w.stride] as [number, number], padding, dilation: [...w.dilation] as [number, number] };
      return st.kind === "maxpool" ? maxpool2d(x, options) : avgpool2d(x, { ...options, divisor: "none" });
    }
  }
}

/** The circuit on [batch × features] rows of input codes: [batch × outputs] integers. */
export function tensorCircuit(net: TensorNetwork): TraceFn {
  return (x: Tracer) => {
    const B = x.shape[0]!;
    let a = x.reshape([B, ...net.input]);
    net.stages.forEach((st, k) => (a = stage(a, st, k)));
    return a.reshape([B, a.size / B]);
  };
}
