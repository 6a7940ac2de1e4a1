// PBS at the named 7-bit set (N = 16384, 1.7 GB bootstrapping key): a random sample of inputs.
import { test } from "node:test";
import { NAMED_PARAMETER_SETS } from "../../src/tfhe/index.js";
import { pbsSuite } from "../helpers/pbs-suite.js";

for (const set of NAMED_PARAMETER_SETS.filter((s) => s.precision === 7)) {
  test(`PBS on a random sample at ${set.params.name}`, () => pbsSuite(set.params, { maxNorm2: set.maxNorm2, sample: 6 }));
}
