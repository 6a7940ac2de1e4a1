// `connect(serverUrl, modelId)`: a deployed model for a web page. Keys are made in a Web Worker and the
// secret key is kept in IndexedDB, so a second visit reuses it and the evaluation keys it uploaded. Where
// there is no Worker or no IndexedDB (Node), keys are made in-process and kept in memory unless a keyStore
// (e.g. umbra/deploy's KeyFileStore) is given.
import { MemoryClientKeyStore } from "../deploy/client-key-store.js";
import { inlineKeygen, RemoteModel, type RemoteModelOptions } from "../deploy/remote-model.js";
import { IndexedDbKeyStore } from "./indexeddb-key-store.js";
import { workerKeygen } from "./worker-keygen.js";

export interface ConnectOptions extends RemoteModelOptions {
  /** The keygen worker's URL (default: keygen-worker.js next to this module); ignored with `keygen`. */
  readonly workerUrl?: string | URL;
}

export function connect(serverUrl: string | URL, modelId: string, options: ConnectOptions = {}): Promise<RemoteModel> {
  const { workerUrl, ...rest } = options;
  return RemoteModel.connect(serverUrl, modelId, {
    ...rest,
    keygen: rest.keygen ?? (typeof Worker === "function" ? workerKeygen(workerUrl) : inlineKeygen),
    keyStore: rest.keyStore ?? (typeof indexedDB === "object" ? new IndexedDbKeyStore() : new MemoryClientKeyStore()),
  });
}
