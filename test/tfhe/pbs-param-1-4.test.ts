// Exhaustive PBS at the named parameter sets of 1 to 4 bits (real, ≥128-bit parameters).
import { test } from "node:test";
import { NAMED_PARAMETER_SETS } from "../../src/tfhe/index.js";
import { pbsSuite } from "../helpers/pbs-suite.js";

for (const set of NAMED_PARAMETER_SETS.filter((s) => s.precision <= 4)) {
  test(`PBS exhaustive at ${set.params.name}`, () => pbsSuite(set.params, { maxNorm2: set.maxNorm2 }));
}
