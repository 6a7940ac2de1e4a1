// Direct JS computations on nested arrays, written independently of src/compiler's kernels, and
// fast-check generators of integer tensors. The interpreter is tested against these.
import fc from "fast-check";

export type Nested = number | Nested[];

export function shapeOf(t: Nested): number[] {
  return typeof t === "number" ? [] : [t.length, ...shapeOf(t[0]!)];
}

export function flat(t: Nested): number[] {
  return typeof t === "number" ? [t] : t.flatMap(flat);
}

/** A nested array of the shape filled by f(multi-index). */
export function build(shape: readonly number[], f: (idx: number[]) => number, prefix: number[] = []): Nested {
  if (shape.length === 0) return f(prefix) + 0; // + 0 turns −0 into 0, as integers have it
  return Array.from({ length: shape[0]! }, (_, i) => build(shape.slice(1), f, [...prefix, i]));
}

export function at(t: Nested, idx: readonly number[]): number {
  let cur: Nested = t;
  for (const i of idx) cur = (cur as Nested[])[i]!;
  return cur as number;
}

/** Element of t read at an output index of a larger broadcast shape (NumPy rules). */
export function atBroadcast(t: Nested, outIdx: readonly number[]): number {
  const shape = shapeOf(t);
  const idx = outIdx.slice(outIdx.length - shape.length).map((i, ax) => (shape[ax] === 1 ? 0 : i));
  return at(t, idx);
}

export function mapNested(t: Nested, f: (v: number) => number): Nested {
  return typeof t === "number" ? f(t) + 0 : t.map((e) => mapNested(e, f));
}

export function nearestMultiple(v: number, lsbs: number): number {
  const step = 2 ** lsbs;
  const below = v - (((v % step) + step) % step);
  return v - below >= step / 2 ? below + step : below;
}

export const shapeArb = (maxRank = 3, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { maxLength: maxRank });

export function tensorArb(shape: readonly number[], min = -1000, max = 1000): fc.Arbitrary<Nested> {
  if (shape.length === 0) return fc.integer({ min, max });
  return fc.array(tensorArb(shape.slice(1), min, max), { minLength: shape[0]!, maxLength: shape[0]! });
}

/** A shape and a second shape that broadcasts with it (some dims set to 1, some leading dims dropped). */
export const broadcastPairArb = shapeArb().chain((s) =>
  fc.tuple(fc.constant(s), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.nat({ max: s.length }))
    .map(([a, ones, drop]) => [a, a.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const));
