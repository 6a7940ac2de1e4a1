// Radix decomposition: a wide encrypted value as the sum of its c-bit chunks, and the ops that compile
// evaluates chunk by chunk when one table over the whole value would be too wide (TFHE-rs's integer layer
// and Concrete split wide integers into blocks the same way). Here a wide value stays one ciphertext of a
// wide region (encoding.ts); its chunks are cut out by chained truncations: t_0 = x, t_i = truncate(t_{i−1},
// c·i), each of which extracts the c bits it clears by bit extraction, one 1-bit PBS per bit (or, once the
// rest is narrow, one lookup). Chunk i is X_i = t_i − t_{i+1} = t_i mod 2^(c(i+1)), a multiple of 2^(ci),
// and the top chunk is t_{m−1} (signed when x is): x = Σ X_i exactly, in two's complement for negatives.
// A lookup reads a chunk in steps of 2^(ci) (its known zero low bits), so it costs a c-bit table wherever
// the chunk sits; two chunks are read together by packing them into one index (packedLookup).
import { bitWidth, type WideStep } from "./bounds.js";
import { ceilLog2 } from "../runtime/encoding.js";
import type { OpAttrs } from "../runtime/ir.js";

/** Adds a node to a graph being rebuilt (shape and encryptedness derived and checked); returns its id. */
export type Push = (op: OpAttrs, args: readonly number[], shape?: readonly number[]) => number;

/** A value of the rebuilt graph known to be a multiple of 2^shift in [lo, hi]. */
export interface Field {
  readonly id: number;
  readonly lo: number;
  readonly hi: number;
  readonly shift: number;
}

/** Index bits of a field: its values counted in steps of 2^shift. */
export const fieldBits = (f: Omit<Field, "id">): number => ceilLog2((f.hi - f.lo) / 2 ** f.shift + 1);
const constant = (push: Push, v: number): number => push({ kind: "constant", value: Float64Array.of(v) }, [], []);

/** Chunks needed for a value of [min, max] at c bits each (the top one holds the sign, if any). */
export function chunkCount(min: number, max: number, c: number): number {
  return Math.max(1, Math.ceil(bitWidth(min, max).bits / c));
}

/**
 * x ∈ [min, max] (id x) as `count` chunks of c bits, lowest first: X_i a multiple of 2^(ci) in
 * [0, 2^(c(i+1)) − 2^(ci)], the top one floor(x / 2^(c(m−1)))·2^(c(m−1)). A truncation whose result is one
 * value over the whole range (x narrower than the chunks asked for) is that constant, at no cost.
 * `lookupBits` is the widest lookup of the lowering that asks: a truncation no wider is one lookup.
 */
export function decompose(push: Push, x: number, min: number, max: number, c: number, count: number, lookupBits: number): Field[] {
  const chunks: Field[] = [];
  let t = x, tMin = min, tMax = max;
  for (let i = 1; i < count; i++) {
    const pow = 2 ** (c * i), prev = 2 ** (c * (i - 1));
    const [nMin, nMax] = [Math.floor(tMin / pow) * pow, Math.floor(tMax / pow) * pow];
    // One lookup over t (in steps of 2^(c(i−1))) when it is no wider than the lowering's own lookups; else
    // bit extraction, c one-bit PBS, which keep the circuit's widest PBS (its parameters) narrow.
    const extract = bitWidth(Math.floor(tMin / prev), Math.floor(tMax / prev)).bits > lookupBits;
    const next = nMin === nMax ? constant(push, nMin)
      : push({ kind: "round", lsbs: c * i, truncate: true, ...(extract ? { extract: true } : {}) }, [t]);
    // t − truncate(t, ci) is t mod 2^(ci): the bound node tells the range analysis so (the difference alone looks wide).
    const low = push({ kind: "bound", op: "mod" }, [push({ kind: "sub" }, [t, next]), t, constant(push, pow)]);
    chunks.push({ id: low, lo: 0, hi: pow - 2 ** (c * (i - 1)), shift: c * (i - 1) });
    [t, tMin, tMax] = [next, nMin, nMax];
  }
  chunks.push({ id: t, lo: tMin, hi: tMax, shift: c * (count - 1) });
  return chunks;
}

/**
 * g(a, b) of two fields by one lookup of the packed index (a − a.lo)·2^(s + |b| − a.shift) + (b − b.lo)·2^(s − b.shift):
 * a multiple of 2^s with |a| + |b| bits above it (|f| = fieldBits), read in steps of 2^s, so the table has
 * 2^(|a|+|b|) entries wherever the fields sit. The field with the larger shift goes on top, which keeps s
 * (the position the lookup reads at) as low as possible. Two single values are just g(a, b).
 */
export function packedLookup(push: Push, a: Field, b: Field, g: (a: number, b: number) => number, label: string): number {
  if (a.lo === a.hi && b.lo === b.hi) return constant(push, g(a.lo, b.lo));
  if (a.shift < b.shift) return packedLookup(push, b, a, (u, v) => g(v, u), label);
  const bitsB = fieldBits(b);
  const s = Math.max(b.shift, a.shift - bitsB, 0);
  const ka = 2 ** (s + bitsB - a.shift), kb = 2 ** (s - b.shift);
  const scaled = (f: Field, k: number): number => {
    const off = f.lo === 0 ? f.id : push({ kind: "sub" }, [f.id, constant(push, f.lo)]);
    return k === 1 ? off : push({ kind: "mul" }, [off, constant(push, k)]);
  };
  const index = push({ kind: "add" }, [scaled(a, ka), scaled(b, kb)]);
  const unit = 2 ** s, span = 2 ** bitsB, [aLo, aStep, bLo, bStep] = [a.lo, 2 ** a.shift, b.lo, 2 ** b.shift];
  const fn = (v: number): number => {
    const i = Math.round(v / unit), ia = Math.floor(i / span);
    return g(aLo + ia * aStep, bLo + (i - ia * span) * bStep);
  };
  return push({ kind: "lut", fn, label: `${label}∘pack` }, [index]);
}

/**
 * Advice for a lookup of two operands that do not pack into maxBits, which works when followed: truncate the
 * wider operand by the fewest bits that make the pair fit (the packing reads a truncated operand in steps,
 * lowerBivariateLookups), or both when one is not enough.
 */
export function truncationAdvice(x: Omit<Field, "id">, y: Omit<Field, "id">, maxBits: number): string {
  const after = (f: Omit<Field, "id">, k: number): Omit<Field, "id"> => {
    const p = 2 ** Math.max(k, f.shift);
    return { lo: Math.floor(f.lo / p) * p, hi: Math.floor(f.hi / p) * p, shift: Math.max(k, f.shift) };
  };
  const call = (kx: number, ky: number): string =>
    `lut2(${kx > 0 ? `x.truncate(${kx})` : "x"}, ${ky > 0 ? `y.truncate(${ky})` : "y"}, f) (f then sees a truncated operand as a multiple of 2^k)`;
  const xWider = fieldBits(x) >= fieldBits(y);
  const [wide, narrow] = xWider ? [x, y] : [y, x];
  for (let k = wide.shift + 1; k <= 52; k++) {
    if (fieldBits(after(wide, k)) + fieldBits(narrow) <= maxBits) return `truncate the wider operand first: ${xWider ? call(k, 0) : call(0, k)}`;
  }
  // The narrower operand alone is too wide: both, to about half the bits each.
  const half = (f: Omit<Field, "id">, bits: number): number => {
    for (let k = f.shift; k <= 52; k++) if (fieldBits(after(f, k)) <= bits) return k;
    return 52;
  };
  const bx = Math.ceil(maxBits / 2), by = maxBits - bx;
  return `truncate both operands first: ${call(half(x, bx), half(y, by))}`;
}

/** A univariate lookup of one field (read in steps of 2^shift); a single value is just f of it. */
export function fieldLookup(push: Push, a: Field, f: (v: number) => number, label: string): number {
  return a.lo === a.hi ? constant(push, f(a.lo)) : push({ kind: "lut", fn: f, label }, [a.id]);
}

/** Sum of node ids (left to right); one id is itself. */
export function sumOf(push: Push, ids: readonly number[]): number {
  return ids.reduce((s, id) => push({ kind: "add" }, [s, id]));
}

/**
 * Relative cost of `count` PBS whose widest reads `bits`: one parameter set serves the whole circuit, and its
 * polynomial size (so a PBS's cost) roughly doubles with each bit of the widest lookup. Below 4 bits the
 * noise of bit extraction (its reads scale a wide region's noise) sets it instead: measured, k·N = 2048 for
 * 2-bit lookups after 16-bit extractions as for a 4-bit lookup, and an 8-bit max by chunks (72 PBS at 2 bits)
 * took 9.9 s against 7.1 s for 28 PBS at ≤ 5 bits.
 */
export const pbsCost = (count: number, bits: number): number => count * 2 ** Math.max(bits, 4);

/** Bits a decomposition of [min, max] into `count` c-bit chunks extracts (one 1-bit PBS each, at most). */
export function extractedBits(min: number, max: number, c: number, count: number): number {
  return Math.max(0, Math.min(bitWidth(min, max).bits, c * count) - c);
}

/** The chunk width in [1, maxBits] of least estimated cost. */
export function cheapestChunkBits(maxBits: number, cost: (c: number) => number): number {
  let best = 1;
  for (let c = 2; c <= maxBits; c++) if (cost(c) < cost(best)) best = c;
  return best;
}

/** The ranges a lowering reads: the union of a node's element ranges (old graph ids). */
export type RangeOf = (id: number) => { readonly min: number; readonly max: number };

/**
 * x·y of two encrypted values too wide for the quarter-square lookups, as partial products of chunks: with
 * x' = x − x_min ≥ 0 and y' = y − y_min ≥ 0 (so signed ranges work alike), x·y = Σ_{i,j} X'_i·Y'_j
 * + y_min·Σ X'_i + x_min·Σ Y'_j + x_min·y_min, one packed 2c-bit lookup per pair (i, j), the linear terms
 * folded into the tables of the pairs (i, 0) and (0, j): added linearly, they would join the operands' regions
 * to the product's wide one, and the extractions would then read their bits in a 24-bit region. x·x: the
 * squares X'_i² + 2·x_min·X'_i by c-bit lookups and 2·X'_i·X'_j for i < j. The sum lives in its own region.
 */
export function chunkedProduct(push: Push, x: number, y: number, rx: { min: number; max: number }, ry: { min: number; max: number }, same: boolean, maxLutBits: number): number {
  const wx = bitWidth(0, rx.max - rx.min).bits, wy = bitWidth(0, ry.max - ry.min).bits;
  const plan = (c: number) => {
    const mx = Math.ceil(wx / c), my = Math.ceil(wy / c);
    const pairs = same ? (mx * (mx + 1)) / 2 : mx * my;
    const extractions = (wx - c) + (same ? 0 : wy - c);
    return pbsCost(Math.max(0, extractions) + pairs, 2 * c);
  };
  const c = cheapestChunkBits(Math.max(1, Math.floor(maxLutBits / 2)), plan);
  const offset = (id: number, min: number): number => (min === 0 ? id : push({ kind: "sub" }, [id, constant(push, min)]));
  const xs = decompose(push, offset(x, rx.min), 0, rx.max - rx.min, c, Math.ceil(wx / c), 2 * c);
  const parts: number[] = [];
  const [xMin, yMin] = [rx.min, ry.min];
  if (same) {
    xs.forEach((a, i) => {
      parts.push(fieldLookup(push, a, (v) => v * v + 2 * xMin * v, "v² + 2·min·v"));
      for (const b of xs.slice(i + 1)) parts.push(packedLookup(push, a, b, (u, v) => 2 * u * v, "2uv"));
    });
    if (xMin !== 0) parts.push(constant(push, xMin * xMin));
  } else {
    const ys = decompose(push, offset(y, ry.min), 0, ry.max - ry.min, c, Math.ceil(wy / c), 2 * c);
    xs.forEach((a, i) => ys.forEach((b, j) => {
      const [ka, kb] = [j === 0 ? yMin : 0, i === 0 ? xMin : 0];
      parts.push(packedLookup(push, a, b, (u, v) => u * v + ka * u + kb * v, "uv"));
    }));
    if (xMin !== 0 && yMin !== 0) parts.push(constant(push, xMin * yMin));
  }
  return sumOf(push, parts);
}

/**
 * Widest x·2^y the shift advice aims at: a region's message space allows 30 bits, but decrypting (or reading)
 * much more than 24 bits next to PBS outputs finds no parameters at p_fail 2^-64 (measured: a 24-bit product
 * of 12-bit chunks compiles, a 29-bit shift does not).
 */
export const SHIFTED_BITS = 24;

/** Chunkable bitwise ops on two's complement integers (chunk-wise: the top chunks carry the sign). */
const BITWISE: Readonly<Record<"and" | "or" | "xor", (a: number, b: number) => number>> = {
  and: (a, b) => Number(BigInt(a) & BigInt(b)),
  or: (a, b) => Number(BigInt(a) | BigInt(b)),
  xor: (a, b) => Number(BigInt(a) ^ BigInt(b)),
};

/**
 * x op y for op ∈ and/or/xor, chunk pair by chunk pair: both operands cut at the same c-bit boundaries
 * (x = Σ X_i, y = Σ Y_i, the top chunks signed in two's complement), and x op y = Σ_i X_i op Y_i since a
 * bitwise op never mixes bit positions; each pair is one packed 2c-bit lookup.
 */
function bitwisePlan(rx: { min: number; max: number }, ry: { min: number; max: number }, maxLutBits: number): { c: number; m: number; cost: number } {
  const w = Math.max(bitWidth(rx.min, rx.max).bits, bitWidth(ry.min, ry.max).bits);
  const plan = (c: number): number => {
    const m = Math.ceil(w / c);
    return pbsCost(extractedBits(rx.min, rx.max, c, m) + extractedBits(ry.min, ry.max, c, m) + m, 2 * c);
  };
  const c = cheapestChunkBits(Math.max(1, Math.floor(maxLutBits / 2)), plan);
  return { c, m: Math.ceil(w / c), cost: plan(c) };
}

/** Estimated cost (pbsCost units) of x op y by chunks: to weigh it against one packed lookup. */
export function chunkedBitwiseCost(rx: { min: number; max: number }, ry: { min: number; max: number }, maxLutBits: number): number {
  return bitwisePlan(rx, ry, maxLutBits).cost;
}

export function chunkedBitwise(push: Push, op: "and" | "or" | "xor", x: number, y: number, rx: { min: number; max: number }, ry: { min: number; max: number }, maxLutBits: number): number {
  const { c, m } = bitwisePlan(rx, ry, maxLutBits);
  const xs = decompose(push, x, rx.min, rx.max, c, m, 2 * c), ys = decompose(push, y, ry.min, ry.max, c, m, 2 * c);
  return sumOf(push, xs.map((a, i) => packedLookup(push, a, ys[i]!, BITWISE[op], op)));
}

/**
 * x << y and x >> y with y encrypted (y ≥ 0), chunks of x each paired with y: x·2^y = Σ X_i·2^y, and
 * ⌊x / 2^y⌋ = Σ ⌊X_i / 2^y⌋ — exact, because the bits of a chunk that the shift drops sum to less than
 * 2^y, so no carry crosses chunks (for a signed top chunk below the shift, the low chunks all give 0).
 * Each pair is one packed lookup of c + |y| bits. Undefined when y alone is too wide to pack.
 */
export function chunkedShift(push: Push, op: "shl" | "shr", x: number, y: number, rx: { min: number; max: number }, ry: { min: number; max: number }, maxLutBits: number): number | undefined {
  const yField = { lo: ry.min, hi: ry.max, shift: 0 };
  const yBits = fieldBits(yField);
  if (yBits >= maxLutBits) return undefined;
  const plan = (c: number): number => {
    const m = chunkCount(rx.min, rx.max, c);
    return pbsCost(extractedBits(rx.min, rx.max, c, m) + m, c + yBits);
  };
  const c = cheapestChunkBits(maxLutBits - yBits, plan);
  const xs = decompose(push, x, rx.min, rx.max, c, chunkCount(rx.min, rx.max, c), c + yBits);
  const g = op === "shl" ? (a: number, s: number) => (s >= 0 ? a * 2 ** s : NaN) : (a: number, s: number) => (s >= 0 ? Math.floor(a / 2 ** s) : NaN);
  return sumOf(push, xs.map((a) => packedLookup(push, a, { id: y, ...yField }, g, op)));
}

/**
 * relu(x) of a value too wide for one table, by chunks: with s = [x ≥ 0] = [X_top ≥ 0] (floor keeps the
 * sign), relu(x) = relu(X_top) + Σ_{i<top} s·X_i, each s·X_i one packed lookup of c + 1 bits.
 */
export function chunkedRelu(push: Push, x: number, r: { min: number; max: number }, maxLutBits: number): number {
  const plan = (c: number): number => {
    const m = chunkCount(r.min, r.max, c);
    return pbsCost(extractedBits(r.min, r.max, c, m) + m + 1, c + 1);
  };
  const c = cheapestChunkBits(maxLutBits - 1, plan);
  const xs = decompose(push, x, r.min, r.max, c, chunkCount(r.min, r.max, c), c + 1);
  const top = xs[xs.length - 1]!;
  const sign: Field = { id: fieldLookup(push, top, (v) => (v >= 0 ? 1 : 0), "v >= 0"), lo: 0, hi: 1, shift: 0 };
  const parts = [fieldLookup(push, top, (v) => Math.max(v, 0), "relu(top)")];
  for (const a of xs.slice(0, -1)) parts.push(packedLookup(push, a, sign, (v, s) => (s === 1 ? v : 0), "s·v"));
  return sumOf(push, parts);
}

/** A lookup that differs from `other` at one input only: f(t) = at, f(v) = other for v ≠ t. */
export interface WideDelta {
  readonly node: number;
  readonly point: number;
  readonly at: number;
  readonly other: number;
}

/**
 * A wide equality test, f = at for x = t and other elsewhere, from two wide comparisons (each a truncation
 * by bit extraction then a 2-bit lookup, as lowerWideSteps): u = [x − t ≥ 0]·(at − other) and
 * v = [t − x ≥ 0]·(at − other), both set only when x = t, one when x ≠ t: f = u + v + 2·other − at.
 */
export function wideEquality(push: Push, x: number, r: { min: number; max: number }, d: WideDelta, lowerStep: (x: number, min: number, max: number, step: WideStep) => number): number {
  const diff = d.at - d.other;
  const up = lowerStep(x, r.min, r.max, { node: d.node, threshold: d.point, below: 0, atOrAbove: diff });
  const negated = push({ kind: "neg" }, [x]);
  const down = lowerStep(negated, -r.max, -r.min, { node: d.node, threshold: -d.point, below: 0, atOrAbove: diff });
  return push({ kind: "add" }, [push({ kind: "add" }, [up, down]), constant(push, 2 * d.other - d.at)]);
}
