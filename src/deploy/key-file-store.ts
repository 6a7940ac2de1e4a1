// The client key store of Node: one secret key in a file (mode 0600) and, next to it in `<file>.ids.json`,
// the key ids and tokens it was uploaded under, keyed "<server URL> <parameter fingerprint>" (the layout
// `umbra predict --key` reads and writes). The file holds one key: a record for another parameter set
// replaces it.
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import type { ClientKeyStore, StoredClientKey } from "./client-key-store.js";
import { DeployError } from "./errors.js";
import type { UploadedKeys } from "./server-api.js";

type IdsFile = Record<string, UploadedKeys & { parameters?: string }>;

export class KeyFileStore implements ClientKeyStore {
  constructor(readonly path: string) {}

  get name(): string {
    return this.path;
  }

  get idsPath(): string {
    return `${this.path}.ids.json`;
  }

  async #ids(): Promise<IdsFile> {
    if (!existsSync(this.idsPath)) return {};
    try {
      return JSON.parse(await readFile(this.idsPath, "utf8")) as IdsFile;
    } catch (e) {
      throw new DeployError("BAD_KEY_FILE", `${this.idsPath}: not JSON (${(e as Error).message})`, 400, { cause: e });
    }
  }

  async get(parametersId: string): Promise<StoredClientKey | undefined> {
    if (!existsSync(this.path)) return undefined;
    const uploads: Record<string, UploadedKeys> = {};
    for (const [slot, r] of Object.entries(await this.#ids())) {
      const at = slot.lastIndexOf(" ");
      if (slot.slice(at + 1) === parametersId) uploads[slot.slice(0, at)] = { keyId: r.keyId, token: r.token };
    }
    // A key of other parameters is still returned: restoring it fails with a message naming this file.
    return { parameters: "", secretKey: new Uint8Array(await readFile(this.path)), uploads };
  }

  async put(parametersId: string, record: StoredClientKey): Promise<void> {
    await writeFile(this.path, record.secretKey, { mode: 0o600 });
    // The file's one key is this record's: ids uploaded with any earlier key are void.
    const ids: IdsFile = {};
    for (const [url, r] of Object.entries(record.uploads)) ids[`${url} ${parametersId}`] = { keyId: r.keyId, token: r.token };
    await writeFile(this.idsPath, JSON.stringify(ids, null, 2) + "\n", { mode: 0o600 });
  }

  /** Removes the file and its ids (the file holds one key, whatever its parameters). */
  async delete(_parametersId: string): Promise<void> {
    await rm(this.path, { force: true });
    await rm(this.idsPath, { force: true });
  }
}
