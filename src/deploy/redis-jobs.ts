// What `umbra serve --redis` and `umbra worker` agree on: the BullMQ queue, a job's data and result, and
// where the big payloads go. BullMQ stores job data and results as JSON, so ciphertexts never travel in
// a job: the server writes the request body to a Redis key with a TTL and puts the key's name in the job;
// the worker writes the response body likewise and returns its name. Jobs carry no secret (the server
// has none): a model id and fingerprint, an evaluation-key id, payload references.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { parseClientBundle, SERVER_BUNDLE_FORMAT, type ServerBundle } from "./bundle.js";
import { DeployError } from "./errors.js";
import { KEY_ID_PATTERN } from "./key-store.js";
import { ModelServer } from "./model-server.js";

export const QUEUE_NAME = "predict";
const KEY_ID = new RegExp(KEY_ID_PATTERN);

export const bullPrefix = (prefix: string): string => `${prefix}:bull`;
export const modelKey = (prefix: string, fingerprint: string): string => `${prefix}:model:${fingerprint}`;
/** A fresh payload key: 128 random bits, so that no one can guess another request's. */
export const newDataKey = (prefix: string): string => `${prefix}:data:${randomBytes(16).toString("hex")}`;

export interface PredictJob {
  readonly v: 1;
  readonly model: string;
  readonly fingerprint: string;
  readonly keyId?: string;
  /** The Redis key holding the request body. */
  readonly request: string;
}

/** A prediction's outcome: the response's Redis key, or the client's fault as the HTTP error it maps to. */
export type PredictResult =
  | { readonly ok: true; readonly response: string }
  | { readonly ok: false; readonly error: { readonly code: string; readonly status: number; readonly message: string } };

/** Checks a job's data (a worker trusts nothing that comes out of Redis). */
export function parsePredictJob(data: unknown, prefix: string): PredictJob {
  const d = data as Partial<PredictJob> | null;
  const bad = (m: string): never => { throw new DeployError("BAD_JOB", `prediction job: ${m}`); };
  if (typeof d !== "object" || d === null || d.v !== 1) bad("unknown job format");
  if (typeof d!.model !== "string" || typeof d!.fingerprint !== "string" || !/^[0-9a-f]{64}$/.test(d!.fingerprint)) bad("bad model or fingerprint");
  if (d!.keyId !== undefined && (typeof d!.keyId !== "string" || !KEY_ID.test(d!.keyId))) bad("bad key id");
  if (typeof d!.request !== "string" || !new RegExp(`^${prefix.replace(/[.]/g, "\\.")}:data:[0-9a-f]{32}$`).test(d!.request)) bad("bad request reference");
  return d as PredictJob;
}

export function parsePredictResult(value: unknown, prefix: string): PredictResult {
  const r = value as { ok?: unknown; response?: unknown; error?: { code?: unknown; status?: unknown; message?: unknown } } | null;
  if (r?.ok === true && typeof r.response === "string" && r.response.startsWith(`${prefix}:data:`)) return { ok: true, response: r.response };
  const e = r?.error;
  if (r?.ok === false && typeof e?.code === "string" && typeof e.status === "number" && typeof e.message === "string") {
    return { ok: false, error: { code: e.code, status: e.status, message: e.message } };
  }
  throw new DeployError("BAD_JOB_RESULT", "a worker returned a result this server does not understand", 502);
}

/** Publishes a model's server bundle (nothing secret) so that workers need no copy of the bundle directory. */
export async function publishModel(client: Redis, prefix: string, m: ModelServer): Promise<void> {
  const a = m.artifact;
  await client.hset(modelKey(prefix, m.bundle.fingerprint), {
    server: JSON.stringify(m.bundle), client: JSON.stringify(m.client), artifact: Buffer.from(a.buffer, a.byteOffset, a.byteLength),
  });
}

/** A published model by fingerprint (the artifact is checked against it); undefined if none is published. */
export async function fetchModel(client: Redis, prefix: string, fingerprint: string): Promise<ModelServer | undefined> {
  const [server, clientJson, artifact] = await client.hmgetBuffer(modelKey(prefix, fingerprint), "server", "client", "artifact");
  if (server === null || clientJson === null || artifact === null) return undefined;
  const bundle = JSON.parse(server.toString()) as ServerBundle;
  if (bundle.format !== SERVER_BUNDLE_FORMAT || bundle.fingerprint !== fingerprint) throw new DeployError("BAD_BUNDLE", `the model published as ${fingerprint.slice(0, 16)}… is not that model`);
  return new ModelServer(bundle, Uint8Array.from(artifact), parseClientBundle(clientJson.toString()));
}
