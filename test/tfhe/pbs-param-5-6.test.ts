// Exhaustive PBS at the named parameter sets of 5 and 6 bits (N = 4096 and 8192).
import { test } from "node:test";
import { NAMED_PARAMETER_SETS } from "../../src/tfhe/index.js";
import { pbsSuite } from "../helpers/pbs-suite.js";

for (const set of NAMED_PARAMETER_SETS.filter((s) => s.precision === 5 || s.precision === 6)) {
  test(`PBS exhaustive at ${set.params.name}`, () => pbsSuite(set.params, { maxNorm2: set.maxNorm2 }));
}
