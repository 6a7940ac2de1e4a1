// Deployment bundles: what `ModelDev.save` writes and the client and server load. A bundle is a directory:
//   client.json  the client bundle (also what `GET /models/:id/spec` serves): the client half of the circuit
//                and, for ML models, the quantizers, labels and link; everything a client needs, no key.
//   server.json  the server bundle's description; server.bin the compiler's server artifact (the circuit
//                and its lookup tables, nothing secret).
// One fingerprint ties the halves: SHA-256 of the server artifact followed by the serialized parameters.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Circuit, CircuitClient, type CircuitServer } from "../compiler/index.js";
import type { Deployment } from "../ml/index.js";
import { serialize, type TfheParameters } from "../tfhe/index.js";
import { DeployError } from "./errors.js";

export const CLIENT_BUNDLE_FORMAT = "umbra.deploy.client/1";
export const SERVER_BUNDLE_FORMAT = "umbra.deploy.server/1";
/** Model ids: a URL path segment and a directory name. */
export const MODEL_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
const MODEL_ID = new RegExp(MODEL_ID_PATTERN);

/** An ML model's rows, or a compiled circuit's arguments. */
export type BundleKind = "model" | "circuit";

interface BundleHeader {
  readonly id: string;
  readonly kind: BundleKind;
  /** Hex SHA-256 of the server artifact and the parameters: the two halves of one compilation share it. */
  readonly fingerprint: string;
  /** True when the circuit has no lookups: the server needs no evaluation keys. */
  readonly linearOnly: boolean;
  readonly parameters: string;
}

export interface ClientBundle extends BundleHeader {
  readonly format: typeof CLIENT_BUNDLE_FORMAT;
  /** kind "model": the ML model client as text (ModelClient.serialize of umbra/ml). */
  readonly model?: string;
  /** kind "circuit": the circuit client artifact, base64. */
  readonly circuit?: string;
}

export interface ServerBundle extends BundleHeader {
  readonly format: typeof SERVER_BUNDLE_FORMAT;
}

/** Anything with the ML models' `deployment()`, or a compiled circuit. */
export type Deployable = { deployment(): Deployment } | Circuit;

export function checkModelId(id: unknown): string {
  if (typeof id !== "string" || !MODEL_ID.test(id)) {
    throw new DeployError("BAD_MODEL_ID", `model id ${JSON.stringify(id)}: expected 1 to 64 letters, digits, '.', '_' or '-', not starting with a punctuation mark`);
  }
  return id;
}

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
    id, kind, fingerprint: bundleFingerprint(serverArtifact, server.params), linearOnly: server.spec.linearOnly, parameters: server.params.name,
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

function parseHeader(o: Record<string, unknown>, what: string): BundleHeader {
  const bad = (m: string): never => {
    throw new DeployError("BAD_BUNDLE", `${what}: ${m}`);
  };
  checkModelId(o.id);
  if (o.kind !== "model" && o.kind !== "circuit") bad(`kind ${JSON.stringify(o.kind)}, expected "model" or "circuit"`);
  if (typeof o.fingerprint !== "string" || !/^[0-9a-f]{64}$/.test(o.fingerprint)) bad("the fingerprint must be 64 hex digits");
  if (typeof o.linearOnly !== "boolean" || typeof o.parameters !== "string") bad("bad linearOnly or parameters");
  return { id: o.id as string, kind: o.kind as BundleKind, fingerprint: o.fingerprint as string, linearOnly: o.linearOnly as boolean, parameters: o.parameters as string };
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new DeployError("BAD_BUNDLE", `${what}: not JSON (${(e as Error).message})`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new DeployError("BAD_BUNDLE", `${what}: expected a JSON object`);
  return o as Record<string, unknown>;
}

/** Checks a client bundle's fields (the halves themselves are checked when decoded). */
export function parseClientBundle(src: string | Uint8Array | object): ClientBundle {
  const o = typeof src === "string" ? parseJson(src, "client bundle") : src instanceof Uint8Array ? parseJson(new TextDecoder().decode(src), "client bundle") : src as Record<string, unknown>;
  if (o.format !== CLIENT_BUNDLE_FORMAT) throw new DeployError("BAD_BUNDLE", `client bundle: format ${JSON.stringify(o.format)}, expected ${CLIENT_BUNDLE_FORMAT}`);
  const h = parseHeader(o, "client bundle");
  if (h.kind === "model" ? typeof o.model !== "string" : typeof o.circuit !== "string") {
    throw new DeployError("BAD_BUNDLE", `client bundle: a ${h.kind} bundle needs its "${h.kind}" field`);
  }
  return { format: CLIENT_BUNDLE_FORMAT, ...h, ...(h.kind === "model" ? { model: o.model as string } : { circuit: o.circuit as string }) };
}

export function circuitClientOf(b: ClientBundle): CircuitClient {
  return CircuitClient.deserialize(Uint8Array.from(Buffer.from(b.circuit!, "base64")));
}

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
