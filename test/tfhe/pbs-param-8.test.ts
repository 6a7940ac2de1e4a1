// PBS at the named 8-bit set (N = 32768): its keys (5.4 GiB BSK, 3.3 GiB KSK) exceed 32-bit WebAssembly
// memory, so the server streams them from host memory. A small random sample of inputs (each PBS takes
// seconds); exhaustive coverage is for the sets up to 6 bits.
import { test } from "node:test";
import { NAMED_PARAMETER_SETS } from "../../src/tfhe/index.js";
import { pbsSuite } from "../helpers/pbs-suite.js";

for (const set of NAMED_PARAMETER_SETS.filter((s) => s.precision === 8)) {
  test(`PBS on a random sample at ${set.params.name} (streamed keys)`, () => pbsSuite(set.params, { maxNorm2: set.maxNorm2, sample: 2 }));
}
