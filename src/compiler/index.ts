// umbra/compiler — trace plain TS functions on integer tensors into a verified DAG, measure bounds on an
// inputset, and run circuits in the clear (the reference for simulation and FHE execution).
// The run-time half (IR, client, server, values, artifacts) lives in umbra/runtime; re-exported here so
// that a compiler user needs one import.
export * from "../runtime/index.js";
export { compile, Circuit, type CompileOptions, type Sample } from "./compile.js";
export {
  trace, Tracer, type Operand, type RoundOptions, type SliceSpec, type IndexSpec, type IndexArray, type Range, type NestedOperand,
  type InputSpec, type TraceFn,
} from "./tracer.js";
export {
  lut, lut2, round, truncate, relu, abs, clip, minimum, maximum, matmul, concat, stack, array, zeros, ones, where, transpose,
  expandDims, squeeze, sum, amax, amin, index, conv2d, maxpool2d, avgpool2d,
} from "./functions.js";
export type { Conv2dOptions, Pool2dOptions, AvgDivisor } from "./nn.js";
export { eliminateDeadNodes, attachTables, mergeDuplicateLookups, fuseLookupChains, lowerBivariateLookups } from "./passes.js";
export { evaluate, evaluateAll, bindInputs } from "./interpreter.js";
export {
  inferBounds, checkInRange, bitWidth, rangeOfWidth, tablesOf, DEFAULT_MAX_LUT_BITS,
  type Bounds, type BoundsOptions, type NodeBounds, type LutBounds, type Margin,
} from "./bounds.js";
export { describe, graphText } from "./describe.js";
export { planEncoding, lookupPolynomial, type CircuitEncoding } from "./encoding.js";
export { chooseCircuitParameters, circuitConstraints, DEFAULT_P_FAIL, type CircuitParameters, type ParameterOptions } from "./params.js";
export { simulateGraph, prng, type SimulateOptions } from "./simulate.js";
export { circuitStatistics, lookupLayers, statisticsText, type CircuitStatistics, type MeasuredLatency } from "./statistics.js";
