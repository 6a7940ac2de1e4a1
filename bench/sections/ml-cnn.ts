// The imported convolutional network of the ML benchmark: test/fixtures/cnn_digits.onnx (trained on the
// digits training split by scripts/train-cnn-digits.mjs), imported with `importOnnx` and quantized after
// training on the training rows, behind the estimator interface of the other rows (fit reads the model).
import { readFileSync } from "node:fs";
import { importOnnx, OnnxTensorModel, type OnnxCompileOptions, type PredictOptions } from "../../src/ml/index.js";
import type { CircuitStatistics } from "../../src/compiler/index.js";
import { FIXTURES_DIR } from "./ml-data.js";

/** The setting measured: 144 lookups of 4 bits per image (0.960 quantized against 0.967 float on the test split). */
export const CNN_DIGITS_PTQ: OnnxCompileOptions = { nBits: { inputs: 6, weights: 5, activations: 4 }, roundingThresholdBits: 4 };

export class ImportedCnnDigits {
  #model: OnnxTensorModel | undefined;

  get #m(): OnnxTensorModel {
    if (this.#model === undefined) throw new Error("ImportedCnnDigits: call fit() first (it reads test/fixtures/cnn_digits.onnx)");
    return this.#model;
  }

  /** Reads the trained model (it was trained on these rows: the labels are not needed). */
  fit(_X: readonly (readonly number[])[], _y: readonly unknown[]): this {
    const m = importOnnx(new Uint8Array(readFileSync(FIXTURES_DIR + "cnn_digits.onnx")));
    if (!(m instanceof OnnxTensorModel)) throw new Error("cnn_digits.onnx did not import as a convolutional network");
    this.#model = m;
    return this;
  }

  compile(Xcalib: readonly (readonly number[])[], options: { batchSize?: number } = {}): this {
    this.#m.compile(Xcalib as number[][], { ...CNN_DIGITS_PTQ, ...options });
    return this;
  }

  predict(X: readonly (readonly number[])[], options?: PredictOptions): Promise<(number | string)[]> {
    return this.#m.predict(X as number[][], options);
  }

  predictFloat(X: readonly (readonly number[])[]): (number | string)[] {
    return this.#m.predictFloat(X as number[][]);
  }

  get statistics(): CircuitStatistics {
    return this.#m.statistics;
  }

  close(): Promise<void> {
    return this.#model?.close() ?? Promise.resolve();
  }
}
