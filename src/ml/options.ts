// Checks of the estimators' hyper-parameters: the value, or the default when it is undefined; anything
// else is an MlInputError that names the option, what was passed and what is expected.
import { MlInputError } from "./errors.js";

/** An integer option in [lo, hi]. */
export function int(v: unknown, what: string, fallback: number, lo: number, hi = 1 << 20): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new MlInputError(`${what}: expected an integer in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

/** A finite option > 0 (≥ 0 with allowZero). */
export function positive(v: unknown, what: string, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new MlInputError(`${what}: expected a finite number ${allowZero ? "≥ 0" : "> 0"}, got ${String(v)}`);
  }
  return v;
}
