// A deployed model as the client sees it, over fetch only (browsers and Node): the server's client bundle,
// a secret key made once and kept in the client's own store, evaluation keys uploaded once per server (and
// again only when the server says it lost them), then predictions: encrypt, send, decrypt. Key generation
// is pluggable: in-process here, in a Web Worker in umbra/client.
import type { Sample } from "../compiler/index.js";
import { initKernels } from "../kernels/wasm.js";
import type { MatrixLike } from "../ml/data.js";
import { BundleClient, type Predictions } from "./bundle-client.js";
import type { ClientBundle } from "./client-bundle.js";
import { type ClientKeyStore, MemoryClientKeyStore, type StoredClientKey } from "./client-key-store.js";
import { DeployError } from "./errors.js";
import { type RemoteOptions, ServerApi, type UploadedKeys } from "./server-api.js";

/** What the client is doing: each phase reports "start", then "end" (with its time and bytes moved). */
export type ProgressPhase = "spec" | "keygen" | "upload" | "encrypt" | "server" | "decrypt";

export interface ProgressEvent {
  readonly phase: ProgressPhase;
  readonly state: "start" | "step" | "end";
  /** "end": milliseconds the phase took. */
  readonly ms?: number;
  /** "end" of upload, encrypt, server: the bytes sent or received. */
  readonly bytes?: number;
  /** "step": what the key generation is making ("secret key", "evaluation keys"). */
  readonly detail?: string;
}

/** Keys for a client bundle, made somewhere else than the caller's thread if it likes. */
export interface KeygenResult {
  /** SECRET: the serialized client key. */
  readonly secretKey: Uint8Array;
  /** The serialized evaluation keys; undefined for lookup-free models. */
  readonly evaluationKeys: Uint8Array | undefined;
}

/**
 * Makes a fresh secret key and its evaluation keys for `bundle`, or, given `secretKey`, that key's
 * evaluation keys. `onStep` names what is being made.
 */
export type Keygen = (bundle: ClientBundle, secretKey: Uint8Array | undefined, onStep: (detail: string) => void) => Promise<KeygenResult>;

/** Key generation in this thread (Node; a browser uses umbra/client's Web Worker). */
export const inlineKeygen: Keygen = async (bundle, secretKey, onStep) => {
  const client = new BundleClient(bundle);
  onStep("secret key");
  if (secretKey === undefined) client.keygen();
  else client.useSecretKey(secretKey);
  if (!client.linearOnly) onStep("evaluation keys");
  return { secretKey: client.secretKey(), evaluationKeys: client.evaluationKeys() };
};

export interface RemoteModelOptions extends RemoteOptions {
  /** Where the secret key and its uploads are kept between runs (default: memory, nothing kept). */
  readonly keyStore?: ClientKeyStore;
  /** How keys are made (default: in this thread). */
  readonly keygen?: Keygen;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** How the keys of this connection came about. */
export interface KeyStatus {
  /** The secret key came from the store (a returning client). */
  readonly reused: boolean;
  /** Evaluation-key uploads this connection made (0: the server already had them, or none are needed). */
  readonly uploads: number;
  /** Time spent making keys, ms (0 when reused and uploaded before). */
  readonly keygenMs: number;
  /** The size of the evaluation keys, when this connection made them. */
  readonly evaluationKeyBytes?: number;
}

/** The sizes and times of the last prediction. */
export interface PredictionStats {
  readonly rows: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly encryptMs: number;
  readonly serverMs: number;
  readonly decryptMs: number;
}

export class RemoteModel {
  readonly #store: ClientKeyStore;
  readonly #keygen: Keygen;
  readonly #progress: (e: ProgressEvent) => void;
  #record: StoredClientKey | undefined;
  #evaluationKeys: Uint8Array | undefined;
  #keys = { reused: false, uploads: 0, keygenMs: 0 } as { reused: boolean; uploads: number; keygenMs: number; evaluationKeyBytes?: number };
  #last: PredictionStats | undefined;

  private constructor(readonly api: ServerApi, readonly modelId: string, readonly client: BundleClient, options: RemoteModelOptions) {
    this.#store = options.keyStore ?? new MemoryClientKeyStore();
    this.#keygen = options.keygen ?? inlineKeygen;
    this.#progress = options.onProgress ?? (() => {});
  }

  /** Fetches the model's client bundle, restores or makes the secret key, and uploads the evaluation keys if the server lacks them. */
  static async connect(serverUrl: string | URL, modelId: string, options: RemoteModelOptions = {}): Promise<RemoteModel> {
    // Asynchronous compilation of the kernels: browsers refuse to compile large modules synchronously on the page.
    await initKernels();
    const api = new ServerApi(String(serverUrl), options);
    const progress = options.onProgress ?? (() => {});
    let t = performance.now();
    progress({ phase: "spec", state: "start" });
    const text = await api.spec(modelId);
    const client = new BundleClient(text);
    progress({ phase: "spec", state: "end", ms: performance.now() - t, bytes: text.length });
    const m = new RemoteModel(api, modelId, client, options);
    await m.#prepareKeys();
    return m;
  }

  get keys(): KeyStatus {
    return { ...this.#keys };
  }

  /** The key id the server knows this client's evaluation keys by (undefined for lookup-free models). */
  get keyId(): string | undefined {
    return this.#record?.uploads[this.api.url]?.keyId;
  }

  get lastPrediction(): PredictionStats | undefined {
    return this.#last;
  }

  async #makeKeys(secretKey: Uint8Array | undefined): Promise<KeygenResult> {
    const t = performance.now();
    this.#progress({ phase: "keygen", state: "start" });
    const r = await this.#keygen(this.client.bundle, secretKey, (detail) => this.#progress({ phase: "keygen", state: "step", detail }));
    const ms = performance.now() - t;
    this.#keys.keygenMs += ms;
    if (r.evaluationKeys !== undefined) this.#keys.evaluationKeyBytes = r.evaluationKeys.length;
    this.#progress({ phase: "keygen", state: "end", ms, bytes: r.evaluationKeys?.length ?? 0 });
    return r;
  }

  async #prepareKeys(): Promise<void> {
    const pid = this.client.parametersId;
    const stored = await this.#store.get(pid);
    if (stored !== undefined) {
      this.client.useSecretKey(stored.secretKey, `the secret key in ${this.#store.name ?? "the key store"}`);
      this.#record = stored;
      this.#keys.reused = true;
    } else {
      const r = await this.#makeKeys(undefined);
      this.client.useSecretKey(r.secretKey);
      this.#evaluationKeys = r.evaluationKeys;
      // Stored before the upload: a failed upload must not cost a second keygen.
      this.#record = { parameters: this.client.bundle.parameters, secretKey: r.secretKey, uploads: {} };
      await this.#store.put(pid, this.#record);
    }
    if (!this.client.linearOnly && this.keyId === undefined) await this.#upload();
  }

  async #upload(): Promise<string> {
    if (this.#evaluationKeys === undefined) this.#evaluationKeys = (await this.#makeKeys(this.#record!.secretKey)).evaluationKeys!;
    const t = performance.now();
    this.#progress({ phase: "upload", state: "start" });
    const uploaded: UploadedKeys = await this.api.uploadKeys(this.#evaluationKeys);
    this.#progress({ phase: "upload", state: "end", ms: performance.now() - t, bytes: this.#evaluationKeys.length });
    this.#keys.uploads++;
    this.#record = { ...this.#record!, uploads: { ...this.#record!.uploads, [this.api.url]: uploaded } };
    await this.#store.put(this.client.parametersId, this.#record);
    return uploaded.keyId;
  }

  async #send(body: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.api.predict(this.modelId, body, this.keyId);
    } catch (e) {
      // The server lost these keys (deleted, restarted on a memory store, another store): upload once more.
      if (!(e instanceof DeployError) || e.code !== "UNKNOWN_KEY" || this.client.linearOnly) throw e;
      return this.api.predict(this.modelId, body, await this.#upload());
    }
  }

  async #run<T>(X: MatrixLike | Sample, decrypt: (response: Uint8Array) => T): Promise<T> {
    if (this.#record === undefined) throw new DeployError("FORGOTTEN", "this connection's keys were forgotten: connect again");
    let t = performance.now();
    this.#progress({ phase: "encrypt", state: "start" });
    const body = this.client.quantizeEncryptSerialize(X);
    const encryptMs = performance.now() - t;
    this.#progress({ phase: "encrypt", state: "end", ms: encryptMs, bytes: body.length });
    t = performance.now();
    this.#progress({ phase: "server", state: "start" });
    const response = await this.#send(body);
    const serverMs = performance.now() - t;
    this.#progress({ phase: "server", state: "end", ms: serverMs, bytes: response.length });
    t = performance.now();
    this.#progress({ phase: "decrypt", state: "start" });
    const out = decrypt(response);
    const decryptMs = performance.now() - t;
    this.#progress({ phase: "decrypt", state: "end", ms: decryptMs });
    const rows = this.client.kind !== "model" ? 1 : "rows" in X ? X.rows : X.length;
    this.#last = { rows, requestBytes: body.length, responseBytes: response.length, encryptMs, serverMs, decryptMs };
    return out;
  }

  /** Predictions for rows (models) or the outputs of one run (circuits: its arguments). */
  async predict(X: MatrixLike | Sample): Promise<Predictions> {
    return this.#run(X, (r) => this.client.deserializeDecryptDequantize(r));
  }

  /** Class probabilities for rows (classifiers). */
  async predictProba(X: MatrixLike): Promise<number[][]> {
    return this.#run(X, (r) => this.client.deserializeDecryptProbabilities(r));
  }

  /** Deletes this client's evaluation keys from the server (with their token) and its key from the store. */
  async forget(): Promise<void> {
    const up = this.#record?.uploads[this.api.url];
    if (up !== undefined) {
      try {
        await this.api.deleteKeys(up.keyId, up.token);
      } catch (e) {
        if (!(e instanceof DeployError) || e.code !== "UNKNOWN_KEY") throw e;
      }
    }
    await this.#store.delete(this.client.parametersId);
    this.#record = undefined;
    this.#evaluationKeys = undefined;
  }
}
