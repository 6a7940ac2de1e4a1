// Predictions on a BullMQ queue, for `umbra serve --redis`: the request body goes to a Redis key with a
// TTL, a job names it, some `umbra worker` (any number, any machine) runs it, and this process waits for
// the job's end (QueueEvents) and reads the response from the key the worker returns. The server deletes
// both payloads once read; the TTL removes what a crash leaves behind. A client that goes away takes its
// job off the queue (and its payload with it, so a worker that already took the job finds nothing).
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { Queue, QueueEvents } from "bullmq";
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

/** How often a waiting request also asks for its job's state (events are the fast path). */
const POLL_MS = 5000;

export class RedisExecutor implements Executor {
  readonly #waiters = new Set<() => void>();
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

  /** QueueEvents also emits `completed:<job id>` and `failed:<job id>`, which its types do not list. */
  get #jobEvents(): EventEmitter { return this.#events as unknown as EventEmitter; }

  async run({ model, body, keyId, signal }: Prediction): Promise<Uint8Array> {
    const waiting = await this.#queue.getWaitingCount();
    if (waiting >= this.#maxQueued) throw new DeployError("BUSY", `${waiting} requests are queued; try again later`, 503);
    const request = newDataKey(this.options.prefix);
    // The job's id is ours, so that its end is listened for before it exists (no event can be missed).
    const jobId = `p${randomBytes(16).toString("hex")}`;
    let response: string | undefined;
    try {
      await this.#redis.set(request, Buffer.from(body.buffer, body.byteOffset, body.byteLength), "PX", this.#ttl);
      const data: PredictJob = { v: 1, model: model.id, fingerprint: model.bundle.fingerprint, ...(keyId === undefined ? {} : { keyId }), request };
      const finished = this.#wait(jobId, signal);
      finished.catch(() => undefined);
      await this.#queue.add("predict", data, { jobId });
      const result = parsePredictResult(await finished, this.options.prefix);
      if (!result.ok) throw new DeployError(result.error.code, result.error.message, result.error.status);
      response = result.response;
      const out = await this.#redis.getBuffer(response);
      if (out === null) throw new DeployError("EXPIRED", "the worker's response expired before it was read", 502);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      if (e instanceof DeployError && (e.code === "CANCELLED" || e.code === "TIMEOUT")) {
        // A job a worker holds cannot be removed; without its payload it ends at once as cancelled.
        await this.#queue.remove(jobId).catch(() => undefined);
      }
      throw e;
    } finally {
      await this.#redis.unlink(request, ...(response === undefined ? [] : [response])).catch(() => undefined);
    }
  }

  /**
   * The job's return value: from its completed event, or from its state, polled now and then in case an
   * event was lost (a reconnection). Rejects when the client goes away, on the timeout, and on close().
   */
  #wait(jobId: string, signal: AbortSignal): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const completed = `completed:${jobId}`, failed = `failed:${jobId}`;
      const end = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#jobEvents.off(completed, onCompleted);
        this.#jobEvents.off(failed, onFailed);
        signal.removeEventListener("abort", onAbort);
        this.#waiters.delete(onClose);
      };
      const onCompleted = ({ returnvalue }: { returnvalue: unknown }): void => { end(); resolve(returnvalue); };
      const onFailed = ({ failedReason }: { failedReason: string }): void => {
        end();
        this.options.onError?.(`job ${jobId} failed: ${failedReason}`);
        reject(new DeployError("WORKER_FAILED", "the prediction failed on a worker", 502));
      };
      const onAbort = (): void => { end(); reject(new DeployError("CANCELLED", "the client went away before its turn", 499)); };
      const onClose = (): void => { end(); reject(new DeployError("SHUTTING_DOWN", "the server is shutting down", 503)); };
      const timer = setTimeout(() => {
        end();
        reject(new DeployError("TIMEOUT", `no worker finished the prediction within ${Math.round(this.#timeout / 1000)} s (is an umbra worker running?)`, 504));
      }, this.#timeout);
      const poll = setInterval(() => {
        // The state first, then the job: BullMQ writes a job's result and its new state in one step, so a
        // job read after its state says completed has its result (read before, it could still lack it).
        void (async () => {
          const state = await this.#queue.getJobState(jobId);
          if (state !== "completed" && state !== "failed") return;
          const job = await this.#queue.getJob(jobId);
          if (job === undefined) return;
          if (state === "completed") onCompleted({ returnvalue: job.returnvalue });
          else onFailed({ failedReason: job.failedReason });
        })().catch(() => undefined);
      }, POLL_MS);
      this.#jobEvents.on(completed, onCompleted);
      this.#jobEvents.on(failed, onFailed);
      this.#waiters.add(onClose);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  uploaded(): void { /* the workers load keys from the Redis key store when a job needs them */ }
  deleted(): void { /* each worker checks the key store on every job */ }

  async gauges(): Promise<Record<string, number>> {
    const c = await this.#queue.getJobCounts("waiting", "active", "delayed");
    const workers = await this.#queue.getWorkersCount();
    return { umbra_queue_waiting: (c.waiting ?? 0) + (c.delayed ?? 0), umbra_queue_running: c.active ?? 0, umbra_workers: workers };
  }

  async close(): Promise<void> {
    for (const w of [...this.#waiters]) w();
    await this.#events.close().catch(() => undefined);
    await this.#queue.close().catch(() => undefined);
    // BullMQ leaves connections it was given open.
    this.#eventsRedis.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }
}
