// umbra/runtime — what a deployed circuit needs at run time, without the compiler (tracing, bounds, the
// interpreter): the circuit IR and its codec, the client half (keys, encryption, decryption), the server
// half and its evaluator, the wire format of values, and the artifacts both halves are serialized as.
export {
  verify, deriveNode, nodeName, liveNodes, MAX_ROUND_LSBS, MOVE_KINDS,
  type Graph, type Node, type NodeOf, type NodeKind, type OpAttrs, type Visibility, type LutTable,
} from "./ir.js";
export { type Tensor, type TensorLike, toTensor, toNested } from "./tensor.js";
export { type Shape, broadcastShapes, sizeOf, formatShape } from "./shape.js";
export { GraphError, BoundsError, InputOutOfRangeError, EvaluationError } from "./errors.js";
export { residueOf, liftResidue, MAX_LOOKUP_CIRCUIT_BITS, MAX_LINEAR_CIRCUIT_BITS, type LookupPlan } from "./encoding.js";
export { Evaluator, type EvaluationPlan, type ServerValue } from "./evaluator.js";
export { CircuitClient, CLIENT_TYPE, CLIENT_TYPE_MULTI, type CircuitKeys, type ClientSpec, type ClientInputSpec, type ClientOutputSpec } from "./client.js";
export { CircuitServer, SERVER_TYPE, SERVER_TYPE_MULTI, type ServerSpec } from "./server.js";
export { type PartitionLayout, type PartitionKeyswitch } from "./partitions.js";
export { KEYS_TYPE, type PartitionedEvaluationKeys, serializePartitionedKeys } from "./partitioned-keys.js";
export { PartitionedServerKey, type PartitionedBootstrapper, deserializePartitionedKeys } from "./partitioned-server-key.js";
export { PartitionedWorkerPool } from "./partitioned-pool.js";
export { serializeValues, deserializeValues, VALUES_TYPE, type WireValue, type ValueSpec } from "./values.js";
export { graphToJson, graphFromJson, MAX_GRAPH_NODES } from "./graph-codec.js";
export { fuseLookups, groupPolynomial, FUSION_WORK_PER_ITEM, type FusionRule, type FusionStats, type LookupGroup } from "./fusion.js";
