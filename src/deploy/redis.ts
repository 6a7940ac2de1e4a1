// Redis connections for the scale-out (the Redis key store, the BullMQ queue and its workers). Every key
// this layer writes starts with one prefix, so that several deployments, or tests, share a server.
//   <prefix>:keys:<key id>      hash: keys (bytes), parametersId, tokenHash          (no expiry)
//   <prefix>:model:<fingerprint> hash: server, client (bundle JSON), artifact (bytes)  (no expiry; nothing secret)
//   <prefix>:data:<random>      a request's or a response's ciphertexts               (expire after a TTL)
//   <prefix>:bull:predict:*     BullMQ's queue of predictions
import { Redis } from "ioredis";
import { DeployError } from "./errors.js";

export const DEFAULT_REDIS_PREFIX = "umbra";
const PREFIX = /^[A-Za-z0-9._-]{1,64}$/;

export function checkRedisPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new DeployError("BAD_OPTION", `Redis key prefix ${JSON.stringify(prefix)}: expected 1 to 64 letters, digits, '.', '_' or '-'`);
  return prefix;
}

export interface RedisConnectOptions {
  /** For BullMQ's blocking connections (workers, queue events): commands wait out a reconnection. */
  readonly blocking?: boolean;
  /** Told about connection errors (by message only); ioredis reconnects by itself. */
  readonly onError?: (message: string) => void;
}

/** An ioredis client for a redis:// or rediss:// URL (the database index is the URL's path, e.g. /2). */
export function connectRedis(url: string, options: RedisConnectOptions = {}): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DeployError("BAD_OPTION", `Redis URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, "//…@"))}: expected redis://host:port[/db]`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") throw new DeployError("BAD_OPTION", `Redis URL scheme ${parsed.protocol}: expected redis: or rediss:`);
  const client = new Redis(url, { maxRetriesPerRequest: options.blocking === true ? null : 20, enableReadyCheck: true });
  // Without a listener ioredis prints every reconnection attempt; the URL (and any password) stays out.
  client.on("error", (e: Error) => options.onError?.(e.message));
  return client;
}

/** Deletes every key under `prefix:` (a deployment taken down, or a test cleaning up); returns the count. */
export async function deletePrefixed(client: Redis, prefix: string): Promise<number> {
  let cursor = "0", n = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${checkRedisPrefix(prefix)}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) n += await client.unlink(...keys);
  } while (cursor !== "0");
  return n;
}
