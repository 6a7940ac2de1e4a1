// Key generation in a Web Worker (keygen-worker.js beside this module, or the URL given): one worker per
// request, terminated when it answers.
import type { Keygen } from "../deploy/remote-model.js";
import type { KeygenMessage, KeygenRequest } from "./keygen-protocol.js";

/** The worker module next to this one (the same layout in dist/src/client and in the browser bundle). */
export const DEFAULT_KEYGEN_WORKER_URL = new URL("./keygen-worker.js", import.meta.url);

export function workerKeygen(workerUrl: string | URL = DEFAULT_KEYGEN_WORKER_URL): Keygen {
  return (bundle, secretKey, onStep) => new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { type: "module", name: "umbra keygen" });
    const finish = (): void => worker.terminate();
    worker.onmessage = (e: MessageEvent<KeygenMessage>) => {
      const m = e.data;
      if (m.type === "step") return onStep(m.detail);
      finish();
      if (m.type === "done") resolve({ secretKey: m.secretKey, evaluationKeys: m.evaluationKeys });
      else reject(Object.assign(new Error(`key generation failed: ${m.message}`), { name: m.name }));
    };
    worker.onerror = (e) => {
      finish();
      reject(new Error(`key generation worker ${String(workerUrl)} failed: ${e.message || "it could not be loaded"}`));
    };
    // A copy of the secret key (never transferred: the page keeps using its own).
    const request: KeygenRequest = secretKey === undefined ? { bundle } : { bundle, secretKey: secretKey.slice() };
    worker.postMessage(request);
  });
}
