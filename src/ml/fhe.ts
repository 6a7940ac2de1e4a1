// The integer part of a model as one compiled circuit on a batch of quantized rows, and the three ways of
// running it: the model's own integer reference ("disable"), the compiler's simulation ("simulate") and
// real FHE through the worker pool ("execute"). Rows are sent `batchSize` at a time (a leading batch
// dimension, one circuit run per batch); the last batch is padded with zero rows.
import { type Circuit, type CircuitStatistics, compile, type Tensor, type TraceFn } from "../compiler/index.js";
import { MlInputError, MlUnsupportedError } from "./errors.js";

export type FheMode = "disable" | "simulate" | "execute";

export interface Progress {
  /** Rows done, out of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface PredictOptions {
  /** "disable" (default): quantized inference in the clear; "simulate": the circuit in the clear with the FHE
   * failure model; "execute": real FHE (keys generated once per compiled model). */
  readonly fhe?: FheMode;
  /** Worker threads for "execute" (default: one per core). */
  readonly threads?: number;
  /** Called after each batch in "simulate" and "execute". */
  readonly onProgress?: (p: Progress) => void;
  /** Inputs beyond the calibration range: clipped to it (default, counted in `lastClipped`) or refused. */
  readonly outOfRange?: "clip" | "refuse";
}

export interface MlCompileOptions {
  /** Rows per circuit run (the circuit's leading dimension). */
  readonly batchSize?: number;
  /** Failure probability per PBS, or for a whole run (the compiler's options). */
  readonly pFail?: number;
  readonly globalPError?: number;
  /**
   * Let the compiler give PBS of different precisions their own parameter sets when that is cheaper
   * (the compiler's option; default false). Deployment takes either (ModelDev.save, the server, clients).
   */
  readonly multiParameter?: boolean;
}

export function checkMode(mode: unknown): FheMode {
  if (mode === undefined) return "disable";
  if (mode === "disable" || mode === "simulate" || mode === "execute") return mode;
  throw new MlInputError(`fhe: expected "disable", "simulate" or "execute", got ${JSON.stringify(mode)}`);
}

export function checkBatchSize(b: unknown, fallback: number): number {
  if (b === undefined) return fallback;
  if (typeof b !== "number" || !Number.isInteger(b) || b < 1 || b > 4096) throw new MlInputError(`batchSize: expected an integer in [1, 4096], got ${String(b)}`);
  return b;
}

/** A compiled integer model: `features` encrypted inputs in [0, qmax] per row, `outputs` integers per row. */
export class IntegerCircuit {
  readonly circuit: Circuit;

  constructor(
    fn: TraceFn,
    readonly features: number,
    readonly outputs: number,
    readonly qmax: number,
    readonly batchSize: number,
    options: MlCompileOptions,
  ) {
    const shape = [batchSize, features];
    // The circuit accepts the whole quantized range (the compiler widens to the bit width, here exactly it):
    // every quantized row, whatever the data, is inside what it was built for.
    const lo: Tensor = { shape, data: new Float64Array(batchSize * features) };
    const hi: Tensor = { shape, data: new Float64Array(batchSize * features).fill(qmax) };
    const { pFail, globalPError, multiParameter } = options;
    this.circuit = compile(fn, { x: "encrypted" }, [[lo], [hi]], {
      shapes: { x: shape },
      // One parameter set unless asked: several only pay where lookups of very different widths meet.
      multiParameter: multiParameter === true,
      ...(pFail !== undefined ? { pFail } : {}),
      ...(globalPError !== undefined ? { globalPError } : {}),
    });
    // The message space is planned now, so that a model too wide for it fails at compile, not at predict.
    try {
      void this.circuit.encoding;
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      throw new MlUnsupportedError(`the model's circuit does not fit a message space (${e.message}); lower nBits or weightBits (or leafBits, maxDepth for trees)`);
    }
  }

  get statistics(): CircuitStatistics {
    return this.circuit.statistics;
  }

  /** Runs `rows` quantized rows (row-major) through the circuit, batch by batch. */
  async run(q: Int32Array, rows: number, mode: "simulate" | "execute", options: PredictOptions): Promise<Float64Array> {
    const { features: F, outputs: O, batchSize: B } = this;
    const out = new Float64Array(rows * O);
    for (let start = 0; start < rows; start += B) {
      const n = Math.min(B, rows - start);
      const data = new Float64Array(B * F);
      for (let k = 0; k < n * F; k++) data[k] = q[start * F + k]!;
      const x: Tensor = { shape: [B, F], data };
      const [y] = mode === "simulate"
        ? this.circuit.simulate(x)
        : await this.circuit.encryptRunDecryptAsync([x], options.threads === undefined ? {} : { threads: options.threads });
      out.set(y!.data.subarray(0, n * O), start * O);
      options.onProgress?.({ done: start + n, total: rows });
    }
    return out;
  }

  close(): Promise<void> {
    return this.circuit.close();
  }
}
