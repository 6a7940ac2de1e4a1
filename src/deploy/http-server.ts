// The HTTP server (Fastify): several models, uploaded evaluation keys in a KeyStore, predictions on an
// executor: in this process (a FIFO queue, each on its key set's own worker pool) or, with `redis`, on a
// BullMQ queue that `umbra worker` processes take jobs from (keys then live in the Redis key store).
//   GET /health · GET /models · GET /models/:id/spec · POST /keys · DELETE /keys/:id
//   POST /models/:id/predict · GET /metrics · static files if asked (the browser client, a page at /)
// Bodies that carry keys or ciphertexts are application/octet-stream; every field is checked by a JSON
// schema; errors are JSON { error, message } with a 4xx status (5xx only for the server's own faults),
// never a stack trace. Binary bodies are read as they stream in, within the route's limit; a key upload's
// header is checked before the rest is accepted. The logger (pino) never sees bodies, and the auth and
// key-token headers are redacted.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { readBody, type PrefixCheck } from "./body-stream.js";
import { DeployError } from "./errors.js";
import { checkKeySetFor, type Executor, LocalExecutor } from "./executor.js";
import { KEY_ID_HEADER, KEY_TOKEN_HEADER } from "./headers.js";
import { FileKeyStore, KEY_ID_PATTERN, type KeyStore, MemoryKeyStore } from "./key-store.js";
import { Metrics } from "./metrics.js";
import { checkKeysHeader, decodeKeys, type KeySet, keysHeaderBytes } from "./key-sets.js";
import { loadModels, type ModelServer } from "./model-server.js";
import { MODEL_ID_PATTERN } from "./bundle.js";
import { checkRedisPrefix, DEFAULT_REDIS_PREFIX } from "./redis.js";
import { registerStaticFiles, type StaticDir } from "./static-files.js";

export { KEY_ID_HEADER, KEY_TOKEN_HEADER } from "./headers.js";

export interface ServerLimits {
  /** Largest prediction request body (default 64 MiB). */
  readonly requestBytes?: number;
  /** Largest evaluation-key upload (default 1 GiB). */
  readonly keyBytes?: number;
  /** Largest JSON body (default 64 KiB). */
  readonly jsonBytes?: number;
  /** Requests waiting for their turn before the server answers 503 (default 256). */
  readonly queued?: number;
  /** Predictions evaluated at once (default 1: each gets the whole pool). */
  readonly concurrency?: number;
  /** Key sets kept decoded in memory, each with its pool (default 4). */
  readonly loadedKeys?: number;
  /** Worker threads per pool (default: the cores). */
  readonly threads?: number;
}

/** The scale-out: predictions on a BullMQ queue for `umbra worker` processes, keys in Redis. */
export interface RedisServerOptions {
  /** redis://host:port[/db] */
  readonly url: string;
  /** Every key's prefix (default "umbra"): servers and workers of one deployment share it. */
  readonly prefix?: string;
  /** How long payloads live in Redis; a prediction's longest wait (default 10 min). */
  readonly payloadTtlMs?: number;
  /** A prediction unfinished after this long is answered 504 (default: the payload TTL). */
  readonly timeoutMs?: number;
}

export interface ServerOptions {
  /** A directory of bundles (`ModelDev.save`): one bundle, or one per subdirectory. */
  readonly modelsDir?: string;
  readonly models?: readonly ModelServer[];
  /** The file key store's directory; without it (and without keyStore) keys live in memory. */
  readonly keysDir?: string;
  readonly keyStore?: KeyStore;
  /** Run predictions on `umbra worker` processes through Redis (and keep keys there, unless keyStore is given). */
  readonly redis?: RedisServerOptions;
  /** When set, every route but /health needs `Authorization: Bearer <token>`. */
  readonly authToken?: string;
  readonly limits?: ServerLimits;
  /** Static files (the browser client, a web page), public: e.g. [{ dir: "dist/browser", at: "/browser/" }]. */
  readonly staticDirs?: readonly StaticDir[];
  /** Fastify's logger options (pino); off by default. */
  readonly logger?: boolean | Record<string, unknown>;
}

export interface UmbraServer {
  readonly app: FastifyInstance;
  readonly models: ReadonlyMap<string, ModelServer>;
  /** Listens and returns the URL (port 0: a free port). */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  close(): Promise<void>;
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();
const errorSchema = { type: "object", properties: { error: { type: "string" }, message: { type: "string" } } } as const;

declare module "fastify" {
  interface FastifyContextConfig {
    /** A binary body's first bytes, checked as soon as they arrive. */
    readonly prefixCheck?: PrefixCheck;
  }
}

/** The store and executor of a scale-out server (loaded only then: BullMQ and ioredis). */
async function redisParts(o: RedisServerOptions, models: readonly ModelServer[], keyStore: KeyStore | undefined, onError: (m: string) => void): Promise<{ store: KeyStore; executor: Executor }> {
  const prefix = checkRedisPrefix(o.prefix ?? DEFAULT_REDIS_PREFIX);
  const [{ RedisExecutor }, { RedisKeyStore }, { connectRedis }] = await Promise.all([import("./redis-executor.js"), import("./redis-key-store.js"), import("./redis.js")]);
  const executor = await RedisExecutor.create({ url: o.url, prefix, payloadTtlMs: o.payloadTtlMs, timeoutMs: o.timeoutMs, onError }, models);
  return { executor, store: keyStore ?? new RedisKeyStore(connectRedis(o.url, { onError }), { prefix, owned: true }) };
}

export async function createServer(options: ServerOptions): Promise<UmbraServer> {
  const limits = options.limits ?? {};
  const list = [...(options.models ?? []), ...(options.modelsDir === undefined ? [] : await loadModels(options.modelsDir))];
  if (list.length === 0) throw new DeployError("NO_MODELS", `no model bundles${options.modelsDir === undefined ? "" : ` in ${options.modelsDir}`}`);
  const models = new Map<string, ModelServer>();
  for (const m of list) {
    if (models.has(m.id)) throw new DeployError("DUPLICATE_MODEL", `two bundles have the id ${m.id}`);
    models.set(m.id, m);
  }
  // Evaluation keys are accepted for the key sets of the models that need them (those with lookups): one
  // parameter set's keys, or a multi-parameter circuit's key bundle.
  const keySets: KeySet[] = [...new Map(list.filter((m) => !m.linearOnly).map((m) => [m.keySet.id, m.keySet])).values()];
  const app = Fastify({
    bodyLimit: limits.jsonBytes ?? 64 * 1024,
    logger: options.logger === undefined || options.logger === false ? false
      : { ...(options.logger === true ? {} : options.logger), redact: ["req.headers.authorization", `req.headers["${KEY_TOKEN_HEADER}"]`] },
  });
  let store: KeyStore, executor: Executor;
  if (options.redis !== undefined) {
    ({ store, executor } = await redisParts(options.redis, list, options.keyStore, (m) => app.log.error({ redis: m }, "redis")));
  } else {
    store = options.keyStore ?? (options.keysDir === undefined ? new MemoryKeyStore() : new FileKeyStore(options.keysDir));
    executor = new LocalExecutor({
      store, loadedKeys: limits.loadedKeys ?? 4, threads: limits.threads ?? availableParallelism(), concurrency: limits.concurrency ?? 1, queued: limits.queued ?? 256,
    });
  }
  const metrics = new Metrics();
  const authHash = options.authToken === undefined ? undefined : sha256(options.authToken);

  // Binary bodies stream in: the route's limit holds while reading, and its prefix check runs on the first bytes.
  app.addContentTypeParser("application/octet-stream", (req, payload, done) => {
    readBody(payload as Readable, { limit: req.routeOptions.bodyLimit ?? limits.jsonBytes ?? 64 * 1024, contentLength: req.headers["content-length"], prefix: req.routeOptions.config.prefixCheck })
      .then((body) => done(null, body), (e: Error) => done(e, undefined));
  });

  const publicPaths = new Set<string>();
  app.addHook("onRequest", async (req) => {
    if (authHash === undefined || req.url === "/health" || publicPaths.has(req.url.split("?")[0]!)) return;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    if (m === null || !timingSafeEqual(sha256(m[1]!), authHash)) throw new DeployError("UNAUTHORIZED", "this server needs Authorization: Bearer <token>", 401);
  });
  app.addHook("onResponse", async (req, reply) => {
    metrics.request(req.routeOptions.url ?? "unmatched", req.method, reply.statusCode);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: "NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` });
  });
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number; validation?: unknown }, req, reply) => {
    let status: number, error: string, message: string;
    if (err instanceof DeployError) {
      [status, error, message] = [err.status, err.code, err.message];
    } else if (err.validation !== undefined) {
      [status, error, message] = [400, "BAD_REQUEST", err.message];
    } else if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      [status, error, message] = [413, "TOO_LARGE", `the body is larger than this route accepts (${err.message})`];
    } else if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      [status, error, message] = [415, "UNSUPPORTED_MEDIA_TYPE", err.message];
    } else if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || err instanceof SyntaxError) {
      [status, error, message] = [400, "BAD_JSON", "the body is not valid JSON"];
    } else if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
      [status, error, message] = [err.statusCode, err.code ?? "BAD_REQUEST", err.message];
    } else {
      // The server's own fault: logged by name and message (never a body), answered without details.
      req.log.error({ err: { name: err.name, message: err.message } }, "internal error");
      [status, error, message] = [500, "INTERNAL", "internal server error"];
    }
    void reply.code(status).send({ error, message });
  });

  const bytesOf = (req: FastifyRequest, what: string): Uint8Array => {
    if (!Buffer.isBuffer(req.body)) throw new DeployError("UNSUPPORTED_MEDIA_TYPE", `${what}: send application/octet-stream`, 415);
    return new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  };
  const modelOf = (id: string): ModelServer => {
    const m = models.get(id);
    if (m === undefined) throw new DeployError("UNKNOWN_MODEL", `no model ${id} (GET /models lists them)`, 404);
    return m;
  };

  const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: MODEL_ID_PATTERN } } } as const;
  const keyParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: KEY_ID_PATTERN } } } as const;

  for (const path of await registerStaticFiles(app, options.staticDirs ?? [])) publicPaths.add(path);

  app.get("/health", async () => ({ status: "ok", models: models.size }));

  app.get("/models", async () => ({
    models: [...models.values()].map((m) => ({
      id: m.id, kind: m.bundle.kind, fingerprint: m.bundle.fingerprint, parameters: m.bundle.parameters, linearOnly: m.linearOnly,
    })),
  }));

  app.get<{ Params: { id: string } }>("/models/:id/spec", { schema: { params: idParams } }, async (req) => modelOf(req.params.id).client);

  app.post("/keys", {
    bodyLimit: limits.keyBytes ?? 2 ** 30,
    // The first bytes (magic, version, kind, parameter fingerprints, key switches, lengths) decide before
    // the rest of the upload is read: a key set of a model here, and the upload's exact length.
    config: {
      prefixCheck: {
        bytes: keysHeaderBytes(keySets),
        check: (head) => checkKeysHeader(head, keySets).totalBytes,
        wrongLength: (expected, got) => new DeployError("BAD_KEYS", `evaluation keys: ${got}, but keys of this kind are exactly ${expected} bytes`),
      },
    },
    schema: { response: { 201: { type: "object", properties: { keyId: { type: "string" }, token: { type: "string" } } }, "4xx": errorSchema } },
  }, async (req, reply) => {
    const bytes = bytesOf(req, "evaluation keys");
    const set = checkKeysHeader(bytes.subarray(0, keysHeaderBytes(keySets)), keySets);
    const keys = decodeKeys(bytes, set);
    const pid = set.id;
    const keyId = randomBytes(16).toString("hex"), token = randomBytes(32).toString("base64url");
    // The body is the parser's own copy (never a view of a socket buffer): stored as it is.
    await store.put(keyId, { keys: bytes, parametersId: pid, tokenHash: sha256(token).toString("hex") });
    executor.uploaded(keyId, keys, pid);
    return reply.code(201).send({ keyId, token });
  });

  app.delete<{ Params: { id: string } }>("/keys/:id", {
    schema: { params: keyParams, headers: { type: "object", required: [KEY_TOKEN_HEADER], properties: { [KEY_TOKEN_HEADER]: { type: "string", minLength: 1, maxLength: 128 } } } },
  }, async (req, reply) => {
    const r = await store.meta(req.params.id);
    if (r === undefined) throw new DeployError("UNKNOWN_KEY", `no evaluation keys with id ${req.params.id}`, 404);
    const given = sha256(String(req.headers[KEY_TOKEN_HEADER])), want = Buffer.from(r.tokenHash, "hex");
    if (want.length !== given.length || !timingSafeEqual(given, want)) throw new DeployError("FORBIDDEN", "wrong deletion token for these keys", 403);
    await store.delete(req.params.id);
    executor.deleted(req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>("/models/:id/predict", {
    bodyLimit: limits.requestBytes ?? 64 * 2 ** 20,
    schema: { params: idParams, headers: { type: "object", properties: { [KEY_ID_HEADER]: { type: "string", pattern: KEY_ID_PATTERN } } } },
  }, async (req, reply: FastifyReply) => {
    const model = modelOf(req.params.id);
    const body = bytesOf(req, "request");
    const t0 = performance.now();
    let keyId: string | undefined;
    if (!model.linearOnly) {
      keyId = req.headers[KEY_ID_HEADER] as string | undefined;
      if (typeof keyId !== "string") throw new DeployError("MISSING_KEY_ID", `model ${model.id} has lookups: send its evaluation keys' id in ${KEY_ID_HEADER}`);
      const meta = await store.meta(keyId);
      if (meta === undefined) throw new DeployError("UNKNOWN_KEY", `no evaluation keys with id ${keyId} (upload them with POST /keys)`, 404);
      checkKeySetFor(model, meta.parametersId);
    }
    // The response closing before it was written means the client went away: its queued work is dropped.
    const gone = new AbortController();
    reply.raw.once("close", () => { if (!reply.raw.writableFinished) gone.abort(); });
    const out = await executor.run({ model, body, ...(keyId === undefined ? {} : { keyId }), signal: gone.signal });
    metrics.prediction(model.id, (performance.now() - t0) / 1000);
    return reply.type("application/octet-stream").send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  });

  app.get("/metrics", async (_req, reply) => reply.type("text/plain; version=0.0.4").send(metrics.text(await executor.gauges())));

  return {
    app, models,
    async listen({ port = 0, host = "127.0.0.1" } = {}) {
      return app.listen({ port, host });
    },
    async close() {
      await app.close();
      await executor.close();
      await store.close?.();
    },
  };
}
