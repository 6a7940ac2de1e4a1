// Index maps of the data-movement ops (NumPy indexing, transpose, sliding windows), computed in the clear
// at trace time. Each becomes one `gather` node: output element i is input element indices[i].
import { GraphError } from "../runtime/errors.js";
import { type Shape, broadcastMap, broadcastShapes, formatShape, sizeOf, stridesOf } from "../runtime/shape.js";

/** One axis of a selection, normalized against the axis size. */
export type AxisSelection =
  /** One position: the axis is dropped (an advanced index of shape [] when arrays are present). */
  | { readonly kind: "int"; readonly index: number }
  /** Positions start, start + step, … (length of them); step may be negative. */
  | { readonly kind: "range"; readonly start: number; readonly step: number; readonly length: number }
  /** An integer array of positions (fancy indexing), already wrapped into [0, size). */
  | { readonly kind: "array"; readonly shape: Shape; readonly data: Int32Array };

export interface IndexMap {
  readonly shape: Shape;
  readonly indices: Int32Array;
}

/**
 * Python's slice.indices(size): clamps start/stop like NumPy, for either sign of step. The length may be 0
 * (an empty range): callers reject it, as shapes have positive dimensions.
 */
export function normalizeRange(
  size: number, start: number | null | undefined, stop: number | null | undefined, step: number, what: string,
): AxisSelection {
  if (!Number.isInteger(step) || step === 0) throw new GraphError(`${what}: step ${step} must be a non-zero integer`);
  for (const v of [start, stop]) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) throw new GraphError(`${what}: bound ${v} is not an integer`);
  }
  const [lower, upper] = step > 0 ? [0, size] : [-1, size - 1];
  const clamp = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, lower), upper);
  };
  const s = clamp(start, step > 0 ? lower : upper);
  const e = clamp(stop, step > 0 ? upper : lower);
  const length = Math.max(0, step > 0 ? Math.ceil((e - s) / step) : Math.ceil((s - e) / -step));
  return { kind: "range", start: s, step, length };
}

/** A single position (negative counts from the end), checked against the axis size. */
export function normalizeInt(size: number, i: number, what: string): AxisSelection {
  const w = i < 0 ? i + size : i;
  if (!Number.isInteger(i) || w < 0 || w >= size) throw new GraphError(`${what}: index ${i} out of range for an axis of size ${size}`);
  return { kind: "int", index: w };
}

/** An integer index array (nested arrays or a typed array; negative entries count from the end). */
export function normalizeArray(size: number, data: readonly number[], shape: Shape, what: string): AxisSelection {
  const out = new Int32Array(data.length);
  data.forEach((i, j) => {
    const w = i < 0 ? i + size : i;
    if (!Number.isInteger(i) || w < 0 || w >= size) throw new GraphError(`${what}: index ${i} out of range for an axis of size ${size}`);
    out[j] = w;
  });
  if (out.length === 0) throw new GraphError(`${what}: an empty index array selects nothing (empty tensors are not supported)`);
  return { kind: "array", shape, data: out };
}

/**
 * NumPy indexing: one selection per axis. Without arrays, integer axes are dropped and ranges keep their
 * lengths. With arrays (advanced indexing), all array and integer selections broadcast together to one
 * block of dimensions; the block replaces the selected axes in place when they are adjacent, and goes
 * first otherwise (NumPy's rule).
 */
export function selectionMap(shape: Shape, sels: readonly AxisSelection[], what: string): IndexMap {
  if (sels.length !== shape.length) throw new GraphError(`${what}: ${sels.length} selections for shape ${formatShape(shape)}`);
  sels.forEach((s, ax) => {
    if (s.kind === "range" && s.length < 1) throw new GraphError(`${what}: the range on axis ${ax} selects nothing (empty tensors are not supported)`);
  });
  const strides = stridesOf(shape);
  const adv = sels.flatMap((s, ax) => (s.kind === "range" ? [] : [ax]));
  let advShape: Shape = [];
  for (const ax of adv) {
    const s = sels[ax]!;
    const b = broadcastShapes(advShape, s.kind === "array" ? s.shape : []);
    if (b === null) {
      const shapes = adv.map((a) => { const t = sels[a]!; return formatShape(t.kind === "array" ? t.shape : []); });
      throw new GraphError(`${what}: index arrays of shapes ${shapes.join(", ")} do not broadcast together`);
    }
    advShape = b;
  }
  const adjacent = adv.every((ax, i) => i === 0 || ax === adv[i - 1]! + 1);
  // Output layout: each entry is a range axis, or "block" for the broadcast advanced dimensions.
  const layout: (number | "block")[] = [];
  if (adv.length > 0 && !adjacent) layout.push("block");
  sels.forEach((s, ax) => {
    if (s.kind === "range") layout.push(ax);
    else if (adjacent && ax === adv[0]) layout.push("block");
  });
  const outShape = layout.flatMap((e) => (e === "block" ? [...advShape] : [(sels[e] as { length: number }).length]));
  const advMaps = adv.map((ax) => {
    const s = sels[ax]!;
    return s.kind === "array" ? broadcastMap(s.shape, advShape) : null;
  });
  const size = sizeOf(outShape);
  const indices = new Int32Array(size);
  const idx = new Array<number>(outShape.length).fill(0);
  // Where each output axis comes from: a range axis, or position j within the advanced block.
  type Source = { readonly axis: number } | { readonly block: number };
  const source = layout.flatMap((e): Source[] => (e === "block" ? advShape.map((_, j) => ({ block: j })) : [{ axis: e }]));
  const blockStrides = stridesOf(advShape);
  for (let flat = 0; flat < size; flat++) {
    let src = 0, b = 0;
    for (let o = 0; o < idx.length; o++) {
      const s = source[o]!;
      if ("axis" in s) {
        const r = sels[s.axis] as { start: number; step: number };
        src += (r.start + idx[o]! * r.step) * strides[s.axis]!;
      } else {
        b += idx[o]! * blockStrides[s.block]!;
      }
    }
    adv.forEach((ax, j) => {
      const s = sels[ax]!;
      src += (s.kind === "int" ? s.index : (s as { data: Int32Array }).data[advMaps[j]![b]!]!) * strides[ax]!;
    });
    indices[flat] = src;
    for (let ax = idx.length - 1; ax >= 0; ax--) {
      if (++idx[ax]! < outShape[ax]!) break;
      idx[ax] = 0;
    }
  }
  return { shape: outShape, indices };
}

/** True when a selection is a NumPy basic slice with positive steps (the IR's `slice` op expresses it). */
export function isPositiveBasic(sels: readonly AxisSelection[]): boolean {
  return sels.every((s) => s.kind === "int" || (s.kind === "range" && s.step > 0));
}

/** Axes permutation: output axis i is input axis axes[i] (NumPy's transpose). */
export function transposeMap(shape: Shape, axes: readonly number[]): IndexMap {
  const rank = shape.length;
  const seen = new Set(axes);
  if (axes.length !== rank || seen.size !== rank || !axes.every((a) => Number.isInteger(a) && a >= 0 && a < rank)) {
    throw new GraphError(`transpose: axes [${axes.join(", ")}] are not a permutation of the ${rank} axes of ${formatShape(shape)}`);
  }
  const outShape = axes.map((a) => shape[a]!);
  const inStrides = stridesOf(shape);
  const st = axes.map((a) => inStrides[a]!);
  const size = sizeOf(outShape);
  const indices = new Int32Array(size);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let flat = 0; flat < size; flat++) {
    indices[flat] = src;
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]!++;
      src += st[ax]!;
      if (idx[ax]! < outShape[ax]!) break;
      src -= st[ax]! * outShape[ax]!;
      idx[ax] = 0;
    }
  }
  return { shape: outShape, indices };
}

/** Geometry of a 2-D sliding window (PyTorch's Conv2d / MaxPool2d arguments, per spatial axis [h, w]). */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
}

/** Output size along one axis: ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1 (PyTorch's formula). */
export function windowOutputSize(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Checks the window against the spatial size [H, W]; returns the output size [OH, OW]. */
export function windowOutput(hw: readonly [number, number], g: Window2d, what: string): [number, number] {
  const pos = (v: readonly number[], name: string, min: number): void => {
    if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= min)) {
      throw new GraphError(`${what}: ${name} ${JSON.stringify(v)} must be integers ≥ ${min}`);
    }
  };
  pos(g.kernel, "kernel", 1), pos(g.stride, "stride", 1), pos(g.padding, "padding", 0), pos(g.dilation, "dilation", 1);
  const out = [0, 1].map((a) => windowOutputSize(hw[a]!, g.kernel[a]!, g.stride[a]!, g.padding[a]!, g.dilation[a]!)) as [number, number];
  if (out[0] < 1 || out[1] < 1) {
    throw new GraphError(`${what}: a ${g.kernel.join("×")} window (dilation ${g.dilation.join("×")}) does not fit the ${hw.join("×")} input padded by ${g.padding.join("×")}`);
  }
  return out;
}

/**
 * Position read by tap (kh, kw) of the window at output (oh, ow): [h, w] in the unpadded input, or null
 * when the tap falls in the padding.
 */
export function windowTap(hw: readonly [number, number], g: Window2d, oh: number, ow: number, kh: number, kw: number): [number, number] | null {
  const h = oh * g.stride[0] - g.padding[0] + kh * g.dilation[0];
  const w = ow * g.stride[1] - g.padding[1] + kw * g.dilation[1];
  return h >= 0 && h < hw[0] && w >= 0 && w < hw[1] ? [h, w] : null;
}
