// The client of a deployed model or circuit, with no Node built-in (the browser's and Node's alike): the
// client bundle, the secret key, and the conversion of rows into one request body and of a response body
// into predictions. The secret key stays here (or in the store its owner names); what leaves is the
// evaluation keys and ciphertexts. Node's ModelClient adds bundle directories and key files.
// Each module by its own path, not an index: a browser bundle of this file must not reach the compiler.
import type { Sample } from "../compiler/index.js";
import type { MatrixLike } from "../ml/data.js";
import type { Label } from "../ml/decode.js";
import { ModelClient as MlModelClient } from "../ml/deploy.js";
import type { CircuitClient } from "../runtime/client.js";
import type { Tensor } from "../runtime/tensor.js";
import type { TfheParameters } from "../tfhe/parameters.js";
import { type BundleKind, type ClientBundle, circuitClientOf, parseClientBundle } from "./client-bundle.js";
import { DeployError } from "./errors.js";
import { decodeFrames, encodeFrames } from "./frames.js";

/** Labels (classifiers), values (regressors) or, for a compiled circuit, its decrypted outputs. */
export type Predictions = Label[] | number[] | Tensor[];

export class BundleClient {
  readonly #model: MlModelClient | undefined;
  readonly #circuit: CircuitClient;
  readonly bundle: ClientBundle;

  /** From the bundle's text or bytes (client.json, `GET /models/:id/spec`) or the parsed bundle. */
  constructor(src: string | Uint8Array | object) {
    const bundle = parseClientBundle(src);
    this.bundle = bundle;
    if (bundle.kind === "model") {
      this.#model = MlModelClient.deserialize(bundle.model!);
      this.#circuit = this.#model.circuit;
    } else {
      this.#circuit = circuitClientOf(bundle);
    }
    if (this.#circuit.spec.linearOnly !== bundle.linearOnly) throw new DeployError("BAD_BUNDLE", "client bundle: linearOnly disagrees with its circuit");
  }

  get id(): string { return this.bundle.id; }
  get kind(): BundleKind { return this.bundle.kind; }
  get fingerprint(): string { return this.bundle.fingerprint; }
  /** The parameters (partition 0's for a multi-parameter circuit; `partitions` lists them all). */
  get params(): TfheParameters { return this.#circuit.params; }
  /** Every parameter set the keys are made for: one, or a multi-parameter circuit's partitions. */
  get partitions(): readonly TfheParameters[] { return this.#circuit.spec.partitions?.params ?? [this.#circuit.params]; }
  /** True when the server needs no evaluation keys (lookup-free circuits). */
  get linearOnly(): boolean { return this.bundle.linearOnly; }
  /** The ML model client (quantizers, labels, link), for kind "model". */
  get model(): MlModelClient | undefined { return this.#model; }

  /**
   * The key set's id: hex of the parameter fingerprint (evaluation keys are per parameter set, shared by
   * its models), or for a multi-parameter circuit its layout's id (partitions and key switches).
   */
  get parametersId(): string {
    return this.#circuit.keySetId;
  }

  keygen(): void {
    this.#circuit.keygen();
  }

  get hasKey(): boolean {
    return this.#circuit.hasKeys;
  }

  /**
   * The SECRET key's bytes, for the client's own storage (a file, IndexedDB); never send them anywhere.
   * A multi-parameter circuit's are one bundle of every partition's key.
   */
  secretKey(): Uint8Array {
    return this.#circuit.serializeSecretKey();
  }

  /** Restores a secret key from `secretKey()`'s bytes (it must belong to this bundle's parameters, or partitions). */
  useSecretKey(bytes: Uint8Array, what = "secret key"): void {
    try {
      this.#circuit.useSerializedSecretKey(bytes);
    } catch (e) {
      const multi = this.#circuit.spec.partitions !== undefined;
      const expected = multi ? `the secret keys of partitions ${this.bundle.parameters}` : `a client key for parameters ${this.params.name}`;
      throw new DeployError("BAD_KEY_FILE", `${what}: not ${expected} (${(e as Error).message})`, 400, { cause: e });
    }
  }

  /** The seeded evaluation keys for the server (made on first call); undefined when the circuit needs none. */
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
