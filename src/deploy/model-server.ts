// The server of a deployed model or circuit: the compiler's server half, loaded from a server bundle and
// checked against its fingerprint. It takes evaluation keys (never a secret key) and request bodies, and
// returns response bodies. Errors caused by what a client sent are DeployErrors (HTTP 400).
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { CircuitServer, InputOutOfRangeError } from "../compiler/index.js";
import {
  type Bootstrapper, DeserializationError, deserializeEvaluationKeys, type EvaluationKeys, ParameterMismatchError, parameterFingerprint, peekHeader, type TfheParameters,
} from "../tfhe/index.js";
import { bundleFingerprint, type ClientBundle, readServerBundle, type ServerBundle } from "./bundle.js";
import { DeployError } from "./errors.js";
import { decodeFrames, encodeFrames } from "./frames.js";

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

  /** `artifact`: the server bundle's server.bin (kept: `umbra serve --redis` publishes it to the workers). */
  constructor(readonly bundle: ServerBundle, readonly artifact: Uint8Array, readonly client: ClientBundle) {
    this.circuit = CircuitServer.deserialize(artifact);
    if (bundleFingerprint(artifact, this.circuit.params) !== bundle.fingerprint) {
      throw new DeployError("BAD_BUNDLE", `server bundle ${bundle.id}: the artifact does not match its fingerprint`);
    }
    if (this.circuit.spec.linearOnly !== bundle.linearOnly) throw new DeployError("BAD_BUNDLE", `server bundle ${bundle.id}: linearOnly disagrees with the circuit`);
  }

  static async load(dir: string): Promise<ModelServer> {
    const { bundle, artifact, client } = await readServerBundle(dir);
    return new ModelServer(bundle, artifact, client);
  }

  get id(): string { return this.bundle.id; }
  get params(): TfheParameters { return this.circuit.params; }
  get linearOnly(): boolean { return this.bundle.linearOnly; }
  get parametersId(): string { return Buffer.from(parameterFingerprint(this.params)).toString("hex"); }

  /** Decodes uploaded evaluation keys for this model's parameters (BAD_KEYS / WRONG_PARAMETERS otherwise). */
  loadKeys(bytes: Uint8Array, maxBytes?: number): EvaluationKeys {
    return decodeEvaluationKeys(bytes, [this.params], maxBytes);
  }

  /**
   * Evaluates a request body: on a Bootstrapper (a ServerKey or a PbsWorkerPool) or on uploaded key bytes
   * (loaded for this call only); lookup-free circuits take no keys.
   */
  async run(request: Uint8Array, keys?: Bootstrapper | Uint8Array): Promise<Uint8Array> {
    const { rows, parts } = decodeFrames(request);
    if (this.bundle.kind === "circuit" && parts.length !== 1) throw new DeployError("BAD_FRAMES", `request: a circuit takes one run, got ${parts.length}`);
    if (!this.linearOnly && keys === undefined) throw new DeployError("MISSING_KEYS", `model ${this.id} has lookups: it needs evaluation keys`);
    const owned = keys instanceof Uint8Array && !this.linearOnly ? this.circuit.loadKeys(this.loadKeys(keys)) : undefined;
    const bootstrapper = this.linearOnly ? undefined : owned ?? keys as Bootstrapper;
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

/**
 * Which of `params` evaluation keys are for, from their 16-byte header alone (magic, version, kind,
 * parameter fingerprint): an upload is checked by this before the rest of it is read.
 */
export function evaluationKeysParameters(header: Uint8Array, params: readonly TfheParameters[]): TfheParameters {
  let h;
  try {
    h = peekHeader(header);
  } catch (e) {
    throw clientFault(e, "evaluation keys");
  }
  if (h.kindName !== "EvaluationKeys") throw new DeployError("BAD_KEYS", `evaluation keys: got a serialized ${h.kindName}`);
  const p = params.find((q) => Buffer.from(parameterFingerprint(q)).toString("hex") === h.fingerprintHex);
  if (p === undefined) {
    throw new DeployError("WRONG_PARAMETERS", `evaluation keys for parameters ${h.fingerprintHex.slice(0, 16)}…, which no model here uses (${params.map((q) => q.name).join(", ") || "none: no model here needs keys"})`);
  }
  return p;
}

/** Decodes evaluation keys for one of `params` (the one their header names). */
export function decodeEvaluationKeys(bytes: Uint8Array, params: readonly TfheParameters[], maxBytes?: number): EvaluationKeys {
  const p = evaluationKeysParameters(bytes, params);
  try {
    return deserializeEvaluationKeys(bytes, p, maxBytes === undefined ? undefined : { maxBytes });
  } catch (e) {
    throw clientFault(e, "evaluation keys");
  }
}
