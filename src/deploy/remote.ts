// A Node client of `umbra serve` over HTTP: the fetch-only ServerApi, whose model client is Node's
// ModelClient (bundle directories and key files). Bytes in, bytes out: encryption and decryption stay in
// ModelClient; RemoteModel (remote-model.ts) puts the two together.
import { ModelClient } from "./model-client.js";
import { ServerApi } from "./server-api.js";

export { type RemoteOptions, type RemoteModelInfo, type UploadedKeys } from "./server-api.js";

export class RemoteServer extends ServerApi {
  /** The model's client bundle, as a ModelClient (no key yet). */
  async client(modelId: string): Promise<ModelClient> {
    return ModelClient.fromBundle(await this.spec(modelId));
  }
}
