// The key generation worker (a module worker): keygen is seconds of work, which must not freeze the page.
// It makes the secret key and the evaluation keys (or, given a secret key, its evaluation keys) and posts
// both back: the page keeps the secret key in its own store and uploads the evaluation keys. It keeps
// nothing: one request per worker, which the page then terminates.
import { inlineKeygen } from "../deploy/remote-model.js";
import { initKernels } from "../kernels/wasm.js";
import type { KeygenMessage, KeygenRequest } from "./keygen-protocol.js";

interface WorkerScope {
  onmessage: ((e: MessageEvent<KeygenRequest>) => void) | null;
  postMessage(message: KeygenMessage, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  const post = (m: KeygenMessage, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
  void (async () => {
    try {
      await initKernels();
      const r = await inlineKeygen(e.data.bundle, e.data.secretKey, (detail) => post({ type: "step", detail }));
      // Moved, not copied (the evaluation keys are tens of MiB); each buffer listed once.
      const transfer = [...new Set([r.secretKey.buffer, ...(r.evaluationKeys === undefined ? [] : [r.evaluationKeys.buffer])])] as ArrayBuffer[];
      post({ type: "done", secretKey: r.secretKey, evaluationKeys: r.evaluationKeys }, transfer);
    } catch (err) {
      post({ type: "error", name: (err as Error).name ?? "Error", message: (err as Error).message ?? String(err) });
    }
  })();
};
