// umbra/client — the browser's half of a deployed circuit: load the client spec, make keys, encrypt the
// arguments, decrypt the results. No server code and no Node built-ins (a test bundles this entry for the
// browser and checks both), so it stays small: the core's client-side modules and the runtime's client.
export { CircuitClient, CLIENT_TYPE, type CircuitKeys, type ClientSpec, type ClientInputSpec, type ClientOutputSpec } from "../runtime/client.js";
export { serializeValues, deserializeValues, VALUES_TYPE, type WireValue, type ValueSpec } from "../runtime/values.js";
export { type Tensor, type TensorLike, toTensor, toNested } from "../runtime/tensor.js";
export { type Shape, sizeOf, formatShape } from "../runtime/shape.js";
export { GraphError, InputOutOfRangeError } from "../runtime/errors.js";
export { ClientKey, WipedKeyError } from "../tfhe/client-key.js";
export { LweBatch } from "../tfhe/lwe-batch.js";
export type { TfheParameters } from "../tfhe/parameters.js";
export type { EvaluationKeys } from "../tfhe/server-key.js";
export { serialize, deserializeClientKey, DeserializationError, type DeserializeOptions } from "../tfhe/serialization.js";
