// The browser's client key store: IndexedDB (per origin), one record per parameter set, so a returning
// visitor reuses its secret key and the evaluation keys it uploaded. The secret key is stored as bytes in
// the origin's storage: whoever can run script on this origin or read this browser profile can read it.
import type { ClientKeyStore, StoredClientKey } from "../deploy/client-key-store.js";

const STORE = "keys";

const done = <T>(req: IDBRequest<T>): Promise<T> => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
});

export class IndexedDbKeyStore implements ClientKeyStore {
  #db: Promise<IDBDatabase> | undefined;

  /** `database`: the IndexedDB database's name (one per application, if an origin serves several). */
  constructor(readonly database = "umbra-keys") {}

  get name(): string {
    return `IndexedDB ${this.database}`;
  }

  #open(): Promise<IDBDatabase> {
    this.#db ??= new Promise((resolve, reject) => {
      if (typeof indexedDB === "undefined") return reject(new Error("IndexedDB is unavailable here: pass another keyStore"));
      const req = indexedDB.open(this.database, 1);
      req.onupgradeneeded = () => { req.result.createObjectStore(STORE); };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error(`cannot open IndexedDB database ${this.database}`));
    });
    return this.#db;
  }

  async #store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.#open()).transaction(STORE, mode).objectStore(STORE);
  }

  async get(parametersId: string): Promise<StoredClientKey | undefined> {
    const r = await done((await this.#store("readonly")).get(parametersId)) as StoredClientKey | undefined;
    if (r === undefined) return undefined;
    if (!(r.secretKey instanceof Uint8Array) || typeof r.uploads !== "object" || r.uploads === null) {
      throw new Error(`IndexedDB ${this.database}: the record for parameters ${parametersId} is not a stored client key`);
    }
    return r;
  }

  async put(parametersId: string, record: StoredClientKey): Promise<void> {
    await done((await this.#store("readwrite")).put({ parameters: record.parameters, secretKey: record.secretKey, uploads: { ...record.uploads } }, parametersId));
  }

  async delete(parametersId: string): Promise<void> {
    await done((await this.#store("readwrite")).delete(parametersId));
  }

  /** Closes the database (a later call opens it again). */
  close(): void {
    void this.#db?.then((db) => db.close());
    this.#db = undefined;
  }
}
