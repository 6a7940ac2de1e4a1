// The HTTP API of `umbra serve`, from the client's side, over fetch only (browsers and Node): the model
// list, a model's client bundle, key upload and deletion, predictions. Bytes in, bytes out: encryption
// and decryption stay in the BundleClient. A 4xx or 5xx answer becomes a DeployError with the server's code.
import { DeployError } from "./errors.js";
import { KEY_ID_HEADER, KEY_TOKEN_HEADER } from "./headers.js";

export interface RemoteOptions {
  /** The server's bearer token (`umbra serve --auth-token`). */
  readonly authToken?: string;
}

export interface RemoteModelInfo {
  readonly id: string;
  readonly kind: string;
  readonly fingerprint: string;
  readonly parameters: string;
  readonly linearOnly: boolean;
}

/** What `POST /keys` answers: the id predictions name, and the token that deletes the keys. */
export interface UploadedKeys {
  readonly keyId: string;
  readonly token: string;
}

export class ServerApi {
  readonly url: string;

  constructor(url: string, readonly options: RemoteOptions = {}) {
    this.url = String(url).replace(/\/+$/, "");
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.authToken !== undefined) headers.set("authorization", `Bearer ${this.options.authToken}`);
    const res = await fetch(`${this.url}${path}`, { ...init, headers });
    if (!res.ok) {
      const text = await res.text();
      let e: { error?: string; message?: string } = {};
      try {
        e = JSON.parse(text) as typeof e;
      } catch { /* not JSON: reported below as the status */ }
      throw new DeployError(e.error ?? `HTTP_${res.status}`, `${init.method ?? "GET"} ${path}: ${res.status} ${e.message ?? res.statusText}`, res.status);
    }
    return res;
  }

  async models(): Promise<RemoteModelInfo[]> {
    return ((await (await this.#fetch("/models")).json()) as { models: RemoteModelInfo[] }).models;
  }

  /** The model's client bundle, as text (what a BundleClient is made from). */
  async spec(modelId: string): Promise<string> {
    return (await this.#fetch(`/models/${encodeURIComponent(modelId)}/spec`)).text();
  }

  /** Uploads evaluation keys: their id (for predictions) and the token that deletes them. */
  async uploadKeys(keys: Uint8Array): Promise<UploadedKeys> {
    let res: Response;
    try {
      res = await this.#fetch("/keys", { method: "POST", headers: { "content-type": "application/octet-stream" }, body: keys as Uint8Array<ArrayBuffer> });
    } catch (e) {
      // The server checks an upload from its first bytes and answers a refusal at once, closing the
      // connection; fetch, still sending, may then see a reset instead of the answer.
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (code === "EPIPE" || code === "ECONNRESET" || code === "UND_ERR_SOCKET") {
        throw new DeployError("UPLOAD_REFUSED", `POST /keys: the server closed the connection while the ${keys.length} bytes of keys were being sent: ` +
          "it refuses an upload from its first bytes when they are not evaluation keys for one of its models (other parameters, another kind, " +
          "or a length other than those keys' size)", 400, { cause: e });
      }
      throw e;
    }
    return (await res.json()) as UploadedKeys;
  }

  async deleteKeys(keyId: string, token: string): Promise<void> {
    await this.#fetch(`/keys/${encodeURIComponent(keyId)}`, { method: "DELETE", headers: { [KEY_TOKEN_HEADER]: token } });
  }

  /** One request body in, the response body out. */
  async predict(modelId: string, request: Uint8Array, keyId?: string): Promise<Uint8Array> {
    const res = await this.#fetch(`/models/${encodeURIComponent(modelId)}/predict`, {
      method: "POST", body: request as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream", ...(keyId === undefined ? {} : { [KEY_ID_HEADER]: keyId }) },
    });
    return new Uint8Array(await res.arrayBuffer());
  }
}
