// umbra/deploy/redis — the scale-out on Redis: the key store several processes share, the BullMQ executor
// behind `umbra serve --redis` (createServer's `redis` option loads it) and `umbra worker`. A subpath of
// its own, so that umbra/deploy loads neither BullMQ nor ioredis.
export { RedisKeyStore } from "./redis-key-store.js";
export { RedisExecutor, type RedisExecutorOptions } from "./redis-executor.js";
export { startWorker, type WorkerOptions, type UmbraWorker } from "./redis-worker.js";
export { connectRedis, deletePrefixed, checkRedisPrefix, DEFAULT_REDIS_PREFIX, type RedisConnectOptions } from "./redis.js";
export { QUEUE_NAME, type PredictJob, type PredictResult } from "./redis-jobs.js";
