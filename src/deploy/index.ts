// umbra/deploy — a compiled model or circuit as two bundles (ModelDev.save), the Node client that keeps
// the secret key (ModelClient), the server half (ModelServer), the HTTP server (createServer) and its
// clients (RemoteModel over fetch, with a KeyFileStore in Node; RemoteServer). The server and the file
// stores are Node only: the browser's client is umbra/client. The Redis scale-out is umbra/deploy/redis.
export { DeployError } from "./errors.js";
export {
  ModelDev, makeBundles, parseClientBundle, bundleFingerprint, checkModelId, CLIENT_BUNDLE_FORMAT, SERVER_BUNDLE_FORMAT, MODEL_ID_PATTERN,
  type ClientBundle, type ServerBundle, type BundleKind, type Deployable,
} from "./bundle.js";
export { encodeFrames, decodeFrames, MAX_FRAMES, type Frames } from "./frames.js";
export { BundleClient, type Predictions } from "./bundle-client.js";
export { ModelClient } from "./model-client.js";
export { ModelServer, loadModels } from "./model-server.js";
export { type KeySet, type UploadedKeySet, keySetOf, keySetFor, checkKeysHeader, keysHeaderBytes, decodeKeys, decodeUploadedKeys } from "./key-sets.js";
export { type KeyStore, type KeyRecord, type KeyMeta, FileKeyStore, MemoryKeyStore, KEY_ID_PATTERN } from "./key-store.js";
export {
  createServer, KEY_ID_HEADER, KEY_TOKEN_HEADER, type ServerOptions, type ServerLimits, type RedisServerOptions, type UmbraServer,
} from "./http-server.js";
export { type Executor, type Prediction, LocalExecutor } from "./executor.js";
export { ServerApi, type RemoteOptions, type RemoteModelInfo, type UploadedKeys } from "./server-api.js";
export { RemoteServer } from "./remote.js";
export {
  RemoteModel, inlineKeygen, type RemoteModelOptions, type Keygen, type KeygenResult, type KeyStatus, type PredictionStats, type ProgressEvent, type ProgressPhase,
} from "./remote-model.js";
export { type ClientKeyStore, type StoredClientKey, MemoryClientKeyStore } from "./client-key-store.js";
export { KeyFileStore } from "./key-file-store.js";
export { FifoQueue } from "./fifo.js";
export { Metrics } from "./metrics.js";
