// Predictions on a BullMQ queue, for `umbra serve --redis`: the request body goes to a Redis key with a
// TTL, a job names it, some `umbra worker` (any number, any machine) runs it, and this process waits for
// the job's end (QueueEvents) and reads the response from the key the worker returns. The server deletes
// both payloads once read; the TTL removes what a crash leaves behind. A client that goes away takes its
// job off the queue (and its payload with it, so a worker that already took the job finds nothing).
import { Queue, QueueEvents, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { DeployError } from "./errors.js";
import type { Executor, Prediction } from "./executor.js";
import { connectRedis } from "./redis.js";
import { bullPrefix, newDataKey, parsePredictResult, publishModel, QUEUE_NAME, type PredictJob } from "./redis-jobs.js";
import type { ModelServer } from "./model-server.js";

export interface RedisExecutorOptions {
  readonly url: string;
  readonly prefix: string;
  /** How long a request's payloads live in Redis (default 10 min): a bound on a job's wait. */
  readonly payloadTtlMs?: number;
  /** A prediction not finished after this long is answered 504 and taken off the queue (default: the payload TTL). */
  readonly timeoutMs?: number;
  /** Jobs waiting before the server answers 503 (default 1024). */
  readonly queued?: number;
  readonly onError?: (message: string) => void;
}

export class RedisExecutor implements Executor {
  readonly #redis: Redis;
  readonly #eventsRedis: Redis;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #ttl: number;
  readonly #timeout: number;
  readonly #maxQueued: number;

  private constructor(readonly options: RedisExecutorOptions) {
    this.#redis = connectRedis(options.url, { onError: options.onError });
    this.#eventsRedis = connectRedis(options.url, { blocking: true, onError: options.onError });
    this.#ttl = options.payloadTtlMs ?? 10 * 60_000;
    this.#timeout = options.timeoutMs ?? this.#ttl;
    this.#maxQueued = options.queued ?? 1024;
    // Failed jobs are the workers' own faults (a client's fault completes with a typed error): one try each,
    // but a job whose worker died is retried by the stalled-job check (the workers' maxStalledCount).
    this.#queue = new Queue(QUEUE_NAME, {
      connection: this.#redis, prefix: bullPrefix(options.prefix),
      defaultJobOptions: { attempts: 1, removeOnComplete: { age: 600, count: 10_000 }, removeOnFail: { age: 24 * 3600, count: 10_000 } },
    });
    this.#events = new QueueEvents(QUEUE_NAME, { connection: this.#eventsRedis, prefix: bullPrefix(options.prefix) });
    // One listener pair per waiting request.
    this.#events.setMaxListeners(0);
  }

  /** Connects, and publishes the models' server bundles for the workers. */
  static async create(options: RedisExecutorOptions, models: Iterable<ModelServer>): Promise<RedisExecutor> {
    const e = new RedisExecutor(options);
    try {
      await Promise.all([e.#queue.waitUntilReady(), e.#events.waitUntilReady()]);
      for (const m of models) await publishModel(e.#redis, options.prefix, m);
    } catch (err) {
      await e.close();
      throw new DeployError("REDIS_UNAVAILABLE", `cannot use Redis: ${(err as Error).message}`, 503, { cause: err });
    }
    return e;
  }

  get redis(): Redis { return this.#redis; }

  async run({ model, body, keyId, signal }: Prediction): Promise<Uint8Array> {
    const waiting = await this.#queue.getWaitingCount();
    if (waiting >= this.#maxQueued) throw new DeployError("BUSY", `${waiting} requests are queued; try again later`, 503);
    const request = newDataKey(this.options.prefix);
    let job: Job | undefined, response: string | undefined;
    const cancel = (): void => {
      // A job a worker holds cannot be removed; without its payload it ends at once as cancelled.
      void this.#redis.unlink(request).catch(() => undefined);
      void job?.remove().catch(() => undefined);
    };
    try {
      await this.#redis.set(request, Buffer.from(body.buffer, body.byteOffset, body.byteLength), "PX", this.#ttl);
      const data: PredictJob = { v: 1, model: model.id, fingerprint: model.bundle.fingerprint, ...(keyId === undefined ? {} : { keyId }), request };
      job = await this.#queue.add("predict", data);
      if (signal.aborted) throw new DeployError("CANCELLED", "the client went away before its turn", 499);
      signal.addEventListener("abort", cancel, { once: true });
      let value: unknown;
      try {
        value = await job.waitUntilFinished(this.#events, this.#timeout);
      } catch (e) {
        if (signal.aborted) throw new DeployError("CANCELLED", "the client went away before its turn", 499);
        if (/timed out/.test((e as Error).message)) {
          cancel();
          throw new DeployError("TIMEOUT", `no worker finished the prediction within ${Math.round(this.#timeout / 1000)} s (is an umbra worker running?)`, 504);
        }
        this.options.onError?.(`job ${job.id} failed: ${(e as Error).message}`);
        throw new DeployError("WORKER_FAILED", "the prediction failed on a worker", 502);
      }
      const result = parsePredictResult(value, this.options.prefix);
      if (!result.ok) throw new DeployError(result.error.code, result.error.message, result.error.status);
      response = result.response;
      const out = await this.#redis.getBuffer(response);
      if (out === null) throw new DeployError("EXPIRED", "the worker's response expired before it was read", 502);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } finally {
      signal.removeEventListener("abort", cancel);
      await this.#redis.unlink(request, ...(response === undefined ? [] : [response])).catch(() => undefined);
    }
  }

  uploaded(): void { /* the workers load keys from the Redis key store when a job needs them */ }
  deleted(): void { /* each worker checks the key store on every job */ }

  async gauges(): Promise<Record<string, number>> {
    const c = await this.#queue.getJobCounts("waiting", "active", "delayed");
    const workers = await this.#queue.getWorkersCount();
    return { umbra_queue_waiting: (c.waiting ?? 0) + (c.delayed ?? 0), umbra_queue_running: c.active ?? 0, umbra_workers: workers };
  }

  async close(): Promise<void> {
    await this.#events.close().catch(() => undefined);
    await this.#queue.close().catch(() => undefined);
    // BullMQ leaves connections it was given open.
    this.#eventsRedis.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }
}
