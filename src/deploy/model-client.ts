// The client of a deployed model or circuit in Node: BundleClient (keys, encryption, decryption, no Node
// built-in) plus bundle directories and key files. The secret key stays in this process or in the file
// the caller names; what leaves is the evaluation keys and ciphertexts.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BundleClient } from "./bundle-client.js";
import type { ClientBundle } from "./client-bundle.js";

export { type Predictions } from "./bundle-client.js";

export class ModelClient extends BundleClient {
  /** From a bundle directory (its client.json), the bundle's bytes or text, or the parsed bundle. */
  static async load(src: string | Uint8Array | ClientBundle): Promise<ModelClient> {
    if (typeof src === "string" && !src.trimStart().startsWith("{")) return new ModelClient(await readFile(join(src, "client.json"), "utf8"));
    return ModelClient.fromBundle(src);
  }

  static fromBundle(src: string | Uint8Array | object): ModelClient {
    return new ModelClient(src);
  }

  /** Writes the SECRET key to `path` (mode 0600): the client's own storage, never sent anywhere. */
  async saveKey(path: string): Promise<void> {
    await writeFile(path, this.secretKey(), { mode: 0o600 });
  }

  /** Restores a key saved by `saveKey` (it must belong to this bundle's parameters). */
  async loadKey(path: string): Promise<void> {
    this.useSecretKey(new Uint8Array(await readFile(path)), path);
  }
}
