// The image filters of the demo, on small grey images (row-major bytes), split as they run: what the client
// does before encrypting (edge padding, tone quantization), what the server computes on ciphertexts (the
// compiled circuits of ./filter-circuits.ts), and what the client does after decrypting (scale and clip).
// `applyFilterClear` is the whole filter in the clear, the reference the encrypted path must equal pixel
// for pixel. No Node built-ins: the browser app uses this file as it is.

export type FilterId = "blur" | "sharpen" | "edges" | "tone";

/** The side of the square images the deployed filters take (measured choice: see docs/demos.md). */
export const IMAGE_SIZE = 32;

/** Grey levels of the tone curve's input: the lookup reads 4 bits (one PBS of 4-bit precision per pixel). */
export const TONE_LEVELS = 16;

interface ConvolutionFilter {
  readonly kind: "convolution";
  readonly id: FilterId;
  readonly title: string;
  /** A 3×3 integer kernel, rows top to bottom. */
  readonly kernel: readonly (readonly number[])[];
  /** The sum is divided by this (rounded half up) after decryption. */
  readonly divisor: number;
  /** After decryption: the value as is, or its magnitude (edges of both signs), then clipped to [0, 255]. */
  readonly post: "clip" | "abs";
}

interface LookupFilter {
  readonly kind: "lookup";
  readonly id: FilterId;
  readonly title: string;
  /** The table: TONE_LEVELS entries, 0–255. */
  readonly table: readonly number[];
}

export type FilterSpec = ConvolutionFilter | LookupFilter;

/** Smoothstep contrast curve t²(3 − 2t), 16 levels in, 256 out. */
const TONE_TABLE = Array.from({ length: TONE_LEVELS }, (_, v) => {
  const t = v / (TONE_LEVELS - 1);
  return Math.round(255 * t * t * (3 - 2 * t));
});

export const FILTERS: readonly FilterSpec[] = [
  { kind: "convolution", id: "blur", title: "Blur (3×3 Gaussian)", kernel: [[1, 2, 1], [2, 4, 2], [1, 2, 1]], divisor: 16, post: "clip" },
  { kind: "convolution", id: "sharpen", title: "Sharpen", kernel: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], divisor: 1, post: "clip" },
  { kind: "convolution", id: "edges", title: "Edge detection (Laplacian)", kernel: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], divisor: 1, post: "abs" },
  { kind: "lookup", id: "tone", title: "Tone curve (lookup table)", table: TONE_TABLE },
];

export function filterSpec(id: string): FilterSpec {
  const f = FILTERS.find((x) => x.id === id);
  if (f === undefined) throw new RangeError(`filter ${JSON.stringify(id)}: expected one of ${FILTERS.map((x) => x.id).join(", ")}`);
  return f;
}

/** The id of a filter's circuit on the server. */
export const filterModelId = (id: FilterId): string => `filter-${id}`;

export interface GreyImage {
  readonly size: number;
  /** size × size bytes, row-major. */
  readonly pixels: Uint8Array;
}

function checkImage(img: GreyImage): void {
  if (!Number.isInteger(img.size) || img.size < 1 || img.pixels.length !== img.size * img.size) {
    throw new RangeError(`image: expected ${img.size}×${img.size} = ${img.size * img.size} grey bytes, got ${img.pixels.length}`);
  }
}

/** The image with its border pixels repeated once on every side ((size + 2)², so a 3×3 window fits everywhere). */
export function padEdges(img: GreyImage): Float64Array {
  checkImage(img);
  const n = img.size, m = n + 2, out = new Float64Array(m * m);
  const clamp = (i: number): number => Math.min(n - 1, Math.max(0, i - 1));
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) out[r * m + c] = img.pixels[clamp(r) * n + clamp(c)]!;
  return out;
}

/** The tone curve's input level of a pixel: its top 4 bits. */
export const toneLevel = (v: number): number => v >> (8 - Math.log2(TONE_LEVELS));

/** What the client encrypts for `filter`: its only argument's shape and values. */
export function filterInput(filter: FilterSpec, img: GreyImage): { shape: number[]; data: Float64Array } {
  checkImage(img);
  if (filter.kind === "convolution") return { shape: [1, 1, img.size + 2, img.size + 2], data: padEdges(img) };
  return { shape: [img.size * img.size], data: Float64Array.from(img.pixels, toneLevel) };
}

/** The integer sum of the 3×3 window at every pixel of the edge-padded image (what the server computes). */
export function convolveClear(filter: ConvolutionFilter, padded: Float64Array, size: number): Float64Array {
  const m = size + 2, out = new Float64Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += filter.kernel[i]![j]! * padded[(r + i) * m + c + j]!;
      out[r * size + c] = s;
    }
  }
  return out;
}

/** The client's last step on the decrypted values: a convolution's sum scaled and clipped; a lookup's value as is. */
export function finishFilter(filter: FilterSpec, decrypted: ArrayLike<number>, size: number): GreyImage {
  if (decrypted.length !== size * size) throw new RangeError(`filter ${filter.id}: expected ${size * size} values, got ${decrypted.length}`);
  const pixels = new Uint8Array(size * size);
  for (let i = 0; i < pixels.length; i++) {
    let v = decrypted[i]!;
    if (filter.kind === "convolution") {
      v = Math.floor((v + filter.divisor / 2) / filter.divisor);
      if (filter.post === "abs") v = Math.abs(v);
    }
    pixels[i] = Math.min(255, Math.max(0, v));
  }
  return { size, pixels };
}

/** The whole filter in the clear: the reference for the encrypted result. */
export function applyFilterClear(filter: FilterSpec, img: GreyImage): GreyImage {
  const input = filterInput(filter, img);
  const server = filter.kind === "convolution" ? convolveClear(filter, input.data, img.size) : input.data.map((v) => filter.table[v]!);
  return finishFilter(filter, server, img.size);
}

/** Grey of an RGB(A) pixel buffer (ITU-R BT.601 luma, rounded): what the page does to a picked image. */
export function greyFromRgba(rgba: ArrayLike<number>, size: number): GreyImage {
  if (rgba.length !== size * size * 4) throw new RangeError(`rgba: expected ${size * size * 4} bytes, got ${rgba.length}`);
  const pixels = new Uint8Array(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!);
  return { size, pixels };
}

/**
 * The bundled sample, drawn by code (no image file): a sun over two hills under a graded sky, with a
 * striped field — smooth areas for the blur, edges of every direction for the edge filter.
 */
export function sampleImage(size: number = IMAGE_SIZE): GreyImage {
  const pixels = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const x = (c + 0.5) / size, y = (r + 0.5) / size;
      let v = 200 - 110 * y;                                               // sky, darker downwards
      if ((x - 0.7) ** 2 + (y - 0.28) ** 2 < 0.022) v = 250;               // sun
      const hill1 = 0.62 + 0.12 * Math.cos(5 * (x - 0.2)), hill2 = 0.72 + 0.08 * Math.sin(6 * x);
      if (y > hill1) v = 110 - 40 * (y - hill1);                           // far hill
      if (y > hill2) v = 60 + (Math.floor(x * 8 + y * 4) % 2 === 0 ? 40 : 0); // striped field
      pixels[r * size + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { size, pixels };
}
