// Validation of user data: row-major matrices of finite numbers and label vectors.
import { MlInputError } from "./errors.js";

/** A dense row-major matrix of float64. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** What users pass as a feature matrix: an array of rows, or a Matrix. */
export type MatrixLike = readonly (readonly number[] | Float64Array)[] | Matrix;

function isMatrix(x: unknown): x is Matrix {
  return typeof x === "object" && x !== null && "rows" in x && "cols" in x && "data" in x;
}

/**
 * Checks and copies X into a Matrix: a non-empty array of equal-length rows of finite numbers (NaN, ±Infinity,
 * strings and holes are refused, naming the row and column). `cols` fixes the expected feature count.
 */
export function toMatrix(X: MatrixLike, options: { what?: string; cols?: number; allowNaN?: boolean } = {}): Matrix {
  const what = options.what ?? "X";
  let rows: number, cols: number, data: Float64Array;
  if (isMatrix(X)) {
    ({ rows, cols } = X);
    if (!(X.data instanceof Float64Array) || X.data.length !== rows * cols) {
      throw new MlInputError(`${what}: a Matrix needs a Float64Array of rows × cols = ${rows * cols} values`);
    }
    data = Float64Array.from(X.data);
  } else {
    if (!Array.isArray(X) || X.length === 0) throw new MlInputError(`${what}: expected a non-empty array of rows, got ${describeValue(X)}`);
    rows = X.length;
    const first = X[0];
    if (!Array.isArray(first) && !(first instanceof Float64Array)) {
      throw new MlInputError(`${what}: expected an array of rows (arrays of numbers), got row 0 = ${describeValue(first)}`);
    }
    cols = first.length;
    data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = X[i];
      if (!Array.isArray(row) && !(row instanceof Float64Array)) throw new MlInputError(`${what}: row ${i} is ${describeValue(row)}, expected an array of numbers`);
      if (row.length !== cols) throw new MlInputError(`${what}: row ${i} has ${row.length} values, row 0 has ${cols}`);
      for (let j = 0; j < cols; j++) {
        const v: unknown = row[j];
        if (typeof v !== "number") throw new MlInputError(`${what}[${i}][${j}] is ${describeValue(v)}, expected a number`);
        data[i * cols + j] = v;
      }
    }
  }
  if (cols === 0) throw new MlInputError(`${what}: rows have no features`);
  if (options.cols !== undefined && cols !== options.cols) {
    throw new MlInputError(`${what}: expected ${options.cols} features per row (as at fit), got ${cols}`);
  }
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    if (Number.isNaN(v) && options.allowNaN === true) continue;
    if (!Number.isFinite(v)) {
      throw new MlInputError(`${what}[${Math.floor(k / cols)}][${k % cols}] is ${v}: features must be finite numbers`);
    }
  }
  return { rows, cols, data };
}

/** Checks a target vector of finite numbers with `rows` entries. */
export function toVector(y: readonly number[] | Float64Array, rows: number, what = "y"): Float64Array {
  if (!Array.isArray(y) && !(y instanceof Float64Array)) throw new MlInputError(`${what}: expected an array of numbers, got ${describeValue(y)}`);
  if (y.length !== rows) throw new MlInputError(`${what}: has ${y.length} values, X has ${rows} rows`);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const v: unknown = y[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new MlInputError(`${what}[${i}] is ${describeValue(v)}, expected a finite number`);
    out[i] = v;
  }
  return out;
}

/** Class labels (numbers or strings) → sorted distinct classes and each row's class index. */
export function encodeLabels(y: readonly (number | string)[], rows: number, what = "y"): { classes: (number | string)[]; codes: Int32Array } {
  if (!Array.isArray(y)) throw new MlInputError(`${what}: expected an array of labels, got ${describeValue(y)}`);
  if (y.length !== rows) throw new MlInputError(`${what}: has ${y.length} labels, X has ${rows} rows`);
  for (let i = 0; i < rows; i++) {
    const v: unknown = y[i];
    if (!((typeof v === "number" && Number.isFinite(v)) || typeof v === "string")) {
      throw new MlInputError(`${what}[${i}] is ${describeValue(v)}: labels are finite numbers or strings`);
    }
  }
  const classes = [...new Set(y)].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (classes.length < 2) throw new MlInputError(`${what}: a classifier needs at least 2 classes, got ${classes.length}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, codes: Int32Array.from(y, (v) => index.get(v)!) };
}

/** Class index of each label in `y` against known classes; an unseen label is an error naming it. */
export function codesOf(y: readonly (number | string)[], classes: readonly (number | string)[], rows: number, what = "y"): Int32Array {
  if (!Array.isArray(y) || y.length !== rows) throw new MlInputError(`${what}: expected ${rows} labels, got ${Array.isArray(y) ? y.length : describeValue(y)}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from(y, (v, i) => {
    const c = index.get(v);
    if (c === undefined) throw new MlInputError(`${what}[${i}] = ${JSON.stringify(v)} is a label unseen at fit (classes: ${JSON.stringify(classes)})`);
    return c;
  });
}

export function describeValue(v: unknown): string {
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return `a ${v.constructor?.name ?? "object"}`;
  return `${typeof v} ${String(v)}`;
}

/** Row i of a matrix (a view). */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}
