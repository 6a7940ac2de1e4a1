// Typed errors of the compiler. Every message names the node (as `%id (kind)`) or the input it is about,
// so a user can find the offending line in `graphText(graph)`.

/** A malformed graph or an impossible operation at trace time (shapes, argument kinds, attributes). */
export class GraphError extends Error {
  override name = "GraphError";
}

/** A lookup whose input range is too wide for the parameters (the fix is `round(x, lsbs)`), or unusable bounds. */
export class BoundsError extends Error {
  override name = "BoundsError";
  constructor(message: string, readonly node: number) {
    super(message);
  }
}

/** A run-time value outside the range measured on the inputset (with the margin). */
export class InputOutOfRangeError extends Error {
  override name = "InputOutOfRangeError";
  constructor(
    message: string,
    /** Input name, or `%id (kind)` for an intermediate node. */
    readonly where: string,
    readonly value: number,
  ) {
    super(message);
  }
}

/** A value the clear interpreter cannot represent exactly (not a safe integer, or a lookup returning a non-integer). */
export class EvaluationError extends Error {
  override name = "EvaluationError";
  constructor(message: string, readonly node: number) {
    super(message);
  }
}
