// The key store on Redis: what `umbra serve --redis` and `umbra worker` share, so that keys uploaded to
// any server process are found by every worker, and survive a restart of all of them. One hash per key
// set, written by one HSET (a reader never sees half a record).
import type { Redis } from "ioredis";
import { KEY_ID_PATTERN, type KeyMeta, type KeyRecord, type KeyStore } from "./key-store.js";
import { checkRedisPrefix } from "./redis.js";

const KEY_ID = new RegExp(KEY_ID_PATTERN);

export class RedisKeyStore implements KeyStore {
  readonly prefix: string;

  /** `owned`: close() quits the client (a store made by the caller for itself). */
  constructor(readonly client: Redis, options: { readonly prefix: string; readonly owned?: boolean }) {
    this.prefix = checkRedisPrefix(options.prefix);
    this.#owned = options.owned ?? false;
  }

  readonly #owned: boolean;

  #key(id: string): string {
    if (!KEY_ID.test(id)) throw new RangeError(`key id ${JSON.stringify(id)}: expected 32 hex digits`);
    return `${this.prefix}:keys:${id}`;
  }

  async put(id: string, r: KeyRecord): Promise<void> {
    await this.client.hset(this.#key(id), {
      keys: Buffer.from(r.keys.buffer, r.keys.byteOffset, r.keys.byteLength), parametersId: r.parametersId, tokenHash: r.tokenHash,
    });
  }

  async meta(id: string): Promise<KeyMeta | undefined> {
    const [parametersId, tokenHash] = await this.client.hmget(this.#key(id), "parametersId", "tokenHash");
    if (parametersId === null || tokenHash === null) return undefined;
    return { parametersId, tokenHash };
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const [keys, parametersId, tokenHash] = await this.client.hmgetBuffer(this.#key(id), "keys", "parametersId", "tokenHash");
    if (keys === null || parametersId === null || tokenHash === null) return undefined;
    return { keys: new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength), parametersId: parametersId.toString(), tokenHash: tokenHash.toString() };
  }

  async delete(id: string): Promise<boolean> {
    return (await this.client.unlink(this.#key(id))) > 0;
  }

  async close(): Promise<void> {
    if (this.#owned) await this.client.quit();
  }
}
