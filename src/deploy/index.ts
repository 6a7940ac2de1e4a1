// umbra/deploy — a compiled model or circuit as two bundles (ModelDev.save), the Node client that keeps
// the secret key (ModelClient), the server half (ModelServer), the HTTP server (createServer) and its
// Node client (RemoteServer). Node only: the browser's client is umbra/client.
export { DeployError } from "./errors.js";
export {
  ModelDev, makeBundles, parseClientBundle, bundleFingerprint, checkModelId, CLIENT_BUNDLE_FORMAT, SERVER_BUNDLE_FORMAT, MODEL_ID_PATTERN,
  type ClientBundle, type ServerBundle, type BundleKind, type Deployable,
} from "./bundle.js";
export { encodeFrames, decodeFrames, MAX_FRAMES, type Frames } from "./frames.js";
export { ModelClient, type Predictions } from "./model-client.js";
export { ModelServer, decodeEvaluationKeys } from "./model-server.js";
export { type KeyStore, type KeyRecord, FileKeyStore, MemoryKeyStore, KEY_ID_PATTERN } from "./key-store.js";
export { createServer, KEY_ID_HEADER, KEY_TOKEN_HEADER, type ServerOptions, type ServerLimits, type UmbraServer } from "./http-server.js";
export { RemoteServer, type RemoteOptions, type RemoteModelInfo } from "./remote.js";
export { FifoQueue } from "./fifo.js";
export { Metrics } from "./metrics.js";
