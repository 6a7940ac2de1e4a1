// Where a client keeps its SECRET key between visits, with the evaluation keys it has uploaded with it:
// one record per key set (a parameter set, or a multi-parameter circuit's layout: keys serve every model
// of their key set), holding for each server the key id and deletion token it answered. Implementations: memory (here), IndexedDB (browser, umbra/client),
// a key file (Node, KeyFileStore). Nothing in a record is ever sent except as the protocol says (key id
// to predict, token to delete); the secret key never leaves the client.
import type { UploadedKeys } from "./server-api.js";

export interface StoredClientKey {
  /** The parameter set's name, or a multi-parameter circuit's partitions' (for people reading the store). */
  readonly parameters: string;
  /** SECRET: the serialized client key, or every partition's in one bundle (BundleClient.secretKey). */
  readonly secretKey: Uint8Array;
  /** The evaluation keys uploaded with this secret key, by server URL. */
  readonly uploads: Readonly<Record<string, UploadedKeys>>;
}

export interface ClientKeyStore {
  /** Where the keys are, for messages (a file's path, a database's name). */
  readonly name?: string;
  /** The record of a key set (BundleClient.parametersId: the hex parameter fingerprint, or a layout's id), if any. */
  get(parametersId: string): Promise<StoredClientKey | undefined>;
  put(parametersId: string, record: StoredClientKey): Promise<void>;
  delete(parametersId: string): Promise<void>;
}

/** Keys for this page or process only (nothing survives it). */
export class MemoryClientKeyStore implements ClientKeyStore {
  readonly #records = new Map<string, StoredClientKey>();

  async get(parametersId: string): Promise<StoredClientKey | undefined> {
    return this.#records.get(parametersId);
  }

  async put(parametersId: string, record: StoredClientKey): Promise<void> {
    this.#records.set(parametersId, record);
  }

  async delete(parametersId: string): Promise<void> {
    this.#records.delete(parametersId);
  }
}
