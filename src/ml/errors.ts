// Typed errors of the ML layer: each message says what was passed and what was expected.

/** Bad data or arguments: wrong shapes, NaN/Infinity, non-numbers, unseen labels, bad hyper-parameters. */
export class MlInputError extends Error {
  override readonly name = "MlInputError";
}

/** A method that needs `fit` (or `compile`) was called before it. */
export class NotFittedError extends Error {
  override readonly name = "NotFittedError";
}

/** A model that cannot be made into a circuit (or imported) as it is. */
export class MlUnsupportedError extends Error {
  override readonly name = "MlUnsupportedError";
}
