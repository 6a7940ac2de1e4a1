// The messages between the page and the key generation worker (keygen-worker.ts).
import type { ClientBundle } from "../deploy/client-bundle.js";

/** Page → worker: make keys for `bundle`, or the evaluation keys of `secretKey`. */
export interface KeygenRequest {
  readonly bundle: ClientBundle;
  readonly secretKey?: Uint8Array;
}

/** Worker → page: steps, then the keys or an error (its message; never key material). */
export type KeygenMessage =
  | { readonly type: "step"; readonly detail: string }
  | { readonly type: "done"; readonly secretKey: Uint8Array; readonly evaluationKeys: Uint8Array | undefined }
  | { readonly type: "error"; readonly name: string; readonly message: string };
