// A small mixed-precision circuit that the compiler splits into several parameter partitions (for the
// deployment tests of multi-parameter circuits): 1-bit lookups of x, a 4-bit lookup of y joined with them
// (a conversion between partitions' keys), a 2-bit lookup of the sum.
import { type Circuit, compile, lut } from "../../src/compiler/index.js";

/** x's inputs: four bits, alternating from `a`. */
export const bits = (a: number, n = 4): number[] => Array.from({ length: n }, (_, i) => (i + a) % 2);

export function mixedCircuit(): Circuit {
  const inputset: [number[], number][] = [];
  for (let a = 0; a < 2; a++) for (let y = 0; y < 16; y++) inputset.push([bits(a), y]);
  return compile((x, y) => {
    const a = lut(x!, (v) => 1 - v);
    const b = lut(y!, (v) => ((v * 3) % 16) >> 3);
    const s = a.add(b);
    return [s, lut(s, (v) => v * v)];
  }, { x: "encrypted", y: "encrypted" }, inputset, { multiParameter: true });
}
