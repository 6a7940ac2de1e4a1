// Size limits of the decoders, checked before anything sized from the input is allocated.
import { fail } from "./errors.js";

export interface DeserializeOptions {
  /**
   * Upper bound, in bytes, on what decoding allocates (the decoded object's buffers, including the
   * size a seeded object expands to). Default 2 GiB: enough for a plain bootstrapping key of
   * PARAM_MESSAGE_7 (1.7 GB); servers taking uploads should set it to what their parameters need.
   */
  readonly maxBytes?: number;
  /** Upper bound on the number of ciphertexts in a batch or compact list. Default 2^20. */
  readonly maxCount?: number;
}

export const DEFAULT_MAX_BYTES = 2 ** 31;
export const DEFAULT_MAX_COUNT = 2 ** 20;

export interface Limits {
  readonly maxBytes: number;
  readonly maxCount: number;
}

function limit(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v >= 0) || !(Number.isInteger(v) || v === Infinity)) {
    throw new RangeError(`options.${name} must be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

export function resolveLimits(opts: DeserializeOptions | undefined): Limits {
  if (opts !== undefined && (opts === null || typeof opts !== "object")) throw new TypeError("options must be an object");
  return { maxBytes: limit(opts?.maxBytes, "maxBytes", DEFAULT_MAX_BYTES), maxCount: limit(opts?.maxCount, "maxCount", DEFAULT_MAX_COUNT) };
}

export function checkCount(count: number, limits: Limits, what: string): void {
  if (count > limits.maxCount) fail("TOO_LARGE", `${what}: count ${count} exceeds maxCount ${limits.maxCount}`);
}

export function checkAllocation(bytes: number, limits: Limits, what: string): void {
  if (bytes > limits.maxBytes) fail("TOO_LARGE", `${what}: decoding needs ${bytes} bytes, above maxBytes ${limits.maxBytes}`);
}
