// The one programmable-bootstrapping interface of the core: what an evaluator needs from the server side,
// whether the PBS runs in this thread (ServerKey) or on worker threads (PbsWorkerPool).
import type { LookupTable } from "./lookup-table.js";
import type { LweBatch } from "./lwe-batch.js";
import type { TfheParameters } from "./parameters.js";

export interface Bootstrapper {
  readonly params: TfheParameters;
  /**
   * PBS of every ciphertext with a (many-)table: output t holds function t of every input, in input order.
   * ServerKey answers at once (an array); PbsWorkerPool answers with a promise. Callers that await the
   * result handle both; callers that need a synchronous answer take a ServerKey.
   */
  bootstrapMany(batch: LweBatch, lut: LookupTable): LweBatch[] | Promise<LweBatch[]>;
}
