// Where uploaded evaluation keys live, behind one interface (a Redis store for several processes can
// implement it too). A record holds the keys' bytes as uploaded, the parameter set they belong to and a
// hash of the deletion token (the token itself is only ever returned to the uploader).
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface KeyRecord {
  readonly keys: Uint8Array;
  /** Hex of the parameter fingerprint the keys were serialized for. */
  readonly parametersId: string;
  /** Hex SHA-256 of the deletion token. */
  readonly tokenHash: string;
}

export interface KeyStore {
  put(id: string, record: KeyRecord): Promise<void>;
  /** undefined for an unknown id. */
  get(id: string): Promise<KeyRecord | undefined>;
  /** False for an unknown id. */
  delete(id: string): Promise<boolean>;
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

  async get(id: string): Promise<KeyRecord | undefined> {
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
    return { keys: new Uint8Array(await readFile(p.keys)), parametersId: meta.parametersId, tokenHash: meta.tokenHash };
  }

  async delete(id: string): Promise<boolean> {
    await this.#ready;
    const p = this.#paths(id);
    const had = (await this.get(id)) !== undefined;
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
  async delete(id: string): Promise<boolean> { return this.#records.delete(id); }
}
