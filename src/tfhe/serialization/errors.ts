// The one error type of every decoder. Messages name sizes, fields and codes only — never key material
// or payload bytes — so they are safe to log and to return to a remote client.

export type DeserializationErrorCode =
  /** The first 4 bytes are not "UMBR". */
  | "BAD_MAGIC"
  /** A format version this build does not know. */
  | "BAD_VERSION"
  /** peekHeader: a kind number this build does not know. */
  | "UNKNOWN_KIND"
  /** The bytes hold another kind of object than the decoder's. */
  | "WRONG_KIND"
  /** The parameter fingerprint differs from the expected parameters' (or from the decoded parameters'). */
  | "PARAMS_MISMATCH"
  /** Fewer bytes than the header and length fields announce. */
  | "TRUNCATED"
  /** A length or shape field disagrees with the parameters, or bytes follow the checksum. */
  | "LENGTH_MISMATCH"
  /** The announced object exceeds `maxCount` or `maxBytes`. */
  | "TOO_LARGE"
  /** The trailing CRC-32 does not match the bytes (corruption). */
  | "CHECKSUM"
  /** A field holds a value outside its domain (flags, encoding bits, key padding bits, parameter fields…). */
  | "INVALID_VALUE"
  /** deserializeParameters: the decoded parameters are below 128-bit security. */
  | "INSECURE_PARAMETERS";

export class DeserializationError extends Error {
  override name = "DeserializationError";
  readonly code: DeserializationErrorCode;

  constructor(code: DeserializationErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Shorthand used by the codecs. */
export function fail(code: DeserializationErrorCode, message: string, cause?: unknown): never {
  throw new DeserializationError(code, message, cause === undefined ? undefined : { cause });
}
