// The client bundle (client.json, also what `GET /models/:id/spec` serves) and the header both bundles
// share: parsed and checked here, with no Node built-in, so that the browser client reads the same format.
import { CircuitClient } from "../runtime/client.js";
import { DeployError } from "./errors.js";

export const CLIENT_BUNDLE_FORMAT = "umbra.deploy.client/1";
/** Model ids: a URL path segment and a directory name. */
export const MODEL_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
const MODEL_ID = new RegExp(MODEL_ID_PATTERN);

/** An ML model's rows, or a compiled circuit's arguments. */
export type BundleKind = "model" | "circuit";

export interface BundleHeader {
  readonly id: string;
  readonly kind: BundleKind;
  /** Hex SHA-256 of the server artifact and the parameters: the two halves of one compilation share it. */
  readonly fingerprint: string;
  /** True when the circuit has no lookups: the server needs no evaluation keys. */
  readonly linearOnly: boolean;
  /** The parameter set's name; a multi-parameter circuit's partitions' names, joined by " + ". */
  readonly parameters: string;
}

export interface ClientBundle extends BundleHeader {
  readonly format: typeof CLIENT_BUNDLE_FORMAT;
  /** kind "model": the ML model client as text (ModelClient.serialize of umbra/ml). */
  readonly model?: string;
  /** kind "circuit": the circuit client artifact, base64. */
  readonly circuit?: string;
}

export function checkModelId(id: unknown): string {
  if (typeof id !== "string" || !MODEL_ID.test(id)) {
    throw new DeployError("BAD_MODEL_ID", `model id ${JSON.stringify(id)}: expected 1 to 64 letters, digits, '.', '_' or '-', not starting with a punctuation mark`);
  }
  return id;
}

export function parseHeader(o: Record<string, unknown>, what: string): BundleHeader {
  const bad = (m: string): never => {
    throw new DeployError("BAD_BUNDLE", `${what}: ${m}`);
  };
  checkModelId(o.id);
  if (o.kind !== "model" && o.kind !== "circuit") bad(`kind ${JSON.stringify(o.kind)}, expected "model" or "circuit"`);
  if (typeof o.fingerprint !== "string" || !/^[0-9a-f]{64}$/.test(o.fingerprint)) bad("the fingerprint must be 64 hex digits");
  if (typeof o.linearOnly !== "boolean" || typeof o.parameters !== "string") bad("bad linearOnly or parameters");
  return { id: o.id as string, kind: o.kind as BundleKind, fingerprint: o.fingerprint as string, linearOnly: o.linearOnly as boolean, parameters: o.parameters as string };
}

export function parseJson(text: string, what: string): Record<string, unknown> {
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
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(b.circuit!), (c) => c.charCodeAt(0));
  } catch (e) {
    throw new DeployError("BAD_BUNDLE", "client bundle: the circuit is not base64", 400, { cause: e });
  }
  return CircuitClient.deserialize(bytes);
}
