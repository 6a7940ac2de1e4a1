// Where uploaded evaluation keys live, behind one interface: the file system (one process) or Redis
// (redis-key-store.ts, several processes and machines). A record holds the keys' bytes as uploaded, the parameter set they belong to and a
// hash of the deletion token (the token itself is only ever returned to the uploader).
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface KeyRecord {
  readonly keys: Uint8Array;
  /**
   * The key set the keys were serialized for: hex of the parameter fingerprint, or a multi-parameter
   * circuit's layout id (key-sets.ts).
   */
  readonly parametersId: string;
  /** Hex SHA-256 of the deletion token. */
  readonly tokenHash: string;
}

/** A record without its bytes: enough to check a token or a parameter set without reading the keys. */
export type KeyMeta = Omit<KeyRecord, "keys">;

export interface KeyStore {
  put(id: string, record: KeyRecord): Promise<void>;
  /** undefined for an unknown id. */
  get(id: string): Promise<KeyRecord | undefined>;
  /** undefined for an unknown id. */
  meta(id: string): Promise<KeyMeta | undefined>;
  /** False for an unknown id. */
  delete(id: string): Promise<boolean>;
  /** Releases what the store holds open (a connection); the store is not used afterwards. */
  close?(): Promise<void>;
}

/** Key ids: 128 random bits, hex. Checked before any store sees one (no path ever comes from a client). */
export const KEY_ID_PATTERN = "^[0-9a-f]{32}$";
const KEY_ID = new RegExp(KEY_ID_PATTERN);

/** One directory: `<id>.keys` (the bytes) and `<id>.json` (the rest); survives restarts. */
export class FileKeyStore implements KeyStore {
  readonly #ready: Promise<unknown>;

  constructor(readonly dir: string) {
    this.#ready = mkdir(dir, { recursive: true, mode: 0o700 });
  }

  #paths(id: string): { keys: string; meta: string } {
    if (!KEY_ID.test(id)) throw new RangeError(`key id ${JSON.stringify(id)}: expected 32 hex digits`);
    return { keys: join(this.dir, `${id}.keys`), meta: join(this.dir, `${id}.json`) };
  }

  async put(id: string, r: KeyRecord): Promise<void> {
    await this.#ready;
    const p = this.#paths(id);
    // Written aside then renamed, meta last: a reader never sees half a record.
    await writeFile(`${p.keys}.tmp`, r.keys, { mode: 0o600 });
    await rename(`${p.keys}.tmp`, p.keys);
    await writeFile(`${p.meta}.tmp`, JSON.stringify({ parametersId: r.parametersId, tokenHash: r.tokenHash }), { mode: 0o600 });
    await rename(`${p.meta}.tmp`, p.meta);
  }

  async meta(id: string): Promise<KeyMeta | undefined> {
    await this.#ready;
    const p = this.#paths(id);
    let meta: { parametersId?: unknown; tokenHash?: unknown };
    try {
      meta = JSON.parse(await readFile(p.meta, "utf8")) as typeof meta;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    if (typeof meta.parametersId !== "string" || typeof meta.tokenHash !== "string") throw new Error(`key store: ${p.meta} is corrupt`);
    return { parametersId: meta.parametersId, tokenHash: meta.tokenHash };
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const meta = await this.meta(id);
    if (meta === undefined) return undefined;
    return { keys: new Uint8Array(await readFile(this.#paths(id).keys)), ...meta };
  }

  async delete(id: string): Promise<boolean> {
    await this.#ready;
    const p = this.#paths(id);
    const had = (await this.meta(id)) !== undefined;
    await rm(p.meta, { force: true });
    await rm(p.keys, { force: true });
    return had;
  }
}

/** In memory (tests, single short-lived processes). */
export class MemoryKeyStore implements KeyStore {
  readonly #records = new Map<string, KeyRecord>();
  async put(id: string, r: KeyRecord): Promise<void> { this.#records.set(id, r); }
  async get(id: string): Promise<KeyRecord | undefined> { return this.#records.get(id); }
  async meta(id: string): Promise<KeyMeta | undefined> {
    const r = this.#records.get(id);
    return r === undefined ? undefined : { parametersId: r.parametersId, tokenHash: r.tokenHash };
  }
  async delete(id: string): Promise<boolean> { return this.#records.delete(id); }
}
