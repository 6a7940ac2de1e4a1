// Deployment bundles: what `ModelDev.save` writes and the client and server load. A bundle is a directory:
//   client.json  the client bundle (also what `GET /models/:id/spec` serves): the client half of the circuit
//                and, for ML models, the quantizers, labels and link; everything a client needs, no key.
//   server.json  the server bundle's description; server.bin the compiler's server artifact (the circuit
//                and its lookup tables, nothing secret).
// One fingerprint ties the halves: SHA-256 of the server artifact followed by the serialized parameters.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Circuit, type CircuitServer } from "../compiler/index.js";
import type { Deployment } from "../ml/index.js";
import { serialize, type TfheParameters } from "../tfhe/index.js";
import { type BundleHeader, type BundleKind, checkModelId, type ClientBundle, CLIENT_BUNDLE_FORMAT, parseClientBundle, parseHeader, parseJson } from "./client-bundle.js";
import { DeployError } from "./errors.js";

export {
  CLIENT_BUNDLE_FORMAT, MODEL_ID_PATTERN, checkModelId, parseClientBundle, circuitClientOf, type BundleKind, type ClientBundle,
} from "./client-bundle.js";

export const SERVER_BUNDLE_FORMAT = "umbra.deploy.server/1";

export interface ServerBundle extends BundleHeader {
  readonly format: typeof SERVER_BUNDLE_FORMAT;
}

/** Anything with the ML models' `deployment()`, or a compiled circuit. */
export type Deployable = { deployment(): Deployment } | Circuit;

export function bundleFingerprint(serverArtifact: Uint8Array, params: TfheParameters): string {
  return createHash("sha256").update(serverArtifact).update(serialize(params)).digest("hex");
}

const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

/** The two bundles of a model or circuit, in memory (what `ModelDev.save` writes). */
export function makeBundles(deployable: Deployable, id: string): { client: ClientBundle; server: ServerBundle; serverArtifact: Uint8Array } {
  checkModelId(id);
  let server: CircuitServer, body: { model: string } | { circuit: string }, kind: BundleKind;
  if (deployable instanceof Circuit) {
    server = deployable.server;
    kind = "circuit";
    body = { circuit: toBase64(deployable.client.serialize()) };
  } else if (typeof (deployable as { deployment?: unknown })?.deployment === "function") {
    const d = deployable.deployment();
    server = d.server;
    kind = "model";
    body = { model: d.client.serialize() };
  } else {
    throw new DeployError("NOT_DEPLOYABLE", "ModelDev.save expects a compiled umbra/ml model (with deployment()) or a compiled Circuit");
  }
  const serverArtifact = server.serialize();
  const header: BundleHeader = {
    id, kind, fingerprint: bundleFingerprint(serverArtifact, server.params), linearOnly: server.spec.linearOnly,
    // A multi-parameter circuit's partitions, by name (its keys are a key bundle over all of them).
    parameters: (server.spec.layout?.params ?? [server.params]).map((p) => p.name).join(" + "),
  };
  return { client: { format: CLIENT_BUNDLE_FORMAT, ...header, ...body }, server: { format: SERVER_BUNDLE_FORMAT, ...header }, serverArtifact };
}

/** The developer's side: writes a compiled model's (or circuit's) client and server bundles. */
export const ModelDev = {
  /** Writes `dir`/client.json, `dir`/server.json and `dir`/server.bin; the id defaults to the directory's name. */
  async save(deployable: Deployable, dir: string, options: { readonly id?: string } = {}): Promise<ClientBundle> {
    const id = options.id ?? dir.replace(/[\\/]+$/, "").split(/[\\/]/).pop()!;
    const { client, server, serverArtifact } = makeBundles(deployable, id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "server.bin"), serverArtifact);
    await writeFile(join(dir, "server.json"), JSON.stringify(server, null, 2) + "\n");
    await writeFile(join(dir, "client.json"), JSON.stringify(client) + "\n");
    return client;
  },
};

/** Reads a bundle directory's server half; the artifact must hash to the recorded fingerprint. */
export async function readServerBundle(dir: string): Promise<{ bundle: ServerBundle; artifact: Uint8Array; client: ClientBundle }> {
  const o = parseJson(await readFile(join(dir, "server.json"), "utf8"), `${dir}/server.json`);
  if (o.format !== SERVER_BUNDLE_FORMAT) throw new DeployError("BAD_BUNDLE", `${dir}/server.json: format ${JSON.stringify(o.format)}, expected ${SERVER_BUNDLE_FORMAT}`);
  const bundle: ServerBundle = { format: SERVER_BUNDLE_FORMAT, ...parseHeader(o, `${dir}/server.json`) };
  const artifact = new Uint8Array(await readFile(join(dir, "server.bin")));
  const client = parseClientBundle(await readFile(join(dir, "client.json"), "utf8"));
  if (client.fingerprint !== bundle.fingerprint || client.id !== bundle.id) {
    throw new DeployError("BAD_BUNDLE", `${dir}: the client and server bundles come from different compilations (fingerprints differ)`);
  }
  return { bundle, artifact, client };
}
