// Worker-thread entry of PbsWorkerPool (worker-pool.ts). NODE-ONLY: this module is started with
// `new Worker(...)` from node:worker_threads and is never imported by the library's index.
// Protocol (structured clone; ArrayBuffers transferred, never shared):
//   workerData: WorkerInit — the evaluation keys as raw u64 buffers; the worker builds its own ServerKey
//   (its own kernel instance and Fourier BSK) once, then answers "ready" or "init-error".
//   request  { id, batch, lut, keyswitch? } → reply { id, ok: true, outputs } or { id, ok: false, error }.
//   `keyswitch` names one of the init's extra key-switching keys (another parameter set's big key to this
//   set's small key); without it, the set's own.
import { parentPort, workerData } from "node:worker_threads";
import { BootstrapKey, type BootstrapKeyShape } from "./bootstrap-key.js";
import { KernelKeyswitchKey, KeyswitchKey, type KeyswitchKeyShape } from "./keyswitch-key.js";
import { ServerKey, type ServerKeyOptions } from "./server-key.js";
import { LweBatch, type CiphertextBounds } from "./lwe-batch.js";
import { LookupTable } from "./lookup-table.js";
import type { Encoding } from "./encoding.js";
import type { TfheParameters } from "./parameters.js";

/** @internal Sent once, as workerData. */
export interface WorkerInit {
  readonly params: TfheParameters;
  readonly bskShape: BootstrapKeyShape;
  readonly bsk: ArrayBuffer;
  readonly kskShape: KeyswitchKeyShape;
  readonly ksk: ArrayBuffer;
  readonly serverKey: ServerKeyOptions;
  /** Key switches from other big keys to this set's small key, by name. */
  readonly keyswitches?: readonly { readonly id: string; readonly shape: KeyswitchKeyShape; readonly data: ArrayBuffer }[];
}

/** @internal A chunk of ciphertexts and the table to apply. */
export interface WorkerRequest {
  readonly id: number;
  readonly batch: {
    readonly dimension: number; readonly count: number; readonly data: ArrayBuffer; readonly encoding: Encoding;
    readonly bounds: CiphertextBounds;
  };
  readonly lut: {
    readonly polynomial: BigUint64Array;
    readonly inputEncoding: Encoding;
    readonly outputEncoding: Encoding;
    readonly offsets: readonly number[];
    readonly maxInput: number;
  };
  readonly keyswitch?: string;
}

/** @internal A serializable error (name + message only: messages of this layer never hold key material). */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
}

/** @internal */
export type WorkerReply =
  | { readonly kind: "ready" }
  | { readonly kind: "init-error"; readonly error: WorkerError }
  | { readonly kind: "result"; readonly id: number; readonly ok: true; readonly dimension: number; readonly count: number;
      readonly encoding: Encoding; readonly outputs: ArrayBuffer[] }
  | { readonly kind: "result"; readonly id: number; readonly ok: false; readonly error: WorkerError };

function toWorkerError(e: unknown): WorkerError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error("pbs-worker.js must be started as a worker thread (PbsWorkerPool)");
  let server: ServerKey;
  const switches = new Map<string, KernelKeyswitchKey>();
  try {
    const init = workerData as WorkerInit;
    server = new ServerKey({
      params: init.params,
      bootstrapKey: new BootstrapKey(init.bskShape, new BigUint64Array(init.bsk)),
      keyswitchKey: new KeyswitchKey(init.kskShape, new BigUint64Array(init.ksk)),
    }, init.serverKey);
    for (const k of init.keyswitches ?? []) switches.set(k.id, KernelKeyswitchKey.fromStandard(new KeyswitchKey(k.shape, new BigUint64Array(k.data))));
  } catch (e) {
    port.postMessage({ kind: "init-error", error: toWorkerError(e) } satisfies WorkerReply);
    return;
  }
  port.on("message", (req: WorkerRequest) => {
    try {
      const b = req.batch;
      const batch = new LweBatch(b.dimension, b.count, new BigUint64Array(b.data), b.encoding, b.bounds);
      const lut = new LookupTable(req.lut.polynomial, req.lut.inputEncoding, req.lut.outputEncoding, req.lut.offsets, req.lut.maxInput);
      let ks: KernelKeyswitchKey | undefined;
      if (req.keyswitch !== undefined) {
        ks = switches.get(req.keyswitch);
        if (ks === undefined) throw new RangeError(`no key switch "${req.keyswitch}" in this worker`);
      }
      const outs = ks === undefined ? server.bootstrapMany(batch, lut) : server.bootstrapMany(batch, lut, ks);
      const buffers = outs.map((o) => o.data.buffer as ArrayBuffer);
      const reply: WorkerReply = {
        kind: "result", id: req.id, ok: true, dimension: server.bigDimension, count: b.count,
        encoding: lut.outputEncoding, outputs: buffers,
      };
      port.postMessage(reply, buffers);
    } catch (e) {
      port.postMessage({ kind: "result", id: req.id, ok: false, error: toWorkerError(e) } satisfies WorkerReply);
    }
  });
  port.postMessage({ kind: "ready" } satisfies WorkerReply);
}

main();
