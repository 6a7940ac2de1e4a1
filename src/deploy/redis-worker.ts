// `umbra worker`: takes predictions off the BullMQ queue that `umbra serve --redis` fills. Models come
// from a local bundle directory or, by fingerprint, from the bundles the server published in Redis;
// evaluation keys from the Redis key store, kept decoded (each with its worker pool) in a bounded LRU.
// A client's fault ends the job with its typed error (no retry); the worker's own faults fail the job;
// a worker that dies mid-job loses its lock, and BullMQ's stalled-job check hands the job to another.
import { Worker, type Job } from "bullmq";
import { availableParallelism } from "node:os";
import type { Redis } from "ioredis";
import { DeployError } from "./errors.js";
import { checkKeySetFor, loadKeysFor } from "./executor.js";
import { KeyCache } from "./key-cache.js";
import { loadModels, type ModelServer } from "./model-server.js";
import { connectRedis } from "./redis.js";
import { RedisKeyStore } from "./redis-key-store.js";
import { bullPrefix, fetchModel, newDataKey, parsePredictJob, QUEUE_NAME, type PredictResult } from "./redis-jobs.js";

export interface WorkerOptions {
  readonly url: string;
  readonly prefix: string;
  /** Bundles on this machine; others are fetched from Redis by fingerprint. */
  readonly modelsDir?: string;
  /** Jobs at once (default 1: each gets the whole pool). */
  readonly concurrency?: number;
  /** Threads per key set's pool (default: the cores). */
  readonly threads?: number;
  /** Key sets kept decoded (default 4). */
  readonly loadedKeys?: number;
  /** A job's lock; renewed at half of it while the job runs (default 30 s). */
  readonly lockDurationMs?: number;
  /** How often stalled jobs (a dead worker's) are looked for (default 15 s). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and still be retried (default 2). */
  readonly maxStalledCount?: number;
  /** How long a response's payload lives in Redis (default 10 min). */
  readonly payloadTtlMs?: number;
  /** Structured events (never a payload, a key or a token). */
  readonly log?: (event: Record<string, unknown>) => void;
}

export interface UmbraWorker {
  /** Models known at start (local bundles); published ones are loaded on first use. */
  readonly models: ReadonlyMap<string, ModelServer>;
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<UmbraWorker> {
  const log = options.log ?? (() => undefined);
  const onError = (message: string): void => log({ level: "error", msg: "redis", error: message });
  const redis: Redis = connectRedis(options.url, { onError });
  const blocking: Redis = connectRedis(options.url, { blocking: true, onError });
  const store = new RedisKeyStore(redis, { prefix: options.prefix });
  const cache = new KeyCache(options.loadedKeys ?? 4, options.threads ?? availableParallelism());
  const ttl = options.payloadTtlMs ?? 10 * 60_000;
  const byFingerprint = new Map<string, Promise<ModelServer | undefined>>();
  const local = new Map<string, ModelServer>();
  for (const m of options.modelsDir === undefined ? [] : await loadModels(options.modelsDir)) {
    local.set(m.id, m);
    byFingerprint.set(m.bundle.fingerprint, Promise.resolve(m));
  }
  const modelOf = (fingerprint: string): Promise<ModelServer | undefined> => {
    let p = byFingerprint.get(fingerprint);
    if (p === undefined) {
      p = fetchModel(redis, options.prefix, fingerprint);
      // A failed fetch is not remembered: the next job asks again.
      p.then((m) => { if (m === undefined) byFingerprint.delete(fingerprint); }, () => byFingerprint.delete(fingerprint));
      byFingerprint.set(fingerprint, p);
    }
    return p;
  };

  const fault = (e: DeployError): PredictResult => ({ ok: false, error: { code: e.code, status: e.status, message: e.message } });

  const process = async (job: Job): Promise<PredictResult> => {
    const t0 = performance.now();
    const data = parsePredictJob(job.data, options.prefix);
    log({ level: "info", msg: "job", job: job.id, model: data.model, attempt: job.attemptsStarted });
    const model = await modelOf(data.fingerprint);
    if (model === undefined) throw new DeployError("UNKNOWN_MODEL", `model ${data.model} (${data.fingerprint.slice(0, 16)}…) is neither local nor published`);
    const body = await redis.getBuffer(data.request);
    if (body === null) return fault(new DeployError("CANCELLED", "the request is gone (its client went away, or it waited longer than its TTL)", 499));
    let lease;
    try {
      if (!model.linearOnly) {
        if (data.keyId === undefined) throw new DeployError("MISSING_KEY_ID", `model ${model.id} has lookups: it needs evaluation keys`);
        // Checked on every job: keys deleted through any server are never used again here.
        const meta = await store.meta(data.keyId);
        if (meta === undefined) {
          cache.delete(data.keyId);
          throw new DeployError("UNKNOWN_KEY", `no evaluation keys with id ${data.keyId} (upload them with POST /keys)`, 404);
        }
        checkKeySetFor(model, meta.parametersId);
        lease = await cache.leaseOrLoad(data.keyId, () => loadKeysFor(store, data.keyId!, model));
      }
      const out = await model.run(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), lease === undefined ? undefined : await lease.pool());
      const response = newDataKey(options.prefix);
      await redis.set(response, Buffer.from(out.buffer, out.byteOffset, out.byteLength), "PX", ttl);
      log({ level: "info", msg: "done", job: job.id, model: data.model, ms: Math.round(performance.now() - t0) });
      return { ok: true, response };
    } catch (e) {
      if (e instanceof DeployError && e.status < 500) {
        log({ level: "info", msg: "refused", job: job.id, model: data.model, error: e.code });
        return fault(e);
      }
      throw e;
    } finally {
      lease?.release();
    }
  };

  const worker = new Worker(QUEUE_NAME, process, {
    connection: blocking, prefix: bullPrefix(options.prefix), concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? 30_000, stalledInterval: options.stalledIntervalMs ?? 15_000, maxStalledCount: options.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on("failed", (job, e) => log({ level: "error", msg: "failed", job: job?.id, error: e.message }));
  worker.on("error", (e) => log({ level: "error", msg: "worker", error: e.message }));
  await worker.waitUntilReady();
  void worker.run();
  return {
    models: local,
    async close() {
      await worker.close();
      await cache.close();
      blocking.disconnect();
      await redis.quit().catch(() => undefined);
    },
  };
}
