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
import { ClientKey } from "../tfhe/client-key.js";
import { parameterFingerprint, type TfheParameters } from "../tfhe/parameters.js";
import { deserializeClientKey, serialize } from "../tfhe/serialization.js";
import { type BundleKind, type ClientBundle, circuitClientOf, parseClientBundle } from "./client-bundle.js";
import { DeployError } from "./errors.js";
import { decodeFrames, encodeFrames } from "./frames.js";

/** Labels (classifiers), values (regressors) or, for a compiled circuit, its decrypted outputs. */
export type Predictions = Label[] | number[] | Tensor[];

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

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
  get params(): TfheParameters { return this.#circuit.params; }
  /** True when the server needs no evaluation keys (lookup-free circuits). */
  get linearOnly(): boolean { return this.bundle.linearOnly; }
  /** The ML model client (quantizers, labels, link), for kind "model". */
  get model(): MlModelClient | undefined { return this.#model; }

  /** Hex of the parameter fingerprint: evaluation keys are per parameter set, shared by its models. */
  get parametersId(): string {
    return hex(parameterFingerprint(this.params));
  }

  keygen(): void {
    this.#circuit.keygen();
  }

  get hasKey(): boolean {
    return this.#circuit.hasKeys;
  }

  /** The SECRET key's bytes, for the client's own storage (a file, IndexedDB); never send them anywhere. */
  secretKey(): Uint8Array {
    return serialize(this.#circuit.keys.client);
  }

  /** Restores a secret key from `secretKey()`'s bytes (it must belong to this bundle's parameters). */
  useSecretKey(bytes: Uint8Array, what = "secret key"): void {
    let key: ClientKey;
    try {
      key = deserializeClientKey(bytes, this.params);
    } catch (e) {
      throw new DeployError("BAD_KEY_FILE", `${what}: not a client key for parameters ${this.params.name} (${(e as Error).message})`, 400, { cause: e });
    }
    this.#circuit.useKey(key);
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
