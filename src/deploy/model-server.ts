// The server of a deployed model or circuit: the compiler's server half, loaded from a server bundle and
// checked against its fingerprint. It takes evaluation keys (never a secret key) and request bodies, and
// returns response bodies. Errors caused by what a client sent are DeployErrors (HTTP 400).
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { CircuitServer, InputOutOfRangeError, type PartitionedBootstrapper } from "../compiler/index.js";
import { type Bootstrapper, DeserializationError, ParameterMismatchError, type TfheParameters } from "../tfhe/index.js";
import { bundleFingerprint, type ClientBundle, readServerBundle, type ServerBundle } from "./bundle.js";
import { DeployError } from "./errors.js";
import { decodeFrames, encodeFrames } from "./frames.js";
import { decodeKeys, type KeySet, keySetOf, type UploadedKeySet } from "./key-sets.js";

/** Errors a malformed or mismatched request raises in the core: the client's fault, a 400. */
export function clientFault(e: unknown, what: string): unknown {
  if (e instanceof DeployError) return e;
  if (e instanceof ParameterMismatchError || (e instanceof DeserializationError && e.code === "PARAMS_MISMATCH")) return new DeployError("WRONG_PARAMETERS", `${what}: ${e.message}`, 400, { cause: e });
  if (e instanceof DeserializationError || e instanceof InputOutOfRangeError || e instanceof RangeError || e instanceof TypeError) {
    return new DeployError(what === "evaluation keys" ? "BAD_KEYS" : "BAD_CIPHERTEXT", `${what}: ${e.message}`, 400, { cause: e });
  }
  return e;
}

export class ModelServer {
  readonly circuit: CircuitServer;
  /** The evaluation keys this model takes: one parameter set's, or its partitions' key bundle. */
  readonly keySet: KeySet;

  /** `artifact`: the server bundle's server.bin (kept: `umbra serve --redis` publishes it to the workers). */
  constructor(readonly bundle: ServerBundle, readonly artifact: Uint8Array, readonly client: ClientBundle) {
    this.circuit = CircuitServer.deserialize(artifact);
    if (bundleFingerprint(artifact, this.circuit.params) !== bundle.fingerprint) {
      throw new DeployError("BAD_BUNDLE", `server bundle ${bundle.id}: the artifact does not match its fingerprint`);
    }
    if (this.circuit.spec.linearOnly !== bundle.linearOnly) throw new DeployError("BAD_BUNDLE", `server bundle ${bundle.id}: linearOnly disagrees with the circuit`);
    this.keySet = keySetOf(this.circuit);
  }

  static async load(dir: string): Promise<ModelServer> {
    const { bundle, artifact, client } = await readServerBundle(dir);
    return new ModelServer(bundle, artifact, client);
  }

  get id(): string { return this.bundle.id; }
  get params(): TfheParameters { return this.circuit.params; }
  get linearOnly(): boolean { return this.bundle.linearOnly; }
  /** The id of the key set this model takes (its parameter fingerprint, or its partitions' layout id): key records carry it. */
  get parametersId(): string { return this.keySet.id; }
  /** True when the model has several parameter partitions (its keys are a key bundle). */
  get multiParameter(): boolean { return this.keySet.keyswitches !== undefined; }

  /** Decodes uploaded evaluation keys for this model's key set (BAD_KEYS / WRONG_PARAMETERS otherwise). */
  loadKeys(bytes: Uint8Array, maxBytes?: number): UploadedKeySet {
    return decodeKeys(bytes, this.keySet, maxBytes);
  }

  /**
   * Evaluates a request body: on a Bootstrapper (a ServerKey or a PbsWorkerPool) or on uploaded key bytes
   * (loaded for this call only); lookup-free circuits take no keys.
   */
  async run(request: Uint8Array, keys?: Bootstrapper | PartitionedBootstrapper | Uint8Array): Promise<Uint8Array> {
    const { rows, parts } = decodeFrames(request);
    if (this.bundle.kind === "circuit" && parts.length !== 1) throw new DeployError("BAD_FRAMES", `request: a circuit takes one run, got ${parts.length}`);
    if (!this.linearOnly && keys === undefined) throw new DeployError("MISSING_KEYS", `model ${this.id} has lookups: it needs evaluation keys`);
    const owned = keys instanceof Uint8Array && !this.linearOnly ? this.circuit.loadKeys(this.loadKeys(keys)) : undefined;
    const bootstrapper = this.linearOnly ? undefined : owned ?? keys as Bootstrapper | PartitionedBootstrapper;
    try {
      const out: Uint8Array[] = [];
      for (const p of parts) {
        try {
          out.push(await this.circuit.runAsync(p, bootstrapper));
        } catch (e) {
          throw clientFault(e, "request");
        }
      }
      return encodeFrames({ rows, parts: out });
    } finally {
      owned?.free();
    }
  }
}

/** The bundles in `dir`: one bundle, or one per subdirectory. */
export async function loadModels(dir: string): Promise<ModelServer[]> {
  if (existsSync(join(dir, "server.json"))) return [await ModelServer.load(dir)];
  const subdirs = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "server.json")));
  return Promise.all(subdirs.map((d) => ModelServer.load(join(dir, d.name))));
}
