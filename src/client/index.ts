// umbra/client — the browser's half of a deployed model or circuit: load the client spec, make keys (in a
// Web Worker), keep the secret key (IndexedDB), encrypt, call the server (fetch), decrypt. No server code
// and no Node built-ins (a test bundles this entry for the browser and checks both), so it stays small: the
// core's client-side modules, the runtime's client and the deployment layer's client half.
// scripts/build-browser.mjs bundles it into dist/browser (umbra-client.js, keygen-worker.js).
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
// A deployed model over HTTP (fetch only): connect(), keys made in a Web Worker and kept in IndexedDB.
export { connect, type ConnectOptions } from "./connect.js";
export {
  RemoteModel, inlineKeygen, type RemoteModelOptions, type Keygen, type KeygenResult, type KeyStatus, type PredictionStats, type ProgressEvent, type ProgressPhase,
} from "../deploy/remote-model.js";
export { BundleClient, type Predictions } from "../deploy/bundle-client.js";
export { ServerApi, type RemoteOptions, type RemoteModelInfo, type UploadedKeys } from "../deploy/server-api.js";
export { DeployError } from "../deploy/errors.js";
export { type ClientKeyStore, type StoredClientKey, MemoryClientKeyStore } from "../deploy/client-key-store.js";
export { IndexedDbKeyStore } from "./indexeddb-key-store.js";
export { workerKeygen, DEFAULT_KEYGEN_WORKER_URL } from "./worker-keygen.js";
export { initKernels } from "../kernels/wasm.js";
