// What a bootstrap (ServerKey or PbsWorkerPool) checks of its input, and the bounds of its outputs.
import { encodingName, isCompilerManaged, sameEncoding } from "./encoding.js";
import { ParameterMismatchError } from "./errors.js";
import { LookupTable } from "./lookup-table.js";
import { LweBatch, newNoiseSource, type CiphertextBounds, type NoiseSources } from "./lwe-batch.js";
import { checkNoiseLevel, checkValueBounds } from "./noise-budget.js";
import type { TfheParameters } from "./parameters.js";

/**
 * Checks a bootstrap's input against the parameters and the table (shapes, encodings, and for checked
 * encodings the value bounds and noise level): what ServerKey and PbsWorkerPool check before any work.
 * The input lives under the big key of dimension `inputDimension` (the parameters' k·N by default).
 */
export function checkBootstrapInput(
  params: TfheParameters, batch: LweBatch, lut: LookupTable, inputDimension = params.glweDimension * params.polynomialSize,
): void {
  if (!(batch instanceof LweBatch)) throw new TypeError("bootstrap expects an LweBatch");
  if (!(lut instanceof LookupTable)) throw new TypeError("bootstrap expects a LookupTable");
  // `inputDimension`: another key's big dimension when the key switch comes from another parameter set.
  const big = inputDimension, bits = params.messageBits + params.carryBits;
  if (batch.dimension !== big) {
    throw new ParameterMismatchError(`PBS input has dimension ${batch.dimension}, this key expects ${big}`);
  }
  if (lut.polynomial.length !== params.polynomialSize) {
    throw new ParameterMismatchError("lookup table was built for another polynomial size");
  }
  // A checked table reads the key's own message space. A compiler-managed one may read fewer bits (its
  // lookups each run at their own precision, with the noise constraints checked by the compiler), down to
  // one coefficient per box: 2^bits ≤ N.
  if (isCompilerManaged(lut.inputEncoding) ? 2 ** lut.inputEncoding.bits > params.polynomialSize : lut.inputEncoding.bits !== bits) {
    throw new ParameterMismatchError(`lookup table expects ${lut.inputEncoding.bits}-bit inputs, this key's message space is ${bits} bits`);
  }
  if (!sameEncoding(batch.encoding, lut.inputEncoding)) {
    throw new ParameterMismatchError(`PBS input is ${encodingName(batch.encoding)} encoded, the table expects ${encodingName(lut.inputEncoding)}`);
  }
  checkBootstrapBounds(params, batch, lut);
}

/** The bounds part of checkBootstrapInput: values in [0, lut.maxInput], noise level within the parameters'. */
export function checkBootstrapBounds(params: TfheParameters, batch: LweBatch, lut: LookupTable): void {
  checkValueBounds(batch.bounds, batch.encoding, lut.maxInput, "cannot bootstrap this batch");
  checkNoiseLevel(batch.bounds, batch.encoding, params, "cannot bootstrap this batch");
}

/**
 * Bounds of the outputs of a bootstrap (one per function of the table): the table's values over the
 * input's range, noise level 1. The outputs of one blind rotation share its noise (many-LUT: correlated),
 * hence one noise source for all; two equal inputs give equal outputs, hence the input's independence.
 */
export function bootstrapOutputBounds(batch: LweBatch, lut: LookupTable): { bounds: CiphertextBounds[]; noise: NoiseSources } {
  const { minValue, degree } = batch.bounds;
  const bounds = lut.offsets.map((_, t) => {
    const [lo, hi] = lut.outputRange(t, minValue, degree);
    return { degree: hi, minValue: lo, noiseLevel: 1 };
  });
  return { bounds, noise: newNoiseSource(batch.noise.independent) };
}
