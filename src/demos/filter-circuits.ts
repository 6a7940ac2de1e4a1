// The server's half of the image filters: each filter compiled into a circuit on the encrypted image.
// A convolution is conv2d with the clear 3×3 kernel on the edge-padded image — sums with fixed weights,
// no lookup, so the server needs no evaluation keys and runs no bootstrapping; the client scales and clips
// the decrypted sums (filters.ts). The tone curve is a lookup: one programmable bootstrapping per pixel,
// with the client's uploaded evaluation keys.
import { type Circuit, compile, conv2d, lut } from "../compiler/index.js";
import { type FilterSpec, TONE_LEVELS, filterInput, sampleImage } from "./filters.js";

/** Compiles `filter` for size × size images. */
export function compileFilter(filter: FilterSpec, size: number): Circuit {
  // The inputset is the range's two ends: the circuit then accepts every image of that size.
  const shape = filterInput(filter, sampleImage(size)).shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const maxPixel = filter.kind === "convolution" ? 255 : TONE_LEVELS - 1;
  const inputset = [[{ shape, data: new Float64Array(n) }], [{ shape, data: new Float64Array(n).fill(maxPixel) }]];
  if (filter.kind === "convolution") {
    const weight = [filter.kernel.map((row) => [...row])];   // OIHW: one output channel, one input channel
    return compile((x) => conv2d(x, [weight]), { x: "encrypted" }, inputset);
  }
  const table = filter.table;
  return compile((x) => lut(x, (v) => table[v]!, "tone curve"), { x: "encrypted" }, inputset);
}
