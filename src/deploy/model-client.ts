// The client of a deployed model or circuit (Node): loads the client bundle, makes or restores the secret
// key, and turns rows into one request body and a response body into predictions. The secret key stays
// here (or in the file the caller names); what leaves is the evaluation keys and ciphertexts.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CircuitClient, Sample, Tensor } from "../compiler/index.js";
import { type Label, type MatrixLike, ModelClient as MlModelClient } from "../ml/index.js";
import { deserializeClientKey, parameterFingerprint, serialize, type TfheParameters } from "../tfhe/index.js";
import { type BundleKind, type ClientBundle, circuitClientOf, parseClientBundle } from "./bundle.js";
import { DeployError } from "./errors.js";
import { decodeFrames, encodeFrames } from "./frames.js";

/** Labels (classifiers), values (regressors) or, for a compiled circuit, its decrypted outputs. */
export type Predictions = Label[] | number[] | Tensor[];

export class ModelClient {
  readonly #model: MlModelClient | undefined;
  readonly #circuit: CircuitClient;

  private constructor(readonly bundle: ClientBundle) {
    if (bundle.kind === "model") {
      this.#model = MlModelClient.deserialize(bundle.model!);
      this.#circuit = this.#model.circuit;
    } else {
      this.#circuit = circuitClientOf(bundle);
    }
    if (this.#circuit.spec.linearOnly !== bundle.linearOnly) throw new DeployError("BAD_BUNDLE", "client bundle: linearOnly disagrees with its circuit");
  }

  /** From a bundle directory (its client.json), the bundle's bytes or text, or the parsed bundle. */
  static async load(src: string | Uint8Array | ClientBundle): Promise<ModelClient> {
    if (typeof src === "string" && !src.trimStart().startsWith("{")) return new ModelClient(parseClientBundle(await readFile(join(src, "client.json"), "utf8")));
    return ModelClient.fromBundle(src);
  }

  static fromBundle(src: string | Uint8Array | object): ModelClient {
    return new ModelClient(parseClientBundle(src));
  }

  get id(): string { return this.bundle.id; }
  get kind(): BundleKind { return this.bundle.kind; }
  get fingerprint(): string { return this.bundle.fingerprint; }
  get params(): TfheParameters { return this.#circuit.params; }
  /** True when the server needs no evaluation keys (lookup-free circuits). */
  get linearOnly(): boolean { return this.bundle.linearOnly; }
  /** The ML model client (quantizers, labels, link), for kind "model". */
  get model(): MlModelClient | undefined { return this.#model; }

  /** Hex of the parameter fingerprint: evaluation keys are per parameter set, shared by its models. */
  get parametersId(): string {
    return Buffer.from(parameterFingerprint(this.params)).toString("hex");
  }

  keygen(): void {
    this.#circuit.keygen();
  }

  get hasKey(): boolean {
    return this.#circuit.hasKeys;
  }

  /** Writes the SECRET key to `path` (mode 0600): the client's own storage, never sent anywhere. */
  async saveKey(path: string): Promise<void> {
    await writeFile(path, serialize(this.#circuit.keys.client), { mode: 0o600 });
  }

  /** Restores a key saved by `saveKey` (it must belong to this bundle's parameters). */
  async loadKey(path: string): Promise<void> {
    const bytes = new Uint8Array(await readFile(path));
    let key;
    try {
      key = deserializeClientKey(bytes, this.params);
    } catch (e) {
      throw new DeployError("BAD_KEY_FILE", `${path}: not a client key for parameters ${this.params.name} (${(e as Error).message})`, 400, { cause: e });
    }
    this.#circuit.useKey(key);
  }

  /** The seeded evaluation keys for the server; undefined when the circuit needs none. */
  evaluationKeys(): Uint8Array | undefined {
    return this.#circuit.serializedEvaluationKeys();
  }

  /**
   * One request body: for a model, rows (quantized, padded into batches, encrypted batch by batch); for a
   * circuit, its arguments (the Sample `encrypt` takes).
   */
  quantizeEncryptSerialize(X: MatrixLike | Sample): Uint8Array {
    if (this.#model !== undefined) {
      const { requests, rows } = this.#model.encrypt(X as MatrixLike);
      return encodeFrames({ rows, parts: requests });
    }
    return encodeFrames({ rows: 0, parts: [this.#circuit.encrypt(...(X as Sample))] });
  }

  /** Predictions (models) or outputs (circuits) from the server's response body. */
  deserializeDecryptDequantize(response: Uint8Array): Predictions {
    const { rows, parts } = decodeFrames(response, "response");
    if (this.#model !== undefined) return this.#model.predict(parts, rows);
    if (parts.length !== 1) throw new DeployError("BAD_FRAMES", `response: a circuit's response holds one run, got ${parts.length}`);
    return this.#circuit.decrypt(parts[0]!);
  }

  /** Class probabilities (classifiers) from the server's response body. */
  deserializeDecryptProbabilities(response: Uint8Array): number[][] {
    if (this.#model === undefined) throw new DeployError("NOT_A_MODEL", "probabilities need an ML model bundle");
    const { rows, parts } = decodeFrames(response, "response");
    return this.#model.predictProba(parts, rows);
  }
}
