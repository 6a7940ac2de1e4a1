// Typed errors of the TFHE layer. Messages never contain key material.

/** Parameters, shapes or encodings that do not match (e.g. a ciphertext from another parameter set). */
export class ParameterMismatchError extends Error {
  override name = "ParameterMismatchError";
}
