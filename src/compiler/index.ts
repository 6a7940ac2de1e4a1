// umbra/compiler — trace plain TS functions on integer tensors into a verified DAG, measure bounds on an
// inputset, and run circuits in the clear (the reference for simulation and FHE execution).
export { compile, Circuit, type CompileOptions, type Sample } from "./compile.js";
export {
  trace, Tracer, type Operand, type RoundOptions, type SliceSpec, type IndexSpec, type IndexArray, type Range, type NestedOperand,
  type InputSpec, type TraceFn,
} from "./tracer.js";
export {
  lut, lut2, round, relu, abs, clip, minimum, maximum, matmul, concat, stack, array, zeros, ones, where, transpose,
  expandDims, squeeze, sum, amax, amin, index, conv2d, maxpool2d, avgpool2d,
} from "./functions.js";
export type { Conv2dOptions, Pool2dOptions, AvgDivisor } from "./nn.js";
export {
  verify, deriveNode, nodeName, liveNodes, MAX_ROUND_LSBS, MOVE_KINDS,
  type Graph, type Node, type NodeOf, type NodeKind, type OpAttrs, type Visibility, type LutTable,
} from "./ir.js";
export { eliminateDeadNodes, attachTables, mergeDuplicateLookups, fuseLookupChains, lowerBivariateLookups } from "./passes.js";
export { evaluate, evaluateAll, bindInputs } from "./interpreter.js";
export {
  inferBounds, checkInRange, bitWidth, rangeOfWidth, tablesOf, DEFAULT_MAX_LUT_BITS,
  type Bounds, type BoundsOptions, type NodeBounds, type LutBounds, type Margin,
} from "./bounds.js";
export { describe, graphText } from "./describe.js";
export { type Tensor, type TensorLike, toTensor, toNested } from "./tensor.js";
export { type Shape, broadcastShapes, sizeOf, formatShape } from "./shape.js";
export { GraphError, BoundsError, InputOutOfRangeError, EvaluationError } from "./errors.js";
export {
  planEncoding, lookupPolynomial, residueOf, liftResidue, MAX_LOOKUP_CIRCUIT_BITS, MAX_LINEAR_CIRCUIT_BITS,
  type CircuitEncoding, type LookupPlan,
} from "./encoding.js";
export { chooseCircuitParameters, circuitConstraints, DEFAULT_P_FAIL, type CircuitParameters, type ParameterOptions } from "./params.js";
export { simulateGraph, prng, type SimulateOptions } from "./simulate.js";
export { Evaluator, type EvaluationPlan, type ServerValue } from "./evaluator.js";
export { CircuitClient, CLIENT_TYPE, type CircuitKeys, type ClientSpec, type ClientInputSpec, type ClientOutputSpec } from "./client.js";
export { CircuitServer, SERVER_TYPE, type ServerSpec } from "./server.js";
export { serializeValues, deserializeValues, VALUES_TYPE, type WireValue, type ValueSpec } from "./values.js";
export { graphToJson, graphFromJson, MAX_GRAPH_NODES } from "./graph-codec.js";
export { circuitStatistics, lookupLayers, statisticsText, type CircuitStatistics, type MeasuredLatency } from "./statistics.js";
export { fuseLookups, groupPolynomial, FUSION_WORK_PER_ITEM, type FusionStats, type LookupGroup } from "./fusion.js";
